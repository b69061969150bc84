"""The link step against the demo's ground truth of which records are the same real thing."""

from __future__ import annotations

import duckdb
import pytest


@pytest.mark.parametrize("entity", ["customer", "invoice"])
def test_links_agree_with_the_truth(entity: str, demo_run: duckdb.DuckDBPyConnection) -> None:
    """Pairs of records put in one cluster, against pairs that are one real thing (precision and
    recall over pairs, as record-linkage results are scored)."""
    demo_run.execute(f"""
        CREATE OR REPLACE TEMP TABLE _truth AS
        SELECT a.system || ':' || a.source_id AS a, b.system || ':' || b.source_id AS b
        FROM truth_ids a JOIN truth_ids b ON a.true_id = b.true_id AND a.entity = '{entity}'
          AND b.entity = '{entity}' AND a.system || ':' || a.source_id < b.system || ':' || b.source_id
    """)
    demo_run.execute(f"""
        CREATE OR REPLACE TEMP TABLE _found AS
        SELECT a.system || ':' || a.source_id AS a, b.system || ':' || b.source_id AS b
        FROM clusters a JOIN clusters b ON a.canonical_id = b.canonical_id AND a.entity = '{entity}'
          AND b.entity = '{entity}' AND a.system || ':' || a.source_id < b.system || ':' || b.source_id
        WHERE a.system <> 'friday_sheet' AND b.system <> 'friday_sheet'
    """)
    row = demo_run.execute(
        "SELECT (SELECT count(*) FROM _found JOIN _truth USING (a, b)), (SELECT count(*) FROM _found),"
        " (SELECT count(*) FROM _truth)"
    ).fetchone()
    assert row is not None
    right, found, true = row
    assert true > 0
    assert right / found >= 0.99, f"precision {right / found:.4f}"
    assert right / true >= 0.99, f"recall {right / true:.4f}"


def test_probabilistic_links_and_candidates_are_kept_apart(demo_run: duckdb.DuckDBPyConnection) -> None:
    rules = demo_run.execute(
        "SELECT count(*) FROM links WHERE entity = 'customer' AND rule <> 'probabilistic' AND probability = 1"
    ).fetchall()
    assert rules[0][0] > 0
    overlap = demo_run.execute("""
        SELECT count(*) FROM link_candidates c JOIN links l USING (entity, system_a, source_a, system_b, source_b)
    """).fetchall()
    assert overlap == [(0,)]
    bands = demo_run.execute("""
        SELECT coalesce(min(probability), 1) >= 0.95 FROM links WHERE rule = 'probabilistic'
        UNION ALL SELECT coalesce(bool_and(probability >= 0.5 AND probability < 0.95), true) FROM link_candidates
    """).fetchall()
    assert bands == [(True,), (True,)]
