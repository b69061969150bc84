"""Every built-in check on a hand-made company: exactly the findings planted, and none when clean."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from tests.checks.company import EXPECTED, JOBS, SHEET_JOBS, files, inv, job, write
from trueup.checks import context
from trueup.checks.registry import builtin_checks
from trueup.cli.app import app

runner = CliRunner()
Ref = tuple[str, str | None, str | None]


def _run(root: Path, content: dict[str, str]) -> list[dict]:
    write(root, content)
    result = runner.invoke(app, ["run", "-w", str(root)])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["findings", "-w", str(root), "--json"])
    return json.loads(listed.output)


def _records(finding: dict) -> set[Ref]:
    return {(e["entity"], e["system"], e["source_id"]) for e in finding["entities"]}


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    return _run(tmp_path_factory.mktemp("fixture-co"), files())


def test_the_fixture_names_every_builtin_check() -> None:
    assert set(EXPECTED) == {c.name for c in builtin_checks()}


@pytest.mark.parametrize("check", sorted(EXPECTED))
def test_each_check_finds_exactly_what_was_planted(found: list[dict], check: str) -> None:
    mine = sorted((_records(f) for f in found if f["check"] == check), key=sorted)
    assert mine == sorted(EXPECTED[check], key=sorted), [f["title"] for f in found if f["check"] == check]


def test_the_clean_company_has_no_findings(tmp_path: Path) -> None:
    assert [f["title"] for f in _run(tmp_path, files(clean=True))] == []


def test_titles_money_owners_and_causes(found: list[dict]) -> None:
    by_check: dict[str, list[dict]] = {}
    for f in found:
        by_check.setdefault(f["check"], []).append(f)
    unbilled = by_check["job_not_invoiced"][0]
    assert (
        unbilled["money"] == 200.0
        and unbilled["owner"] == "billing-team"
        and unbilled["handoff"] == "job-to-invoice"
    )
    assert (
        unbilled["title"]
        == "Job J2 completed 2026-11-05, no invoice after 15 days (SLA 3 days), $200.00 unbilled"
    )
    amounts = {frozenset(_records(f)): f for f in by_check["amount_mismatch"]}
    edited = amounts[frozenset({("invoice", "billing", "INV-5"), ("invoice", "accounting", "L5")})]
    assert edited["money"] == 50.0 and edited["cause"] == "design"
    taxed = next(f for f in by_check["amount_mismatch"] if ("invoice", "accounting", "L11") in _records(f))
    assert taxed["money"] == 8.0 and taxed["cause"] == "configuration" and "tax" in taxed["cause_reason"]
    unmapped = by_check["unmapped_status"][0]
    assert unmapped["cause"] == "configuration"  # its own evidence: the setting, without the count in its title
    assert unmapped["cause_reason"] == "unmapped status: dispatch job status 'Awaiting Parts' is in no vocabulary"
    assert by_check["handoff_stalled"][0]["money"] == 216.0  # what billing still shows open on INV-11, INV-12
    assert by_check["reported_differs"][0]["money"] == 276.0  # reported 2,400.00; the invoices say 2,124.00
    assert (
        by_check["sheet_correction"][0]["money"] == 10.0
        and by_check["sheet_correction"][0]["field"] == "Job Total"
    )
    assert by_check["column_without_upstream"][0]["field"] == "Notes"
    assert by_check["handoff_gaps"][0]["field"] == "monitoring"
    for f in found:
        assert f["cause_reason"], f


IDLE = ("deal-to-job", "invoice-to-ledger", "job-to-invoice")
CUSTOMER_SYNC = (
    "handoffs:\n  - {id: customer-sync, from: crm, to: accounting, carries: customer, owner: controller, trigger: new,"
    " expected: a customer, sla: 1d, exceptions: email, monitoring: count, rollback: delete}\n"
)


def _unowned(content: dict[str, str]) -> None:  # nobody declared who owns invoices, which two systems keep
    content["trueup.yaml"] = content["trueup.yaml"].replace("  invoice.*: billing\n", "")


def _idle(content: dict[str, str]) -> None:  # a quarter later nothing new reached any live handoff's target
    content["trueup.yaml"] = content["trueup.yaml"].replace(
        "as_of: '2026-11-20T18:00'", "as_of: '2027-02-20T18:00'"
    )


def _customer_sync(
    content: dict[str, str],
) -> None:  # the CRM's customers go to the ledger; Dan never arrived
    config = content["trueup.yaml"].replace("handoffs:\n", CUSTOMER_SYNC)
    content["trueup.yaml"] = config.replace(
        "updated_at: updated}, extra", "updated_at: updated, created_at: updated}, extra"
    )
    content["ledger/customers.csv"] = content["ledger/customers.csv"].replace(
        "A4,Dan Wu,dan@example.com\n", ""
    )


def _sheet_in_utc(content: dict[str, str]) -> None:  # the sheet's completion times, pasted from dispatch's UTC
    # export into a sheet declared to be kept in Chicago time
    content["trueup.yaml"] = content["trueup.yaml"].replace(
        "  sheet: {kind: spreadsheet,", "  sheet: {kind: spreadsheet, timezone: America/Chicago,"
    ).replace('amount: \'"Job Total"\'}', 'amount: \'"Job Total"\', completed_at: Completed}')
    completed = {j[0]: j[5] for j in JOBS}
    lines = content["sheet.csv"].splitlines()
    content["sheet.csv"] = "\n".join(
        [lines[0] + ",Completed"] + [f"{line},{completed[line.split(',')[0]]}" for line in lines[1:]]
    ) + "\n"


VARIANTS: dict[str, tuple[Callable[[dict[str, str]], None], list[set[Ref]]]] = {
    "unowned_fact": (_unowned, [{("invoice", "accounting", None), ("invoice", "billing", None)}]),
    "handoff_idle": (_idle, [{("handoff", None, h)} for h in IDLE]),
    "record_not_synced": (_customer_sync, [{("customer", "crm", "C4")}]),
    "timezone_shift": (_sheet_in_utc, [{job(j, "sheet") for j in SHEET_JOBS}]),
}


@pytest.mark.parametrize("check", sorted(VARIANTS))
def test_checks_the_fixture_cannot_plant_at_once(tmp_path: Path, check: str) -> None:
    change, expected = VARIANTS[check]
    content = files(clean=True)
    change(content)
    mine = sorted((_records(f) for f in _run(tmp_path, content) if f["check"] == check), key=sorted)
    assert mine == sorted(expected, key=sorted)


def test_a_time_zone_mix_up_is_one_finding_until_the_zone_is_declared(tmp_path: Path) -> None:
    content = files(clean=True)
    _sheet_in_utc(content)
    for name in ("dispatch/jobs.csv", "sheet.csv"):  # three jobs done in the night Chicago's clocks go back:
        # 06:30 UTC is 01:30 CDT, and read as Chicago time it is 06:30 CST (six hours later, not five)
        content[name] = content[name].replace("2026-11-01 10:00", "2026-11-01 06:30")
    (shift,) = _run(tmp_path / "mixed", content)  # the one finding of the otherwise clean company
    assert shift["check"] == "timezone_shift" and shift["cause"] == "configuration" and shift["owner"] == "sheet"
    assert shift["cause_reason"] == "time zone: sheet job completed_at is written in UTC and read as America/Chicago"
    assert shift["title"] == (
        "sheet job completed_at: 12 of 12 records are 6 hours later than in dispatch,"
        " written in UTC and read as America/Chicago"
    )
    assert "Declare `timezone: UTC` on system sheet" in shift["detail"]
    content["trueup.yaml"] = content["trueup.yaml"].replace("timezone: America/Chicago", "timezone: UTC")
    assert _run(tmp_path / "declared", content) == []  # the times now agree


def test_each_job_is_judged_by_its_own_handoffs_sla(tmp_path: Path) -> None:
    # J7 was invoiced 8 days after the work: late for a 5-day SLA, in time for a 10-day one.
    content = files()
    content["trueup.yaml"] = content["trueup.yaml"].replace("sla: 3d, exceptions: sheet", "sla: 10d, exceptions: sheet")
    content["trueup.yaml"] = content["trueup.yaml"].replace(
        "  - {id: old-zap,",
        "  - {id: rush-jobs, from: dispatch, to: billing, carries: job->invoice, sla: 5d}\n  - {id: old-zap,",
    )
    late = [f for f in _run(tmp_path, content) if f["check"] == "sync_lag"]
    assert sorted((f["handoff"], sorted(_records(f))) for f in late) == [
        ("invoice-to-ledger", sorted({inv("billing", "INV-8"), inv("accounting", "L8")})),
        ("rush-jobs", sorted({job("J7"), inv("billing", "INV-7")})),
    ]


def test_without_the_handoffs_the_pairs_come_from_nothing_is_compared(tmp_path: Path) -> None:
    # no job-to-invoice and no invoice-to-invoice handoff in use: their tables of pairs are empty
    content = files()
    lines = content["trueup.yaml"].splitlines(keepends=True)
    for handoff in ("job-to-invoice", "invoice-to-ledger"):
        start = next(n for n, line in enumerate(lines) if f"id: {handoff}," in line)
        del lines[start : start + 2]
    content["trueup.yaml"] = "".join(lines)
    checks = {f["check"] for f in _run(tmp_path, content)}
    assert not checks & {"amount_mismatch", "sync_lag", "invoice_not_posted", "systematic_offset"}
    assert "job_not_invoiced" in checks  # judged against any invoice, with or without the handoff


FIGURES = """  - {metric: collected, period: '2026-11', value: 1}
  - {metric: jobs_completed, period: '2026-Q4', value: 1}
  - {metric: invoiced, period: '2026', value: 1, basis: posted}
  - {metric: invoiced, period: '2026-11', value: 1, basis: paid}
"""
# Each figure recomputed plainly, in the workspace's time zone, from the golden records.
ORACLE = {
    "collected": "SELECT sum(amount) FROM payment WHERE CAST(paid_at AS DATE) >= ? AND CAST(paid_at AS DATE) < ?",
    "jobs_completed": "SELECT count(*) FROM job WHERE state IN ('completed', 'invoice_ready', 'closed')"
    " AND CAST(completed_at AS DATE) >= ? AND CAST(completed_at AS DATE) < ?",
    "issued": "SELECT sum(amount) FROM invoice WHERE coalesce(state, '') NOT IN ('draft', 'cancelled')"
    " AND CAST(issued_at AS DATE) >= ? AND CAST(issued_at AS DATE) < ?",
    "posted": "SELECT sum(amount) FROM invoice WHERE coalesce(state, '') NOT IN ('draft', 'cancelled')"
    " AND CAST(posted_at AS DATE) >= ? AND CAST(posted_at AS DATE) < ?",
    "paid": "SELECT sum(i.amount) FROM invoice i JOIN (SELECT invoice, max(paid_at) AS paid_at FROM payment GROUP BY 1) p"
    " ON p.invoice = i.canonical_id WHERE coalesce(i.state, '') NOT IN ('draft', 'cancelled')"
    " AND CAST(p.paid_at AS DATE) >= ? AND CAST(p.paid_at AS DATE) < ?",
}
PERIODS = {"2026-11": ("2026-11-01", "2026-12-01"), "2026-Q4": ("2026-10-01", "2027-01-01"),
           "2026": ("2026-01-01", "2027-01-01")}  # fmt: skip


def test_every_kind_of_reported_figure_is_recomputed(tmp_path: Path) -> None:
    content = files()
    config = content["trueup.yaml"].replace("timezone: UTC", "timezone: America/New_York")
    content["trueup.yaml"] = config.replace("reported:\n", "reported:\n" + FIGURES)
    _run(tmp_path, content)
    with duckdb.connect(str(tmp_path / ".trueup" / "warehouse.duckdb"), read_only=True) as con:
        con.execute("SET TimeZone = 'America/New_York'")
        figures = con.execute("SELECT metric, period, basis, recomputed FROM reported_figures").fetchall()
        assert len(figures) == 5
        for metric, period, basis, recomputed in figures:
            oracle = ORACLE.get(metric) or ORACLE[basis or "issued"]
            expected = con.execute(oracle, list(PERIODS[period])).fetchone()[0]  # type: ignore[index]
            assert expected and recomputed == expected, (metric, period, basis)


COPIED_VALUES = """-- name: copied_values
-- category: source_of_truth_conflict
-- severity: info
SELECT [{'entity': entity, 'system': system, 'source_id': source_id}] AS entities, field FROM field_values
WHERE kind = 'copy'
"""


def test_a_copy_of_another_entitys_field_is_compared_only_against_a_sheet(tmp_path: Path) -> None:
    # billing and the ledger both keep each invoice's customer name, a copy of the customer's: no
    # spreadsheet does, so field_values leaves it out, as it leaves out amounts and times
    content = files()
    content["trueup.yaml"] = content["trueup.yaml"].replace(
        "fields: {number: invoice, job: job,", "fields: {number: invoice, job: job, customer_name: client,"
    ).replace("fields: {number: DocNumber,", "fields: {number: DocNumber, customer_name: customer,")
    content["checks/copied_values.sql"] = COPIED_VALUES
    found = _run(tmp_path, content)
    assert {f["check"] for f in found} >= {"field_conflict"}  # the run compared values
    assert [f for f in found if f["check"] == "copied_values"] == []


def test_a_load_that_shrinks_between_runs_is_found(tmp_path: Path) -> None:
    content = files(clean=True)
    assert [f for f in _run(tmp_path, content) if f["check"] == "load_volume_drop"] == []
    jobs = content["dispatch/jobs.csv"].splitlines(keepends=True)
    content["dispatch/jobs.csv"] = "".join(jobs[:4])  # the export was cut short: 3 jobs of 13
    dropped = [f for f in _run(tmp_path, content) if f["check"] == "load_volume_drop"]
    assert [_records(f) for f in dropped] == [{("table", "dispatch", "jobs")}]
    assert dropped[0]["title"] == "dispatch.jobs fell from 13 rows to 3 since the last run"


def test_a_source_that_stopped_changing_is_found(tmp_path: Path) -> None:
    import duckdb

    content = files(clean=True)
    _run(tmp_path, content)
    assert [f for f in _run(tmp_path, content) if f["check"] == "load_stalled"] == []
    with duckdb.connect(str(tmp_path / ".trueup" / "warehouse.duckdb")) as con:  # as if loaded 60 days ago
        con.execute(
            "UPDATE ingest_files SET loaded_at = loaded_at - INTERVAL 60 DAY WHERE system = 'billing'"
        )
    assert runner.invoke(app, ["run", "-w", str(tmp_path), "--step", "check"]).exit_code == 0
    listed = json.loads(
        runner.invoke(app, ["findings", "-w", str(tmp_path), "--json", "--check", "load_stalled"]).output
    )
    assert [_records(f) for f in listed] == [{("table", "billing", "invoices")}]


def _blank(csv: str, column: str, rows: slice) -> str:
    """A CSV export (of unquoted cells) with one column emptied on some of its rows."""
    header, *lines = csv.splitlines()
    at = header.split(",").index(column)
    for n in range(len(lines))[rows]:
        cells = lines[n].split(",")
        lines[n] = ",".join(c if i != at else "" for i, c in enumerate(cells))
    return "\n".join([header, *lines]) + "\n"


def test_a_field_filled_past_a_systems_first_records_is_not_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a mapped field is empty is asked of each system's first records, and only a field
    none of them fills is counted over all: the CRM's phone, blank until its fourth contact, is
    filled; dispatch's, blank on every client, is empty (here the first record alone is asked)."""
    monkeypatch.setattr(context, "SAMPLE", 1)
    content = files()
    content["crm/contacts.csv"] = _blank(content["crm/contacts.csv"], "phone", slice(0, 3))
    content["dispatch/clients.csv"] = _blank(content["dispatch/clients.csv"], "phone", slice(None))
    empty = [f["title"] for f in _run(tmp_path, content) if f["check"] == "always_empty_column"]
    assert any(t.startswith("dispatch customer.phone") for t in empty), empty
    assert not any(t.startswith("crm customer.phone") for t in empty), empty


LEDGER_NUMBERING = """\
name: Own numbers
timezone: UTC
as_of: '2026-11-20T18:00'
systems:
  billing: {source: {type: files, path: billing, tables: {invoices: invoices.csv}}}
  accounting: {source: {type: files, path: ledger, tables: {invoices: invoices.csv}}}
entities:
  invoice:
    billing: {from: invoices, id: invoice, fields: {number: invoice, amount: total, issued_at: issued}}
    accounting: {from: invoices, id: Id, fields: {number: DocNumber, amount: total, issued_at: issued},
                 extra: {billing_id: billing_id}}
ownership: {invoice.*: billing}
matching:
  shared_ids: [{entity: invoice, system: accounting, field: billing_id, target: billing}]
"""


@pytest.mark.parametrize("renumbered", [25, 2], ids=["the ledger's own numbers", "two renumbered by hand"])
def test_a_field_that_never_agrees_is_one_finding_not_one_per_record(tmp_path: Path, renumbered: int) -> None:
    """A ledger that numbers its invoices its own way (linked by the billing id it keeps) disagrees
    with billing on every invoice's number: one finding of the mapping, no conflict per invoice.
    Two invoices renumbered by hand among 25 are two conflicts."""
    invoices = [(f"INV-{n}", f"{100 + n}.00", f"2026-11-{n % 9 + 1:02d}") for n in range(1, 26)]
    ledger = [
        (f"L{n}", str(1000 + n) if n <= renumbered else number, total, issued, number)
        for n, (number, total, issued) in enumerate(invoices, start=1)
    ]
    content = {
        "trueup.yaml": LEDGER_NUMBERING,
        "billing/invoices.csv": "invoice,total,issued\n" + "".join(",".join(i) + "\n" for i in invoices),
        "ledger/invoices.csv": "Id,DocNumber,total,issued,billing_id\n" + "".join(",".join(r) + "\n" for r in ledger),
    }
    found = _run(tmp_path, content)
    never = [f for f in found if f["check"] == "field_never_agrees"]
    conflicts = [f for f in found if f["check"] == "field_conflict"]
    if renumbered == 25:
        assert [(f["title"], f["cause"], _records(f)) for f in never] == [
            (
                "accounting invoice.number never agrees with the owner billing: 0 of 25 linked records have the same value",
                "configuration",
                {("invoice", "accounting", None)},
            )
        ]
        assert never[0]["values"] == {"billing": "INV-1", "accounting": "1001"}  # an example, side by side
        assert conflicts == []
    else:
        assert never == []
        assert sorted(f["title"] for f in conflicts) == [
            "Invoice INV-1: accounting has 1001, the owner billing has INV-1",
            "Invoice INV-2: accounting has 1002, the owner billing has INV-2",
        ]
