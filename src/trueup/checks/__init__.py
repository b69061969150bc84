"""The check step: run every detector (built in and the workspace's own) and track what they find.

Checks are SQL over the staged, link and golden tables and the workspace's declarations (see
:mod:`trueup.checks.context`). Their rows land in `check_results` in the warehouse, get a root
cause (:mod:`trueup.checks.cause`) and a cost in minutes, and are handed to the findings store,
which keeps each finding's workflow state from run to run.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import duckdb

from trueup.checks import cause, context
from trueup.checks.context import REPORTED_FIGURES, currency_sign
from trueup.checks.definition import AT_STAKE, CATEGORIES, STAKES, Check
from trueup.checks.execute import RESULTS, CheckFailed, create_results, finish_results, run_check
from trueup.checks.registry import all_checks
from trueup.config.models import Workspace as Config
from trueup.runtime import StepContext, StepResult

__all__ = [
    "AT_STAKE", "CATEGORIES", "REPORTED_FIGURES", "RESULTS", "STAKES",
    "Check", "CheckFailed", "all_checks", "currency_sign", "run",
]  # fmt: skip


def run(ctx: StepContext) -> StepResult:
    con, ws = ctx.con, ctx.workspace.config
    checks = all_checks(ctx.workspace.root)
    result = StepResult()
    con.execute("SET TimeZone = ?", [ws.timezone])  # calendar days are the company's
    con.execute("BEGIN TRANSACTION")
    try:
        context.write(con, ws, ctx.workspace.as_of(), _loads(ctx))
        create_results(con)
        for check in ctx.progress.track(checks, "Checking", total=len(checks)):
            result.counts[f"found.{check.name}"] = run_check(con, check)
        finish_results(con)
        cause.classify(con)
        rows = _rows(con, ws)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    result.counts["findings"] = len(rows)
    if ctx.state is not None:
        synced = ctx.state.sync(ctx.run_id, rows)
        for key, value in synced.counts.items():
            result.counts[f"findings.{key}"] = value
        for severity, count in synced.new_by_severity.items():
            result.counts[f"new.{severity}"] = count
    return result


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


def _rows(con: duckdb.DuckDBPyConnection, ws: Config) -> list[dict[str, Any]]:
    """Every finding of this run as the findings store takes it, with its minutes of manual work."""
    minutes = ws.costs.minutes_per_finding
    default = minutes.get("default", 10)
    cursor = con.execute(
        f"SELECT check_name AS check, category, severity, fingerprint, title, detail, owner, handoff, field,"
        f' money, CAST(to_json(entities) AS VARCHAR) AS entities, CAST("values" AS VARCHAR) AS "values",'
        f" cause, cause_reason, md5(CAST(to_json(r) AS VARCHAR)) AS digest FROM {RESULTS} r ORDER BY fingerprint"
    )
    names = [d[0] for d in cursor.description]
    rows = []
    for raw in cursor.fetchall():
        row = dict(zip(names, raw, strict=True))
        row["entities"] = json.loads(row["entities"])
        row["values"] = None if row["values"] is None else json.loads(row["values"])
        row["minutes"] = float(minutes.get(row["check"], default))
        row["digest"] = hashlib.md5(
            f"{row['digest']}|{row['minutes']}".encode()
        ).hexdigest()  # what the check said
        rows.append(row)
    return rows
