"""Check benchmark: trueup's check step against the same job-to-cash rules written by hand in DuckDB
SQL, in pandas, and with datacompy (pandas and Polars), on the demo company.

The company is built once into /tmp/trueup-bench/<size> (`trueup demo --no-run`, then the ingest,
map, link and resolve steps) and reused. Then each contender runs in a process of its own:

- trueup, like for like: `trueup run --step check --check job_not_invoiced --check
  invoice_not_posted --check amount_mismatch --check sync_lag --check won_deal_no_job`: the same
  five rules as the peers (and the three vendor-setting checks a run of some checks always adds,
  whose findings are root causes), with root causes and the findings store. The goals against
  the hand-written SQL and pandas are measured on this row.
- trueup, datacompy's comparisons: `trueup run --step check --check amount_mismatch` (and the
  three vendor-setting checks): the job vs invoiced and billing vs ledger amounts, which is what
  datacompy compares. The goals against datacompy are measured on this row, like for like.
- trueup, every check: `trueup run --step check`: all 30 built-in checks, for scale.
- DuckDB SQL: the rules as an analyst would write them over the warehouse's staged tables
  (`staged_job`, `staged_invoice`, `staged_deal`, and `clusters` for which invoices are copies of
  one another), each result written to a table: finished jobs not invoiced after 3 days, billing
  invoices not in the ledger after 1 day, job vs invoiced and billing vs ledger amounts a cent or
  more apart, jobs invoiced and invoices posted later than those SLAs, won deals with no job after
  1 day. The same rules as trueup's `job_not_invoiced`, `invoice_not_posted`, `amount_mismatch`,
  `sync_lag` and `won_deal_no_job`.
- pandas: the same rules with merges and boolean masks, on the tables read with duckdb's `.df()`.
- datacompy: the two comparisons it can express, job vs invoiced amount (joined on the job
  reference) and billing vs ledger amount (joined on the invoice number), with pandas and Polars.

A peer's seconds are what its rules cost (opening the database, reading the tables, computing),
not starting Python and importing; trueup's are the check step's own seconds from `--json`. The
whole process's wall time and peak memory (VmHWM) are shown too. Last, precision and recall of all
of trueup's findings against the ground truth of the `medium` company, and how often a finding's
root cause is the one expected (`trueup eval --json`).

    python benchmarks/checks.py [--size large] [--repeat N] [--eval-size medium] [--skip-eval]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import yaml
from child import ChildFailed, run_python, trueup_code

HERE = Path(__file__).resolve().parent
CACHE = Path("/tmp/trueup-bench")
RULES = {  # the rule, and its column in the table
    "job_not_invoiced": "not invoiced",
    "invoice_not_posted": "not posted",
    "amount_mismatch:job": "amount job",
    "amount_mismatch:invoice": "amount inv",
    "sync_lag:job": "late job",
    "sync_lag:invoice": "late inv",
    "won_deal_no_job": "won no job",
}
# trueup's findings per rule: amount_mismatch and sync_lag cover two handoffs, told apart by
# whether a job is among a finding's records.
TRUEUP_COUNTS = """
SELECT check_name || CASE WHEN check_name NOT IN ('amount_mismatch', 'sync_lag') THEN ''
  WHEN list_contains(list_transform(entities, lambda e: e.entity), 'job') THEN ':job' ELSE ':invoice' END,
  count(*) FROM check_results GROUP BY 1
"""
# Each peer is a program with __DB__, __TZ__ and __AS_OF__ in it; it prints its seconds and counts.
SQL = '''
import json, time
import duckdb

began = time.perf_counter()
con = duckdb.connect("__DB__", read_only=True)
con.execute("SET TimeZone = '__TZ__'")  # calendar days are the company's
con.execute("""CREATE TEMP TABLE inv AS
  SELECT i.system, i.source_id, i.job, i.amount, i.state, i.issued_at, i.posted_at, c.canonical_id
  FROM staged_invoice i JOIN clusters c ON c.entity = 'invoice' AND c.system = i.system AND c.source_id = i.source_id
  WHERE i.system IN ('billing', 'accounting')""")
con.execute("""CREATE TEMP TABLE copies AS
  SELECT b.source_id AS billing_id, a.source_id AS accounting_id, b.amount AS billed, a.amount AS booked,
    b.issued_at, coalesce(a.posted_at, a.issued_at) AS posted_at
  FROM inv b JOIN inv a ON a.canonical_id = b.canonical_id AND a.system = 'accounting' WHERE b.system = 'billing'""")
rules = {
  "job_not_invoiced": """SELECT j.source_id, j.amount FROM staged_job j
    WHERE j.system = 'dispatch' AND j.state IN ('completed', 'invoice_ready', 'closed') AND coalesce(j.amount, 0) <> 0
      AND j.completed_at + INTERVAL 3 DAY < TIMESTAMPTZ '__AS_OF__'
      AND NOT EXISTS (SELECT 1 FROM inv i WHERE i.job = j.source_id)""",
  "invoice_not_posted": """SELECT b.source_id, b.amount FROM inv b
    WHERE b.system = 'billing' AND coalesce(b.state, '') NOT IN ('draft', 'cancelled')
      AND CAST(b.issued_at AS DATE) + INTERVAL 1 DAY < TIMESTAMPTZ '__AS_OF__'
      AND NOT EXISTS (SELECT 1 FROM inv a WHERE a.system = 'accounting' AND a.canonical_id = b.canonical_id)""",
  "amount_mismatch:job": """SELECT j.source_id, round(j.amount, 2) AS job_amount, round(sum(i.amount), 2) AS invoiced
    FROM staged_job j JOIN inv i ON i.system = 'billing' AND i.job = j.source_id AND coalesce(i.state, '') <> 'cancelled'
    WHERE j.system = 'dispatch' GROUP BY j.source_id, j.amount
    HAVING abs(round(j.amount, 2) - round(sum(i.amount), 2)) > 0.005""",
  "amount_mismatch:invoice": "SELECT * FROM copies WHERE abs(round(billed, 2) - round(booked, 2)) > 0.005",
  "sync_lag:job": """SELECT j.source_id, i.source_id AS invoice_id, j.completed_at, i.issued_at
    FROM staged_job j JOIN inv i ON i.system = 'billing' AND i.job = j.source_id
    WHERE j.system = 'dispatch' AND j.state IN ('completed', 'invoice_ready', 'closed')
      AND CAST(i.issued_at AS DATE) > CAST(j.completed_at AS DATE) + INTERVAL 3 DAY""",
  "sync_lag:invoice": "SELECT * FROM copies WHERE CAST(posted_at AS DATE) > CAST(issued_at AS DATE) + INTERVAL 1 DAY",
  "won_deal_no_job": """SELECT d.source_id, d.amount FROM staged_deal d
    WHERE d.system = 'crm' AND d.state = 'won' AND d.closed_at + INTERVAL 1 DAY < TIMESTAMPTZ '__AS_OF__'
      AND NOT EXISTS (SELECT 1 FROM staged_job j WHERE j.system = 'dispatch' AND j.deal = d.source_id)""",
}
counts = {}
for n, (rule, sql) in enumerate(rules.items()):
    con.execute(f"CREATE TEMP TABLE found_{n} AS {sql}")
    counts[rule] = con.execute(f"SELECT count(*) FROM found_{n}").fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - began, "counts": counts}))
'''

PANDAS = """
import json, time
import duckdb
import pandas as pd

began = time.perf_counter()
con = duckdb.connect("__DB__", read_only=True)
con.execute("SET TimeZone = '__TZ__'")  # times arrive in the company's zone
jobs = con.sql("SELECT source_id, state, completed_at, amount, deal FROM staged_job WHERE system = 'dispatch'").df()
inv = con.sql("SELECT system, source_id, job, amount, state, issued_at, posted_at FROM staged_invoice"
              " WHERE system IN ('billing', 'accounting')").df()
ids = con.sql("SELECT system, source_id, canonical_id FROM clusters WHERE entity = 'invoice'").df()
deals = con.sql("SELECT source_id, state, closed_at FROM staged_deal WHERE system = 'crm'").df()
as_of = pd.Timestamp("__AS_OF__").tz_convert("__TZ__")
day = lambda s: s.dt.tz_localize(None).dt.normalize()  # the calendar day
D1, D3 = pd.Timedelta(days=1), pd.Timedelta(days=3)
inv = inv.merge(ids, on=["system", "source_id"])
billing, books = inv[inv.system == "billing"], inv[inv.system == "accounting"]
done = jobs[jobs.state.isin(["completed", "invoice_ready", "closed"])]
billed = billing[billing.state.fillna("") != "cancelled"].groupby("job", as_index=False).amount.sum()
per_job = jobs.merge(billed, left_on="source_id", right_on="job", suffixes=("", "_billed"))
copies = billing.merge(books, on="canonical_id", suffixes=("_billing", "_books"))
late = done.merge(billing, left_on="source_id", right_on="job", suffixes=("", "_invoice"))
posted = copies.posted_at_books.fillna(copies.issued_at_books)
found = {
    "job_not_invoiced": done[(done.amount.fillna(0) != 0) & (done.completed_at + D3 < as_of)
                             & ~done.source_id.isin(inv.job.dropna())],
    "invoice_not_posted": billing[~billing.state.fillna("").isin(["draft", "cancelled"])
                                  & (day(billing.issued_at) + D1 < as_of.tz_localize(None))
                                  & ~billing.canonical_id.isin(books.canonical_id)],
    "amount_mismatch:job": per_job[(per_job.amount.round(2) - per_job.amount_billed.round(2)).abs() > 0.005],
    "amount_mismatch:invoice": copies[(copies.amount_billing.round(2) - copies.amount_books.round(2)).abs() > 0.005],
    "sync_lag:job": late[day(late.issued_at) > day(late.completed_at) + D3],
    "sync_lag:invoice": copies[day(posted) > day(copies.issued_at_billing) + D1],
    "won_deal_no_job": deals[(deals.state == "won") & (deals.closed_at + D1 < as_of)
                             & ~deals.source_id.isin(jobs.deal.dropna())],
}
counts = {rule: len(rows) for rule, rows in found.items()}
print(json.dumps({"seconds": time.perf_counter() - began, "counts": counts}))
"""

# Amounts rounded to the cent and compared with abs_tol=0.005: apart by a cent or more. Invoices
# of one job are summed first (not counting cancelled ones), as the job-to-invoice rule does.
DATACOMPY = """
import json, time
import datacompy, duckdb
__IMPORTS__
began = time.perf_counter()
con = duckdb.connect("__DB__", read_only=True)
jobs = con.sql("SELECT source_id AS job, amount FROM staged_job WHERE system = 'dispatch'").__READ__()
inv = con.sql("SELECT system, number, job, amount, state FROM staged_invoice"
              " WHERE system IN ('billing', 'accounting')").__READ__()
__PREPARE__
by_job = datacompy.__COMPARE__(jobs, billed, join_columns="job", abs_tol=0.005, df1_name="dispatch", df2_name="billing")
by_number = datacompy.__COMPARE__(billing, books, join_columns="number", abs_tol=0.005, df1_name="billing",
                                  df2_name="accounting")
counts = {"amount_mismatch:job": len(by_job.all_mismatch()), "amount_mismatch:invoice": len(by_number.all_mismatch())}
print(json.dumps({"seconds": time.perf_counter() - began, "counts": counts}))
"""
PANDAS_PREPARE = """jobs["amount"] = jobs.amount.round(2)
billing = inv[inv.system == "billing"]
billed = billing[billing.state.fillna("") != "cancelled"].groupby("job", as_index=False).amount.sum().round(2)
billing, books = (inv.loc[inv.system == s, ["number", "amount"]].round(2) for s in ("billing", "accounting"))"""
POLARS_PREPARE = """money = pl.col("amount").cast(pl.Float64).round(2)
jobs = jobs.with_columns(money)
billing = inv.filter(pl.col("system") == "billing")
billed = billing.filter(pl.col("state").fill_null("") != "cancelled").group_by("job").agg(money.sum().round(2))
billing, books = (inv.filter(pl.col("system") == s).select("number", money) for s in ("billing", "accounting"))"""


def fill(code: str, **parts: str) -> str:
    for key, value in parts.items():
        code = code.replace(f"__{key.upper()}__", value)
    return code


PEERS = {
    "DuckDB SQL by hand": SQL,
    "pandas by hand": PANDAS,
    "datacompy (pandas)": fill(
        DATACOMPY, imports="", read="df", prepare=PANDAS_PREPARE, compare="PandasCompare"
    ),
    "datacompy (Polars)": fill(
        DATACOMPY, imports="import polars as pl", read="pl", prepare=POLARS_PREPARE, compare="PolarsCompare"
    ),
}


@dataclass
class Row:
    contender: str
    seconds: float = 0.0  # the work: trueup's step; a peer's reading and rules
    process: float = 0.0  # the whole child process
    peak: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    failed: str = ""
    note: str = ""


def trueup(*argv: str) -> None:
    subprocess.run([sys.executable, "-m", "trueup", *argv], check=True, stdout=subprocess.DEVNULL)


def readable(warehouse: Path) -> Path:
    """The warehouse, or a copy of it when another process holds it."""
    try:
        duckdb.connect(str(warehouse), read_only=True).close()
        return warehouse
    except duckdb.IOException:
        copy = warehouse.with_name("benchmark-copy.duckdb")
        shutil.copyfile(warehouse, copy)
        return copy


def workspace(size: str) -> Path:
    """The demo company of this size with every step but check run, built once and kept."""
    root = CACHE / size
    warehouse = root / ".trueup" / "warehouse.duckdb"
    if warehouse.exists():
        con = duckdb.connect(str(readable(warehouse)), read_only=True)
        built = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('clusters', 'invoice')"
        )
        ready = built.fetchone() == (2,)
        con.close()
        if ready:
            return root
    shutil.rmtree(root, ignore_errors=True)
    trueup("demo", str(root), "--size", size, "--no-run")
    trueup("run", "-w", str(root), *(a for s in ("ingest", "map", "link", "resolve") for a in ("--step", s)))
    return root


JOB_TO_CASH = ("job_not_invoiced", "invoice_not_posted", "amount_mismatch", "sync_lag", "won_deal_no_job")
SAME_RULES, COMPARISONS = "trueup, the same rules", "trueup, datacompy's comparisons"


def run_trueup(root: Path, name: str, checks: tuple[str, ...] = ()) -> Row:
    chosen = [a for c in checks for a in ("--check", c)]
    process, peak, out = run_python(trueup_code("run", "--step", "check", *chosen, "-w", str(root), "--json"))
    start = 0 if out.startswith(b"{") else out.rfind(b"\n{\n") + 1  # the report follows any progress bar
    report = json.loads(out[start:])
    step = report["steps"][0]
    if step["outcome"] != "succeeded":
        raise ChildFailed(f"check step {step['outcome']}: {'; '.join(step['errors'])[-600:]}")
    con = duckdb.connect(str(readable(root / ".trueup" / "warehouse.duckdb")), read_only=True)
    counts = dict(con.execute(TRUEUP_COUNTS).fetchall())
    con.close()
    found = {k: v for k, v in step["counts"].items() if k.startswith("found.")}
    counts = {k: v for k, v in counts.items() if f"found.{k.partition(':')[0]}" in found}  # others' rows stay
    store = ", ".join(f"{v:,} {k[9:]}" for k, v in step["counts"].items() if k.startswith("findings.") and v)
    note = f"{name}: ran {len(found)} checks, found {sum(found.values()):,} findings; findings store: {store}"
    return Row(name, step["seconds"], process, peak, counts, note=note)


def run_peer(name: str, code: str) -> Row:
    process, peak, out = run_python(code)
    got = json.loads(out.decode().strip().splitlines()[-1])
    return Row(name, got["seconds"], process, peak, got["counts"])


def best(repeat: int, name: str, once: Callable[[], Row]) -> Row:
    """The fastest of `repeat` runs, or why the contender failed."""
    rows = []
    for _ in range(repeat):
        try:
            rows.append(once())
        except ChildFailed as failure:
            return Row(name, failed=str(failure))
    return min(rows, key=lambda r: r.seconds)


def table(rows: list[Row]) -> None:
    lines = [["contender", "seconds", "process s", "÷ trueup", "peak MB", *RULES.values()]]
    for r in rows:
        numbers = [
            f"{r.seconds:.2f}",
            f"{r.process:.2f}",
            f"{r.seconds / rows[0].seconds:.2f}x" if rows[0].seconds else "",
            f"{r.peak / 1e6:.0f}",
        ]
        counts = [f"{r.counts[k]:,}" if k in r.counts else "" for k in RULES]
        lines.append([r.contender, f"failed: {r.failed}"] if r.failed else [r.contender, *numbers, *counts])
    widths = [max(len(line[i]) for line in lines if len(line) == len(lines[0])) for i in range(len(lines[0]))]
    for n, line in enumerate(lines):
        cells = [c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=False))]
        print(("\n" if n == 0 else "") + "| " + " | ".join(cells) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def goals(rows: list[Row]) -> None:
    by = {r.contender: r for r in rows}
    wanted = [  # (goal, trueup's row, peer, what is shown, whether it is met)
        ("within 1.5x of DuckDB SQL by hand", SAME_RULES, "DuckDB SQL by hand",
         lambda m, o: f"trueup takes {m.seconds / o.seconds:.2f}x its time", lambda m, o: m.seconds <= 1.5 * o.seconds),
        ("at least 6x faster than pandas by hand", SAME_RULES, "pandas by hand",
         lambda m, o: f"pandas takes {o.seconds / m.seconds:.2f}x trueup's time", lambda m, o: o.seconds >= 6 * m.seconds),
        ("at least 3x faster than datacompy (Polars)", COMPARISONS, "datacompy (Polars)",
         lambda m, o: f"datacompy takes {o.seconds / m.seconds:.2f}x trueup's time", lambda m, o: o.seconds >= 3 * m.seconds),
        ("peak memory at most half of datacompy (pandas)", COMPARISONS, "datacompy (pandas)",
         lambda m, o: f"trueup {m.peak / 1e6:.0f} MB, datacompy {o.peak / 1e6:.0f} MB", lambda m, o: 2 * m.peak <= o.peak),
    ]  # fmt: skip
    print(
        "\ngoals (trueup's check step running what the peer runs: the five rules, or datacompy's comparisons):"
    )
    for text, name, peer, shown, met in wanted:
        mine = by[name]
        if mine.failed or by[peer].failed:
            print(f"  {text}: not measured ({name if mine.failed else peer} failed)")
        else:
            print(
                f"  {text}: {shown(mine, by[peer])} ({name}) -> {'met' if met(mine, by[peer]) else 'MISSED'}"
            )
    same = by[SAME_RULES]
    if not same.failed and not any(by[p].failed for p in ("datacompy (Polars)", "datacompy (pandas)")):
        print(
            f"  (the five rules against datacompy's two comparisons: datacompy (Polars) takes"
            f" {by['datacompy (Polars)'].seconds / same.seconds:.2f}x trueup's time; trueup"
            f" {same.peak / 1e6:.0f} MB, datacompy (pandas) {by['datacompy (pandas)'].peak / 1e6:.0f} MB)"
        )


def evaluate(size: str, fresh: bool) -> None:
    """Precision and recall of all of trueup's findings on a demo company, per category and kind."""
    root = workspace(size)
    try:
        if not fresh:  # findings from this code, not from whenever the company was built
            trueup("run", "--step", "check", "-w", str(root))
        done = subprocess.run(
            [sys.executable, "-m", "trueup", "eval", str(root), "--json"], capture_output=True
        )
        report = json.loads(done.stdout)
    except (subprocess.CalledProcessError, ValueError) as exc:
        print(f"\nprecision and recall on the {size} company: not measured ({exc})")
        return
    print(
        f"\nprecision and recall of all of trueup's checks on the {size} company (`trueup eval {root} --json`):"
    )
    print(
        f"\n| {'category (kind)':<30} | {'expected':>8} | {'found':>6} | {'matched':>7} | precision | recall |  cause |"
    )
    print(f"|{'-' * 32}|{'-' * 10}|{'-' * 8}|{'-' * 9}|-----------|--------|--------|")
    for name, s in [("all", report["total"]), *report["categories"].items(), *report["kinds"].items()]:
        name = f"  ({name})" if name in report["kinds"] else name
        print(f"| {name:<30} | {s['expected']:>8,} | {s['found']:>6,} | {s['matched']:>7,} |"
              f" {s['precision']:>9.4f} | {s['recall']:>6.4f} | {s['cause']:>6.4f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--repeat", type=int, default=None, help="best of N (default 3, and 1 for large)")
    parser.add_argument(
        "--eval-size", default="medium", help="the company precision and recall are measured on"
    )
    parser.add_argument("--skip-eval", action="store_true")
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.size == "large" else 3)
    root = workspace(args.size)
    config = yaml.safe_load((root / "trueup.yaml").read_text())
    tz = config["timezone"]
    as_of = datetime.fromisoformat(str(config["as_of"])).replace(tzinfo=ZoneInfo(tz)).isoformat()
    import datacompy
    import pandas
    import polars

    git = ["git", "-C", str(HERE.parent)]
    commit = (
        subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True).stdout.decode().strip()
    )
    dirty = subprocess.run([*git, "status", "--porcelain", "src"], capture_output=True).stdout.strip()
    print(f"demo {args.size} ({root}); best of {repeat}; trueup at {commit}{' with src/ modified' if dirty else ''};"
          f" duckdb {duckdb.__version__}, pandas {pandas.__version__}, polars {polars.__version__}, datacompy"
          f" {datacompy.__version__}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")  # fmt: skip
    rows = [
        best(repeat, SAME_RULES, lambda: run_trueup(root, SAME_RULES, JOB_TO_CASH)),
        best(repeat, COMPARISONS, lambda: run_trueup(root, COMPARISONS, ("amount_mismatch",))),
        best(repeat, "trueup, every check", lambda: run_trueup(root, "trueup, every check")),
    ]
    db = readable(root / ".trueup" / "warehouse.duckdb")
    for name, code in PEERS.items():
        program = fill(code, db=str(db), tz=tz, as_of=as_of)
        rows.append(best(repeat, name, lambda n=name, p=program: run_peer(n, p)))  # type: ignore[misc]
    with duckdb.connect(str(db), read_only=True) as con:
        jobs, invoices = con.execute("SELECT (FROM staged_job SELECT count(*)), (FROM staged_invoice SELECT count(*))")\
            .fetchone() or (0, 0)  # fmt: skip
    table(rows)
    print(
        f"\n{jobs:,} staged jobs, {invoices:,} staged invoices. seconds = the work: the check step's own seconds"
        " (`trueup run --step check --json`); for a peer, from opening the database to its last rule, reading"
        " the tables included. process s = the whole child process (start-up and imports included). ÷ trueup ="
        " seconds / the first row's seconds (above 1: trueup is faster). peak MB = the process's own high-water"
        " mark (VmHWM). The other columns count what each found per rule; trueup also gives every finding"
        " its title, values, root cause and canonical ids and keeps the findings store; the peers only count"
        " these job-to-cash rules, datacompy only the two amount comparisons. amount/late job = job vs"
        " billing invoice, inv = billing vs accounting invoice."
    )
    for note in (r.note for r in rows if r.note):
        print(note)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    goals(rows)
    if not args.skip_eval:
        evaluate(args.eval_size, fresh=args.eval_size == args.size and not rows[0].failed)


if __name__ == "__main__":
    main()
