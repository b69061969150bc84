"""The ledger's rules on small inputs: which handoff and system a finding is charged to, suppression,
what counts as money at stake, and the recommendation each handoff gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from trueup.config.models import Report, Workspace
from trueup.report import recommend
from trueup.report.ledger import _open, _tally
from trueup.report.model import Stakes, Tally

NOW = datetime(2026, 11, 20, 18, tzinfo=UTC)
FILES = {"type": "files", "tables": {"t": "t.csv"}}
CONFIG = Workspace.model_validate({
    "name": "Test",
    "systems": {"crm": {"source": FILES}, "dispatch": {"source": FILES}, "billing": {"source": FILES},
                "sheet": {"kind": "spreadsheet", "derived_from": ["dispatch"], "source": FILES}},
    "handoffs": [
        {"id": "deal-to-job", "from": "crm", "to": "dispatch", "carries": "deal->job", "owner": "ops@x"},
        {"id": "job-to-invoice", "from": "dispatch", "to": "billing", "carries": "job->invoice"},
        {"id": "sheet-build", "from": "dispatch", "to": "sheet", "carries": "job"},
        {"id": "old-zap", "from": "crm", "to": "billing", "retired": "2026-01-31"},
    ],
})  # fmt: skip
STAKES = {"job_not_invoiced": "unbilled", "sync_lag": "delayed", "won_deal_no_job": "lost"}


def row(check: str = "field_conflict", systems: tuple[str, ...] = (), **kw: Any) -> Any:
    base = {"id": 1, "check": check, "category": "source_of_truth_conflict", "severity": "warning", "state": "open",
            "title": "t", "owner": None, "handoff": None, "field": None, "money": None, "minutes": 10.0,
            "cause": "design", "first_seen": NOW - timedelta(days=3), "suppressed_until": None,
            "entities": [{"entity": "customer", "system": s, "source_id": f"{s}-1"} for s in systems]}  # fmt: skip
    return SimpleNamespace(**{**base, **kw})


def charged(r: Any) -> Any:
    return _open(r, STAKES, NOW, CONFIG)


def test_a_finding_keeps_the_handoff_its_check_named() -> None:
    f = charged(row("job_not_invoiced", ("dispatch",), handoff="job-to-invoice", owner="billing@x"))
    assert (f.handoff, f.system) == ("job-to-invoice", "billing")  # the owner is a person: the handoff's target


def test_two_systems_with_a_handoff_between_them_are_charged_to_it() -> None:
    f = charged(row(systems=("crm", "dispatch"), owner="dispatch"))
    assert (f.handoff, f.system) == ("deal-to-job", "dispatch")


def test_two_systems_with_no_handoff_between_them_are_an_undeclared_pair() -> None:
    f = charged(row(systems=("billing", "crm")))  # only a retired handoff joins them
    assert f.handoff == "crm~billing" and f.system == "crm"


def test_a_spreadsheets_own_finding_goes_to_the_handoff_that_builds_it() -> None:
    assert charged(row("column_without_upstream", (), owner="sheet")).handoff == "sheet-build"
    assert charged(row("unmapped_status", (), owner="billing")).handoff is None  # one system, not a sheet


def test_suppressed_findings_are_set_aside_until_the_suppression_ends() -> None:
    later = NOW + timedelta(days=1)
    held = _open(row(state="suppressed", suppressed_until=later), STAKES, NOW, CONFIG)
    expired = _open(row(state="suppressed", suppressed_until=NOW - timedelta(days=1)), STAKES, NOW, CONFIG)
    tally = _tally([held, expired], rate=60, now=NOW)
    assert (tally.findings, tally.suppressed) == (1, 1)


def test_only_four_kinds_of_money_are_at_stake() -> None:
    findings = [
        _open(row("job_not_invoiced", money=Decimal("100.50"), minutes=30), STAKES, NOW, CONFIG),
        _open(row("sync_lag", money=Decimal("40")), STAKES, NOW, CONFIG),
        _open(row("won_deal_no_job", money=Decimal("900"), severity="critical"), STAKES, NOW, CONFIG),
        _open(row("custom_check", money=Decimal("7")), STAKES, NOW, CONFIG),
    ]
    tally = _tally(findings, rate=60, now=NOW)
    assert tally.money == Stakes(unbilled=100.5, delayed=40, lost=900, other=7)
    assert tally.at_stake == 100.5 and tally.critical == 1
    assert tally.hours_per_month == 1.0 and tally.cost_per_month == 60.0  # 30 + 3 x 10 minutes at 60 an hour
    assert tally.oldest_days == 3.0


RULES = Report(sprint_money=10_000, repeated=5)


def tally(checks: dict[str, int], configuration: int = 0, **money: float) -> Tally:
    stakes = Stakes(**money)
    at_stake = stakes.unbilled + stakes.unposted + stakes.mismatched + stakes.unpaid
    return Tally(findings=sum(checks.values()), checks=checks, configuration=configuration, money=stakes,
                 at_stake=at_stake)  # fmt: skip


@pytest.mark.parametrize(
    ("given", "gaps", "action"),
    [
        (tally({}), [], "monitor"),
        (tally({"job_not_invoiced": 2}, unbilled=300), [], "monitor"),
        (tally({"field_conflict": 3}), [], "map_ownership"),
        (tally({"sync_lag": 6}), [], "map_ownership"),
        (tally({"sync_lag": 1}), ["owner"], "map_ownership"),
        (tally({"retired_handoff_active": 1}), [], "map_ownership"),
        (tally({"unmapped_status": 1, "field_conflict": 9}), [], "systems_audit"),
        (tally({"amount_mismatch": 4}, configuration=2, mismatched=50), [], "systems_audit"),
        (tally({"job_not_invoiced": 12}, unbilled=25_000), ["owner"], "stabilisation_sprint"),
        (tally({"sheet_correction": 2}, misreported=12_000), [], "stabilisation_sprint"),
        (tally({"column_without_upstream": 2, "job_not_invoiced": 9}, unbilled=50_000), [], "modernisation"),
        (tally({"unowned_fact": 1}), [], "modernisation"),
    ],
)
def test_the_strongest_rule_that_holds_decides(given: Tally, gaps: list[str], action: str) -> None:
    advice = recommend.for_handoff(RULES, given, gaps)
    assert advice.action == action
    assert advice.label == recommend.LABELS[action] and advice.reasons


def test_every_rule_that_holds_is_a_reason() -> None:
    advice = recommend.for_handoff(RULES, tally({"job_not_invoiced": 12}, unbilled=25_000), ["owner"])
    assert advice.reasons == [
        "$25,000 at stake now, over $10,000 (unbilled $25,000)",
        "the same failure repeats: 12 findings of job_not_invoiced",
        "nobody owns the handoff",
    ]
    quiet = recommend.for_handoff(RULES, tally({"sync_lag": 1}), ["monitoring", "rollback"])
    assert quiet.reasons == ["1 occasional finding, $0 at stake; fill in its monitoring, rollback"]
