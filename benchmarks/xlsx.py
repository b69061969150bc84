"""XLSX benchmark: trueup's `run --step ingest` of a spreadsheet against openpyxl and pandas.

The sheet is a weekly job-to-cash reconciliation like the demo's Friday sheet: a title row, the
header on row 2, then job numbers, names, Excel dates and times, amounts and notes, written once
by XlsxWriter into benchmarks/data. Each contender runs in its own process:

- trueup: `trueup run --step ingest` of a workspace whose one table is the sheet (calamine reads a
  sheet of values; every cell becomes its text in the raw table, with its row number).
- openpyxl: every row of the sheet in read-only mode, values only (the reader trueup used before).
- pandas `read_excel` with openpyxl, its default engine, and with calamine.

Seconds are the whole process (start-up and imports included); the step's own seconds are shown
for trueup too. Prints rows per second, the ratio to openpyxl, and peak memory.

    python benchmarks/xlsx.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timedelta
from pathlib import Path

from child import Reading, best_trueup_ingest, print_readings, run_python

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SHEET = "Jobs to cash"

CONTENDERS = {
    "openpyxl (read-only, values)": "import openpyxl\n"
    "book = openpyxl.load_workbook({path!r}, read_only=True, data_only=True)\n"
    "rows = list(book[{sheet!r}].iter_rows(values_only=True))",
    "pandas read_excel (openpyxl)": "import pandas as pd\n"
    "df = pd.read_excel({path!r}, sheet_name={sheet!r}, header=1, engine='openpyxl')",
    "pandas read_excel (calamine)": "import pandas as pd\n"
    "df = pd.read_excel({path!r}, sheet_name={sheet!r}, header=1, engine='calamine')",
}


def make_sheet(rows: int) -> Path:
    """The sheet, written once: 12 columns of the kinds a reconciliation sheet holds."""
    import xlsxwriter

    DATA.mkdir(exist_ok=True)
    path = DATA / f"friday_{rows}.xlsx"
    if path.exists():
        return path
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet(SHEET)
    day, moment = (
        book.add_format({"num_format": "yyyy-mm-dd"}),
        book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
    )
    money = book.add_format({"num_format": "#,##0.00"})
    sheet.write_row(0, 0, ["Weekly job-to-cash reconciliation"])
    header = ["Week", "Job #", "Customer", "Branch", "Technician", "Completed", "Job Total", "Invoice #",
              "Invoice Date", "Invoice Amount", "Paid", "Notes"]  # fmt: skip
    sheet.write_row(1, 0, header)
    start = datetime(2026, 1, 5, 7, 30)
    for i in range(rows):
        r = i + 2
        completed = start + timedelta(minutes=37 * i)
        sheet.write_string(r, 0, f"Week {completed.isocalendar().week}")
        sheet.write_number(r, 1, 10_000 + i)
        sheet.write_string(r, 2, f"Customer {i % 9_973}")
        sheet.write_string(r, 3, ["Springfield", "Dayton", "Xenia", "Fairborn"][i % 4])
        sheet.write_string(r, 4, f"Technician {i % 41}")
        sheet.write_datetime(r, 5, completed, moment)
        sheet.write_number(r, 6, round(85 + (i * 7919 % 900_000) / 100, 2), money)
        sheet.write_string(r, 7, f"INV-{50_000 + i}")
        sheet.write_datetime(
            r, 8, datetime(completed.year, completed.month, completed.day) + timedelta(days=i % 9), day
        )
        sheet.write_number(r, 9, round(85 + (i * 7919 % 900_000) / 100, 2), money)
        sheet.write_string(r, 10, "Y" if i % 3 else "N")
        if i % 17 == 0:
            sheet.write_string(r, 11, "customer called about the amount")
    book.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = make_sheet(args.rows)
    from importlib.metadata import version

    import duckdb
    import openpyxl
    import pandas

    print(
        f"{args.rows:,} rows x 12 columns; {path.stat().st_size / 1e6:.1f} MB; best of {args.repeat}; "
        f"openpyxl {openpyxl.__version__}, python-calamine {version('python-calamine')}, "
        f"pandas {pandas.__version__}, duckdb {duckdb.__version__}, {os.cpu_count()} cores"
    )
    peers = {
        name: min(run_python(code.format(path=str(path), sheet=SHEET))[:2] for _ in range(args.repeat))
        for name, code in CONTENDERS.items()
    }
    baseline = peers["openpyxl (read-only, values)"][0]
    table = f"{{file: {path.name}, sheet: {SHEET}, header_row: 2}}"
    seconds, peak, step = best_trueup_ingest("friday_sheet", path.parent, table, args.repeat, args.rows)
    readings = [Reading(name, *best, baseline) for name, best in peers.items()]
    readings += [
        Reading("trueup ingest (XLSX)", seconds, peak, baseline),
        Reading("  step alone", step, 0, baseline),
    ]
    print_readings(readings, args.rows, "rows", "vs openpyxl")
    print(
        "\nseconds = the whole process (start-up and imports included); 'step alone' = the ingest step's own"
        " seconds from `trueup run --json`. vs openpyxl = openpyxl's seconds / the contender's (above 1: faster)."
        " trueup also writes every cell as text with its row number into a DuckDB file; the others only read."
    )


if __name__ == "__main__":
    main()
