"""Run checks into one table of results, `check_results`, with one row per finding.

Every check's query is wrapped in the same projection, so built-in and custom checks give the
same columns: the check and its category, severity, a stable fingerprint, the title and detail,
the owner, the money at stake (exact, in the currency's cents), the records involved as a list
of `{entity, system, source_id, canonical_id}`, the values each system holds, and the root cause.
"""

from __future__ import annotations

import duckdb

from trueup.checks.definition import Check
from trueup.errors import TerminalError
from trueup.ingest.base import literal
from trueup.warehouse import columns, ident

RESULTS = "check_results"
REF = "STRUCT(entity VARCHAR, system VARCHAR, source_id VARCHAR)"
SCHEMA = (
    "check_name VARCHAR, category VARCHAR, severity VARCHAR, fingerprint VARCHAR, title VARCHAR,"
    " detail VARCHAR, owner VARCHAR, handoff VARCHAR, field VARCHAR, money DECIMAL(18,2),"
    " entities STRUCT(entity VARCHAR, system VARCHAR, source_id VARCHAR, canonical_id VARCHAR)[],"
    ' "values" JSON, cause VARCHAR, cause_reason VARCHAR'
)
TEXT = ("title", "detail", "owner", "severity", "handoff", "cause", "cause_reason")  # optional columns


class CheckFailed(TerminalError):
    """A check's SQL could not run; the message names the check and where it was read from."""


def create_results(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {RESULTS} ({SCHEMA})")


def run_check(con: duckdb.DuckDBPyConnection, check: Check) -> int:
    """Append one check's findings to `check_results`; returns how many it found."""
    where = f" ({check.path})" if check.path and not check.builtin else ""
    try:
        shape = columns(con, f"({check.sql})")
    except duckdb.Error as exc:
        raise CheckFailed(f"check {check.name}{where} does not run: {_first_line(exc)}") from None
    missing = [c for c in check.entities.values() if c not in shape]
    if check.money and check.money not in shape:
        missing.append(check.money)
    if missing or ("entities" not in shape and not check.entities):
        raise CheckFailed(
            f"check {check.name}{where}: its query returns no column {', '.join(missing) or 'entities'};"
            f" it returns: {', '.join(shape)}"
        )
    found, insert = _projection(check, set(shape))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _found AS {found}")
        con.execute(f"INSERT INTO {RESULTS} {insert}")
        return int(con.execute("SELECT count(*) FROM _found").fetchall()[0][0])
    except duckdb.Error as exc:
        raise CheckFailed(f"check {check.name}{where} failed: {_first_line(exc)}") from None


def _projection(check: Check, shape: set[str]) -> tuple[str, str]:
    """The query's rows numbered, with their references as one list; then the finished rows."""

    def col(name: str, default: str = "NULL") -> str:
        return f"q.{ident(name)}" if name in shape else default

    if "entities" in shape:
        refs = f"CAST(q.entities AS {REF}[])"
    else:
        items = []
        for key, column in check.entities.items():
            entity, system = key.split(".", 1)
            items.append(
                f"{{'entity': {literal(entity)}, 'system': {literal(system)},"
                f" 'source_id': CAST(q.{ident(column)} AS VARCHAR)}}"
            )
        refs = f"list_filter([{', '.join(items)}], lambda r: r.source_id IS NOT NULL)"
    money = col(check.money) if check.money else col("money")
    values = f"to_json({col('values')})" if "values" in shape else "NULL::JSON"
    texts = ", ".join(f"CAST({col(c)} AS VARCHAR) AS _{c}" for c in TEXT)
    found = (
        f"SELECT row_number() OVER () AS _n, {refs} AS _refs, CAST({col('key')} AS VARCHAR) AS _key,"
        f" CAST({col('field')} AS VARCHAR) AS _field, CAST({money} AS DECIMAL(18,4)) AS _money, {values} AS _values,"
        f" {texts} FROM ({check.sql}) q"
    )
    insert = f"""
    WITH canonical AS (
      SELECT n._n, list({{'entity': n.r.entity, 'system': n.r.system, 'source_id': n.r.source_id,
                          'canonical_id': c.canonical_id}} ORDER BY n.r.entity, n.r.system, n.r.source_id) AS entities
      FROM (SELECT _n, unnest(_refs) AS r FROM _found) n
      LEFT JOIN clusters c ON c.entity = n.r.entity AND c.system = n.r.system AND c.source_id = n.r.source_id
      GROUP BY n._n
    )
    SELECT {literal(check.name)}, {literal(check.category)}, coalesce(f._severity, {literal(check.severity)}),
      md5({literal(check.name)} || '|' || coalesce(f._key, array_to_string(list_transform(coalesce(c.entities, []),
          lambda e: concat_ws(':', e.entity, e.system, e.source_id)), ',')) || '|' || coalesce(f._field, '')),
      coalesce(f._title, {literal(check.description or check.name)}), f._detail,
      coalesce(f._owner, {literal(check.owner)}), f._handoff, f._field, round(f._money, 2),
      coalesce(c.entities, []), f._values, coalesce(f._cause, {literal(check.cause)}), f._cause_reason
    FROM _found f LEFT JOIN canonical c ON c._n = f._n
    """
    return found, insert


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
