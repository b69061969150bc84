"""The resolve step: one golden record per real thing, each field taken from the system that owns it.

For every entity it writes `records_<entity>` (every staged record with its canonical id and its
references made canonical, spreadsheet rows included: what the check step compares), a golden
table named after the entity (`customer`, `job`, ...) with one row per canonical id from
`clusters`, and a `provenance` table saying, for every golden field, which system and record the
value came from, with that record's load id and load time.

A field's value comes from the first system in its order that has one: the owner declared in
`ownership` (`entity.field`, else `entity.*`), then `fallback` (`entity.field`, else `entity`),
then the order of `systems`. Spreadsheets never feed a golden record: they are derived from the
systems, and their differences are findings. A system with two records in one cluster (a sync
that duplicated an invoice) gives the value of its smallest source id, so the result does not
depend on row order. References (an invoice's job, a job's customer) are resolved to the
canonical id of the record they point at; where no system recorded one, it may be inferred
(see :mod:`trueup.resolve.infer`).
"""

from __future__ import annotations

import duckdb

from trueup.config.models import Workspace as Config
from trueup.config.models import owner_of
from trueup.ingest.base import literal
from trueup.model import ENTITIES, Kind
from trueup.resolve.infer import INFERRED, infer
from trueup.runtime import StepContext, StepResult
from trueup.warehouse import ident, scalar, staged_table, table_exists

PROVENANCE = "provenance"


def field_order(ws: Config, entity: str, field: str) -> list[str]:
    """The systems a golden field is taken from, first choice first."""
    fallback = ws.ownership.get("fallback")
    declared: list[str] = []
    if isinstance(fallback, dict):
        declared = list(fallback.get(f"{entity}.{field}") or fallback.get(entity) or [])
    mapping = [
        s for s in ws.systems if s in ws.entities.get(entity, {}) and ws.systems[s].kind != "spreadsheet"
    ]
    order: list[str] = []
    for system in [owner_of(ws, entity, field), *declared, *mapping]:
        if system and system in mapping and system not in order:
            order.append(system)
    return order


def records_table(entity: str) -> str:
    """Every staged record of an entity with its canonical id and its references made canonical:
    what golden records are built from, and what checks compare (spreadsheets' rows included)."""
    return f"records_{entity}"


def member_sql(ws: Config, entity: str) -> str:
    """Each cluster member (spreadsheet rows included) with its references made canonical."""
    fields = ENTITIES[entity].fields
    columns = ["c.canonical_id", "s.system", "s.source_id", "s._load_id", "s._loaded_at", "s.extra", "s._source",
               "s._row"]  # fmt: skip
    if ENTITIES[entity].has_status:
        columns.append("s.state")
    joins = []
    for field, kind in fields.items():
        if kind is not Kind.REFERENCE:
            columns.append(f"s.{ident(field)}")
            continue
        # A reference holds the target system's id, or (matches: number) its number: two equality
        # joins, so that DuckDB can hash both (a join on a CASE would compare every pair).
        by_id, space = ident(f"r_{field}"), f"s.{ident(field + '_system')}"
        joins.append(
            f"LEFT JOIN clusters {by_id} ON {by_id}.entity = {literal(field)} AND {by_id}.system = {space}"
            f" AND {by_id}.source_id = s.{ident(field)} AND s.{ident(field + '_matches')} IS DISTINCT FROM 'number'"
        )
        reference = f"{by_id}.canonical_id"
        if "number" in ENTITIES[field].fields:
            by_number = ident(f"n_{field}")
            joins.append(
                f"LEFT JOIN (SELECT t.system, t.number, min(k.canonical_id) AS canonical_id"
                f" FROM {staged_table(field)} t JOIN clusters k ON k.entity = {literal(field)}"
                f" AND k.system = t.system AND k.source_id = t.source_id GROUP BY t.system, t.number) {by_number}"
                f" ON {by_number}.system = {space} AND {by_number}.number = s.{ident(field)}"
                f" AND s.{ident(field + '_matches')} = 'number'"
            )
            reference = f"coalesce({reference}, {by_number}.canonical_id)"
        columns.append(f"{reference} AS {ident(field)}")
    return (
        f"SELECT {', '.join(columns)} FROM {staged_table(entity)} s"
        f" JOIN clusters c ON c.entity = {literal(entity)} AND c.system = s.system AND c.source_id = s.source_id"
        f" {' '.join(joins)} WHERE s.system IN ({', '.join(literal(x) for x in ws.systems) or 'NULL'})"
    )


def golden_sql(ws: Config, entity: str) -> str:
    """One row per canonical id; each field a struct of its value and where it came from. A real
    thing one record stands for is that record (most interactions, payments and jobs: no ordering
    to do); the others take each field from the first system of its order that has a value."""
    picks, alone = [], []
    for field in ENTITIES[entity].fields:
        order = field_order(ws, entity, field)
        whens = " ".join(f"WHEN {literal(s)} THEN {i}" for i, s in enumerate(order))
        rank = f"CASE system {whens} END" if order else "NULL::INTEGER"  # no system maps the field
        state = ", 'state': state" if field == "status" else ""  # the status's canonical state goes with it
        value = (
            f"{{'value': {ident(field)}, 'system': system, 'source_id': source_id, 'load_id': _load_id,"
            f" 'loaded_at': _loaded_at{state}}}"
        )
        usable = f"{ident(field)} IS NOT NULL AND {rank} IS NOT NULL"
        picks.append(f"first({value} ORDER BY {rank}, source_id) FILTER (WHERE {usable}) AS {ident(field)}")
        alone.append(f"CASE WHEN {usable} THEN {value} END AS {ident(field)}")
    feeding = [s for s in ws.systems if ws.systems[s].kind != "spreadsheet"]
    fed = f"SELECT * FROM {records_table(entity)} WHERE system IN ({', '.join(literal(x) for x in feeding) or 'NULL'})"
    return (
        f"WITH fed AS ({fed}),"
        " many AS MATERIALIZED (SELECT canonical_id FROM fed GROUP BY canonical_id HAVING count(*) > 1)"
        f" SELECT canonical_id, [system] AS systems, 1::BIGINT AS records, {', '.join(alone)}"
        f" FROM fed ANTI JOIN many USING (canonical_id)"
        f" UNION ALL"
        f" SELECT canonical_id, list(DISTINCT system ORDER BY system), count(*), {', '.join(picks)}"
        f" FROM fed SEMI JOIN many USING (canonical_id) GROUP BY canonical_id"
    )


def run(ctx: StepContext) -> StepResult:
    con, ws = ctx.con, ctx.workspace.config
    result = StepResult()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"CREATE OR REPLACE TABLE {PROVENANCE} (entity VARCHAR, canonical_id VARCHAR, field VARCHAR,"
            " system VARCHAR, source_id VARCHAR, load_id VARCHAR, loaded_at TIMESTAMPTZ)"
        )
        for entity in ctx.progress.track(list(ENTITIES), "Resolving", total=len(ENTITIES)):
            if not table_exists(con, "main", f"staged_{entity}"):
                continue
            _resolve(con, ws, entity)
            result.counts[f"golden.{entity}"] = scalar(con, f"SELECT count(*) FROM {ident(entity)}")
        infer(con, ws.tolerance.amount)
        result.counts["inferred_references"] = scalar(con, f"SELECT count(*) FROM {INFERRED}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


def _resolve(con: duckdb.DuckDBPyConnection, ws: Config, entity: str) -> None:
    fields = list(ENTITIES[entity].fields)
    con.execute(f"CREATE OR REPLACE TABLE {records_table(entity)} AS {member_sql(ws, entity)}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _picked AS {golden_sql(ws, entity)}")
    values = ", ".join(f"{ident(f)}.value AS {ident(f)}" for f in fields)
    if ENTITIES[entity].has_status:
        values += ", status.state AS state"
    con.execute(
        f"CREATE OR REPLACE TABLE {ident(entity)} AS SELECT canonical_id, {values}, systems, records"
        " FROM _picked ORDER BY canonical_id"
    )
    sources = ", ".join(  # every field's source in one pass over the picks (a pass per field: twice as slow)
        f"{{'field': {literal(f)}, 'system': {ident(f)}.system, 'source_id': {ident(f)}.source_id,"
        f" 'load_id': {ident(f)}.load_id, 'loaded_at': {ident(f)}.loaded_at}}"
        for f in fields
    )
    con.execute(
        f"INSERT INTO {PROVENANCE} SELECT {literal(entity)}, canonical_id, p.field, p.system, p.source_id, p.load_id,"
        f" p.loaded_at FROM (SELECT canonical_id, unnest([{sources}]) AS p FROM _picked) WHERE p.system IS NOT NULL"
    )
