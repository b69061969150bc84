"""JSON document benchmark: trueup's `run --step ingest` of an API envelope against DuckDB and pandas.

The file is a QuickBooks Online invoice query response: one document, `{"QueryResponse": {"Invoice":
[...], "startPosition": 1, "maxResults": N}, "time": ...}`, each invoice with nested references, lines
and metadata, as the demo company's accounting export writes it; written once into benchmarks/data.
Each contender runs in its own process and stores what it read:

- trueup: `trueup run --step ingest` of a workspace whose one table is the document's
  `QueryResponse.Invoice` (simdjson lifts the records out one a line; DuckDB reads the lines).
- DuckDB: `read_json` of the whole document into a database file, the records unnested from the
  envelope, as one would write it by hand (and as trueup read it before).
- pandas: `json.load` and `json_normalize` of the records, the way an analyst flattens an API response.

Seconds are the whole process (start-up and imports included); the step's own seconds are shown
for trueup too. Prints records per second, the ratio to DuckDB, and peak memory.

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

CONTENDERS = {
    "duckdb read_json (whole document)": "import duckdb, os\n"
    "con = duckdb.connect({db!r})\n"
    "size = os.path.getsize({path!r})\n"
    "con.execute(f\"CREATE TABLE invoices AS SELECT unnest(r) FROM (SELECT unnest(QueryResponse.Invoice) AS r\"\n"
    "            f\" FROM read_json({path!r}, maximum_object_size={{size + 1024}}, sample_size=-1))\")\n",
    "pandas json_normalize": "import json, pandas as pd\n"
    "with open({path!r}, 'rb') as f:\n"
    "    df = pd.json_normalize(json.load(f)['QueryResponse']['Invoice'])\n",
}


def make_document(records: int) -> Path:
    """The document, written once: `records` invoices of one to four lines each."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"qbo_invoices_{records}.json"
    if path.exists():
        return path
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
        out.write(f'], "startPosition": 1, "maxResults": {records}}}, "time": "2026-11-20T15:02:11.412-05:00"}}\n')
    return path


STEP_SECONDS: list[float] = []


def trueup_child(path: Path, records: int) -> tuple[float, int]:
    seconds, peak, step = trueup_ingest("accounting", path.parent, f"{{file: {path.name}, records: {RECORDS}}}")
    assert step["counts"] == {"rows.accounting.jobs": records, "quarantined": 0}, step["counts"]
    STEP_SECONDS.append(step["seconds"])
    return seconds, peak


def duckdb_child(code: str, path: Path) -> tuple[float, int]:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        seconds, peak, _ = run_python(code.format(path=str(path), db=str(Path(scratch) / "peer.duckdb")))
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = make_document(args.records)
    from importlib.metadata import version

    import duckdb
    import pandas

    print(
        f"{args.records:,} invoices in one QueryResponse document; {path.stat().st_size / 1e6:.0f} MB; best of "
        f"{args.repeat}; duckdb {duckdb.__version__}, pysimdjson {version('pysimdjson')}, pandas "
        f"{pandas.__version__}, {os.cpu_count()} cores"
    )
    results: dict[str, tuple[float, int]] = {}
    for name, code in CONTENDERS.items():
        results[name] = min(duckdb_child(code, path) for _ in range(args.repeat))
    results["trueup ingest (JSON envelope)"] = min(trueup_child(path, args.records) for _ in range(args.repeat))
    results["  step alone"] = (min(STEP_SECONDS), 0)
    baseline = results["duckdb read_json (whole document)"][0]
    print(f"\n| {'contender':<33} | {'seconds':>8} | {'records/s':>10} | {'vs DuckDB':>9} | {'peak MB':>8} |")
    print(f"|{'-' * 35}|{'-' * 10}|{'-' * 12}|{'-' * 11}|{'-' * 10}|")
    for name, (seconds, peak) in results.items():
        shown = f"{peak / 1e6:.0f}" if peak else "(same)"
        print(
            f"| {name:<33} | {seconds:8.2f} | {args.records / seconds:10,.0f} | {baseline / seconds:8.2f}x | {shown:>8} |"
        )
    print(
        "\nseconds = the whole process (start-up and imports included); 'step alone' = the ingest step's own"
        " seconds from `trueup run --json`. vs DuckDB = DuckDB's seconds / the contender's (above 1: faster)."
        " trueup and DuckDB write every record into a DuckDB file; pandas only reads."
    )


if __name__ == "__main__":
    main()
