"""Ingest benchmark: trueup's `run --step ingest` against DuckDB's own readers and pandas.

Each contender runs in its own process on the same files, so its peak memory (max RSS) is its
own. Prints rows per second, the ratio to DuckDB native, and peak memory.

    python benchmarks/ingest.py [--rows 5000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import duckdb
from child import Reading, best_trueup_ingest, print_readings, run_with_database

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def make_data(rows: int) -> tuple[Path, Path]:
    """A jobs export: ids, references, statuses, US dates, money with thousands separators."""
    DATA.mkdir(exist_ok=True)
    csv_path, parquet_path = DATA / f"jobs_{rows}.csv", DATA / f"jobs_{rows}.parquet"
    if not csv_path.exists():
        con = duckdb.connect()
        con.execute(f"""
            CREATE TABLE jobs AS SELECT
              'J-' || (100000 + i) AS job_number,
              'C-' || (i % 250000) AS client_id,
              ['Scheduled', 'On site', 'Completed', 'Requires invoicing', 'Archived'][1 + (i % 5)] AS status,
              strftime(TIMESTAMP '2025-01-01' + INTERVAL (i % 500000) MINUTE, '%m/%d/%Y %I:%M %p') AS completed_at,
              printf('%,.2f', (i % 900000) / 100.0 + 85) AS total,
              'Service visit ' || (i % 97) || ', unit ' || (i % 13) AS title
            FROM range({rows}) t(i)""")
        con.execute(f"COPY jobs TO '{csv_path}' (HEADER, DELIMITER ',')")
        con.execute(f"COPY jobs TO '{parquet_path}' (FORMAT parquet)")
        con.close()
    return csv_path, parquet_path


CONTENDERS = {
    # Typed reading needs the whole file sampled: "1,000.00" first appears after 20k rows.
    "duckdb read_csv (typed)": "import duckdb; c = duckdb.connect(DB); "
    "c.execute(\"CREATE TABLE t AS SELECT * FROM read_csv('{csv}', sample_size=-1)\")",
    "duckdb read_csv (all text)": "import duckdb; c = duckdb.connect(DB); "
    "c.execute(\"CREATE TABLE t AS SELECT * FROM read_csv('{csv}', all_varchar=true)\")",
    "pandas read_csv": "import pandas as pd; df = pd.read_csv('{csv}')",
    "duckdb read_parquet": "import duckdb; c = duckdb.connect(DB); "
    "c.execute(\"CREATE TABLE t AS SELECT * FROM read_parquet('{parquet}')\")",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    csv_path, parquet_path = make_data(args.rows)
    print(
        f"{args.rows:,} rows; CSV {csv_path.stat().st_size / 1e6:.0f} MB, "
        f"Parquet {parquet_path.stat().st_size / 1e6:.0f} MB; best of {args.repeat}; "
        f"duckdb {duckdb.__version__}, {os.cpu_count()} cores"
    )
    peers = {
        name: min(
            run_with_database(code.format(csv=csv_path, parquet=parquet_path)) for _ in range(args.repeat)
        )
        for name, code in CONTENDERS.items()
    }
    # trueup keeps raw rows as text (exactly as read), so DuckDB reading all columns as text is
    # the like-for-like baseline for CSV.
    baseline = {"CSV": peers["duckdb read_csv (all text)"][0], "Parquet": peers["duckdb read_parquet"][0]}
    readings = [
        Reading(name, *best, baseline["Parquet" if "parquet" in name else "CSV"])
        for name, best in peers.items()
    ]
    steps = []  # the ingest step's own seconds, without starting Python and importing trueup
    for label, path in (("CSV", csv_path), ("Parquet", parquet_path)):
        seconds, peak, step = best_trueup_ingest("dispatch", path.parent, path.name, args.repeat, args.rows)
        readings.append(Reading(f"trueup ingest ({label})", seconds, peak, baseline[label]))
        steps.append(Reading(f"  step alone ({label})", step, 0, baseline[label]))
    readings += steps
    print_readings(readings, args.rows, "rows", "vs DuckDB native")
    print(
        "\nratio = DuckDB native time / contender time for the same format (1.00x = as fast as DuckDB);"
        " the CSV baseline is DuckDB reading every column as text, as trueup's raw tables do."
        " 'step alone' is the ingest step's own time from `trueup run --json`, without starting Python"
        " and importing trueup (each contender's time includes its own start-up)."
    )


if __name__ == "__main__":
    main()
