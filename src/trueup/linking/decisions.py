"""People's decisions on pairs of records, applied on every run: a confirmed pair is linked
whatever the rules say, a rejected pair is never linked directly."""

from __future__ import annotations

from typing import Any

import duckdb

DECISIONS = "_decisions"


def apply(
    con: duckdb.DuckDBPyConnection, entity: str, decisions: dict[Any, Any], links: str, candidates: str
) -> None:
    """Rewrite this entity's links and candidates by the latest decision on each pair."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {DECISIONS} (system_a VARCHAR, source_a VARCHAR, system_b VARCHAR,"
        " source_b VARCHAR, decision VARCHAR, actor VARCHAR, reason VARCHAR)"
    )
    rows = [[sa, ia, sb, ib, d.decision, d.actor, d.reason] for ((sa, ia), (sb, ib)), d in decisions.items()]
    if not rows:
        return
    con.executemany(f"INSERT INTO {DECISIONS} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute(
        f"DELETE FROM {links} WHERE entity = ? AND (system_a, source_a, system_b, source_b) IN"
        f" (SELECT system_a, source_a, system_b, source_b FROM {DECISIONS})",
        [entity],
    )
    con.execute(
        f"DELETE FROM {candidates} WHERE entity = ? AND (system_a, source_a, system_b, source_b) IN"
        f" (SELECT system_a, source_a, system_b, source_b FROM {DECISIONS})",
        [entity],
    )
    con.execute(
        f"INSERT INTO {links} SELECT ?, system_a, source_a, system_b, source_b, 1.0, 'confirmed by ' || actor,"
        f" json_object('reason', reason) FROM {DECISIONS} WHERE decision = 'confirm'",
        [entity],
    )


def rejected_yet_joined(con: duckdb.DuckDBPyConnection, entity: str, clusters: str) -> list[str]:
    """Rejected pairs that other links still put in one cluster (a person should look again)."""
    rows = con.execute(
        f"""
        SELECT d.system_a || ':' || d.source_a, d.system_b || ':' || d.source_b FROM {DECISIONS} d
        JOIN {clusters} a ON a.entity = ? AND a.system = d.system_a AND a.source_id = d.source_a
        JOIN {clusters} b ON b.entity = ? AND b.system = d.system_b AND b.source_id = d.source_b
        WHERE d.decision = 'reject' AND a.canonical_id = b.canonical_id ORDER BY 1, 2
        """,
        [entity, entity],
    ).fetchall()
    return [f"{entity} {a} and {b} were rejected as a pair, yet other links join them" for a, b in rows]
