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
# A record a finding is about; a check that has the record's canonical id at hand (the `records_*`
# tables carry it) may give it, and the others' are looked up in `clusters`.
REF = "STRUCT(entity VARCHAR, system VARCHAR, source_id VARCHAR, canonical_id VARCHAR)"
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
    """Start collecting: every check appends its rows to `_found` (references as checks gave them)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _found ({FOUND})")


def finish_results(con: duckdb.DuckDBPyConnection) -> None:
    """Write `check_results`: every row with its records' canonical ids (those the checks did not
    give, in one join for all checks) and its fingerprint."""
    con.execute(f"CREATE OR REPLACE TABLE {RESULTS} ({SCHEMA})")
    con.execute(f"INSERT INTO {RESULTS} {FINISH}")


def run_check(con: duckdb.DuckDBPyConnection, check: Check) -> int:
    """Append one check's findings to `_found`; returns how many it found."""
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
    try:
        before = con.execute("SELECT count(*) FROM _found").fetchall()[0][0]
        con.execute(f"INSERT INTO _found {_projection(check, set(shape))}")
        return int(con.execute("SELECT count(*) FROM _found").fetchall()[0][0] - before)
    except duckdb.Error as exc:
        raise CheckFailed(f"check {check.name}{where} failed: {_first_line(exc)}") from None


def _projection(check: Check, shape: set[str]) -> str:
    """The check's rows in the shape of `_found`, its header's defaults filled in."""

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
    text = {c: f"CAST({col(c)} AS VARCHAR)" for c in TEXT}
    return (
        f"SELECT {literal(check.name)}, {literal(check.category)}, coalesce({text['severity']}, {literal(check.severity)}),"
        f" {refs}, CAST({col('key')} AS VARCHAR), CAST({col('field')} AS VARCHAR), CAST({money} AS DECIMAL(18,4)),"
        f" {values}, coalesce({text['title']}, {literal(check.description or check.name)}), {text['detail']},"
        f" coalesce({text['owner']}, {literal(check.owner)}), {text['handoff']},"
        f" coalesce({text['cause']}, {literal(check.cause)}), {text['cause_reason']} FROM ({check.sql}) q"
    )


FOUND = (
    f"check_name VARCHAR, category VARCHAR, severity VARCHAR, refs {REF}[], key VARCHAR, field VARCHAR,"
    ' money DECIMAL(18,4), "values" JSON, title VARCHAR, detail VARCHAR, owner VARCHAR, handoff VARCHAR,'
    " cause VARCHAR, cause_reason VARCHAR"
)
FINISH = """
WITH numbered AS MATERIALIZED (SELECT row_number() OVER () AS n, * FROM _found),  -- numbered once, read twice
refs AS (SELECT n, unnest(refs) AS r FROM numbered),
canonical AS (
  SELECT n, list_sort(list(r)) AS entities  -- in order, sorted after (faster than an ordered aggregate)
  FROM (
    SELECT n, r FROM refs WHERE r.canonical_id IS NOT NULL
    UNION ALL
    SELECT u.n, {'entity': u.r.entity, 'system': u.r.system, 'source_id': u.r.source_id,
                 'canonical_id': c.canonical_id}
    FROM refs u
    LEFT JOIN clusters c ON c.entity = u.r.entity AND c.system = u.r.system AND c.source_id = u.r.source_id
    WHERE u.r.canonical_id IS NULL
  )
  GROUP BY n
)
SELECT f.check_name, f.category, f.severity,
  md5(f.check_name || '|' || coalesce(f.key, array_to_string(list_transform(coalesce(c.entities, []),
      lambda e: concat_ws(':', e.entity, e.system, e.source_id)), ',')) || '|' || coalesce(f.field, '')),
  f.title, f.detail, f.owner, f.handoff, f.field, round(f.money, 2), coalesce(c.entities, []), f."values",
  f.cause, f.cause_reason
FROM numbered f LEFT JOIN canonical c ON c.n = f.n
"""


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
