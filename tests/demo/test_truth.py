"""The ground truth agrees with the files: each injected problem is really there in the exports.

The exports are read back through trueup's own ingest and map steps, so these checks look at the
data the way every later step will. Each kind of problem has its own check over every line of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

Line = dict[str, Any]
RETIRED_ID = re.compile(r"^003[A-Za-z0-9]{15}$")


def lines_of(demo: Path, kind: str) -> list[Line]:
    text = (demo / ".truth" / "expected_findings.jsonl").read_text()
    return [line for line in map(json.loads, text.splitlines()) if line["kind"] == kind]


def ids(line: Line, entity: str, system: str) -> list[str]:
    return [r["source_id"] for r in line["entities"] if r["entity"] == entity and r["system"] == system]


def one(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> Any:
    row = con.execute(sql, list(params)).fetchone()
    return None if row is None else row[0]


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def job_not_invoiced(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    (job,) = ids(line, "job", "dispatch")
    state, amount = con.execute(
        "SELECT state, amount FROM staged_job WHERE system = 'dispatch' AND source_id = ?", [job]
    ).fetchone()
    assert state == "invoice_ready"
    assert money(amount) == money(line["money"])
    assert one(con, "SELECT count(*) FROM staged_invoice WHERE system = 'billing' AND job = ?", job) == 0


def invoice_for_unfinished_job(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    (job,), (invoice,) = ids(line, "job", "dispatch"), ids(line, "invoice", "billing")
    assert (
        one(con, "SELECT state FROM staged_job WHERE system = 'dispatch' AND source_id = ?", job)
        == "scheduled"
    )
    assert (
        one(con, "SELECT job FROM staged_invoice WHERE system = 'billing' AND source_id = ?", invoice) == job
    )


def invoice_not_posted(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    (invoice,) = ids(line, "invoice", "billing")
    assert (
        one(con, "SELECT count(*) FROM staged_invoice WHERE system = 'accounting' AND number = ?", invoice)
        == 0
    )
    assert money(one(con, "SELECT amount FROM staged_invoice WHERE source_id = ?", invoice)) == money(
        line["money"]
    )


def amount_mismatch(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    billed = one(con, "SELECT amount FROM staged_invoice WHERE system = 'billing' AND source_id = ?",
                 ids(line, "invoice", "billing")[0])  # fmt: skip
    if ids(line, "job", "dispatch"):
        other = one(con, "SELECT amount FROM staged_job WHERE system = 'dispatch' AND source_id = ?",
                    ids(line, "job", "dispatch")[0])  # fmt: skip
    else:
        other = one(con, "SELECT amount FROM staged_invoice WHERE system = 'accounting' AND source_id = ?",
                    ids(line, "invoice", "accounting")[0])  # fmt: skip
    assert money(abs(billed - other)) == money(line["money"])


def paid_not_reflected(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    (billed,), (ledger,) = ids(line, "invoice", "billing"), ids(line, "invoice", "accounting")
    assert (
        one(con, "SELECT state FROM staged_invoice WHERE system = 'billing' AND source_id = ?", billed)
        == "invoiced"
    )
    assert (
        one(con, "SELECT balance FROM staged_invoice WHERE system = 'accounting' AND source_id = ?", ledger)
        == 0
    )


def won_deal_no_job(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    (deal,) = ids(line, "deal", "crm")
    assert one(con, "SELECT state FROM staged_deal WHERE source_id = ?", deal) == "won"
    assert one(con, "SELECT count(*) FROM staged_job WHERE deal = ?", deal) == 0


def duplicated_by_sync(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    (billed,) = ids(line, "invoice", "billing")
    copies = con.execute(
        "SELECT source_id FROM staged_invoice WHERE system = 'accounting' AND number = ?", [billed]
    )
    assert sorted(r[0] for r in copies.fetchall()) == sorted(ids(line, "invoice", "accounting"))


def sync_lag(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    (billed,) = ids(line, "invoice", "billing")
    issued = one(
        con, "SELECT issued_at FROM staged_invoice WHERE system = 'billing' AND source_id = ?", billed
    )
    if ids(line, "job", "dispatch"):
        done = one(
            con, "SELECT completed_at FROM staged_job WHERE source_id = ?", ids(line, "job", "dispatch")[0]
        )
        assert (issued - done).total_seconds() > 3 * 86400
    else:
        ledger = ids(line, "invoice", "accounting")[0]
        posted = one(
            con, "SELECT posted_at FROM staged_invoice WHERE system = 'accounting' AND source_id = ?", ledger
        )
        assert (posted - issued).total_seconds() > 86400


def handoff_stalled(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    for billed in ids(line, "invoice", "billing"):
        state = one(
            con, "SELECT state FROM staged_invoice WHERE system = 'billing' AND source_id = ?", billed
        )
        ledger_balance, amount = con.execute(
            "SELECT balance, amount FROM staged_invoice WHERE system = 'accounting' AND number = ?", [billed]
        ).fetchone()
        assert state in ("invoiced", "partially_paid") and ledger_balance < amount


def unmapped_status(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    refs = line["entities"]
    entity, system = refs[0]["entity"], refs[0]["system"]
    rows = con.execute(
        f"SELECT DISTINCT status, state FROM staged_{entity} WHERE system = ? AND source_id IN ?",
        [system, [r["source_id"] for r in refs]],
    ).fetchall()
    assert len(rows) == 1 and rows[0][1] is None
    assert one(con, "SELECT rows FROM unmapped_status WHERE value = ?", rows[0][0]) == len(refs)


def systematic_offset(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    total = Decimal(0)
    for ledger in ids(line, "invoice", "accounting"):
        amount, tax, number = con.execute(
            "SELECT amount, tax, number FROM staged_invoice WHERE system = 'accounting' AND source_id = ?",
            [ledger],
        ).fetchone()
        billed_amount, billed_tax = con.execute(
            "SELECT amount, tax FROM staged_invoice WHERE system = 'billing' AND source_id = ?", [number]
        ).fetchone()
        assert amount - billed_amount == billed_tax and tax == 2 * billed_tax
        total += billed_tax
    assert money(total) == money(line["money"])


def retired_handoff_active(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    for billed in ids(line, "invoice", "billing"):
        made_by, issued = con.execute(
            "SELECT extra->>'created_by', issued_at FROM staged_invoice WHERE system = 'billing' AND source_id = ?",
            [billed],
        ).fetchone()
        assert made_by == "Zapier" and issued.date().isoformat() >= "2026-06-30"


def retired_id_in_use(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    (contact,) = ids(line, "customer", "crm")
    value = one(
        con,
        "SELECT extra->>'salesforce_id' FROM staged_customer WHERE system = 'crm' AND source_id = ?",
        contact,
    )
    assert RETIRED_ID.match(value)


def retired_id_reference(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    (deal,) = ids(line, "deal", "crm")
    assert RETIRED_ID.match(one(con, "SELECT customer FROM staged_deal WHERE source_id = ?", deal))


NORMAL_FORM = {"name": "name_key", "phone": "phone_e164", "email": "email_norm", "address": "address_key"}


def field_conflict(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    column = NORMAL_FORM[line["field"]]
    values = [
        one(
            con,
            f"SELECT {column} FROM staged_customer WHERE system = ? AND source_id = ?",
            r["system"],
            r["source_id"],
        )
        for r in line["entities"]
    ]
    assert None not in values and values[0] != values[1]


SHEET_COLUMNS = {  # the sheet's column -> (entity, canonical field, the system it was copied from)
    "Job Total": ("job", "amount", "dispatch"),
    "Technician": ("job", "technician", "dispatch"),
    "Invoice Amount": ("invoice", "amount", "accounting"),
    "Invoice Date": ("invoice", "issued_at", "accounting"),
}


def sheet_correction(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    (job,) = ids(line, "job", "friday_sheet")
    entity, field, upstream = SHEET_COLUMNS[line["field"]]
    key = "number" if entity == "job" else "job"
    select = f"SELECT {field} FROM staged_{entity} WHERE system = ? AND {key} = ? ORDER BY length(source_id), source_id"
    assert one(con, select, "friday_sheet", job) != one(con, select, upstream, job)


def sheet_row_added(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    (job,) = ids(line, "job", "friday_sheet")
    assert (
        one(con, "SELECT count(*) FROM staged_job WHERE system = 'friday_sheet' AND source_id = ?", job) == 1
    )
    assert one(con, "SELECT count(*) FROM staged_job WHERE system = 'dispatch' AND number = ?", job) == 0


def sheet_row_dropped(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    (job,) = ids(line, "job", "dispatch")
    assert (
        one(con, "SELECT state FROM staged_job WHERE system = 'dispatch' AND source_id = ?", job) is not None
    )
    assert one(con, "SELECT count(*) FROM staged_job WHERE system = 'friday_sheet' AND number = ?", job) == 0


def column_without_upstream(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    columns = [r[0] for r in con.execute("DESCRIBE raw.friday_sheet__rows").fetchall()]
    assert line["field"] in columns


def reported_differs(con: duckdb.DuckDBPyConnection, line: Line, demo: Path) -> None:
    config = (demo / "trueup.yaml").read_text()
    reported = Decimal(config.split("metric: revenue, period: '2026-10', value: ")[1].split(",")[0])
    recomputed = one(con, "SELECT sum(amount) FROM staged_invoice WHERE system = 'billing'"
                          " AND strftime(issued_at, '%Y-%m') = '2026-10'")  # fmt: skip
    assert money(abs(reported - recomputed)) == money(line["money"]) > 0


def handoff_gaps(con: duckdb.DuckDBPyConnection, line: Line, demo: Path) -> None:
    from trueup.workspace import Workspace

    (handoff_id,) = [r["source_id"] for r in line["entities"]]
    handoff = next(h for h in Workspace.open(demo).config.handoffs if h.id == handoff_id)
    for part in line["field"].split(", "):
        assert getattr(handoff, part) is None


def always_empty_column(con: duckdb.DuckDBPyConnection, line: Line) -> None:
    assert one(con, "SELECT count(due_at) FROM staged_invoice WHERE system = 'billing'") == 0


def unowned_fact(con: duckdb.DuckDBPyConnection, line: Line, demo: Path) -> None:
    from trueup.workspace import Workspace

    ws = Workspace.open(demo).config
    assert set(ws.entities["location"]) == {"dispatch", "accounting"}
    assert not any(key.startswith("location.") for key in ws.ownership)


CHECKS: dict[str, Callable[..., None]] = {
    f.__name__: f
    for f in (
        job_not_invoiced, invoice_for_unfinished_job, invoice_not_posted, amount_mismatch, paid_not_reflected,
        won_deal_no_job, duplicated_by_sync, sync_lag, handoff_stalled, unmapped_status, systematic_offset,
        retired_handoff_active, retired_id_in_use, retired_id_reference, field_conflict, sheet_correction,
        sheet_row_added, sheet_row_dropped, column_without_upstream, reported_differs, handoff_gaps,
        always_empty_column, unowned_fact,
    )
}  # fmt: skip
NEEDS_ROOT = {"reported_differs", "handoff_gaps", "unowned_fact"}


def test_every_kind_in_the_truth_has_a_check(demo: Path) -> None:
    text = (demo / ".truth" / "expected_findings.jsonl").read_text()
    assert {json.loads(line)["kind"] for line in text.splitlines()} == set(CHECKS)


@pytest.mark.parametrize("kind", sorted(CHECKS))
def test_each_injected_problem_is_in_the_exports(
    kind: str, demo: Path, demo_run: duckdb.DuckDBPyConnection
) -> None:
    lines = lines_of(demo, kind)
    assert lines, f"no {kind} injected in the small demo"
    for line in lines:
        if kind in NEEDS_ROOT:
            CHECKS[kind](demo_run, line, demo)
        else:
            CHECKS[kind](demo_run, line)
