"""The debt ledger's shape: every number the report, `trueup audit` and `report.json` show.

`Ledger.model_json_schema()` is the published schema of `report.json` (`docs/report.schema.json`);
templates format these numbers and never compute new ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

Action = Literal["monitor", "map_ownership", "systems_audit", "stabilisation_sprint", "modernisation"]
Health = Literal["healthy", "at_risk", "failing"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stakes(Model):
    """Money behind open findings, by what it is (a check's `stake`). The first four are at stake now."""

    unbilled: float = 0  # finished work with no invoice
    unposted: float = 0  # invoiced, missing from the ledger
    mismatched: float = 0  # amounts two systems disagree on
    unpaid: float = 0  # paid in one system, shown unpaid in another
    lost: float = 0  # won deals that never became jobs
    misreported: float = 0  # figures in sheets and reports that differ from the systems
    delayed: float = 0  # money that moved late (already arrived)
    other: float = 0  # money a check names without saying what it is


class Tally(Model):
    """Open findings (open, acknowledged or reopened; suppressed ones are counted apart) added up."""

    findings: int = 0
    critical: int = 0
    configuration: int = 0  # caused by a setting (see the findings' cause), not by design
    suppressed: int = 0
    money: Stakes = Field(default_factory=Stakes)
    at_stake: float = 0  # unbilled + unposted + mismatched + unpaid
    hours_per_month: float = 0  # the manual minutes each open finding costs, per month it stays open
    cost_per_month: float = 0  # hours_per_month x the hourly rate
    oldest_days: float | None = None  # since the oldest open finding was first seen
    checks: dict[str, int] = {}  # open findings per check


class Example(Model):
    id: int
    check: str
    severity: str
    title: str
    owner: str | None
    money: float | None


class Recommendation(Model):
    action: Action
    label: str
    reasons: list[str]


class HandoffLedger(Model):
    id: str
    declared: bool  # False: systems that disagree with no declared handoff between them
    from_system: str
    to_system: str
    carries: str | None = None
    mechanism: str | None = None
    sla: str | None = None
    retired: bool = False
    parts: dict[str, str | None] = {}  # owner, trigger, expected, exceptions, monitoring, rollback
    gaps: list[str] = []  # the parts it lacks
    health: Health
    tally: Tally
    recommendation: Recommendation
    examples: list[Example] = []


class SystemLedger(Model):
    system: str
    label: str
    kind: str
    maintenance_hours_per_month: float  # declared under costs
    workaround_hours_per_month: float  # the open findings this system has to fix
    license_per_month: float
    cost_per_month: float  # (maintenance + workaround hours) x hourly rate + licence
    deals_lost: int
    deals_lost_value: float
    initiatives_blocked: list[str]
    tally: Tally


class CategoryLedger(Model):
    category: str
    label: str
    tally: Tally
    examples: list[Example] = []


class Stage(Model):
    stage: str
    label: str
    count: int
    amount: float
    leak: str | None = None  # the stake lost between the previous stage and this one
    leak_findings: int = 0
    leak_money: float = 0


class ReportedFigure(Model):
    metric: str
    period: str
    source: str | None
    basis: str | None
    reported: float
    recomputed: float | None
    difference: float  # reported - recomputed
    sheet_total: float | None  # what the source spreadsheet's own rows add up to
    explained: float | None  # sheet_total - recomputed: made by rows corrected, added or dropped by hand
    unexplained: float | None  # reported - sheet_total: typed or carried over outside the rows
    finding: int | None  # the reported_differs finding, when the figures disagree


class ColumnCorrections(Model):
    system: str
    column: str
    filled: int  # rows with a value
    corrections: int  # open sheet_correction findings on the column
    rate: float  # corrections / filled
    money: float
    without_upstream: bool  # no system holds what the column says


class TrendPoint(Model):
    run_id: str
    at: datetime
    findings: int
    at_stake: float
    hours_per_month: float


class Summary(Model):
    verdict: str
    findings: int
    critical: int
    at_stake: float
    hours_per_month: float
    cost_per_month: float
    costliest_handoffs: list[str]  # ids, costliest first, at most five
    first_action: str | None


class Ledger(Model):
    schema_version: int = SCHEMA_VERSION
    workspace: str
    currency: str
    as_of: datetime
    generated_at: datetime
    run_id: str | None
    hourly_rate: float
    summary: Summary
    totals: Tally
    handoffs: list[HandoffLedger]
    systems: list[SystemLedger]
    categories: list[CategoryLedger]
    funnel: list[Stage]
    reported: list[ReportedFigure]
    corrections: list[ColumnCorrections]
    trend: list[TrendPoint]


def json_schema() -> dict[str, object]:
    """The published schema of `report.json` (committed as docs/report.schema.json)."""
    schema = Ledger.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://trueup.dev/schemas/report.schema.json",
        **schema,
        "title": f"trueup report.json, schema version {SCHEMA_VERSION}",
    }
