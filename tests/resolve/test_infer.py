"""An invoice or payment nobody tied to its job or invoice gets the one that fits, or none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from trueup import pipeline
from trueup.workspace import Workspace

CONFIG = """
name: Inference
country: US
timezone: America/New_York
systems:
  dispatch: {source: {type: files, path: d, tables: {clients: clients.csv, jobs: jobs.csv}}}
  billing: {source: {type: files, path: b, tables: {invoices: invoices.csv}}}
entities:
  customer:
    dispatch: {from: clients, id: id, fields: {name: name}}
  job:
    dispatch: {from: jobs, id: no, fields: {number: no, customer: client, completed_at: done, amount: total}}
  invoice:
    billing: {from: invoices, id: inv, fields: {number: inv, job: job, customer: {expr: client, system: dispatch}, amount: total, issued_at: issued}}
ownership: {customer.*: dispatch, job.*: dispatch, invoice.*: billing}
matching: {probabilistic: false}
"""
FILES = {
    "d/clients.csv": "id,name\nC1,Ann Ortiz\nC2,Tom Reed\n",
    "d/jobs.csv": (
        "no,client,done,total\n"
        "101,C1,2026-10-01 10:00,250.00\n"  # invoiced with its number
        "102,C1,2026-10-10 10:00,480.00\n"  # INV-2 forgot the job: the only one that fits
        "103,C2,2026-10-12 09:00,300.00\n"  # INV-3 forgot the job: two fit equally well
        "104,C2,2026-10-12 11:00,300.00\n"
    ),
    "b/invoices.csv": (
        "inv,job,client,total,issued\n"
        "INV-1,101,C1,250.00,2026-10-02\n"
        "INV-2,,C1,480.00,2026-10-11\n"
        "INV-3,,C2,300.00,2026-10-12 10:00\n"
        "INV-4,,C1,999.00,2026-10-12\n"  # no job of that amount
    ),
}


def test_a_missing_job_is_inferred_only_when_one_fits(make_workspace: Callable[..., Path]) -> None:
    root = make_workspace(CONFIG, FILES)
    pipeline.run(Workspace.open(root))
    con = duckdb.connect(str(root / ".trueup" / "warehouse.duckdb"), read_only=True)
    try:
        jobs = dict(
            con.execute(
                "SELECT i.number, j.number FROM invoice i LEFT JOIN job j ON j.canonical_id = i.job"
            ).fetchall()
        )
        sources = dict(
            con.execute("""
            SELECT i.number, p.system FROM provenance p JOIN invoice i ON i.canonical_id = p.canonical_id
            WHERE p.entity = 'invoice' AND p.field = 'job'
        """).fetchall()
        )
        inferred = con.execute("SELECT count(*), any_value(evidence) FROM inferred_references").fetchall()
    finally:
        con.close()
    assert jobs == {"INV-1": "101", "INV-2": "102", "INV-3": None, "INV-4": None}
    assert sources == {"INV-1": "billing", "INV-2": "inferred"}
    assert inferred[0][0] == 1 and '"same customer":true' in inferred[0][1]
