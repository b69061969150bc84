"""Stable canonical ids: the same real thing keeps its id from run to run.

The warehouse keeps `canonical_ids` (every record's id and the run that first gave it) across
runs. After the links are clustered, each cluster takes the ids its records had before: none
gives a new id (a digest of the cluster's smallest record, so a lost store gives the same ids
back); one is kept; several are a merge, and the oldest id survives. An old id whose records
are now in several clusters is a split: the cluster holding most of them keeps it. Merges and
splits are returned for the state store.
"""

from __future__ import annotations

import duckdb

CANONICAL_IDS = "canonical_ids"


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {CANONICAL_IDS} (entity VARCHAR, system VARCHAR, source_id VARCHAR,"
        " canonical_id VARCHAR, first_run VARCHAR)"
    )


def assign(
    con: duckdb.DuckDBPyConnection, entity: str, prefix: str, run_id: str, clusters: str
) -> list[tuple[str, str, list[str]]]:
    """Ids for the components in `_component` (system, source_id, label), written to `clusters`
    and remembered in `canonical_ids`; returns the merges and splits."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _before AS
        SELECT c.label, p.canonical_id, min(p.first_run) AS first_run, count(*) AS members
        FROM _component c JOIN {CANONICAL_IDS} p
          ON p.entity = ? AND p.system = c.system AND p.source_id = c.source_id
        GROUP BY c.label, p.canonical_id
        """,
        [entity],
    )
    # Each old id stays with the cluster holding most of its records (ties: the smaller label).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _kept AS
        SELECT canonical_id, first(label ORDER BY members DESC, label) AS label, min(first_run) AS first_run,
          count(*) AS parts
        FROM _before GROUP BY canonical_id
    """)
    # Each cluster takes the oldest id it kept; a cluster that kept none gets a new one. (The new id
    # of a record split off can be the old id itself, minted from that record when it was the
    # smallest of its cluster and now kept by the rest: then it is salted, or two clusters would
    # share one id, and every later run would split them again.)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _assigned AS
        WITH kept AS (
          SELECT label, first(canonical_id ORDER BY first_run, canonical_id) AS canonical_id,
            first(first_run ORDER BY first_run, canonical_id) AS first_run,
            count(*) AS ids  -- the old ids it kept (more than one: a merge, listed after)
          FROM _kept GROUP BY label
        )
        SELECT label, canonical_id, first_run, ids FROM kept
        UNION ALL  -- a new id from the cluster's smallest record; salted when a cluster kept that id
        SELECT m.label, CASE WHEN m.plain IN (SELECT canonical_id FROM kept) THEN m.salted ELSE m.plain END, ?, 0
        FROM (
          SELECT label, ? || '_' || substr(sha256(label), 1, 12) AS plain,
            ? || '_' || substr(sha256(label || '/split'), 1, 12) AS salted
          FROM (SELECT DISTINCT label FROM _component) ANTI JOIN kept USING (label)
        ) m
        """,
        [run_id, prefix, prefix],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _today AS SELECT c.system, c.source_id, a.canonical_id, a.first_run"
        " FROM _component c JOIN _assigned a USING (label)"
    )
    con.execute(f"INSERT INTO {clusters} SELECT ?, system, source_id, canonical_id FROM _today", [entity])
    # The ids each merge absorbed, listed for the merges alone (a list for every cluster cost 0.8 s
    # of the 1.5M interactions of `large`).
    merges = con.execute("""
        SELECT a.canonical_id, list_sort(list(k.canonical_id))
        FROM _assigned a JOIN _kept k ON k.label = a.label AND k.canonical_id <> a.canonical_id
        WHERE a.ids > 1 GROUP BY a.canonical_id ORDER BY a.canonical_id
    """).fetchall()
    splits = con.execute("""
        SELECT k.canonical_id, list(DISTINCT a.canonical_id ORDER BY a.canonical_id)
        FROM _kept k JOIN _before b ON b.canonical_id = k.canonical_id AND b.label <> k.label
        JOIN _assigned a ON a.label = b.label
        WHERE k.parts > 1 GROUP BY k.canonical_id ORDER BY k.canonical_id
    """).fetchall()
    _remember(con, entity)
    return [("merge", c, list(o)) for c, o in merges] + [("split", c, list(o)) for c, o in splits]


def _remember(con: duckdb.DuckDBPyConnection, entity: str) -> None:
    """Today's ids for today's records (only those that changed are written: a run on unchanged
    data rewrites nothing); records not seen today keep their last id for a return."""
    con.execute(
        f"""
        DELETE FROM {CANONICAL_IDS} p WHERE p.entity = ? AND EXISTS (
          SELECT 1 FROM _today t WHERE t.system = p.system AND t.source_id = p.source_id
            AND (t.canonical_id IS DISTINCT FROM p.canonical_id OR t.first_run IS DISTINCT FROM p.first_run))
        """,
        [entity],
    )
    con.execute(
        f"""
        INSERT INTO {CANONICAL_IDS} SELECT ?, t.system, t.source_id, t.canonical_id, t.first_run FROM _today t
        WHERE NOT EXISTS (SELECT 1 FROM {CANONICAL_IDS} p
                          WHERE p.entity = ? AND p.system = t.system AND p.source_id = t.source_id)
        """,
        [entity, entity],
    )
