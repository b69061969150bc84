"""The report step: the debt ledger of the run, kept for the trend and written as HTML, Markdown and JSON.

:mod:`trueup.report.ledger` adds the open findings up per handoff, system and category,
:mod:`trueup.report.recommend` says what to do about each handoff, and
:mod:`trueup.report.render` writes `report/index.html`, `report/report.md` and `report/report.json`
from the one :class:`~trueup.report.model.Ledger`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from trueup.checks import all_checks
from trueup.report import ledger as ledgers
from trueup.report.model import Ledger, TrendPoint
from trueup.runtime import StepContext, StepResult
from trueup.workspace import Workspace

if TYPE_CHECKING:
    from trueup.state import StateStore

__all__ = ["Ledger", "build", "current", "output_dir", "run", "write"]


def run(ctx: StepContext) -> StepResult:
    ledger = build(ctx.workspace, ctx.con, ctx.state, ctx.run_id)
    if ctx.state is not None:
        ctx.state.save_snapshot(ctx.run_id, ledger.generated_at, ledgers.snapshot(ledger))
    written = write(ledger, output_dir(ctx.workspace))
    result = StepResult()
    result.counts["open"] = ledger.totals.findings
    result.counts["at_stake"] = ledger.totals.at_stake
    result.counts["hours_per_month"] = ledger.totals.hours_per_month
    result.notes.append(ledger.summary.verdict)
    if ledger.summary.first_action:
        result.notes.append(f"do first: {ledger.summary.first_action}")
    result.notes.append(f"report written to {written[0]}")
    return result


def build(
    ws: Workspace, con: duckdb.DuckDBPyConnection, state: StateStore | None, run_id: str | None,
    now: datetime | None = None,
) -> Ledger:  # fmt: skip
    """The ledger as of the last check step: the findings queue as people left it, the warehouse's figures."""
    config = ws.config
    rows = state.active_rows() if state is not None else []
    trend = []
    if state is not None:
        for snap in state.snapshots(config.report.trend_runs):
            total = snap.totals.get("total", {})
            trend.append(TrendPoint(run_id=snap.run_id, at=snap.at, **total))
    return ledgers.build(con, config, all_checks(ws.root), rows, ws.as_of(), run_id, trend=trend, now=now)


def current(ws: Workspace, save: bool = False) -> Ledger:
    """The ledger of the workspace's last run, built again from the warehouse and the findings queue
    as people have left it since; with `save`, kept as that run's snapshot for the trend."""
    from trueup.errors import TrueupError
    from trueup.state import StateStore
    from trueup.warehouse import connect

    if not ws.warehouse_path.exists():
        raise TrueupError("there is no run to report on yet: run `trueup run` first")
    with StateStore(ws.state_url) as state:
        checked = [
            r
            for r in state.runs(limit=50)
            if any(s.name == "check" and s.outcome == "succeeded" for s in r.steps)
        ]
        run_id = checked[0].id if checked else None
        with connect(ws.warehouse_path, read_only=True) as con:
            ledger = build(ws, con, state, run_id)
        if save and run_id:
            state.save_snapshot(run_id, ledger.generated_at, ledgers.snapshot(ledger))
        return ledger


def output_dir(ws: Workspace) -> Path:
    return ws.root / ws.config.report.output


def write(ledger: Ledger, directory: Path) -> list[Path]:
    from trueup.report.render import write_all

    return write_all(ledger, directory)
