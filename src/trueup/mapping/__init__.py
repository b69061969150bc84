"""Map: build one staged table per canonical entity from every system's raw rows.

`staged_<entity>` holds each system's records with canonical fields typed (money as DECIMAL,
times as TIMESTAMPTZ in the workspace's zone), normal forms beside the originals, and for statuses
both the original value and the canonical state. Rows whose values cannot be coerced go to the
quarantine with their file and line; status values with no mapping are counted in
`unmapped_status`. The whole step is one transaction.
"""

from __future__ import annotations

import duckdb

from trueup.config.models import Workspace as Config
from trueup.errors import ConfigError
from trueup.ingest import QUARANTINE, ensure_tables, source_columns
from trueup.ingest.base import literal
from trueup.mapping.check import mapping_problems
from trueup.mapping.compile import install_macros, mapped_select, staged_select, system_select
from trueup.mapping.normalize import phone_table
from trueup.model import ENTITIES, Kind
from trueup.runtime import StepContext, StepResult
from trueup.warehouse import ident, scalar, staged_table, temp_table

UNMAPPED = "unmapped_status"


def _status_map(con: duckdb.DuckDBPyConnection, ws: Config) -> None:
    """`_status_map`: one row per (entity, system, value); values match without regard to case or spaces."""
    states: dict[tuple[str, str, str], str] = {}
    for entity, per_system in ws.statuses.items():
        for system, vocabulary in per_system.items():
            for value, state in vocabulary.items():
                states.setdefault((entity, system, str(value).strip().lower()), state)
    rows = [(*key, state) for key, state in states.items()]
    names = ("entity", "system", "value_key", "state")
    temp_table(con, "_status_map", {n: ("VARCHAR", [r[i] for r in rows]) for i, n in enumerate(names)})


def run(ctx: StepContext) -> StepResult:
    con, ws = ctx.con, ctx.workspace.config
    result = StepResult()
    ensure_tables(con)
    install_macros(con, ws)
    _check_against_loaded(ctx)
    _status_map(con, ws)
    usable = {entity: _usable(con, ws, entity, result) for entity in ENTITIES}
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM {QUARANTINE} WHERE stage = 'map'")
        con.execute(
            f"CREATE OR REPLACE TABLE {UNMAPPED} (entity VARCHAR, system VARCHAR, field VARCHAR, value VARCHAR,"
            " rows BIGINT, example_ids VARCHAR[])"
        )
        for entity in ctx.progress.track(list(ENTITIES), "Mapping", total=len(ENTITIES)):
            _build(con, ctx, entity, usable[entity], result)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE _status_map")
    result.counts["quarantined"] = scalar(con, f"SELECT count(*) FROM {QUARANTINE} WHERE stage = 'map'")
    result.counts["unmapped_status_values"] = scalar(con, f"SELECT count(*) FROM {UNMAPPED}")
    return result


def _check_against_loaded(ctx: StepContext) -> None:
    """Every mapping expression must bind against the columns that were loaded.

    `trueup run` validates the configuration without reading the sources a second time; this is
    where a misspelt column is caught, with its line in trueup.yaml. A table that loaded nothing
    (its file could not be read) is left out: ingest has already reported it.
    """
    ws = ctx.workspace
    known = {}
    for per_system in ws.config.entities.values():
        for system, mapping in per_system.items():
            columns = source_columns(ctx.con, system, mapping.from_)
            if columns:
                known[(system, mapping.from_)] = columns
    problems = mapping_problems(ws.config, ws.located, ws.root, known=known, probe_sources=False)
    if problems:
        raise ConfigError(problems)


def _usable(con: duckdb.DuckDBPyConnection, ws: Config, entity: str, result: StepResult) -> list[str]:
    """The systems whose mapping binds against what was loaded.

    A source that could not be read (or lost a column since validation) is reported and left
    out, so the other systems still map. Checked before the step's transaction: a failed
    statement inside a DuckDB transaction aborts it.
    """
    usable = []
    for system, mapping in ws.entities.get(entity, {}).items():
        try:
            con.execute(f"SELECT * FROM ({system_select(ws, entity, system, mapping)}) LIMIT 0")
            usable.append(system)
        except duckdb.Error as exc:
            reason = str(exc).splitlines()[0]
            result.errors.append(f"{entity} from {system}.{mapping.from_} was not mapped: {reason}")
    return usable


def _build(
    con: duckdb.DuckDBPyConnection, ctx: StepContext, entity: str, usable: list[str], result: StepResult
) -> None:
    ws = ctx.workspace.config
    con.execute(f"CREATE OR REPLACE TEMP TABLE _mapped AS {mapped_select(ws, entity, usable)}")
    fields = ENTITIES[entity].fields
    phones = _distinct(con, [f for f, k in fields.items() if k is Kind.PHONE])
    table = phone_table(phones, ws.country)
    temp_table(con, "_norm_phone", {column: ("VARCHAR", values) for column, values in table.items()})
    con.execute(f"CREATE OR REPLACE TABLE {staged_table(entity)} AS {staged_select(entity, '_mapped')}")
    con.execute("DROP TABLE _norm_phone")
    con.execute(
        f"INSERT INTO {QUARANTINE} SELECT 'map', system, _table, _source, _row, _bad[1].column, _bad[1].raw,"
        f" {_reason_sql(entity)}, _load_id, NULL FROM _mapped WHERE len(_bad) > 0"
    )
    if ENTITIES[entity].has_status:
        con.execute(
            f"INSERT INTO {UNMAPPED} SELECT {literal(entity)}, system, 'status', status, count(*),"
            f" list(source_id ORDER BY source_id)[1:5] FROM {staged_table(entity)}"
            f" WHERE status IS NOT NULL AND state IS NULL GROUP BY ALL ORDER BY system, status"
        )
    result.counts[f"staged.{entity}"] = scalar(con, f"SELECT count(*) FROM {staged_table(entity)}")
    con.execute("DROP TABLE _mapped")


def _distinct(con: duckdb.DuckDBPyConnection, fields: list[str]) -> list[str]:
    if not fields:
        return []
    union = " UNION ALL ".join(
        f"SELECT {ident(f)} AS v FROM _mapped WHERE {ident(f)} IS NOT NULL" for f in fields
    )
    return [r[0] for r in con.execute(f"SELECT DISTINCT v FROM ({union})").fetchall()]


def _reason_sql(entity: str) -> str:
    return (
        f"{literal(entity + ': ')} || array_to_string(list_transform(_bad, lambda b: "
        "coalesce(b.column || ' ', '') || coalesce('''' || left(b.raw, 80) || ''' ', '') || b.reason), '; ')"
    )
