"""Golden records of the demo company: every field from its owner, with true provenance."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from trueup.model import ENTITIES, Kind
from trueup.resolve import field_order
from trueup.workspace import Workspace


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_every_golden_field_comes_from_the_first_system_that_has_it(
    entity: str, demo: Path, demo_run: duckdb.DuckDBPyConnection
) -> None:
    ws = Workspace.open(demo).config
    golden = demo_run.execute(f"SELECT count(*) FROM {entity}").fetchone()
    clusters = demo_run.execute(
        "SELECT count(DISTINCT c.canonical_id) FROM clusters c"
        " WHERE c.entity = ? AND c.system <> 'friday_sheet'",
        [entity],
    ).fetchone()
    assert golden == clusters and golden is not None and golden[0] > 0
    for field, kind in ENTITIES[entity].fields.items():
        order = field_order(ws, entity, field)
        if not order:
            continue
        rank = "CASE {} END".format(" ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(order)))
        # The value is the named record's (references: resolved to what that record points at).
        if kind is not Kind.REFERENCE:
            wrong = demo_run.execute(
                f"""
                SELECT count(*) FROM provenance p JOIN {entity} g ON g.canonical_id = p.canonical_id
                JOIN staged_{entity} s ON s.system = p.system AND s.source_id = p.source_id
                WHERE p.entity = ? AND p.field = ? AND g."{field}" IS DISTINCT FROM s."{field}"
            """,
                [entity, field],
            ).fetchone()
            assert wrong == (0,), (entity, field)
        # No system ahead of the chosen one in the order had a value for this real thing.
        overtaken = demo_run.execute(
            f"""
            SELECT count(*) FROM provenance p
            JOIN clusters c ON c.entity = p.entity AND c.canonical_id = p.canonical_id
            JOIN staged_{entity} s ON s.system = c.system AND s.source_id = c.source_id
            WHERE p.entity = ? AND p.field = ? AND s."{field}" IS NOT NULL
              AND (CASE s.system {" ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(order))} END)
                < ({rank.replace("CASE", "CASE p.system", 1)})
        """,
            [entity, field],
        ).fetchone()
        assert overtaken == (0,), (entity, field)
        # And a golden value is missing only when no system of the order has one.
        missing = demo_run.execute(
            f"""
            SELECT count(*) FROM {entity} g
            JOIN clusters c ON c.entity = ? AND c.canonical_id = g.canonical_id
            JOIN staged_{entity} s ON s.system = c.system AND s.source_id = c.source_id
            WHERE g."{field}" IS NULL AND s."{field}" IS NOT NULL AND s.system IN ({", ".join(f"'{s}'" for s in order)})
        """,
            [entity],
        ).fetchone()
        if kind is not Kind.REFERENCE:
            assert missing == (0,), (entity, field)


def test_golden_invoices_carry_the_owner_s_amount_and_state(demo_run: duckdb.DuckDBPyConnection) -> None:
    """Billing owns invoices: where the ledger's total was edited, the golden amount is billing's."""
    rows = demo_run.execute("""
        SELECT g.amount, b.amount, a.amount, g.state FROM invoice g
        JOIN clusters cb ON cb.entity = 'invoice' AND cb.canonical_id = g.canonical_id AND cb.system = 'billing'
        JOIN staged_invoice b ON b.system = 'billing' AND b.source_id = cb.source_id
        JOIN clusters ca ON ca.entity = 'invoice' AND ca.canonical_id = g.canonical_id AND ca.system = 'accounting'
        JOIN staged_invoice a ON a.system = 'accounting' AND a.source_id = ca.source_id
        WHERE a.amount <> b.amount
    """).fetchall()
    assert rows and all(golden == billed != ledger for golden, billed, ledger, _ in rows)
    assert demo_run.execute(
        "SELECT count(*) FROM invoice WHERE state IS NULL AND status <> 'disputed'"
    ).fetchone() == (0,)


def test_references_point_at_golden_records(demo_run: duckdb.DuckDBPyConnection) -> None:
    dangling = demo_run.execute("""
        SELECT count(*) FROM invoice i ANTI JOIN job j ON j.canonical_id = i.job WHERE i.job IS NOT NULL
    """).fetchone()
    assert dangling == (0,)
    linked = demo_run.execute("SELECT count(job), count(customer), count(*) FROM invoice").fetchone()
    assert linked is not None and linked[0] == linked[2] and linked[1] == linked[2]
