"""The check step: run every detector (built in and the workspace's own) and track what they find.

Checks are SQL over the staged, link and golden tables and the workspace's declarations (see
:mod:`trueup.checks.context`). Their rows get a root cause (:mod:`trueup.checks.cause`) and a cost
in minutes, land in `check_results` in the warehouse (:mod:`trueup.checks.execute`) and are handed
to the findings store, which keeps each finding's workflow state from run to run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb

from trueup.checks import context
from trueup.checks.context import REPORTED_FIGURES, currency_sign
from trueup.checks.definition import AT_STAKE, CATEGORIES, STAKES, Check
from trueup.checks.execute import (
    RESULTS,
    WORK,
    CheckFailed,
    create_results,
    finish_results,
    publish_results,
    run_check,
)
from trueup.checks.registry import all_checks
from trueup.config.models import Workspace as Config
from trueup.errors import TerminalError
from trueup.runtime import StepContext, StepResult

# The findings store, and SQLAlchemy with it, is imported when the step runs: `trueup checks`, which
# lists the checks, took 0.5 s longer for it.
if TYPE_CHECKING:
    from trueup.state.findings import Found

__all__ = [
    "AT_STAKE", "CATEGORIES", "REPORTED_FIGURES", "RESULTS", "STAKES",
    "Check", "CheckFailed", "all_checks", "chosen", "currency_sign", "run",
]  # fmt: skip


def run(ctx: StepContext) -> StepResult:
    con, ws = ctx.con, ctx.workspace.config
    checks = chosen(all_checks(ctx.workspace.root), ctx.checks)
    result = StepResult()
    con.execute("SET TimeZone = ?", [ws.timezone])  # calendar days are the company's
    minutes = _minutes(ws, checks)
    ran = [c.name for c in checks] if ctx.checks else None  # None: every check, so others' findings go
    con.execute("BEGIN TRANSACTION")
    try:
        context.write(con, ws, ctx.workspace.as_of(), _loads(ctx), needs=" ".join(c.sql for c in checks))
        create_results(con)
        for check in ctx.progress.track(checks, "Checking", total=len(checks)):
            result.counts[f"found.{check.name}"] = run_check(con, check, minutes[check.name])
        context.clear(con)
        found = _found(con, finish_results(con, minutes), minutes)
        result.counts["written"] = publish_results(con, found.summaries, ran)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    result.counts["findings"] = found.count
    if ctx.state is not None:
        synced = ctx.state.sync(ctx.run_id, found, checks=ran)
        for key, value in synced.counts.items():
            result.counts[f"findings.{key}"] = value
        for severity, count in synced.new_by_severity.items():
            result.counts[f"new.{severity}"] = count
    return result


def chosen(checks: list[Check], names: tuple[str, ...] | None) -> list[Check]:
    """The checks a run asked for (all when it named none), with the vendor-setting checks about
    records, whose findings are the root cause of others' (a finding's cause must not depend on which
    checks ran); one about a setting names no record, so gives no cause, and runs when asked for (one
    reads every compared field value, seconds on a large company). An unknown name is an error that
    lists them."""
    if names is None:
        return checks
    known = {c.name for c in checks}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise TerminalError(
            f"no check {', '.join(unknown)}; `trueup checks` lists them: {', '.join(sorted(known))}"
        )
    return [c for c in checks if c.name in names or (c.category == "vendor_setting" and c.about == "records")]


HISTORY = 10  # runs of load volumes the checks see


def _loads(ctx: StepContext) -> list[context.LoadRow]:
    """Rows per source table after each recent run's ingest, this run's included."""
    if ctx.state is None:
        return []
    loads = []
    for run in ctx.state.runs(limit=HISTORY):
        for step in run.steps:
            if step.name != "ingest" or step.outcome not in ("succeeded", "partial"):
                continue
            for key, value in step.counts.items():
                if key.startswith("rows."):
                    system, _, table = key.removeprefix("rows.").partition(".")
                    loads.append((run.id, run.started_at, system, table, int(value)))
    return loads


def _minutes(ws: Config, checks: list[Check]) -> dict[str, float]:
    """The minutes of manual work one finding of each check costs (the workspace's `costs`)."""
    minutes = ws.costs.minutes_per_finding
    default = minutes.get("default", 10)
    return {c.name: float(minutes.get(c.name, default)) for c in checks}


def _found(
    con: duckdb.DuckDBPyConnection, summaries: dict[str, tuple[str, int]], minutes: dict[str, float]
) -> Found:
    """This run's findings for the findings store, from `_results`: each check's summary; each
    finding's digest, read into Python only for the checks the store asks for; whole rows only for
    the findings it asks for (new, changed or back)."""
    from trueup.state.findings import PREVIEW, Found

    def digests_of(names: list[str]) -> dict[str, str]:
        if not names:
            return {}
        query = f"SELECT fingerprint, digest FROM {WORK} WHERE check_name IN (SELECT unnest(?::VARCHAR[]))"
        return dict(con.execute(query, [names]).fetchall())

    def fetch(fingerprints: list[str]) -> list[dict[str, Any]]:
        if not fingerprints:
            return []
        # The records and values in JSON as DuckDB writes them, stored as they are (see `Found`).
        cursor = con.execute(
            f"SELECT check_name AS check, category, severity, fingerprint, title, detail, owner, handoff, field,"
            f' money, CAST(to_json(entities) AS VARCHAR) AS entities, CAST("values" AS VARCHAR) AS "values",'
            f" cause, cause_reason, digest, len(entities) AS entity_count,"
            f" CAST(to_json(entities[1:{PREVIEW}]) AS VARCHAR) AS entities_preview"
            f" FROM {WORK} WHERE fingerprint IN (SELECT unnest(?::VARCHAR[]))",
            [fingerprints],
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, raw, strict=True)) for raw in cursor.fetchall()]
        for row in rows:
            row["minutes"] = minutes[row["check"]]
        return rows

    return Found(summaries, digests_of, fetch)
