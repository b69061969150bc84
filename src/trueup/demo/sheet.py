"""The Friday reconciliation sheet: built by hand from the dispatch and ledger exports, then fixed.

Somebody pastes finished jobs (from dispatch) beside their invoices (from the ledger) every week,
corrects what looks wrong, adds a few rows and columns of their own and deletes rows they would
rather not explain. Leadership's revenue figure is the sum of this sheet. Every hand edit is
returned as ground truth.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from trueup.demo.debt import Rates

SHEET = "Jobs to cash"
SINCE = "2026-09-01"
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
  service_line(j.line), t.name, CAST(j.completed_at AS DATE), dollars(j.dispatch_total),
  CASE WHEN i.id IS NOT NULL THEN 'INV-' || i.number END, CAST(i.issued_at AS DATE), dollars(i.ledger_total),
  CASE WHEN i.id IS NULL THEN NULL WHEN i.paid >= i.ledger_total THEN 'Y' WHEN i.paid > 0 THEN 'Part' ELSE 'N' END
FROM shown_jobs j JOIN dispatch_clients c ON c.id = j.customer JOIN technicians t ON t.id = j.technician
LEFT JOIN one_invoice i ON i.job = j.id
WHERE j.state = 'completed' AND j.completed_at >= TIMESTAMP '{SINCE}'
ORDER BY j.completed_at, j.number
"""


@dataclass
class Sheet:
    rows: list[list[Any]]
    columns: list[str]
    edits: list[dict[str, Any]] = field(default_factory=list)  # ground truth of every hand edit

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

    corrected = np.flatnonzero(rng.random(n) < rates.sheet_correction)
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

    dropped = set(np.flatnonzero(rng.random(n) < rates.sheet_row_dropped).tolist())
    for d in sorted(dropped):
        sheet.edits.append(_edit("sheet_row_dropped", rows[d][at["Job #"]], None, None, None))
    kept = [row for i, row in enumerate(rows) if i not in dropped]

    added = np.flatnonzero(rng.random(len(kept)) < rates.sheet_row_added)
    for k, i in enumerate(added):
        template = kept[i]
        amount = Decimal(int(rng.integers(80, 900)))
        row = [
            template[at["Week"]], f"W-{101 + k}", "Walk-in customer", template[at["Branch"]],
            template[at["Service"]], template[at["Technician"]], template[at["Completed"]],
            amount, None, template[at["Completed"]], amount, "Y",
        ]  # fmt: skip
        kept.insert(int(i) + 1 + k, row)
        sheet.edits.append(_edit("sheet_row_added", row[at["Job #"]], None, None, amount))
    sheet.rows = kept

    if rates.config_gaps > 0:  # the person's own columns: no system has them
        sheet.columns += ADDED_COLUMNS
        adjust = rng.random(len(kept)) < 0.01
        note = rng.random(len(kept)) < 0.05
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


def _edit(kind: str, job: str | int | None, column: str | None, before: Any, after: Any) -> dict[str, Any]:
    return {"kind": kind, "job": None if job is None else str(job), "column": column,
            "upstream": _plain(before), "sheet": _plain(after)}  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def write(sheet: Sheet, path: Path) -> None:
    """An XLSX workbook with a title row above the header, written byte for byte the same each time."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    moment = datetime(*FIXED_TIME)
    book.properties.created = book.properties.modified = moment
    book.properties.creator = book.properties.lastModifiedBy = "Dana Whitfield"
    ws = book.create_sheet(SHEET)
    ws.append(["Cedar Valley Home Services: weekly job-to-cash reconciliation (updated Fri 20 Nov)"])
    ws.append(sheet.columns)
    for row in sheet.rows:
        ws.append(row)
    summary = book.create_sheet("Summary")
    summary.append(["Period", "Revenue"])
    summary.append([REPORTED_PERIOD, sheet.reported_revenue()])
    buffer = io.BytesIO()
    book.save(buffer)
    _rezip(buffer.getvalue(), path)


def _rezip(data: bytes, path: Path) -> None:
    """openpyxl stamps the zip entries and the document's modified time with the current time when
    it saves; put the fixed time in both."""
    stamp = datetime(*FIXED_TIME).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\g<2>", content
                )
            info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, content)
