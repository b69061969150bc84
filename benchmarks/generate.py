"""Demo generation benchmark: `trueup.demo.generate` per size against DuckDB writing the same rows.

Each generation runs in its own process into a temporary folder (removed afterwards), so its peak
memory (VmHWM) is its own. The peer is plain DuckDB writing a CSV of the same total row count and
about the same column count: the cost of writing that many rows, with no company to draw.

    python benchmarks/generate.py [--sizes small,medium,large] [--repeat N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
from pathlib import Path

import duckdb
from child import run_python

from trueup.demo import SIZES

GENERATE = (
    "import json\n"
    "from trueup.demo import generate\n"
    "demo = generate({target!r}, size={size!r}, seed=7)\n"
    "print(json.dumps(demo.as_dict()))\n"
)

# The peer's columns, cycled to the column count wanted: ids, references, status words, dates,
# money and free text, as in the demo's exports. `{k}` varies each copy so no two are equal.
PEER_COLUMNS = (
    "'J-' || (100000 + i) AS c{k}",
    "(i * {k} + 7) % 250000 AS c{k}",
    "['Scheduled', 'On site', 'Completed', 'Requires invoicing', 'Archived'][1 + ((i + {k}) % 5)] AS c{k}",
    "strftime(TIMESTAMP '2025-01-01' + INTERVAL ((i * {k}) % 500000) MINUTE, '%Y-%m-%d %H:%M') AS c{k}",
    "printf('%.2f', ((i + {k}) % 900000) / 100.0 + 85) AS c{k}",
    "'Service visit ' || (i % 97) || ', unit ' || ((i + {k}) % 13) AS c{k}",
)

PEER = "import duckdb\nduckdb.connect().execute({sql!r})\n"


def disk_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def csv_columns(root: Path, files: dict[str, int]) -> float:
    """Columns per row of the CSV exports, weighted by their rows."""
    weighted = total = 0
    for name, rows in files.items():
        if name.endswith(".csv"):
            with open(root / name, newline="", encoding="utf-8") as handle:
                weighted += len(next(csv.reader(handle))) * rows
            total += rows
    return weighted / total


def generate_child(size: str) -> dict:
    """One generation in a fresh process: seconds, peak, and what it wrote (measured, then removed)."""
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "demo"
        code = GENERATE.format(target=str(target), size=size)
        seconds, peak, out = run_python(code)
        demo = json.loads(out)
        return {
            "seconds": seconds,
            "peak": peak,
            "inner": demo["seconds"],
            "jobs": demo["jobs"],
            "rows": sum(demo["files"].values()),
            "bytes": disk_bytes(target),
            "columns": csv_columns(target, demo["files"]),
        }


def peer_child(rows: int, columns: int) -> dict:
    """DuckDB writing `rows` rows of `columns` columns to one CSV, in a fresh process."""
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "peer.csv"
        select = ",\n  ".join(PEER_COLUMNS[k % len(PEER_COLUMNS)].format(k=k) for k in range(columns))
        sql = f"COPY (SELECT\n  {select}\nFROM range({rows}) t(i)) TO '{target}' (HEADER, DELIMITER ',')"
        seconds, peak, _ = run_python(PEER.format(sql=sql))
        return {"seconds": seconds, "peak": peak, "bytes": target.stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large", help="comma-separated: small,medium,large")
    parser.add_argument("--repeat", type=int, default=None, help="best of N (default 3, and 1 for large)")
    args = parser.parse_args()
    sizes = [size.strip() for size in args.sizes.split(",") if size.strip()]
    unknown = [size for size in sizes if size not in SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; write some of {', '.join(SIZES)}")

    def repeat(size: str) -> int:
        return args.repeat if args.repeat is not None else (1 if size == "large" else 3)

    print(
        f"seed 7; best of {args.repeat if args.repeat is not None else '3 (1 for large)'}; "
        f"duckdb {duckdb.__version__}, {os.cpu_count()} cores"
    )
    results: dict[str, tuple[dict, dict]] = {}
    for size in sizes:
        runs = [generate_child(size) for _ in range(repeat(size))]
        mine = min(runs, key=lambda r: r["seconds"])
        columns = round(mine["columns"])
        peers = [peer_child(mine["rows"], columns) for _ in range(repeat(size))]
        peer = min(peers, key=lambda r: r["seconds"])
        peer["columns"] = columns
        results[size] = (mine, peer)

    print(
        f"\n| {'size':<6} | {'jobs':>9} | {'rows written':>12} | {'files MB':>8} | {'seconds':>7} "
        f"| {'generate()':>10} | {'rows/s':>9} | {'peak MB':>7} | {'peer s':>6} | {'peer MB':>7} "
        f"| {'vs peer':>7} |"
    )
    print(
        f"|{'-' * 8}|{'-' * 11}|{'-' * 14}|{'-' * 10}|{'-' * 9}|{'-' * 12}|{'-' * 11}|{'-' * 9}"
        f"|{'-' * 8}|{'-' * 9}|{'-' * 9}|"
    )
    for size, (mine, peer) in results.items():
        ratio = peer["seconds"] / mine["seconds"]
        print(
            f"| {size:<6} | {mine['jobs']:>9,} | {mine['rows']:>12,} | {mine['bytes'] / 1e6:>8.1f} "
            f"| {mine['seconds']:>7.2f} | {mine['inner']:>10.2f} | {mine['rows'] / mine['seconds']:>9,.0f} "
            f"| {mine['peak'] / 1e6:>7.0f} | {peer['seconds']:>6.2f} | {peer['bytes'] / 1e6:>7.1f} "
            f"| {ratio:>6.2f}x |"
        )
    print(
        "\njobs = the jobs the demo holds (`Demo.jobs`; the size names 2,000, 100,000 and 1,000,000)."
        " seconds = the whole child process (start-up, import, generate, exit); generate() = the"
        " time generate() reports itself. rows written = the sum of the rows of every export file"
        " (CSV, JSON, the Friday sheet; not .truth/); files MB = everything written, .truth/"
        " included. The peer is one plain DuckDB `COPY (SELECT ... FROM range(N)) TO 'x.csv'` in"
        " a fresh process: N = rows written, and as many columns (ids, references, status words,"
        " dates, money, text) as the demo's CSV exports have on average per row"
        + " ("
        + ", ".join(f"{size} {peer['columns']}" for size, (_, peer) in results.items())
        + "); it draws no company and writes no JSON or xlsx. vs peer = peer seconds / generator"
        " seconds (1.00x = as fast as DuckDB just writing the rows). peak MB = the process's own"
        " high-water mark (VmHWM)."
    )


if __name__ == "__main__":
    main()
