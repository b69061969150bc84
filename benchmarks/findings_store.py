"""Findings store benchmark: a run hands 100k findings to the state store, on SQLite and PostgreSQL.

trueup's `StateStore.sync` (first run: every finding new, with its `opened` event; second run:
the same findings again, nothing to change; third run: a tenth gone, auto-resolved) against the
peer: plain `executemany` of the same rows into a table of the same columns through the database
driver (sqlite3, psycopg), which is the floor for writing that many rows. Each contender runs in
its own process.

    python benchmarks/findings_store.py [--rows 100000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import uuid
from pathlib import Path

from child import run_python

ROWS = """
def rows(n):
    return [{{
        "fingerprint": f"{{i:032x}}", "check": "job_not_invoiced", "category": "lifecycle_mismatch",
        "severity": "critical", "title": f"Job {{i}} completed 2026-11-01, no invoice after 19 days (SLA 3 days)",
        "detail": None, "owner": "billing@example.com", "handoff": "job-to-invoice", "field": None,
        "money": 100 + i % 900, "minutes": 25.0, "cause": "design", "cause_reason": "workflow",
        "entities": [{{"entity": "job", "system": "dispatch", "source_id": str(i), "canonical_id": f"job_{{i:012x}}"}}],
        "values": {{"status": "Completed", "amount": 100 + i % 900}},
    }} for i in range(n)]
"""

TRUEUP = (
    ROWS
    + """
import json, time
from trueup.state import StateStore
store = StateStore({url!r})
found = rows({n})
timings = {{}}
for name, batch in (("first run", found), ("same again", found), ("a tenth gone", found[: len(found) * 9 // 10])):
    began = time.perf_counter()
    result = store.sync("run-" + name, batch)
    timings[name] = [time.perf_counter() - began, result.counts]
store.close()
print(json.dumps(timings))
"""
)

PEER_SQLITE = (
    ROWS
    + """
import json, sqlite3, time
found = rows({n})
con = sqlite3.connect({path!r})
con.execute("CREATE TABLE f (fingerprint TEXT UNIQUE, chk TEXT, category TEXT, severity TEXT, title TEXT,"
            " owner TEXT, handoff TEXT, money NUMERIC, minutes REAL, cause TEXT, cause_reason TEXT,"
            " entities TEXT, vals TEXT)")
began = time.perf_counter()
con.executemany("INSERT INTO f VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", [
    (r["fingerprint"], r["check"], r["category"], r["severity"], r["title"], r["owner"], r["handoff"], r["money"],
     r["minutes"], r["cause"], r["cause_reason"], json.dumps(r["entities"]), json.dumps(r["values"])) for r in found])
con.commit()
print(json.dumps({{"first run": [time.perf_counter() - began, {{}}]}}))
"""
)

PEER_POSTGRES = (
    ROWS
    + """
import json, time, psycopg
found = rows({n})
with psycopg.connect({url!r}) as con:
    con.execute("CREATE TABLE f (fingerprint TEXT UNIQUE, chk TEXT, category TEXT, severity TEXT, title TEXT,"
                " owner TEXT, handoff TEXT, money NUMERIC, minutes REAL, cause TEXT, cause_reason TEXT,"
                " entities JSON, vals JSON)")
    began = time.perf_counter()
    with con.cursor() as cur:
        cur.executemany("INSERT INTO f VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", [
            (r["fingerprint"], r["check"], r["category"], r["severity"], r["title"], r["owner"], r["handoff"],
             r["money"], r["minutes"], r["cause"], r["cause_reason"], json.dumps(r["entities"]),
             json.dumps(r["values"])) for r in found])
    con.commit()
    print(json.dumps({{"first run": [time.perf_counter() - began, {{}}]}}))
"""
)


def _database(admin: str, action: str, name: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(
            sqlalchemy.text(
                f'{action} DATABASE "{name}"' if action == "CREATE" else f'DROP DATABASE IF EXISTS "{name}"'
            )
        )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    n = args.rows
    print(f"{n:,} findings, each contender in its own process\n")
    print(
        f"{'store':<11} {'contender':<24} {'first run':>10} {'same again':>11} {'a tenth gone':>13} {'peak MB':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        stores = [
            (
                "SQLite",
                f"sqlite:///{Path(tmp) / 'state.db'}",
                PEER_SQLITE.format(n=n, path=str(Path(tmp) / "peer.db")),
            )
        ]
        names = []
        if args.postgres:
            for _ in range(2):
                names.append(f"trueup_bench_{uuid.uuid4().hex[:8]}")
                _database(args.postgres, "CREATE", names[-1])
            base = args.postgres.rsplit("/", 1)[0]
            peer_url = (base + "/" + names[1]).replace("postgresql+psycopg://", "postgresql://")
            stores.append(("PostgreSQL", base + "/" + names[0], PEER_POSTGRES.format(n=n, url=peer_url)))
        try:
            for store, url, peer in stores:
                for label, code in (
                    ("trueup StateStore.sync", TRUEUP.format(url=url, n=n)),
                    ("driver executemany", peer),
                ):
                    _seconds, peak, out = run_python(code)
                    timings = json.loads(out)
                    cells = [
                        f"{timings[k][0]:.2f} s" if k in timings else ""
                        for k in ("first run", "same again", "a tenth gone")
                    ]
                    print(
                        f"{store:<11} {label:<24} {cells[0]:>10} {cells[1]:>11} {cells[2]:>13} {peak / 2**20:>8.0f}"
                    )
        finally:
            for name in names:
                _database(args.postgres, "DROP", name)


if __name__ == "__main__":
    main()
