"""The steps of a run, in order."""

from __future__ import annotations

from dataclasses import dataclass

from trueup import checks, ingest, linking, mapping, report, resolve, serving
from trueup.runtime import StepFunction


@dataclass(frozen=True)
class Step:
    name: str
    run: StepFunction
    description: str


STEPS: tuple[Step, ...] = (
    Step("ingest", ingest.run, "read every source table into raw tables, quarantining bad rows"),
    Step("map", mapping.run, "map raw rows onto canonical entities in staged tables"),
    Step("link", linking.run, "link the records of different systems that are the same real thing"),
    Step("resolve", resolve.run, "build one golden record per real thing, each field from its owner"),
    Step("check", checks.run, "run every check and track what they find in the findings queue"),
    Step("report", report.run, "add up the debt ledger and write the report (HTML, Markdown, JSON)"),
    Step("publish", serving.run, "swap in the read-only snapshot the API answers from"),
)


def step_names() -> list[str]:
    return [s.name for s in STEPS]
