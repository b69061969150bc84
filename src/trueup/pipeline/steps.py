"""The steps of a run, in order."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from trueup.runtime import StepFunction


@dataclass(frozen=True)
class Step:
    name: str
    package: str  # the package whose `run` does the step, imported when the step runs
    description: str

    @property
    def run(self) -> StepFunction:
        run: StepFunction = importlib.import_module(self.package).run
        return run


STEPS: tuple[Step, ...] = (
    Step("ingest", "trueup.ingest", "read every source table into raw tables, quarantining bad rows"),
    Step("map", "trueup.mapping", "map raw rows onto canonical entities in staged tables"),
    Step("link", "trueup.linking", "link the records of different systems that are the same real thing"),
    Step("resolve", "trueup.resolve", "build one golden record per real thing, each field from its owner"),
    Step("check", "trueup.checks", "run every check and track what they find in the findings queue"),
    Step("report", "trueup.report", "add up the debt ledger and write the report (HTML, Markdown, JSON)"),
    Step("publish", "trueup.serving", "swap in the read-only snapshot the API answers from"),
)


def step_names() -> list[str]:
    return [s.name for s in STEPS]
