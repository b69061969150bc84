"""The Friday reconciliation sheet: built by hand from the dispatch and ledger exports, then fixed.

Somebody pastes finished jobs (from dispatch) beside their invoices (from the ledger) every week,
corrects what looks wrong, adds a few rows and columns of their own and deletes rows they would
rather not explain. Leadership's revenue figure is the sum of this sheet. Every hand edit is
returned as ground truth. Opt-in (`sheet_times_in_utc`), the completion times are pasted from
dispatch's API, which writes them in UTC without an offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from trueup.demo.debt import Rates, take
from trueup.demo.frame import ZONE
from trueup.ingest.base import literal

SHEET = "Jobs to cash"
SINCE = "2026-10-01"  # the sheet holds the weeks of the reported month and after
REPORTED_PERIOD = "2026-10"
COLUMNS = [
    "Week", "Job #", "Customer", "Branch", "Service", "Technician", "Completed",
    "Job Total", "Invoice #", "Invoice Date", "Invoice Amount", "Paid",
]  # fmt: skip
ADDED_COLUMNS = ["Adj. Amount", "Notes", "Follow-up"]  # no system has these
CORRECTABLE = ("Invoice Amount", "Job Total", "Invoice Date", "Technician")
FIXED_TIME = (2026, 11, 20, 17, 30, 0)  # every part of the workbook carries this time

ROWS = f"""
WITH one_invoice AS (
  SELECT * FROM ledger_invoices QUALIFY row_number() OVER (PARTITION BY job ORDER BY ledger_id) = 1
)
SELECT 'Week ' || strftime(j.completed_at, '%V') AS week, j.number, c.display_name, branch_name(j.branch),
  service_line(j.line), t.name, j.completed_at, dollars(j.dispatch_total),
  CASE WHEN i.id IS NOT NULL THEN 'INV-' || i.number END, CAST(i.issued_at AS DATE), dollars(i.ledger_total),
  CASE WHEN i.id IS NULL THEN NULL WHEN i.paid >= i.ledger_total THEN 'Y' WHEN i.paid > 0 THEN 'Part' ELSE 'N' END
FROM shown_jobs j JOIN dispatch_clients c ON c.id = j.customer JOIN technicians t ON t.id = j.technician
LEFT JOIN one_invoice i ON i.job = j.id
WHERE j.state = 'completed' AND (j.completed_at >= TIMESTAMP '{SINCE}' OR i.issued_at >= TIMESTAMP '{SINCE}')
ORDER BY j.completed_at, j.number
"""


@dataclass
class Sheet:
    rows: list[list[Any]]
    columns: list[str]
    edits: list[dict[str, Any]] = field(default_factory=list)  # the truth: each edit, by hand or setting

    def reported_revenue(self) -> Decimal:
        """What leadership was told: the sheet's invoice amounts (or the adjusted ones) issued in the period."""
        at = {name: i for i, name in enumerate(self.columns)}
        total = Decimal(0)
        for row in self.rows:
            issued = row[at["Invoice Date"]]
            if issued is None or issued.strftime("%Y-%m") != REPORTED_PERIOD:
                continue
            adjusted = row[at["Adj. Amount"]] if "Adj. Amount" in at else None
            amount = adjusted if adjusted is not None else row[at["Invoice Amount"]]
            total += amount or 0
        return total


def build(con: duckdb.DuckDBPyConnection, rng: np.random.Generator, rates: Rates) -> Sheet:
    rows = [list(r) for r in con.execute(ROWS).fetchall()]
    technicians = [name for (name,) in con.execute("SELECT name FROM technicians ORDER BY id").fetchall()]
    sheet = Sheet(rows=rows, columns=list(COLUMNS))
    at = {name: i for i, name in enumerate(COLUMNS)}
    n = len(rows)

    corrected = np.flatnonzero(take(rng, np.ones(n, bool), rates.sheet_correction))
    which = rng.integers(0, len(CORRECTABLE), n)
    shift = rng.integers(1, 4, n)
    delta = rng.integers(5, 120, n)
    for i in corrected:
        row, column = rows[i], CORRECTABLE[which[i]]
        before = row[at[column]]
        if before is None:
            continue
        if column == "Technician":
            after: Any = technicians[(technicians.index(before) + 1) % len(technicians)]
        elif column == "Invoice Date":
            after = date.fromordinal(before.toordinal() - int(shift[i]))
        else:
            after = before + Decimal(int(delta[i]))
        row[at[column]] = after
        sheet.edits.append(_edit("sheet_correction", row[at["Job #"]], column, before, after))

    untouched = np.ones(n, bool)  # a row deleted by hand takes its corrections with it: drop others
    untouched[[i for i in corrected if rows[i][at[CORRECTABLE[which[i]]]] is not None]] = False
    dropped = set(np.flatnonzero(take(rng, untouched, rates.sheet_row_dropped)).tolist())
    for d in sorted(dropped):
        sheet.edits.append(_edit("sheet_row_dropped", rows[d][at["Job #"]], None, None, None))
    kept = [row for i, row in enumerate(rows) if i not in dropped]

    added = np.flatnonzero(take(rng, np.ones(len(kept), bool), rates.sheet_row_added))
    typed: set[int] = set()  # the rows typed by hand (by identity): no system's
    for k, i in enumerate(added):
        template = kept[i]
        amount = Decimal(int(rng.integers(80, 900)))
        row = [
            template[at["Week"]], f"W-{101 + k}", "Walk-in customer", template[at["Branch"]],
            template[at["Service"]], template[at["Technician"]], template[at["Completed"]],
            amount, None, template[at["Completed"]], amount, "Y",
        ]  # fmt: skip
        kept.insert(int(i) + 1 + k, row)
        typed.add(id(row))
        sheet.edits.append(_edit("sheet_row_added", row[at["Job #"]], None, None, amount))
    sheet.rows = kept

    if rates.sheet_times_in_utc > 0:  # a setting, not a slip: every time pasted from dispatch
        _paste_in_utc(con, sheet, [row for row in kept if id(row) not in typed])

    if rates.config_gaps > 0:  # the person's own columns: no system has them
        sheet.columns += ADDED_COLUMNS
        adjust = take(rng, np.ones(len(kept), bool), 0.01)  # at least one of each, so no added
        note = take(rng, np.ones(len(kept), bool), 0.05)  # column is ever entirely empty
        for r, row in enumerate(sheet.rows):
            adj = (
                row[at["Invoice Amount"]] - 25
                if adjust[r] and row[at["Invoice Amount"]] is not None
                else None
            )
            row += [adj, "called customer" if note[r] else None, "Y" if note[r] and adj else None]
        for column in ADDED_COLUMNS:
            sheet.edits.append(_edit("column_without_upstream", None, column, None, None))
    return sheet


def _paste_in_utc(con: duckdb.DuckDBPyConnection, sheet: Sheet, pasted: list[list[Any]]) -> None:
    """The completion times of the rows pasted from dispatch as its API writes them: in UTC, without
    an offset (four or five hours later, read in the company's zone). A time late in the evening
    lands on the next day: the sheet then shows another day than dispatch, a correction this setting
    caused."""
    at = {name: i for i, name in enumerate(sheet.columns)}
    timed = [row for row in pasted if row[at["Completed"]] is not None]
    for row, utc in zip(timed, utc_clock(con, [row[at["Completed"]] for row in timed]), strict=True):
        local, job = row[at["Completed"]], row[at["Job #"]]
        row[at["Completed"]] = utc
        sheet.edits.append(_edit("timezone_shift", job, "Completed", local, utc, cause="configuration"))
        if utc.date() != local.date():
            moved = _edit(
                "sheet_correction", job, "Completed", local.date(), utc.date(), cause="configuration"
            )
            sheet.edits.append(moved)


def utc_clock(con: duckdb.DuckDBPyConnection, clocks: list[datetime]) -> list[datetime]:
    """Clock times of the company's zone as UTC clock times, converted by DuckDB as trueup reads
    dispatch's times (an hour the clocks repeat is its second pass, one they skip is read with the
    offset from before the change)."""
    converted = con.execute(
        f"SELECT list_transform(?::TIMESTAMP[], lambda t: timezone('UTC', timezone({literal(ZONE)}, t)))",
        [clocks],
    ).fetchone()
    assert converted is not None  # a SELECT without FROM has its one row
    return list(converted[0])


def _edit(
    kind: str, job: str | int | None, column: str | None, before: Any, after: Any, cause: str = "design"
) -> dict[str, Any]:
    return {"kind": kind, "job": None if job is None else str(job), "column": column,
            "upstream": _plain(before), "sheet": _plain(after), "cause": cause}  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def write(sheet: Sheet, path: Path) -> None:
    """An XLSX workbook with a title row above the header, the same bytes every time.

    XlsxWriter streams rows to disk (constant memory), twice as fast as openpyxl's writer; it
    stamps every part with a fixed date and the document with the `created` time given here."""
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "default_date_format": "yyyy-mm-dd", "strings_to_numbers": False}
    )
    book.set_properties({"author": "Dana Whitfield", "created": datetime(*FIXED_TIME)})
    ws = book.add_worksheet(SHEET)
    ws.write_row(0, 0, ["Cedar Valley Home Services: weekly job-to-cash reconciliation (updated Fri 20 Nov)"])
    ws.write_row(1, 0, sheet.columns)
    for r, row in enumerate(sheet.rows, start=2):
        ws.write_row(r, 0, row)
    summary = book.add_worksheet("Summary")
    summary.write_row(0, 0, ["Period", "Revenue"])
    summary.write_row(1, 0, [REPORTED_PERIOD, sheet.reported_revenue()])
    book.close()
