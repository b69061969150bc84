"""The findings workflow in the state store, on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from trueup.state import StateStore
from trueup.state.findings import FindingError


def _row(key: str, money: float | Decimal | None = 10.0, severity: str = "warning") -> dict[str, Any]:
    return {
        "fingerprint": key.ljust(32, "0"), "check": "job_not_invoiced", "category": "lifecycle_mismatch",
        "severity": severity, "title": f"finding {key}", "detail": None, "owner": "billing", "handoff": None,
        "field": None, "money": money, "minutes": 25.0, "cause": "design", "cause_reason": "workflow",
        "entities": [{"entity": "job", "system": "dispatch", "source_id": key, "canonical_id": None}],
        "values": {"dispatch": key},
    }  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    state = StateStore(url)
    try:
        yield state
    finally:
        if request.param == "postgresql":  # one database per session: leave it empty for the next test
            from trueup.state.models import CheckRun, Finding, FindingEvent

            with state.sessions() as s, s.begin():
                s.query(FindingEvent).delete()
                s.query(Finding).delete()
                s.query(CheckRun).delete()
        state.close()


def _by_title(store: StateStore) -> dict[str, Any]:
    return {f.title: f for f in store.findings()}


def test_the_findings_of_a_check_no_longer_run_resolve(store: StateStore) -> None:
    other = {**_row("z"), "check": "big_invoice"}  # a custom check, deleted before the second run
    store.sync("run-1", [_row("a"), other])
    second = store.sync("run-2", [_row("a")])  # job_not_invoiced's findings have not moved: settled
    assert second.counts["unchanged"] == 1 and len(second.auto_resolved) == 1
    assert _by_title(store)["finding z"].state == "auto_resolved"
    assert store.sync("run-3", [_row("a")]).counts["auto_resolved"] == 0


def test_a_run_opens_keeps_and_auto_resolves(store: StateStore) -> None:
    first = store.sync("run-1", [_row("a"), _row("b", severity="critical")])
    assert len(first.opened) == 2 and first.new_by_severity == {"warning": 1, "critical": 1}
    again = store.sync("run-2", [_row("a"), _row("b", severity="critical")])
    assert again.counts == {"opened": 0, "reopened": 0, "auto_resolved": 0, "changed": 0, "unchanged": 2}
    gone = store.sync("run-3", [_row("a")])
    assert len(gone.auto_resolved) == 1 and _by_title(store)["finding b"].state == "auto_resolved"
    back = store.sync("run-4", [_row("a"), _row("b", severity="critical")])
    assert len(back.reopened) == 1 and back.new_by_severity == {"critical": 1}
    b = _by_title(store)["finding b"]
    assert b.state == "reopened" and b.first_run == "run-1" and b.last_run == "run-4"
    actions = [(e.action, e.to_state, e.run_id) for e in store.finding_events(b.id)]
    assert actions == [("opened", "open", "run-1"), ("auto_resolved", "auto_resolved", "run-3"),
                       ("reopened", "reopened", "run-4")]  # fmt: skip


def test_last_seen_is_the_last_run_that_found_it(store: StateStore) -> None:
    """Open findings were seen by their check's last run (one row per check, not per finding); a
    finding that goes away, by a run or a person, keeps the run that saw it last."""
    moments = [datetime(2026, 11, day, 6, tzinfo=UTC) for day in (1, 2, 3, 4)]
    store.sync("run-1", [_row("a"), _row("b"), _row("c")], now=moments[0])
    store.sync("run-2", [_row("a"), _row("b"), _row("c")], now=moments[1])
    store.act([_by_title(store)["finding c"].id], "resolve", "dana", reason="fixed by hand")
    store.sync("run-3", [_row("a")], now=moments[2])  # b is gone; c, resolved, is not expected
    seen = {t: (f.state, f.last_run, f.last_seen) for t, f in _by_title(store).items()}
    assert seen["finding a"] == ("open", "run-3", moments[2])
    assert seen["finding b"] == ("auto_resolved", "run-2", moments[1])
    assert seen["finding c"] == ("resolved", "run-2", moments[1])
    other = {**_row("z"), "check": "sync_lag"}
    store.sync("run-4", [other], now=moments[3], checks=["sync_lag"])  # a run of another check only
    seen = {t: (f.state, f.last_run) for t, f in _by_title(store).items()}
    assert seen["finding a"] == ("open", "run-3") and seen["finding z"] == ("open", "run-4")
    (a,) = [f for f in store.findings_by_id([_by_title(store)["finding a"].id])]
    assert a.last_run == "run-3" and a.first_run == "run-1"


def test_a_run_never_loses_a_persons_action(store: StateStore) -> None:
    store.sync("run-1", [_row("a"), _row("b")])
    a, b = _by_title(store)["finding a"], _by_title(store)["finding b"]
    store.act([a.id], "acknowledge", "dana", reason="on it")
    store.act([a.id], "assign", "dana", assignee="sam")
    store.sync("run-2", [_row("a", money=12.5), _row("b")])  # the amount changed upstream
    a = _by_title(store)["finding a"]
    assert a.state == "acknowledged" and a.assignee == "sam" and float(a.money) == 12.5
    store.act([b.id], "resolve", "dana", reason="fixed in billing")
    store.sync("run-3", [_row("a", money=12.5), _row("b")])  # ...but it is still there
    assert _by_title(store)["finding b"].state == "reopened"
    events = [(e.actor, e.action, e.reason) for e in store.finding_events(a.id)]
    assert ("dana", "acknowledge", "on it") in events and ("dana", "assign", None) in events


def test_a_finding_found_with_other_records_and_values_keeps_the_new_ones(store: StateStore) -> None:
    """Records and values reach the store as JSON text (`Found`), for a new finding and for a changed one."""
    store.sync("run-1", [_row("a")])
    moved = _row("a")
    moved["entities"] = [*moved["entities"], {"entity": "invoice", "system": "billing", "source_id": "ü-1",
                                              "canonical_id": "inv_1"}]  # fmt: skip
    moved["values"] = {"dispatch": "a", "billing": 12.5}
    assert store.sync("run-2", [moved]).counts["changed"] == 1
    [finding] = store.findings()
    assert (finding.entities, finding.values, finding.entity_count) == (moved["entities"], moved["values"], 2)
    assert [f.id for f in store.findings(systems=["billing"])] == [finding.id]


def test_suppression_holds_until_it_expires(store: StateStore) -> None:
    store.sync("run-1", [_row("a"), _row("b")])
    a, b = _by_title(store)["finding a"], _by_title(store)["finding b"]
    with pytest.raises(FindingError, match="say why"):
        store.act([a.id], "suppress", "dana")
    store.act([a.id], "suppress", "dana", reason="known, vendor ticket open", until=datetime.now(UTC) + timedelta(days=7))
    store.act([b.id], "suppress", "dana", reason="seasonal", until=datetime.now(UTC) - timedelta(seconds=1))
    store.sync("run-2", [_row("a"), _row("b")])
    assert _by_title(store)["finding a"].state == "suppressed"
    b = _by_title(store)["finding b"]
    assert b.state == "reopened" and b.suppressed_until is None
    assert store.finding_events(b.id)[-1].reason == "suppression expired"


def test_actions_that_cannot_apply_are_refused(store: StateStore) -> None:
    store.sync("run-1", [_row("a")])
    a = _by_title(store)["finding a"]
    with pytest.raises(FindingError, match="no finding 999"):
        store.act([999], "acknowledge", "dana")
    store.act([a.id], "resolve", "dana")
    with pytest.raises(FindingError, match="is resolved"):
        store.act([a.id], "acknowledge", "dana")
    with pytest.raises(FindingError, match="unknown action"):
        store.act([a.id], "delete", "dana")


def test_the_audit_trail_is_only_appended_to(store: StateStore) -> None:
    store.sync("run-1", [_row("a")])
    a = _by_title(store)["finding a"]
    seen: list[tuple[Any, ...]] = []
    for step in ("acknowledge", "resolve", "reopen"):
        store.act([a.id], step, "dana")
        events = [(e.id, e.action, e.at) for e in store.finding_events(a.id)]
        assert events[: len(seen)] == seen  # nothing earlier changed
        seen = events
    assert [e[1] for e in seen] == ["opened", "acknowledge", "resolve", "reopen"]


def test_many_findings_are_stored_in_one_bulk_sync(store: StateStore) -> None:
    rows = [_row(f"{i:06d}") for i in range(20_000)]
    result = store.sync("run-1", rows)
    assert len(result.opened) == 20_000 and len(store.findings()) == 20_000
    assert len(store.sync("run-2", rows[:-5]).auto_resolved) == 5


def test_a_check_whose_findings_did_not_move_is_not_read_again(store: StateStore) -> None:
    """The second run of the same findings reads no digest; a person's action on one finding, or a
    change in what a check found, makes that check (and only it) compare finding by finding."""
    from trueup.state.findings import Found

    other = {**_row("z"), "check": "sync_lag"}
    rows = [_row("a"), _row("b"), other]
    read: list[list[str]] = []

    def found(rows: list[dict[str, Any]]) -> Found:
        whole = Found.of(rows)

        def digests_of(checks: list[str]) -> dict[str, str]:
            read.append(sorted(checks))
            return whole.digests_of(checks)

        return Found(whole.summaries, digests_of, whole.fetch)

    store.sync("run-1", found(rows))
    again = store.sync("run-2", found(rows))
    assert again.counts["unchanged"] == 3 and read[-1] == []
    a = _by_title(store)["finding a"]
    store.act([a.id], "resolve", "dana", reason="fixed in billing")  # ...but the next run still finds it
    back = store.sync("run-3", found(rows))
    assert back.reopened == [a.id] and read[-1] == ["job_not_invoiced"]
    assert _by_title(store)["finding a"].state == "reopened"
    moved = store.sync("run-4", found([_row("a"), _row("b"), {**other, "money": 99.0}]))
    assert moved.counts["changed"] == 1 and read[-1] == ["sync_lag"]
    assert _by_title(store)["finding z"].money == 99
    quiet = store.sync("run-5", found([_row("a"), _row("b"), {**other, "money": 99.0}]))
    assert quiet.counts["unchanged"] == 3 and read[-1] == []
    assert {f.last_run for f in store.findings()} == {"run-5"}  # seen by the last run, read or not
    gone = store.sync("run-6", found([_row("a"), {**other, "money": 99.0}]))
    assert len(gone.auto_resolved) == 1 and read[-1] == ["job_not_invoiced"]
    after = store.sync("run-7", found([_row("a"), {**other, "money": 99.0}]))
    assert after.counts["unchanged"] == 2 and read[-1] == []  # what run-6 changed is in its mark


def test_the_ledger_and_the_queue_read_the_same_findings(store: StateStore) -> None:
    store.sync("run-1", [_row("a", money=Decimal("12.50")), _row("b", money=Decimal("7.25")),
                         {**_row("c"), "check": "sync_lag", "money": Decimal("3.00")}])  # fmt: skip
    active = {r.title: r for r in store.active_rows()}
    assert set(active) == {"finding a", "finding b", "finding c"}
    a = active["finding a"]
    assert a.entities == [{"entity": "job", "system": "dispatch", "source_id": "a", "canonical_id": None}]
    assert a.money == Decimal("12.50") and a.first_seen.tzinfo is not None and a.suppressed_until is None
    assert store.tally(["open"]) == {"job_not_invoiced": (2, Decimal("19.75")), "sync_lag": (1, Decimal("3.00"))}
    assert store.tally(["open"], check=["sync_lag"]) == {"sync_lag": (1, Decimal("3.00"))}
    assert store.tally(["resolved"]) == {}
