"""The debt ledger: what the open findings cost, per handoff, per system and per category.

It reads the findings queue (the state store, so that what people did counts: a suppressed finding
is set aside) and, from the warehouse, the golden records' job-to-cash funnel, the reported figures
beside their recomputation and each spreadsheet column's fill. Each finding is charged to one
handoff and one system:

- its handoff: the one its check named; else the live declared handoff between two of the systems
  it is about (its records' systems and its owner, when the owner is a system); else, for a finding
  about one spreadsheet, the one live handoff that builds it, if there is exactly one; else, when it
  is about two systems with no handoff declared between them, that undeclared pair;
- its system: its owner when the owner is a system, else its handoff's target, else the first of
  its records' systems.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import duckdb

from trueup.checks import CATEGORIES, REPORTED_FIGURES, Check, currency_sign
from trueup.checks.definition import at_stake
from trueup.config.models import HANDOFF_PARTS, Handoff
from trueup.config.models import Workspace as Config
from trueup.errors import TerminalError
from trueup.model import DONE_JOB_STATES
from trueup.report import recommend
from trueup.report.model import (
    CategoryLedger,
    ColumnCorrections,
    Example,
    HandoffLedger,
    Health,
    Ledger,
    ReportedFigure,
    Stage,
    Stakes,
    Summary,
    SystemLedger,
    Tally,
    TrendPoint,
)
from trueup.warehouse import table_exists

CATEGORY_LABELS = {
    "source_of_truth_conflict": "Source-of-truth conflicts",
    "lifecycle_mismatch": "Job status and invoice state mismatches",
    "spreadsheet_middleware": "Spreadsheets as middleware",
    "silent_sync_failure": "Silent sync failures",
    "corrected_reporting": "Reporting built on corrected exports",
    "vendor_setting": "Vendor settings mistaken for architecture",
    "migration_residue": "Partial migration residue",
    "unowned_automation": "Automation without ownership",
}
EXAMPLES = 3


class Open(NamedTuple):
    """One finding the ledger counts (open, acknowledged, reopened or suppressed). A tuple: 167,166
    frozen dataclasses took 1.1 s to make."""

    id: int
    check: str
    category: str
    severity: str
    suppressed: bool
    title: str
    owner: str | None
    money: Decimal | None
    stake: str | None
    minutes: float
    cause: str | None
    first_seen: datetime
    field: str | None
    systems: tuple[str, ...]
    records: list[dict[str, Any]]  # as the store keeps them: `{entity, system, source_id, canonical_id}`
    handoff: str | None = None  # as charged (see the module's docstring)
    system: str | None = None


# A finding's (handoff, owner, systems) -> the (handoff, system) it is charged to.
Charges = dict[tuple[str | None, str | None, tuple[str, ...]], tuple[str | None, str | None]]


def build(
    con: duckdb.DuckDBPyConnection,
    ws: Config,
    checks: Sequence[Check],
    findings: Iterable[Any],
    as_of: datetime,
    run_id: str | None,
    trend: Sequence[TrendPoint] = (),
    now: datetime | None = None,
) -> Ledger:
    """The ledger of one run: `findings` are the store's active rows, `trend` the earlier runs'."""
    if not table_exists(con, "main", REPORTED_FIGURES):
        raise TerminalError("the report reads what the check step writes: run `trueup run` first")
    now = now or datetime.now(UTC)
    rate = ws.costs.hourly_rate
    stakes = {c.name: c.stake for c in checks}
    charged: Charges = {}
    opened = [_open(row, stakes, now, ws, charged) for row in findings]
    handoffs = _handoffs(ws, opened, rate, now)
    systems = _systems(ws, opened, rate, now)
    categories = _categories(opened, rate, now)
    totals = _tally(opened, rate, now)
    point = TrendPoint(
        run_id=run_id or "", at=now, findings=totals.findings, at_stake=totals.at_stake,
        hours_per_month=totals.hours_per_month,
    )  # fmt: skip
    history = [p for p in trend if p.run_id != run_id] + ([point] if run_id else [])
    return Ledger(
        workspace=ws.name,
        currency=ws.currency,
        as_of=as_of,
        generated_at=now,
        run_id=run_id,
        hourly_rate=rate,
        summary=_summary(totals, handoffs, ws.currency),
        totals=totals,
        handoffs=handoffs,
        systems=systems,
        categories=categories,
        funnel=_funnel(con, opened),
        reported=_reported(con, opened),
        corrections=_corrections(con, opened),
        trend=history[-ws.report.trend_runs :],
    )


def snapshot(ledger: Ledger) -> dict[str, Any]:
    """What the state store keeps of a ledger for the trend: the totals overall and per group."""

    def brief(t: Tally) -> dict[str, Any]:
        return {"findings": t.findings, "at_stake": t.at_stake, "hours_per_month": t.hours_per_month}

    return {
        "total": brief(ledger.totals),
        "handoffs": {h.id: brief(h.tally) for h in ledger.handoffs},
        "systems": {s.system: brief(s.tally) for s in ledger.systems},
        "categories": {c.category: brief(c.tally) for c in ledger.categories},
    }


# --- findings, charged -----------------------------------------------------------------------


def _open(
    row: Any, stakes: dict[str, str | None], now: datetime, ws: Config, charged: Charges | None = None
) -> Open:
    """A finding of the store as the ledger counts it, with the handoff and the system it is charged
    to; `charged` remembers the answer for findings naming the same handoff, owner and systems
    (thousands of findings share a few)."""
    until = row.suppressed_until
    records = row.entities or []
    systems = tuple(dict.fromkeys([e["system"] for e in records if e.get("system")]))
    key = (row.handoff, row.owner, systems)
    memo = charged if charged is not None else {}
    if key not in memo:
        memo[key] = _charged(ws, *key)
    handoff, system = memo[key]
    return Open(
        id=row.id,
        check=row.check,
        category=row.category,
        severity=row.severity,
        suppressed=row.state == "suppressed" and (until is None or until > now),
        title=row.title,
        owner=row.owner,
        money=None if row.money is None else Decimal(row.money),
        stake=stakes.get(row.check),
        minutes=float(row.minutes or 0),
        cause=row.cause,
        first_seen=row.first_seen,
        field=row.field,
        systems=systems,
        records=records,
        handoff=handoff,
        system=system,
    )


def _charged(
    ws: Config, handoff: str | None, owner: str | None, named: tuple[str, ...]
) -> tuple[str | None, str | None]:
    live = [h for h in ws.handoffs if not h.retired]
    systems = set(named) | ({owner} if owner in ws.systems else set())
    handoff = handoff if handoff in {h.id for h in ws.handoffs} else None
    if handoff is None:
        handoff = next((h.id for h in live if {h.from_, h.to} <= systems), None)
    sheets = (
        {s for s in systems if ws.systems[s].kind == "spreadsheet"} if systems <= set(ws.systems) else set()
    )
    if (
        handoff is None and len(systems) == 1 and sheets
    ):  # a spreadsheet's own findings: the handoff building it
        into = [h.id for h in live if h.to in sheets]
        handoff = into[0] if len(into) == 1 else None
    real = [s for s in ws.systems if s in systems]
    if handoff is None and len(real) >= 2:
        handoff = _pair(real[0], real[1])
    target = next((h.to for h in ws.handoffs if h.id == handoff), None)
    return handoff, owner if owner in ws.systems else target or (real[0] if real else None)


def _pair(a: str, b: str) -> str:
    return f"{a}~{b}"


# --- the groups ------------------------------------------------------------------------------


def _grouped(opened: Iterable[Open], key: str) -> dict[str | None, list[Open]]:
    groups: dict[str | None, list[Open]] = defaultdict(list)
    for f in opened:
        groups[getattr(f, key)].append(f)
    return groups


def _tally(findings: Sequence[Open], rate: float, now: datetime) -> Tally:
    """A group of findings added up; the suppressed ones only counted."""
    live = [f for f in findings if not f.suppressed]
    money: dict[str, Decimal] = defaultdict(Decimal)
    for f in live:
        if f.money is not None:
            money[f.stake or "other"] += f.money
    hours = sum(f.minutes for f in live) / 60
    checks = Counter(f.check for f in live)
    return Tally(
        findings=len(live),
        critical=sum(f.severity == "critical" for f in live),
        configuration=sum(f.cause == "configuration" for f in live),
        suppressed=len(findings) - len(live),
        money=Stakes(**{k: _round(v) for k, v in money.items()}),
        at_stake=_round(at_stake(money)),
        hours_per_month=round(hours, 1),
        cost_per_month=_round(Decimal(str(hours * rate))),
        oldest_days=round((now - min(f.first_seen for f in live)).total_seconds() / 86400, 1)
        if live
        else None,
        checks=dict(sorted(checks.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def _examples(findings: Iterable[Open]) -> list[Example]:
    """The worst of a group: critical first, then the most money."""
    worst = heapq.nsmallest(  # (what sorting them all and taking the first gives)
        EXAMPLES,
        (f for f in findings if not f.suppressed),
        key=lambda f: (f.severity != "critical", -(f.money or 0), f.id),
    )
    return [
        Example(id=f.id, check=f.check, severity=f.severity, title=f.title, owner=f.owner,
                money=None if f.money is None else _round(f.money))
        for f in worst
    ]  # fmt: skip


def _handoffs(ws: Config, opened: list[Open], rate: float, now: datetime) -> list[HandoffLedger]:
    groups = _grouped(opened, "handoff")
    rows = [_declared(ws, h, groups.get(h.id, []), rate, now) for h in ws.handoffs]
    for key in sorted(k for k in groups if k and "~" in k):
        a, _, b = key.partition("~")
        tally = _tally(groups[key], rate, now)
        rows.append(
            HandoffLedger(
                id=key, declared=False, from_system=a, to_system=b, health=_health(tally, [], False),
                tally=tally, recommendation=recommend.undeclared(a, b, tally), examples=_examples(groups[key]),
            )
        )  # fmt: skip
    return sorted(rows, key=lambda h: (-h.tally.at_stake, -h.tally.hours_per_month, h.id))


def _declared(ws: Config, h: Handoff, findings: list[Open], rate: float, now: datetime) -> HandoffLedger:
    parts = {p: getattr(h, p) for p in HANDOFF_PARTS}
    gaps = [] if h.retired else [p for p, v in parts.items() if v is None]
    tally = _tally(findings, rate, now)
    advice = recommend.for_handoff(ws.report, tally, gaps, currency_sign(ws.currency))
    return HandoffLedger(
        id=h.id,
        declared=True,
        from_system=h.from_,
        to_system=h.to,
        carries=h.carries,
        mechanism=h.mechanism,
        sla=h.sla,
        retired=bool(h.retired),
        parts=parts,
        gaps=gaps,
        health=_health(tally, gaps, advice.action in ("stabilisation_sprint", "modernisation")),
        tally=tally,
        recommendation=advice,
        examples=_examples(findings),
    )


def _health(tally: Tally, gaps: list[str], urgent: bool) -> Health:
    if urgent or tally.critical:
        return "failing"
    return "at_risk" if tally.findings or gaps else "healthy"


def _systems(ws: Config, opened: list[Open], rate: float, now: datetime) -> list[SystemLedger]:
    groups = _grouped(opened, "system")
    rows = []
    for name, system in ws.systems.items():
        declared = ws.costs.systems.get(name)
        findings = groups.get(name, [])
        tally = _tally(findings, rate, now)
        lost = [f for f in findings if f.stake == "lost" and not f.suppressed]
        maintenance = declared.maintenance_hours_per_month if declared else 0.0
        licence = declared.license_per_month if declared else 0.0
        rows.append(
            SystemLedger(
                system=name,
                label=system.label or name,
                kind=system.kind,
                maintenance_hours_per_month=maintenance,
                workaround_hours_per_month=tally.hours_per_month,
                license_per_month=licence,
                cost_per_month=_round(Decimal(str((maintenance + tally.hours_per_month) * rate + licence))),
                deals_lost=len(lost),
                deals_lost_value=_round(sum((f.money or Decimal() for f in lost), Decimal())),
                initiatives_blocked=list(declared.initiatives_blocked) if declared else [],
                tally=tally,
            )
        )
    return sorted(rows, key=lambda s: (-s.cost_per_month, s.system))


def _categories(opened: list[Open], rate: float, now: datetime) -> list[CategoryLedger]:
    groups = _grouped(opened, "category")
    known = [c for c in CATEGORIES] + sorted(c for c in groups if c and c not in CATEGORIES)
    return [
        CategoryLedger(category=c, label=CATEGORY_LABELS.get(c, c), tally=_tally(groups.get(c, []), rate, now),
                       examples=_examples(groups.get(c, [])))
        for c in known
    ]  # fmt: skip


def _summary(totals: Tally, handoffs: list[HandoffLedger], currency: str) -> Summary:
    costly = [h for h in handoffs if h.tally.findings]
    costly.sort(key=lambda h: (-(h.tally.at_stake + h.tally.cost_per_month), h.id))
    gapped = [h for h in handoffs if h.gaps]
    sign = currency_sign(currency)
    first = None
    if totals.findings:
        verdict = (
            f"{totals.findings:,} open findings: {sign}{totals.at_stake:,.0f} at stake and"
            f" {totals.hours_per_month:,.1f} hours of manual work a month ({sign}{totals.cost_per_month:,.0f})."
        )
    elif gapped:
        verdict = f"The systems agree, but {len(gapped)} handoffs lack parts of their contract."
    else:
        verdict = "Nothing to fix: the systems agree and every handoff is declared in full."
    if costly or gapped:
        top = (costly or gapped)[0]
        first = f"{top.recommendation.label} for {_name(top)}: {top.recommendation.reasons[0]}"
    elif totals.findings:
        check, count = next(iter(totals.checks.items()))
        first = f"Start with the {count:,} findings of {check}: `trueup findings --check {check}`"
    return Summary(
        verdict=verdict,
        findings=totals.findings,
        critical=totals.critical,
        at_stake=totals.at_stake,
        hours_per_month=totals.hours_per_month,
        cost_per_month=totals.cost_per_month,
        costliest_handoffs=[h.id for h in costly[:5]],
        first_action=first,
    )


def _name(h: HandoffLedger) -> str:
    return h.id if h.declared else f"{h.from_system} and {h.to_system} (no declared handoff)"


# --- from the warehouse ----------------------------------------------------------------------

FUNNEL = (  # stage, label, the stake that leaks on the way into it
    ("won", "Deals won", None),
    ("scheduled", "Jobs scheduled", "lost"),
    ("completed", "Jobs completed", None),
    ("invoiced", "Invoiced", "unbilled"),
    ("posted", "Posted to the ledger", "unposted"),
    ("paid", "Paid", "unpaid"),
)


def _funnel(con: duckdb.DuckDBPyConnection, opened: list[Open]) -> list[Stage]:
    """Golden records at each stage of job to cash, and what leaks on the way into it."""
    done = ", ".join(f"'{s}'" for s in DONE_JOB_STATES)
    live = "coalesce(state, '') NOT IN ('draft', 'cancelled')"
    ledgers = (  # the systems invoices are posted to: where a live invoice handoff delivers them
        "SELECT list(to_system) FROM config.handoffs WHERE source_entity = 'invoice'"
        " AND target_entity = 'invoice' AND retired_on IS NULL"
    )
    posted = (
        f"CASE WHEN len(coalesce(({ledgers}), [])) > 0 THEN list_has_any(systems, ({ledgers}))"
        " ELSE posted_at IS NOT NULL END"
    )
    queries = {
        "won": "SELECT count(*), sum(amount) FROM deal WHERE state = 'won'",
        "scheduled": "SELECT count(*), sum(amount) FROM job WHERE coalesce(state, '') <> 'cancelled'",
        "completed": f"SELECT count(*), sum(amount) FROM job WHERE state IN ({done})",
        "invoiced": f"SELECT count(*), sum(amount) FROM invoice WHERE {live}",
        "posted": f"SELECT count(*), sum(amount) FROM invoice WHERE {live} AND {posted}",
        "paid": "SELECT count(*), sum(amount) FROM invoice WHERE state = 'paid'",
    }
    stages = []
    for stage, label, leak in FUNNEL:
        count, amount = con.execute(queries[stage]).fetchone() or (0, None)
        leaking = [f for f in opened if leak and f.stake == leak and not f.suppressed]
        stages.append(
            Stage(stage=stage, label=label, count=int(count or 0), amount=_round(amount or Decimal()), leak=leak,
                  leak_findings=len(leaking), leak_money=_round(sum((f.money or 0 for f in leaking), Decimal())))
        )  # fmt: skip
    return stages


def _reported(con: duckdb.DuckDBPyConnection, opened: list[Open]) -> list[ReportedFigure]:
    findings = {
        str(r.get("source_id")): f.id for f in opened if f.check == "reported_differs" for r in f.records
    }
    rows = con.execute(
        f"SELECT metric, period, source, basis, reported, recomputed, sheet_total FROM {REPORTED_FIGURES}"
    ).fetchall()
    out = []
    for metric, period, source, basis, reported, recomputed, sheet in rows:
        diff = reported - (recomputed or 0)
        out.append(
            ReportedFigure(
                metric=metric, period=period, source=source, basis=basis, reported=_round(reported),
                recomputed=None if recomputed is None else _round(recomputed), difference=_round(diff),
                sheet_total=None if sheet is None else _round(sheet),
                explained=None if sheet is None else _round(sheet - (recomputed or 0)),
                unexplained=None if sheet is None else _round(reported - sheet),
                finding=findings.get(f"{metric}:{period}"),
            )
        )  # fmt: skip
    return out


def _corrections(con: duckdb.DuckDBPyConnection, opened: list[Open]) -> list[ColumnCorrections]:
    """Per spreadsheet column: how often its cells were corrected by hand (a heat map's cells)."""
    if not table_exists(con, "config", "sheet_columns"):
        return []
    counts: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    bare: set[tuple[str, str]] = set()
    for f in opened:
        if f.check == "sheet_correction" and not f.suppressed and f.system:
            counts[(f.system, f.field or "")].append(f.money or Decimal())
        if f.check == "column_without_upstream" and f.system:
            bare.add((f.system, f.field or ""))
    columns = con.execute(
        "SELECT system, column_name, filled FROM config.sheet_columns ORDER BY system, source_table"
    ).fetchall()
    return [
        ColumnCorrections(
            system=system, column=column, filled=int(filled or 0), corrections=len(counts.get((system, column), [])),
            rate=round(len(counts.get((system, column), [])) / filled, 4) if filled else 0.0,
            money=_round(sum(counts.get((system, column), []), Decimal())), without_upstream=(system, column) in bare,
        )
        for system, column, filled in columns
    ]  # fmt: skip


# --- small helpers ---------------------------------------------------------------------------


def _round(value: Any) -> float:
    return float(round(Decimal(value), 2))
