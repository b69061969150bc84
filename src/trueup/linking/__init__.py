"""The link step: the same customer, location, job and invoice recognised in every system.

It writes these warehouse tables:

- `links`: one row per pair of records judged the same, with both sides, the rule that held and
  its evidence (rules and people's confirmations have probability 1; Splink's links carry theirs);
- `link_candidates`: pairs Splink was unsure of, for a person to confirm or reject;
- `clusters`: every staged record with the canonical id of the real thing it belongs to
  (connected components of the links; a record linked to nothing is its own cluster);
- `canonical_ids`: kept across runs so that ids stay stable (see :mod:`trueup.linking.identity`).

Customers are linked by rules over normal forms (:mod:`trueup.linking.rules`), declared shared
ids, then Splink (:mod:`trueup.linking.probabilistic`); records that carry the same number (an
invoice number the ledger copied, a job number pasted into a sheet) are linked by it; locations
by their linked customer and address. People's decisions (:mod:`trueup.linking.decisions`) have
the last word.
"""

from __future__ import annotations

import duckdb

from trueup.config.models import Matching
from trueup.linking import decisions, identity
from trueup.linking.probabilistic import SCORED, STANDARD, OneSystem, score_customers
from trueup.linking.rules import customer_pairs_sql, shared_id_pairs_sql
from trueup.model import ENTITIES
from trueup.runtime import StepContext, StepResult
from trueup.warehouse import scalar, staged_table, table_exists

LINKS = "links"
CLUSTERS = "clusters"
CANDIDATES = "link_candidates"  # pairs in the uncertainty band, for a person to confirm or reject
MIN_RECORDS = 200  # below this, Splink's parameters cannot be estimated without labels
PREFIX = {"customer": "cus", "location": "loc", "deal": "dea", "job": "job", "invoice": "inv",
          "payment": "pay", "interaction": "int"}  # fmt: skip


def number_pairs_sql(entity: str) -> str:
    """Records of two systems carrying the same number (the billing invoice number in the ledger)."""
    table = staged_table(entity)
    return f"""
SELECT a.system AS system_a, a.source_id AS source_a, b.system AS system_b, b.source_id AS source_b,
  'same number' AS rule, {{'number': a.number}} AS evidence
FROM {table} a JOIN {table} b ON a.number = b.number AND a.system < b.system
"""


# Two systems' sites of one customer are one location when their addresses agree, allowing a
# typo or a missing unit (Jaro-Winkler on the normal form) where the postcodes do not disagree.
LOCATION_PAIRS = f"""
WITH sited AS (
  SELECT l.system, l.source_id, l.address_key, l.postal_code, c.canonical_id AS customer_id
  FROM {staged_table("location")} l
  JOIN {CLUSTERS} c ON c.entity = 'customer' AND c.system = coalesce(l.customer_system, l.system)
    AND c.source_id = l.customer
)
SELECT a.system AS system_a, a.source_id AS source_a, b.system AS system_b, b.source_id AS source_b,
  CASE WHEN a.address_key = b.address_key THEN 'same customer and address'
    ELSE 'same customer, similar address' END AS rule,
  {{'address': round(jaro_winkler_similarity(a.address_key, b.address_key), 3)}} AS evidence
FROM sited a JOIN sited b ON b.customer_id = a.customer_id AND a.system < b.system
WHERE jaro_winkler_similarity(a.address_key, b.address_key) >= 0.93
  AND (a.postal_code = b.postal_code OR a.postal_code IS NULL OR b.postal_code IS NULL)
"""


def run(ctx: StepContext) -> StepResult:
    con, ws = ctx.con, ctx.workspace.config
    result = StepResult()
    spreadsheets = [name for name, system in ws.systems.items() if system.kind == "spreadsheet"]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _spreadsheets AS SELECT unnest(?::VARCHAR[]) AS system", [spreadsheets]
    )
    events: dict[str, list[tuple[str, str, list[str]]]] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        identity.ensure_table(con)
        con.execute(
            f"CREATE OR REPLACE TABLE {LINKS} (entity VARCHAR, system_a VARCHAR, source_a VARCHAR,"
            " system_b VARCHAR, source_b VARCHAR, probability DOUBLE, rule VARCHAR, evidence JSON)"
        )
        con.execute(
            f"CREATE OR REPLACE TABLE {CLUSTERS} (entity VARCHAR, system VARCHAR, source_id VARCHAR,"
            " canonical_id VARCHAR)"
        )
        con.execute(
            f"CREATE OR REPLACE TABLE {CANDIDATES} (entity VARCHAR, system_a VARCHAR, source_a VARCHAR,"
            " system_b VARCHAR, source_b VARCHAR, probability DOUBLE, evidence JSON)"
        )
        for entity in ctx.progress.track(list(ENTITIES), "Linking", total=len(ENTITIES)):
            if not table_exists(con, "main", f"staged_{entity}"):
                continue
            if not scalar(con, f"SELECT EXISTS (SELECT 1 FROM {staged_table(entity)})"):
                # no records, nothing to link: its statements would cost their planning alone
                # (0.13 s for the six entities a list of customers leaves empty)
                result.counts[f"links.{entity}"] = result.counts[f"clusters.{entity}"] = 0
                continue
            pairs = _pairs_sql(con, entity)
            shared = [
                shared_id_pairs_sql(entity, x.system, x.field, x.target, x.field in ENTITIES[entity].fields)
                for x in ws.matching.shared_ids
                if x.entity == entity
            ]
            if shared:
                pairs = "\nUNION\n".join([pairs, *shared] if pairs else shared)
            if pairs:
                con.execute(
                    f"INSERT INTO {LINKS} SELECT '{entity}', system_a, source_a, system_b, source_b, 1.0, rule,"
                    f" CAST(evidence AS JSON) FROM ({pairs})"
                )
            if entity == "customer" and ws.matching.probabilistic:
                note = _add_probable(con, ws.matching)
                if note:
                    result.notes.append(note)
            decided = ctx.state.decisions(entity) if ctx.state else {}
            decisions.apply(con, entity, decided, LINKS, CANDIDATES)
            _components(con, entity)
            events[entity] = identity.assign(con, entity, PREFIX[entity], ctx.run_id, CLUSTERS)
            result.notes.extend(decisions.rejected_yet_joined(con, entity, CLUSTERS))
            result.counts[f"links.{entity}"] = scalar(
                con, f"SELECT count(*) FROM {LINKS} WHERE entity = '{entity}'"
            )
            result.counts[f"clusters.{entity}"] = scalar(
                con, f"SELECT count(DISTINCT canonical_id) FROM {CLUSTERS} WHERE entity = '{entity}'"
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    for entity, made in events.items():
        if ctx.state:
            ctx.state.record_id_events(ctx.run_id, entity, made)
        for kind in ("merge", "split"):
            if count := sum(1 for e in made if e[0] == kind):
                result.counts[f"{kind}s.{entity}"] = count
    return result


def _add_probable(con: duckdb.DuckDBPyConnection, matching: Matching) -> str | None:
    """Splink's pairs that no rule linked: linked at `link_at`, kept for review from `review_from`.
    Returns a note when the model could not be estimated (the rules' links stand alone) or left
    out a column no record fills."""
    records = scalar(con, f"SELECT count(*) FROM {staged_table('customer')}")
    if records < MIN_RECORDS:
        return f"customers linked by rules alone: {records} records are too few to estimate a matching model"
    try:
        compared = score_customers(
            con, floor=matching.review_from, max_pairs=matching.max_pairs, extra=matching.compare
        )
    except OneSystem as exc:
        return f"customers linked by rules alone: {exc}"
    except (ValueError, ArithmeticError) as exc:  # Splink refuses a model its data cannot estimate
        return f"customers linked by rules alone: the matching model could not be estimated ({exc})"
    fresh = (
        f"FROM {SCORED} s ANTI JOIN {LINKS} l ON l.entity = 'customer' AND l.system_a = s.system_a"
        " AND l.source_a = s.source_a AND l.system_b = s.system_b AND l.source_b = s.source_b"
    )
    con.execute(
        f"INSERT INTO {LINKS} SELECT 'customer', s.system_a, s.source_a, s.system_b, s.source_b, s.probability,"
        f" 'probabilistic', s.evidence {fresh} WHERE s.probability >= {matching.link_at}"
    )
    con.execute(
        f"INSERT INTO {CANDIDATES} SELECT 'customer', s.system_a, s.source_a, s.system_b, s.source_b,"
        f" s.probability, s.evidence {fresh} WHERE s.probability < {matching.link_at}"
    )
    con.execute(f"DROP TABLE {SCORED}")
    left_out = [name for name in STANDARD.values() if name not in compared]
    if left_out:
        return f"customers compared on {', '.join(compared)}; no record has one: {', '.join(left_out)}"
    return None


def _pairs_sql(con: duckdb.DuckDBPyConnection, entity: str) -> str | None:
    if entity == "customer":
        return customer_pairs_sql()
    if entity == "location":
        return LOCATION_PAIRS
    if "number" in ENTITIES[entity].fields:
        return number_pairs_sql(entity)
    return None


def _components(con: duckdb.DuckDBPyConnection, entity: str) -> None:
    """Connected components of the links into `_component`: every staged record with its label, the
    smallest `system:source_id` of its component.

    The components are found over the records' row numbers, one integer where their keys are two
    texts: each linked record takes the smallest number among itself and its neighbours, round after
    round, until no number falls (as many rounds as the longest chain of links); each component is
    then labelled once. A record linked to nothing is its own component and takes no part."""
    nodes = f"(SELECT rowid AS n, system, source_id FROM {staged_table(entity)} WHERE source_id IS NOT NULL)"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _edge AS
        WITH pairs AS (
          SELECT a.n AS i, b.n AS j FROM {LINKS} l
          JOIN {nodes} a ON a.system = l.system_a AND a.source_id = l.source_a
          JOIN {nodes} b ON b.system = l.system_b AND b.source_id = l.source_b
          WHERE l.entity = $entity
        )
        SELECT i, j FROM pairs UNION ALL SELECT j, i FROM pairs
        UNION ALL SELECT n, n FROM (SELECT i AS n FROM pairs UNION SELECT j FROM pairs)  -- each its own neighbour
        """,
        {"entity": entity},
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _label AS SELECT i AS n, min(j) AS label FROM _edge GROUP BY i")
    total = scalar(con, "SELECT sum(label) FROM _label")
    while True:  # numbers only fall: the sum falls while any does
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _label AS"
            " SELECT e.i AS n, min(l.label) AS label FROM _edge e JOIN _label l ON l.n = e.j GROUP BY e.i"
        )
        fallen, total = total, scalar(con, "SELECT sum(label) FROM _label")
        if total == fallen:
            break
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _component AS
        WITH named AS (
          SELECT l.label AS component, min(d.system || ':' || d.source_id) AS label
          FROM _label l JOIN {nodes} d ON d.n = l.n GROUP BY l.label
        )
        SELECT d.system, d.source_id, coalesce(c.label, d.system || ':' || d.source_id) AS label
        FROM {nodes} d LEFT JOIN _label l ON l.n = d.n LEFT JOIN named c ON c.component = l.label
        """
    )
    con.execute("DROP TABLE _edge")
    con.execute("DROP TABLE _label")
