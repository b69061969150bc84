"""`trueup explain customer` and `trueup timeline` on the demo company, as a person asks."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb

from tests.cli.test_commands import trueup


def test_explain_shows_each_field_s_source_and_every_linked_record(
    demo: Path, demo_run: duckdb.DuckDBPyConnection
) -> None:
    row = demo_run.execute("""
        SELECT s.email_norm, g.canonical_id FROM customer g
        JOIN clusters c ON c.entity = 'customer' AND c.canonical_id = g.canonical_id AND c.system = 'crm'
        JOIN staged_customer s ON s.system = 'crm' AND s.source_id = c.source_id
        WHERE g.records = 3 AND s.email_norm IS NOT NULL ORDER BY g.canonical_id LIMIT 1
    """).fetchone()
    assert row is not None
    email, canonical = row
    shown = trueup("explain", "customer", email.upper(), "-w", str(demo), "--json")
    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout)
    assert found["canonical_id"] == canonical
    fields = {f["field"]: f for f in found["fields"]}
    assert fields["name"]["system"] == "crm" and fields["address"]["system"] == "dispatch"
    assert {r["system"] for r in found["records"]} == {"crm", "dispatch", "accounting"}
    assert all(r["file"] and r["line"] for r in found["records"])
    assert found["links"] and all(link["rule"] for link in found["links"])
    # any system's id finds the same customer
    dispatch_id = next(r["source_id"] for r in found["records"] if r["system"] == "dispatch")
    table = trueup("explain", "customer", dispatch_id, "-w", str(demo))
    assert table.returncode == 0 and canonical in table.stdout and "Why they are one customer" in table.stdout


def test_a_vague_or_unknown_customer_is_a_clear_error(demo: Path) -> None:
    vague = trueup("explain", "customer", "a", "-w", str(demo))
    assert vague.returncode == 1 and "customers match" in vague.stderr and "canonical_id" in vague.stdout
    unknown = trueup("timeline", "nobody@example.invalid", "-w", str(demo))
    assert unknown.returncode == 1 and "no customer matches" in unknown.stderr
    assert "Traceback" not in vague.stderr + unknown.stderr


def test_timeline_lists_every_system_s_events_in_time_order(
    demo: Path, demo_run: duckdb.DuckDBPyConnection
) -> None:
    busiest = demo_run.execute(
        "SELECT customer FROM job GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchone()
    assert busiest is not None
    shown = trueup("timeline", busiest[0], "--since", "90d", "-w", str(demo), "--json")
    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout)
    times = [datetime.fromisoformat(e["occurred_at"]) for e in found["events"]]
    assert times == sorted(times) and times[0] >= datetime.fromisoformat(found["since"])
    kinds = {e["kind"] for e in found["events"]}
    assert {"job completed", "invoice issued", "visit"} <= kinds
    assert {s for e in found["events"] for s in e["systems"]} >= {"dispatch", "billing", "accounting"}
    bad = trueup("timeline", busiest[0], "--since", "lately", "-w", str(demo))
    assert bad.returncode == 1 and "90d" in bad.stderr
