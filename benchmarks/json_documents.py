"""JSON benchmark: trueup's `run --step ingest` of an API envelope and of NDJSON against DuckDB and pandas.

The document is a QuickBooks Online invoice query response: `{"QueryResponse": {"Invoice": [...],
"startPosition": 1, "maxResults": N}, "time": ...}`, each invoice with nested references, lines and
metadata, as the demo company's accounting export writes it; the same invoices are also written one
a line (NDJSON), as an export of an event stream or a sync tool's dump. Both are written once into
benchmarks/data. Each contender runs in its own process and stores what it read:

- trueup: `trueup run --step ingest` of a workspace whose one table is the document's
  `QueryResponse.Invoice` (simdjson lifts the records out one a line; DuckDB reads the lines), or
  the NDJSON file (simdjson checks each line, so a bad one is quarantined with its number).
- DuckDB: `read_json` into a database file, of the whole document with the records unnested from the
  envelope (trueup's own way before), or of the NDJSON file, as one would write it by hand.
- pandas: `json.load` and `json_normalize` of the document's records, the way an analyst flattens an
  API response.

Seconds are the whole process (start-up and imports included); the step's own seconds are shown
for trueup too. Prints records per second, the ratio to DuckDB on the same file, and peak memory.

    python benchmarks/json_documents.py [--records 300000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
from datetime import date, timedelta
from pathlib import Path

from child import run_python, trueup_ingest

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RECORDS = "QueryResponse.Invoice"

DOCUMENT, LINES = "document", "NDJSON"
# name -> (file, code); the first of each file is the baseline of its rows
CONTENDERS = {
    "duckdb read_json (document)": (DOCUMENT, "import duckdb, os\n"
        "con = duckdb.connect({db!r})\n"
        "size = os.path.getsize({path!r})\n"
        "con.execute(f\"CREATE TABLE invoices AS SELECT unnest(r) FROM (SELECT unnest(QueryResponse.Invoice) AS r\"\n"
        "            f\" FROM read_json({path!r}, maximum_object_size={{size + 1024}}, sample_size=-1))\")\n"),
    "pandas json_normalize (document)": (DOCUMENT, "import json, pandas as pd\n"
        "with open({path!r}, 'rb') as f:\n"
        "    df = pd.json_normalize(json.load(f)['QueryResponse']['Invoice'])\n"),
    "duckdb read_json (NDJSON)": (LINES, "import duckdb\n"
        "con = duckdb.connect({db!r})\n"
        "con.execute(\"CREATE TABLE invoices AS SELECT * FROM read_json({path!r}, format='newline_delimited',\"\n"
        "            \" sample_size=-1)\")\n"),
}  # fmt: skip


def make_files(records: int) -> dict[str, Path]:
    """The document and the NDJSON file, written once: `records` invoices of one to four lines each."""
    DATA.mkdir(exist_ok=True)
    path, lines = DATA / f"qbo_invoices_{records}.json", DATA / f"qbo_invoices_{records}.jsonl"
    if not path.exists():
        _write_document(path, records)
    if not lines.exists():
        with path.open("rb") as document, lines.open("wb") as out:
            next(document)  # the envelope's head; then one invoice a line, and the envelope's tail
            out.writelines(line.rstrip(b",\n") + b"\n" for line in document if line.startswith(b"{"))
    return {DOCUMENT: path, LINES: lines}


def _write_document(path: Path, records: int) -> None:
    rng = random.Random(7)
    first = date(2025, 9, 1)
    with path.open("w", encoding="utf-8") as out:
        out.write('{"QueryResponse": {"Invoice": [\n')
        for i in range(records):
            day = first + timedelta(days=i * 440 // records)
            lines = [
                {"Id": str(n), "LineNum": n, "Amount": round(rng.uniform(40, 900), 2), "DetailType": "SalesItemLineDetail",
                 "SalesItemLineDetail": {"ItemRef": {"value": str(n), "name": ("Labor", "Parts & materials", "Trip charge", "Permit")[n - 1]},
                                         "Qty": 1, "TaxCodeRef": {"value": "TAX" if n % 2 == 0 else "NON"}}}
                for n in range(1, rng.randint(1, 4) + 1)
            ]  # fmt: skip
            total = round(sum(line["Amount"] for line in lines) * 1.0725, 2)  # type: ignore[misc]
            invoice = {
                "Id": str(1000 + i), "SyncToken": "0", "DocNumber": f"INV-{10_000 + i}", "TxnDate": day.isoformat(),
                "DueDate": (day + timedelta(days=15)).isoformat(),
                "CustomerRef": {"value": str(rng.randint(1, records // 5 + 1)), "name": f"Customer {rng.randint(1, 99_999)}"},
                "CustomerMemo": {"value": f"Job #{rng.randint(1, 10 * records)}"}, "Line": lines,
                "TxnTaxDetail": {"TotalTax": round(total - total / 1.0725, 2)}, "TotalAmt": total,
                "Balance": 0.0 if rng.random() < 0.8 else total,
                "MetaData": {"CreateTime": f"{day.isoformat()}T09:{i % 60:02d}:00-05:00",
                             "LastUpdatedTime": f"{day.isoformat()}T09:{i % 60:02d}:00-05:00"},
            }  # fmt: skip
            out.write(json.dumps(invoice, separators=(",", ":")))
            out.write(",\n" if i + 1 < records else "\n")
        out.write(
            f'], "startPosition": 1, "maxResults": {records}}}, "time": "2026-11-20T15:02:11.412-05:00"}}\n'
        )


def trueup_child(path: Path, records: int, steps: list[float]) -> tuple[float, int]:
    table = f"{{file: {path.name}, records: {RECORDS}}}" if path.suffix == ".json" else path.name
    seconds, peak, step = trueup_ingest("accounting", path.parent, table)
    assert step["counts"] == {"rows.accounting.jobs": records, "quarantined": 0}, step["counts"]
    steps.append(step["seconds"])
    return seconds, peak


def peer_child(code: str, path: Path) -> tuple[float, int]:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        seconds, peak, _ = run_python(code.format(path=str(path), db=str(Path(scratch) / "peer.duckdb")))
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = make_files(args.records)
    from importlib.metadata import version

    import duckdb
    import pandas

    print(
        f"{args.records:,} invoices: one QueryResponse document of {files[DOCUMENT].stat().st_size / 1e6:.0f} MB,"
        f" NDJSON of {files[LINES].stat().st_size / 1e6:.0f} MB; best of {args.repeat}; duckdb {duckdb.__version__},"
        f" pysimdjson {version('pysimdjson')}, pandas {pandas.__version__}, {os.cpu_count()} cores"
    )
    rows: list[tuple[str, str, float, int]] = []  # contender, file, seconds, peak bytes (0: the row above's)
    for name, (kind, code) in CONTENDERS.items():
        rows.append((name, kind, *min(peer_child(code, files[kind]) for _ in range(args.repeat))))
    for kind in (DOCUMENT, LINES):
        steps: list[float] = []
        rows.append(
            (
                f"trueup ingest ({kind})",
                kind,
                *min(trueup_child(files[kind], args.records, steps) for _ in range(args.repeat)),
            )
        )
        rows.append(("  step alone", kind, min(steps), 0))
    baseline = {kind: next(seconds for _, k, seconds, _ in rows if k == kind) for kind in (DOCUMENT, LINES)}
    print(f"\n| {'contender':<33} | {'seconds':>8} | {'records/s':>10} | {'vs DuckDB':>9} | {'peak MB':>8} |")
    print(f"|{'-' * 35}|{'-' * 10}|{'-' * 12}|{'-' * 11}|{'-' * 10}|")
    # grouped by file (a stable sort: each file's rows in the order they ran)
    for name, kind, seconds, peak in sorted(rows, key=lambda row: row[1] != DOCUMENT):
        shown = f"{peak / 1e6:.0f}" if peak else "(same)"
        print(
            f"| {name:<33} | {seconds:8.2f} | {args.records / seconds:10,.0f} | {baseline[kind] / seconds:8.2f}x |"
            f" {shown:>8} |"
        )
    print(
        "\nseconds = the whole process (start-up and imports included); 'step alone' = the ingest step's own"
        " seconds from `trueup run --json`. vs DuckDB = DuckDB's seconds on the same file / the contender's"
        " (above 1: faster). trueup and DuckDB write every record into a DuckDB file; pandas only reads."
    )


if __name__ == "__main__":
    main()
