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

from child import Reading, best_trueup_ingest, print_readings, run_with_database

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RECORDS = "QueryResponse.Invoice"

DOCUMENT, LINES = "document", "NDJSON"
# name -> (file, code), DB the peer's database file; the first peer of each file is its rows' baseline
CONTENDERS = {
    "duckdb read_json (document)": (DOCUMENT, "import duckdb, os\n"
        "con = duckdb.connect(DB)\n"
        "size = os.path.getsize({path!r})\n"
        "con.execute(f\"CREATE TABLE invoices AS SELECT unnest(r) FROM (SELECT unnest(QueryResponse.Invoice) AS r\"\n"
        "            f\" FROM read_json({path!r}, maximum_object_size={{size + 1024}}, sample_size=-1))\")\n"),
    "pandas json_normalize (document)": (DOCUMENT, "import json, pandas as pd\n"
        "with open({path!r}, 'rb') as f:\n"
        "    df = pd.json_normalize(json.load(f)['QueryResponse']['Invoice'])\n"),
    "duckdb read_json (NDJSON)": (LINES, "import duckdb\n"
        "con = duckdb.connect(DB)\n"
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
    readings: list[Reading] = []
    for kind, path in files.items():  # each file's rows together, its first peer the baseline
        peers = {
            name: min(run_with_database(code.format(path=str(path))) for _ in range(args.repeat))
            for name, (file, code) in CONTENDERS.items()
            if file == kind
        }
        baseline = next(iter(peers.values()))[0]
        table = f"{{file: {path.name}, records: {RECORDS}}}" if kind == DOCUMENT else path.name
        seconds, peak, step = best_trueup_ingest("accounting", path.parent, table, args.repeat, args.records)
        readings += [Reading(name, *best, baseline) for name, best in peers.items()]
        readings += [
            Reading(f"trueup ingest ({kind})", seconds, peak, baseline),
            Reading("  step alone", step, 0, baseline),
        ]
    print_readings(readings, args.records, "records", "vs DuckDB")
    print(
        "\nseconds = the whole process (start-up and imports included); 'step alone' = the ingest step's own"
        " seconds from `trueup run --json`. vs DuckDB = DuckDB's seconds on the same file / the contender's"
        " (above 1: faster). trueup and DuckDB write every record into a DuckDB file; pandas only reads."
    )


if __name__ == "__main__":
    main()
