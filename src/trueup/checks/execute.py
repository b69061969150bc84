"""Run checks into one table of results, `check_results`, with one row per finding.

Every check's query is wrapped in the same projection, so built-in and custom checks give the
same columns: the check and its category, severity, a stable fingerprint, the title and detail,
the owner, the money at stake (exact, in the currency's cents), the records involved as a list
of `{entity, system, source_id, canonical_id}`, the values each system holds, the root cause,
and a digest of all that. A run collects its rows in a temporary table first (`_results`) and
rewrites in `check_results` only the checks whose rows changed: a scheduled run on data that
moved little writes little to the warehouse file. Each check's summary of its rows there is kept
beside them, in `check_summaries`, so a run does not read them all to compare. A run of some
checks leaves the others' rows, as the findings store leaves their findings.
"""

from __future__ import annotations

import duckdb

from trueup.checks import cause
from trueup.checks.definition import Check
from trueup.errors import TerminalError
from trueup.ingest.base import literal
from trueup.warehouse import columns, ident, scalar, table_exists

RESULTS = "check_results"
SUMMARY = "check_summaries"  # each check's summary of its rows in `check_results`
WORK = "_results"  # this run's rows, temporary, until `publish_results`
# A record a finding is about; a check that has the record's canonical id at hand (the `records_*`
# tables carry it) may give it, and the others' are looked up in `clusters`.
REF = "STRUCT(entity VARCHAR, system VARCHAR, source_id VARCHAR, canonical_id VARCHAR)"
COLUMNS = {  # of `check_results` and `_results`
    "check_name": "VARCHAR", "category": "VARCHAR", "severity": "VARCHAR", "fingerprint": "VARCHAR",
    "title": "VARCHAR", "detail": "VARCHAR", "owner": "VARCHAR", "handoff": "VARCHAR", "field": "VARCHAR",
    "money": "DECIMAL(18,2)", "entities": f"{REF}[]", "values": "JSON", "cause": "VARCHAR",
    "cause_reason": "VARCHAR",
    "digest": "VARCHAR",  # of all the others: what the check said
}  # fmt: skip
CONTENT = tuple(c for c in COLUMNS if c != "digest")
SCHEMA = ", ".join(f"{ident(c)} {kind}" for c, kind in COLUMNS.items())
# One check's rows in one value, as `trueup.state.findings.summary` computes it: md5 of the
# fingerprint-digest strings in order.
SUMMARIES = (
    "SELECT check_name, md5(string_agg(fingerprint || digest, '' ORDER BY fingerprint)) AS summary,"
    " count(*) AS rows FROM {table} GROUP BY check_name"
)
TEXT = ("title", "detail", "owner", "severity", "handoff", "cause", "cause_reason")  # optional columns


class CheckFailed(TerminalError):
    """A check's SQL could not run; the message names the check and where it was read from."""


def create_results(con: duckdb.DuckDBPyConnection) -> None:
    """Start collecting: every check appends its rows to `_results`."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {WORK} ({SCHEMA})")


def run_check(con: duckdb.DuckDBPyConnection, check: Check, minutes: float) -> int:
    """Append one check's findings to `_results` (`minutes`: the manual work each one costs, part of
    its digest); returns how many it found."""
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
        inserted = con.execute(f"INSERT INTO {WORK} {_projection(check, set(shape), minutes)}").fetchall()
        return int(inserted[0][0])  # an INSERT's result is how many rows it wrote
    except duckdb.Error as exc:
        raise CheckFailed(f"check {check.name}{where} failed: {_first_line(exc)}") from None


def finish_results(con: duckdb.DuckDBPyConnection, minutes: dict[str, float]) -> dict[str, tuple[str, int]]:
    """Complete `_results` after every check ran: the canonical ids of the records checks did not
    give (one join for all checks), the root causes that come from other findings, and the digests
    of the rows these changed. Returns each check's summary and number of rows."""
    unknown = scalar(con, UNKNOWN)  # the entities of the records that lack one
    if unknown:  # (the lookup reads the records of those entities in `clusters`, sorted by entity)
        con.execute(
            f"UPDATE {WORK} r SET entities = x.entities, digest = NULL FROM ({_canonical(unknown)}) x"
            " WHERE r.rowid = x.rid"
        )
    cause.inherit(con, WORK)  # clears the digest of the rows whose cause it changes
    whens = " ".join(f"WHEN {literal(name)} THEN {literal(str(m))}" for name, m in minutes.items())
    con.execute(f"UPDATE {WORK} SET digest = {_digest(f'CASE check_name {whens} END')} WHERE digest IS NULL")
    return _summaries(con, SUMMARIES.format(table=WORK))


def publish_results(
    con: duckdb.DuckDBPyConnection, summaries: dict[str, tuple[str, int]], ran: list[str] | None
) -> int:
    """Make `check_results` hold what `_results` holds (`summaries`: its checks' summaries) for the
    checks that ran (`ran`; None: all of them, and the rows of any other check go), deleting and
    inserting the rows of the checks whose summaries differ (a missing table, or one of an older
    shape, is made anew). Returns how many rows were written."""
    before = _published(con)
    gone = [c for c, s in before.items() if (ran is None or c in ran) and summaries.get(c) != s]
    came = [c for c, s in summaries.items() if before.get(c) != s]
    if gone:
        for table in (RESULTS, SUMMARY):
            con.execute(f"DELETE FROM {table} WHERE check_name IN (SELECT unnest(?::VARCHAR[]))", [gone])
    if not came:
        return 0
    con.execute(
        f"INSERT INTO {RESULTS} SELECT * FROM {WORK} WHERE check_name IN (SELECT unnest(?::VARCHAR[]))",
        [came],
    )
    con.execute(
        f"INSERT INTO {SUMMARY} SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::BIGINT[])",
        [came, [summaries[c][0] for c in came], [summaries[c][1] for c in came]],
    )
    return sum(summaries[c][1] for c in came)


def _published(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, int]]:
    """The summaries of the checks' rows in `check_results`, from `check_summaries`; both are made
    anew when missing or of an older shape, and the summaries are computed again from the rows
    when they do not count as many rows as the table holds."""
    if not table_exists(con, "main", RESULTS) or list(columns(con, RESULTS)) != list(COLUMNS):
        con.execute(f"CREATE OR REPLACE TABLE {RESULTS} ({SCHEMA})")
        con.execute(f"DROP TABLE IF EXISTS {SUMMARY}")
    stored = f"SELECT check_name, summary, rows FROM {SUMMARY}"
    if table_exists(con, "main", SUMMARY):
        kept = _summaries(con, stored)
        if sum(rows for _, rows in kept.values()) == scalar(con, f"SELECT count(*) FROM {RESULTS}"):
            return kept
    con.execute(f"CREATE OR REPLACE TABLE {SUMMARY} AS {SUMMARIES.format(table=RESULTS)}")
    return _summaries(con, stored)


def _summaries(con: duckdb.DuckDBPyConnection, query: str) -> dict[str, tuple[str, int]]:
    """Each check's summary and number of rows, as `query` gives them."""
    return {check: (summary, count) for check, summary, count in con.execute(query).fetchall()}


def _digest(minutes: str) -> str:
    """What a check said about a finding in one value, to see it change: a 64-bit hash of its row
    and its minutes of manual work (a changed title, amount or cost is noticed), as 16 hex digits.
    DuckDB's hash, ten times faster than md5 of the row as text; a DuckDB release that hashed
    differently would mark every finding changed once, which rewrites them and changes nothing else."""
    row = "{" + ", ".join(f"{literal(c)}: {ident(c)}" for c in CONTENT) + "}"
    return f"printf('%016x', hash({row}, {minutes}))"


def _projection(check: Check, shape: set[str], minutes: float) -> str:
    """The check's rows in the shape of `_results`, its header's defaults filled in, its records in
    order, its fingerprint (from the check, its key or its records, and the field), its root cause
    as far as the row alone tells, and its digest when the check gave every record's canonical id
    (the rest are completed by `finish_results`). Computed in the check's own query, in parallel."""

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
                f" 'source_id': CAST(q.{ident(column)} AS VARCHAR), 'canonical_id': NULL::VARCHAR}}"
            )
        refs = f"list_filter([{', '.join(items)}], lambda r: r.source_id IS NOT NULL)"
    money = col(check.money) if check.money else col("money")
    values = f"to_json({col('values')})" if "values" in shape else "NULL::JSON"
    text = {c: f"CAST({col(c)} AS VARCHAR)" for c in TEXT}
    rows = (
        f"SELECT {literal(check.name)} AS check_name, {literal(check.category)} AS category,"
        f" coalesce({text['severity']}, {literal(check.severity)}) AS severity, list_sort({refs}) AS entities,"
        f" CAST({col('key')} AS VARCHAR) AS key, CAST({col('field')} AS VARCHAR) AS field,"
        f' CAST(round(CAST({money} AS DECIMAL(18,4)), 2) AS DECIMAL(18,2)) AS money, {values} AS "values",'
        f" coalesce({text['title']}, {literal(check.description or check.name)}) AS title, {text['detail']} AS detail,"
        f" coalesce({text['owner']}, {literal(check.owner)}) AS owner, {text['handoff']} AS handoff,"
        f" coalesce({text['cause']}, {literal(check.cause)}) AS cause, {text['cause_reason']} AS cause_reason"
        f" FROM ({check.sql}) q"
    )
    fingerprint = (
        "md5(check_name || '|' || coalesce(key, array_to_string(list_transform(entities,"
        " lambda e: concat_ws(':', e.entity, e.system, e.source_id)), ',')) || '|' || coalesce(field, ''))"
    )
    reasoned = (
        f"SELECT * REPLACE ({cause.own_cause()} AS cause, {cause.own_reason()} AS cause_reason),"
        f" {fingerprint} AS fingerprint FROM ({rows})"
    )
    known = "list_bool_and(list_transform(entities, lambda r: r.canonical_id IS NOT NULL)) IS NOT false"
    digest = f"CASE WHEN {known} THEN {_digest(literal(str(minutes)))} END"
    return f"SELECT {', '.join(ident(c) for c in CONTENT)}, {digest} FROM ({reasoned})"


def _canonical(entities: list[str]) -> str:
    """The records of each row that lacks a canonical id, looked up in `clusters`, in order, among
    the records of those `entities` alone (`clusters` is in order of entity: on `large`, DuckDB read
    750,000 of its 6.2M records where it read them all)."""
    refs = f"SELECT rowid AS rid, unnest(entities) AS r FROM {WORK} WHERE digest IS NULL"  # (`_projection` left them)
    found = (
        "{'entity': r.entity, 'system': r.system, 'source_id': r.source_id, 'canonical_id': c.canonical_id}"
    )
    return (
        f"SELECT rid, list_sort(list(CASE WHEN r.canonical_id IS NOT NULL THEN r ELSE {found} END)) AS entities"
        f" FROM ({refs}) u LEFT JOIN clusters c ON r.canonical_id IS NULL"
        f" AND c.entity IN ({', '.join(literal(e) for e in sorted(entities))}) AND c.entity = r.entity"
        " AND c.system = r.system AND c.source_id = r.source_id GROUP BY rid"
    )


# The entities of the records that lack a canonical id `clusters` may hold (a column's or a
# handoff's never does), NULL when none does.
UNKNOWN = (
    f"SELECT list(DISTINCT r.entity) FROM (SELECT unnest(entities) AS r FROM {WORK} WHERE digest IS NULL)"
    " WHERE r.canonical_id IS NULL AND r.source_id IS NOT NULL"
)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
