"""Prometheus metrics: requests and their latency per route, run step durations and open findings
by category (the last two read from the state store when scraped)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from trueup.state import StateStore


class _StateCollector(Collector):
    def __init__(self, state: StateStore):
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        open_findings = GaugeMetricFamily("trueup_open_findings", "Findings still open, by category",
                                          labels=["category"])  # fmt: skip
        for category, count in sorted(self.state.open_counts().items()):
            open_findings.add_metric([category], count)
        yield open_findings
        steps = GaugeMetricFamily("trueup_run_step_seconds", "Seconds each step took in the last run",
                                  labels=["step"])  # fmt: skip
        runs = self.state.runs(limit=1)
        for step in runs[0].steps if runs else []:
            if step.seconds is not None:
                steps.add_metric([step.name], step.seconds)
        yield steps


class Metrics:
    def __init__(self, state: StateStore):
        self.registry = CollectorRegistry()
        self.requests = Counter("trueup_api_requests", "API requests", ["method", "route", "status"],
                                registry=self.registry)  # fmt: skip
        self.latency = Histogram("trueup_api_request_seconds", "API request latency", ["method", "route"],
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5), registry=self.registry)  # fmt: skip
        self.registry.register(_StateCollector(state))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
