"""Run steps in order against a workspace, recording the run in the state store."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from trueup.errors import TrueupError
from trueup.pipeline.steps import STEPS, Step
from trueup.runtime import Progress, QuietProgress, StepContext, StepResult
from trueup.state import StateStore
from trueup.warehouse import connect
from trueup.workspace import Workspace


@dataclass
class StepOutcome:
    name: str
    outcome: str  # succeeded, failed, partial (ran, but some sources could not be read)
    seconds: float
    result: StepResult


@dataclass
class RunOutcome:
    run_id: str
    started_at: datetime
    outcome: str
    steps: list[StepOutcome] = field(default_factory=list)
    error: str | None = None

    @property
    def counts(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for step in self.steps:
            for key, value in step.result.counts.items():
                merged[f"{step.name}.{key}"] = value
        return merged


def new_run_id(now: datetime) -> str:
    import uuid

    return now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def select_steps(only: list[str] | None) -> list[Step]:
    if not only:
        return list(STEPS)
    known = {s.name: s for s in STEPS}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise TrueupError(f"unknown step {', '.join(unknown)}; the steps are: {', '.join(known)}")
    return [s for s in STEPS if s.name in only]


def run(
    workspace: Workspace, only: list[str] | None = None, progress: Progress | None = None,
    checks: list[str] | None = None,
) -> RunOutcome:  # fmt: skip
    """Run these steps (all by default) as one recorded run; `checks`: the check step runs only these."""
    steps = select_steps(only)
    if checks:  # a name that is no check is refused before the run starts
        from trueup.checks import all_checks, chosen

        chosen(all_checks(workspace.root), tuple(checks))
    started = datetime.now(UTC)
    run_id = new_run_id(started)
    with StateStore(workspace.state_url) as state:
        state.abandon_unfinished()
        state.start_run(run_id, started, [s.name for s in steps])
        outcome = RunOutcome(run_id=run_id, started_at=started, outcome="succeeded")
        try:
            with connect(workspace.warehouse_path) as con:
                ctx = StepContext(
                    workspace=workspace,
                    con=con,
                    run_id=run_id,
                    started_at=started,
                    progress=progress or QuietProgress(),
                    state=state,
                    checks=tuple(checks) if checks else None,
                )
                for position, step in enumerate(steps):
                    step_id = state.start_step(run_id, position, step.name)
                    began = time.perf_counter()
                    try:
                        result = step.run(ctx)
                    except Exception as exc:
                        seconds = time.perf_counter() - began
                        state.finish_step(step_id, "failed", seconds, {}, [], [str(exc)])
                        outcome.steps.append(
                            StepOutcome(step.name, "failed", seconds, StepResult(errors=[str(exc)]))
                        )
                        raise
                    seconds = time.perf_counter() - began
                    status = "partial" if result.errors else "succeeded"
                    state.finish_step(step_id, status, seconds, result.counts, result.notes, result.errors)
                    outcome.steps.append(StepOutcome(step.name, status, seconds, result))
                    if status == "partial":
                        outcome.outcome = "partial"
        except Exception as exc:
            outcome.outcome, outcome.error = "failed", str(exc)
            state.finish_run(run_id, "failed", outcome.counts, str(exc))
            raise
        state.finish_run(run_id, outcome.outcome, outcome.counts)
        return outcome
