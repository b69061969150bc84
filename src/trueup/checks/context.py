"""What checks read besides the staged, link and golden tables: the workspace's declarations as tables.

The check step writes schema `config` before any check runs, so that a check (built in or the
user's own) is plain SQL with its thresholds joined in rather than pasted in:

- `config.settings`: one row: `as_of`, `timezone`, `currency`, `tolerance` (money, to the cent
  unless declared), `lookback` (how long a handoff may move nothing before it is called idle).
- `config.systems`: `system`, `label`, `kind` (system or spreadsheet), `derived_from`.
- `config.mappings`: one row per mapped field: `entity`, `system`, `field`, `expr`, `column` (the
  source column when the expression is one), `extra` (a custom field), `kind` (its canonical kind).
- `config.ownership`: `entity`, `field`, `owner` (NULL when no system is declared to own it).
- `config.handoffs`: every declared handoff with its parts, `source_entity` and `target_entity`
  (from `carries`), `sla` as an interval and `retired_on`.
- `config.retired`, `config.reported`, `config.statuses`.
- `config.loads`: the rows in every source table after each of the last runs that ingested.
- `config.time_shifts`: the records whose times are another system's shifted by a time zone
  mix-up (:mod:`trueup.checks.timeshift`).

Most checks start from `records_<entity>`, every system's staged rows (spreadsheets included)
with the record's canonical id and its references made canonical, which the resolve step writes.
This module builds, as a temporary table the checks of the run see, `field_values`: every field
of every record of a real thing two or more systems hold, as text with the normal form it is
compared by (where systems can disagree); `config.retired_matches`: ids, references and listed
fields of every record that match a retired system's id pattern. And one table the report reads
too: `reported_figures`, each declared figure beside the same figure recomputed from golden records.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from trueup.checks import timeshift
from trueup.config.models import Workspace as Config
from trueup.config.models import owner_of
from trueup.errors import TerminalError
from trueup.ingest.base import literal
from trueup.model import COPIES, DONE_JOB_STATES, ENTITIES, Kind
from trueup.resolve import records_table
from trueup.warehouse import RAW_SCHEMA, columns, ident, raw_table, relations, table_exists

SCHEMA = "config"
COLUMN_RE = re.compile(r'^\s*(?:"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_]*))\s*$')
DEFAULT_LOOKBACK_DAYS = 30


def source_column(expr: str) -> str | None:
    """The column an expression reads when it is nothing but a column name."""
    match = COLUMN_RE.match(expr)
    if not match:
        return None
    return match.group(1).replace('""', '"') if match.group(1) else match.group(2)


LoadRow = tuple[str, datetime, str, str, int]  # run id, when it started, system, source table, rows


def write(
    con: duckdb.DuckDBPyConnection,
    ws: Config,
    as_of: datetime,
    loads: Sequence[LoadRow] = (),
    needs: str | None = None,
) -> None:
    """The declarations as `config.*` tables, and the tables checks share. `needs` (the SQL of the
    checks that will run) leaves out `field_values`, `config.empty_fields`, `config.retired_matches`,
    `config.time_shifts`, `payment_reflection`, `invoice_copies`, `job_invoices`, `field_agreement`
    and `reported_figures` when no check reads them (nor a shared table they read): some cost more
    than all the job-to-cash checks together."""
    present = relations(con, "main")
    needed = (
        "clusters",
        *(f"staged_{e}" for e in ENTITIES),
        *ENTITIES,
        *(records_table(e) for e in ENTITIES),
    )
    missing = [t for t in needed if t not in present]
    if missing:
        raise TerminalError(
            f"the check step reads what the map, link and resolve steps write, and {', '.join(missing[:3])}"
            f"{' and more' if len(missing) > 3 else ''} is not there yet: run `trueup run` with every step first"
        )
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(
        f"CREATE OR REPLACE TABLE {SCHEMA}.settings AS SELECT ?::TIMESTAMPTZ AS as_of, ? AS timezone,"
        " ? AS currency, CAST(? AS DECIMAL(18,4)) AS tolerance, to_days(?) AS lookback",
        [as_of, ws.timezone, ws.currency, ws.tolerance.amount, DEFAULT_LOOKBACK_DAYS],
    )
    _table(
        con, "systems", "system VARCHAR, label VARCHAR, kind VARCHAR, derived_from VARCHAR[]",
        [(name, s.label or name, s.kind, s.derived_from) for name, s in ws.systems.items()],
    )  # fmt: skip
    mapped = []
    for entity, systems in ws.entities.items():
        for system, mapping in systems.items():
            for name in mapping.fields:
                expr = mapping.field(name).expr
                kind = ENTITIES[entity].fields.get(name)
                mapped.append(
                    (entity, system, mapping.from_, name, expr, source_column(expr), False, str(kind))
                )
            for name, expr in mapping.extra.items():
                mapped.append((entity, system, mapping.from_, name, expr, source_column(expr), True, "text"))
    _table(
        con, "mappings",
        "entity VARCHAR, system VARCHAR, source_table VARCHAR, field VARCHAR, expr VARCHAR, column_name VARCHAR,"
        " extra BOOLEAN, kind VARCHAR",
        mapped,
    )  # fmt: skip
    owned = sorted({(e, f) for e, _s, _t, f, *_ in mapped} | {(e, "*") for e in ws.entities})
    _table(
        con, "ownership", "entity VARCHAR, field VARCHAR, owner VARCHAR",
        [(e, f, owner_of(ws, e, f)) for e, f in owned],
    )  # fmt: skip
    _table(
        con, "handoffs",
        "id VARCHAR, position INTEGER, from_system VARCHAR, to_system VARCHAR, carries VARCHAR, source_entity VARCHAR,"
        " target_entity VARCHAR, mechanism VARCHAR, owner VARCHAR, trigger VARCHAR, expected VARCHAR,"
        " exceptions VARCHAR, monitoring VARCHAR, rollback VARCHAR, sla INTERVAL, retired_on DATE",
        [
            (h.id, i, h.from_, h.to, h.carries, *_carried(h.carries), h.mechanism, h.owner, h.trigger,
             h.expected, h.exceptions, h.monitoring, h.rollback, h.sla_delta, _retired_on(h.retired))
            for i, h in enumerate(ws.handoffs)
        ],
    )  # fmt: skip
    _table(
        con, "retired", "system VARCHAR, id_pattern VARCHAR, retired_on DATE, fields VARCHAR[], statuses VARCHAR[]",
        [(r.system, r.id_pattern, r.retired_on, r.fields, r.statuses) for r in ws.retired],
    )  # fmt: skip
    _table(
        con, "reported", "metric VARCHAR, period VARCHAR, value DECIMAL(18,2), source VARCHAR, basis VARCHAR",
        [(r.metric, r.period, r.value, r.source, r.basis) for r in ws.reported],
    )  # fmt: skip
    _table(
        con, "statuses", "entity VARCHAR, system VARCHAR, value VARCHAR, state VARCHAR",
        [(e, s, v, st) for e, systems in ws.statuses.items() for s, vocab in systems.items() for v, st in vocab.items()],
    )  # fmt: skip
    _table(con, "loads", "run_id VARCHAR, started_at TIMESTAMPTZ, system VARCHAR, source_table VARCHAR, rows BIGINT",
           loads)  # fmt: skip
    _sheet_columns(con, ws)
    sign = literal(currency_sign(ws.currency))
    con.execute(
        f"CREATE OR REPLACE MACRO {SCHEMA}.money_text(x) AS CASE WHEN x IS NULL THEN NULL"
        f" WHEN x < 0 THEN '-' || {sign} || format('{{:,.2f}}', CAST(-x AS DECIMAL(18,2)))"
        f" ELSE {sign} || format('{{:,.2f}}', CAST(x AS DECIMAL(18,2))) END"
    )  # money as people read it: $1,840.00
    con.execute(
        f"CREATE OR REPLACE MACRO {SCHEMA}.capital(x) AS upper(left(x, 1)) || substr(x, 2)"
    )  # job -> Job
    con.execute(
        f"CREATE OR REPLACE MACRO {SCHEMA}.handoffs_in_use(source, target) AS TABLE SELECT * FROM {SCHEMA}.handoffs"
        " WHERE source_entity = source AND target_entity = target AND retired_on IS NULL"
    )  # the declared handoffs from one entity to another that are not retired
    con.execute(f"CREATE OR REPLACE MACRO {SCHEMA}.local_date(x) AS {local_date(con)}")
    con.execute(
        f"CREATE OR REPLACE MACRO {SCHEMA}.never_agrees(compared, agreeing) AS"
        f" compared >= {NEVER_AGREES[0]} AND agreeing * {NEVER_AGREES[1]} <= compared"
    )  # a field another system keeps as a different fact: see NEVER_AGREES
    staged = [e for e in ENTITIES if f"staged_{e}" in present]
    if needs is not None:  # a shared table needs what its own SQL reads
        needs += " ".join(sql for name, sql in SHARED.items() if name in needs and isinstance(sql, str))
    for name, sql in {"field_values": field_values_sql(ws, staged), **SHARED}.items():
        if needs is None or name in needs:
            _materialise(con, name, sql if isinstance(sql, str) else _per_handoff(con, sql))
    if needs is None or "empty_fields" in needs:
        _empty_fields(con, ws, staged)
    if needs is None or "retired_matches" in needs:
        _retired_matches(con, ws, staged)
    if needs is None or "time_shifts" in needs:
        timeshift.write(con, ws, staged)
    if needs is None or REPORTED_FIGURES in needs:  # else the report keeps reading the last run's
        con.execute(f"CREATE OR REPLACE TABLE {REPORTED_FIGURES} AS {recomputed_sql(ws)}")


DAY_US = 86_400_000_000
# The days `config.local_date` knows the time zone's offset of, around `as_of`.
OFFSET_WINDOW = ("INTERVAL 30 YEAR", "INTERVAL 10 YEAR")


def local_date(con: duckdb.DuckDBPyConnection) -> str:
    """The body of the macro `config.local_date(x)`: the calendar day of the instant `x` in the time
    zone the connection is set to (the workspace's, in the check step), what `CAST(x AS DATE)`
    gives, in under half the time. The cast converts through ICU, at a cost per vector of values
    however few of them need it (casting one value in a thousand costs as much as casting all).
    Instead, for each UTC day from 30 years before `as_of` to 10 after whose offset holds all day
    (the zone's clocks change at most once a day), the macro knows which of the zone's few
    offsets it is, as a few bits of one constant bit string, and moves an instant of such a day
    by it; the instants of a day the clocks change, and those outside the window, are cast."""
    low, high = OFFSET_WINDOW
    days = con.execute(
        "SELECT day, CASE WHEN starts = ends THEN starts * 1000000 END FROM ("
        " SELECT day, date_part('timezone', to_timestamp(day * 86400)) AS starts,"
        f"  date_part('timezone', to_timestamp(day * 86400) + to_microseconds({DAY_US - 1})) AS ends"
        f" FROM config.settings, range(greatest(1, epoch_us(as_of - {low}) // {DAY_US}),"
        f"  epoch_us(as_of + {high}) // {DAY_US}) r(day)) ORDER BY day"
    ).fetchall()  # (from 2 January 1970 on: dividing a negative number rounds toward zero, to day 0)
    offsets = sorted({offset for _, offset in days if offset is not None})
    width = len(offsets).bit_length()  # bits a day: which offset, or `len(offsets)`: cast it
    bits = "".join(format(offsets.index(o) if o is not None else len(offsets), f"0{width}b") for _, o in days)
    day = f"(epoch_us(x) // {DAY_US} - {days[0][0]})"
    which = " + ".join(
        f"get_bit('{bits}'::BIT, CAST({day} * {width} + {k} AS INTEGER)) * {2 ** (width - 1 - k)}"
        for k in range(width)
    )
    offset = f"list_extract({offsets}, CASE WHEN {day} BETWEEN 0 AND {len(days) - 1} THEN {which} END + 1)"
    return (
        f"coalesce(DATE '1970-01-01' + CAST((epoch_us(x) + {offset}) // {DAY_US} AS INTEGER),"
        " CASE WHEN x IS NOT NULL THEN CAST(x AS DATE) END)"
    )  # (coalesce casts only the instants whose offset is NULL: a list's element len + 1)


REPORTED_FIGURES = "reported_figures"  # kept for the report: each reported figure beside the recomputed one
# Each figure leadership was given, recomputed from the golden records over its period: revenue and
# invoiced are invoice amounts by issue date (or posting or payment date, by `basis`), collected is
# payments by payment date, jobs_completed counts finished jobs; and, when a spreadsheet was the
# source, what that sheet's own invoice rows add up to in the period. Each way of recomputing is
# written in only when a figure declared needs it: DuckDB computed every one of them, whatever the
# figures (the payments' last dates alone took 0.2 s on `large` for a revenue figure by issue date).
PERIODS = """
SELECT r.*,
  CASE WHEN length(r.period) = 4 THEN make_date(CAST(r.period AS INTEGER), 1, 1)
       WHEN r.period LIKE '%Q%' THEN make_date(CAST(left(r.period, 4) AS INTEGER),
                                                3 * CAST(right(r.period, 1) AS INTEGER) - 2, 1)
       ELSE CAST(r.period || '-01' AS DATE) END AS since,
  CASE WHEN length(r.period) = 4 THEN INTERVAL 1 YEAR WHEN r.period LIKE '%Q%' THEN INTERVAL 3 MONTH
       ELSE INTERVAL 1 MONTH END AS span
FROM config.reported r
"""
RECOMPUTE = {  # metric: the figure over the period `p.since` to `p.since + p.span`
    "collected": """(SELECT sum(amount) FROM payment WHERE config.local_date(paid_at) >= p.since
                      AND config.local_date(paid_at) < p.since + p.span)""",
    "jobs_completed": f"""(SELECT count(*) FROM job WHERE state IN ({", ".join(map(literal, DONE_JOB_STATES))})
                           AND config.local_date(completed_at) >= p.since
                           AND config.local_date(completed_at) < p.since + p.span)""",
}
# Revenue and invoiced: invoice amounts by the day `{day}` (issue, posting or payment, by `basis`),
# `{paid}` joining each invoice's last payment when a figure is by payment.
INVOICED = """(SELECT sum(i.amount) FROM invoice i {paid}
  WHERE coalesce(i.state, '') NOT IN ('draft', 'cancelled')
    AND config.local_date({day}) >= p.since AND config.local_date({day}) < p.since + p.span)"""
EXPLAINED = """
SELECT r.metric, r.period, sum(i.amount) AS sheet_total FROM recomputed r
JOIN config.systems s ON s.system = r.source AND s.kind = 'spreadsheet'
JOIN records_invoice i ON i.system = r.source AND config.local_date(i.issued_at) >= r.since
  AND config.local_date(i.issued_at) < r.since + r.span
WHERE r.metric IN ('revenue', 'invoiced')
GROUP BY ALL
"""


def recomputed_sql(ws: Config) -> str:
    """The declared figures beside the same figures recomputed (`reported_figures`)."""
    metrics = {r.metric for r in ws.reported}
    whens = [f"WHEN p.metric = {literal(m)} THEN {sql}" for m, sql in RECOMPUTE.items() if m in metrics]
    other = "NULL"
    if metrics - set(RECOMPUTE):
        by_paid = any(r.basis == "paid" for r in ws.reported)
        paid = "LEFT JOIN (SELECT invoice, max(paid_at) AS paid_at FROM payment GROUP BY 1) pay"
        paid += " ON pay.invoice = i.canonical_id"
        when_paid = "WHEN 'paid' THEN pay.paid_at" if by_paid else ""
        day = f"CASE coalesce(p.basis, 'issued') WHEN 'posted' THEN i.posted_at {when_paid} ELSE i.issued_at END"
        other = INVOICED.format(paid=paid if by_paid else "", day=day)
    truth = f"CASE {' '.join(whens)} ELSE {other} END" if whens else other  # (a CASE of no WHEN is no SQL)
    return (
        f"WITH periods AS ({PERIODS}),"
        f" recomputed AS (SELECT p.*, CAST({truth} AS DECIMAL(38,4)) AS truth FROM periods p),"
        f" explained AS ({EXPLAINED})"
        " SELECT r.metric, r.period, r.source, r.basis, r.value AS reported, r.truth AS recomputed, e.sheet_total"
        " FROM recomputed r LEFT JOIN explained e USING (metric, period) ORDER BY r.period, r.metric"
    )


def _enum(values: Sequence[object]) -> str:
    """An ENUM type of these values: one byte a row where their text took 16 or more."""
    return f"ENUM({', '.join(map(literal, values))})"


def _states(entity: str) -> str:
    """The type of an entity's canonical state."""
    return _enum(ENTITIES[entity].states)


@dataclass(frozen=True)
class HandoffPairs:
    """The pairs of records one handoff from a `source` entity to a `target` one made, as `sql` with
    `__HANDOFF__`, `__FROM__` and `__TO__` for its id and systems."""

    source: str
    target: str
    sql: str


# The records each handoff in use links, as the pairs it made, one table per kind of handoff that
# several checks compare. A pair is named by its records' rows in `records_*` (rowid), where checks
# read ids, numbers and the rest for the few they report (carried on every row of `large`, ids and
# numbers were 40% of a table's memory and of the time to write it); the handoff's systems, owner and
# SLA are `config.handoffs`', joined by id. The SQL is written once per handoff with its systems as
# constants (joined on the handoff's columns, DuckDB hashed the system beside every id: 0.19 -> 0.13 s).
#
# `invoice_copies`: each invoice of the system an invoice-to-invoice handoff starts from beside its
# copy in the system it leads to, found by canonical id (the copy's columns NULL when there is none;
# an invoice copied twice has two rows), with what checks compare: state, amounts, tax, times.
INVOICE_COPIES = HandoffPairs("invoice", "invoice", f"""
SELECT __HANDOFF__ AS handoff, a.rowid AS invoice_row, CAST(a.state AS {_states("invoice")}) AS state, a.amount,
  a.tax, a.issued_at, b.rowid AS copy_row, b.amount AS copy_amount, b.issued_at AS copy_issued_at,
  b.posted_at AS copy_posted_at
FROM records_invoice a
LEFT JOIN (SELECT rowid, canonical_id, amount, issued_at, posted_at FROM records_invoice WHERE system = __TO__) b
  ON b.canonical_id = a.canonical_id
WHERE a.system = __FROM__
""")  # fmt: skip
# `job_invoices`: each job of the system a job-to-invoice handoff starts from beside each invoice of
# the system it leads to that names the job (jobs without one are not there), with the job's
# state, amount and completion and the invoice's state, amount and issue.
JOB_INVOICES = HandoffPairs("job", "invoice", f"""
SELECT __HANDOFF__ AS handoff, j.rowid AS job_row, CAST(j.state AS {_states("job")}) AS job_state,
  j.amount AS job_amount, j.completed_at, i.rowid AS invoice_row, CAST(i.state AS {_states("invoice")}) AS state,
  i.amount, i.issued_at
FROM records_job j JOIN records_invoice i ON i.job = j.canonical_id
WHERE j.system = __FROM__ AND i.system = __TO__
""")  # fmt: skip


# For each handoff that carries payments back to the system that issued the invoice: the invoices
# the other one does not show as paid, each with what the paying system took (the other must count
# as paid as much of its own amount as the payments cover: its amount less its open balance), and
# whether the handoff stalled: every payment since the last one that arrived (that day included:
# ledgers often keep only the date) is missing, for longer than the SLA. The invoices it does show
# are judged and left out: no check reads them, and they were 97% of the rows (0.26 s on `large`).
# They are judged by the handoff's id and the billed invoice's row; the handoff's parts, the ids and
# numbers are read for the rest alone (0.64 -> 0.33 s on `large`).
PAYMENT_REFLECTION = """
WITH handoffs AS (
  SELECT id, owner, from_system, to_system, coalesce(sla, INTERVAL 1 DAY) AS sla FROM config.handoffs
  WHERE source_entity = 'payment' AND retired_on IS NULL
), payments AS (  -- what each paying system took for each invoice
  SELECT system, invoice AS canonical_id, sum(amount) AS paid_amount, max(paid_at) AS last_paid_at
  FROM records_payment WHERE invoice IS NOT NULL AND system IN (SELECT from_system FROM handoffs)
  GROUP BY system, invoice
), judged AS (  -- every invoice paid, by the handoff's id and the billed invoice's row: the text is read after,
  -- for the invoices not shown as paid alone
  SELECT *, due_shown - shown AS unreflected, shown >= due_shown - greatest(s.tolerance, 0.005) AS reflected_ok
  FROM (SELECT h.id AS handoff, p.canonical_id, p.paid_amount, p.last_paid_at, b.rowid AS billed_row,
          least(p.paid_amount, b.amount) AS due_shown,
          b.amount - coalesce(b.balance, CASE WHEN b.state = 'paid' THEN 0 ELSE b.amount END) AS shown
        FROM handoffs h JOIN payments p ON p.system = h.from_system
        JOIN records_invoice b ON b.canonical_id = p.canonical_id AND b.system = h.to_system)
  CROSS JOIN config.settings s
), last_ok AS (
  SELECT handoff, max(last_paid_at) AS stalled_since FROM judged WHERE reflected_ok GROUP BY handoff
), unreflected AS (
  SELECT j.handoff, h.owner, h.from_system AS paid_system, h.to_system AS billed_system, h.sla, j.canonical_id,
    j.paid_amount, j.last_paid_at, j.billed_row, j.due_shown, j.shown, j.unreflected
  FROM judged j JOIN handoffs h ON h.id = j.handoff WHERE NOT j.reflected_ok
), late AS (
  SELECT j.handoff, count(*) AS missing FROM unreflected j JOIN last_ok l USING (handoff)
  WHERE j.last_paid_at >= l.stalled_since GROUP BY j.handoff
), paid_ids AS (  -- the paying system's own record of each invoice it shows unreflected
  SELECT canonical_id, system, min(source_id) AS paid_id FROM records_invoice
  WHERE system IN (SELECT from_system FROM handoffs) AND canonical_id IN (SELECT canonical_id FROM unreflected)
  GROUP BY canonical_id, system
), billed AS (
  SELECT rowid AS row, source_id, state, number FROM records_invoice WHERE rowid IN (SELECT billed_row FROM unreflected)
)
SELECT j.* EXCLUDE (billed_row), b.source_id AS billed_id, b.state AS billed_state,
  coalesce(b.number, b.source_id) AS number, a.paid_id, s.as_of, s.tolerance, false AS reflected_ok,
  l.stalled_since,
  coalesce(j.last_paid_at >= l.stalled_since AND s.as_of - l.stalled_since > j.sla AND late.missing >= 2, false)
    AS stalled
FROM unreflected j JOIN billed b ON b.row = j.billed_row CROSS JOIN config.settings s
LEFT JOIN last_ok l USING (handoff) LEFT JOIN late USING (handoff)
LEFT JOIN paid_ids a ON a.canonical_id = j.canonical_id AND a.system = j.paid_system
"""


# `field_agreement`: each value of a descriptive field (names, emails, phones, addresses, text, and
# extra fields with a declared owner) that a system other than the field's owner keeps for a real
# thing the owner keeps the field for, with whether one of the owner's values is the same (by their
# normal forms): every comparison `field_conflict` judges, and what `field_never_agrees` counts.
FIELD_AGREEMENT = """
WITH fields AS (  -- each field a system (not a spreadsheet) maps, with its owner, declared for it or for all
  SELECT DISTINCT m.entity, m.system, m.field, o.owner AS field_owner, coalesce(o.owner, star.owner) AS owner_system
  FROM config.mappings m
  JOIN config.systems s ON s.system = m.system AND s.kind = 'system'
  LEFT JOIN config.ownership o ON o.entity = m.entity AND o.field = m.field
  LEFT JOIN config.ownership star ON star.entity = m.entity AND star.field = '*'
), compared AS MATERIALIZED (  -- the values compared and their rows in field_values, each with its field's
  -- owner (the declarations joined in once: three joins over every value took 0.35 s on `large`)
  SELECT v.rowid AS value_row, v.entity, v.canonical_id, v.system, v.field, v.norm, f.owner_system
  FROM field_values v JOIN fields f ON f.entity = v.entity AND f.system = v.system AND f.field = v.field
  WHERE v.kind IN ('text', 'name', 'email', 'phone', 'address', 'postal_code', 'country')
     OR (v.kind = 'extra' AND f.field_owner IS NOT NULL)
), owned AS (SELECT entity, canonical_id, field, norm FROM compared WHERE system = owner_system),
others AS (SELECT * FROM compared WHERE system <> owner_system AND norm IS NOT NULL)
SELECT c.value_row, c.entity, c.system, c.field, c.owner_system, j.agrees
FROM others c JOIN (  -- each value beside the owner's values of the field, judged by its row alone (carrying
  -- the names through the aggregate cost a fifth more)
  SELECT c.value_row, bool_or(o.norm IS NOT DISTINCT FROM c.norm) AS agrees
  FROM others c JOIN owned o ON o.entity = c.entity AND o.canonical_id = c.canonical_id AND o.field = c.field
  GROUP BY c.value_row
) j USING (value_row)
"""
# A field another system keeps for at least this many real things, agreeing with the owner on at most
# one in this many, is a different fact under the owner's name (a ledger that numbers invoices its
# own way), not that many conflicts: `config.never_agrees(compared, agreeing)`.
NEVER_AGREES = (20, 20)


# The temporary tables checks share besides `field_values`, each built once when a check of the run
# reads it: `payment_reflection` is read by two checks, `invoice_copies` by four, `job_invoices` by
# two (one join, not four), `field_agreement` by two.
SHARED: dict[str, str | HandoffPairs] = {
    "payment_reflection": PAYMENT_REFLECTION, "invoice_copies": INVOICE_COPIES, "job_invoices": JOB_INVOICES,
    "field_agreement": FIELD_AGREEMENT,
}  # fmt: skip


CURRENCY_SIGNS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def currency_sign(code: str) -> str:
    """How money in this currency is written before the amount: `$`, `€`, or the code and a space."""
    return CURRENCY_SIGNS.get(code, code + " ")


# How each kind of field is compared across systems: the normal form two values must share.
NORMAL_FORMS = {
    Kind.NAME: "s.{f}_key",
    Kind.EMAIL: "s.{f}_norm",
    Kind.PHONE: "s.{f}_e164",
    Kind.ADDRESS: "s.{f}_key",
    Kind.POSTAL_CODE: "upper(regexp_replace(CAST(s.{f} AS VARCHAR), '[^A-Za-z0-9]', '', 'g'))",
    Kind.COUNTRY: "upper(trim(CAST(s.{f} AS VARCHAR)))",
    Kind.MONEY: "CAST(round(s.{f}, 2) AS VARCHAR)",
    Kind.TIMESTAMP: "strftime(config.local_date(s.{f}), '%Y-%m-%d')",  # the calendar day, in the workspace's time zone
}
TEXT_FORM = "nullif(lower(trim(regexp_replace(CAST({v} AS VARCHAR), '\\s+', ' ', 'g'))), '')"  # of raw text
# A canonical text field as staged: the map step has trimmed it and collapsed its whitespace
# (`trueup_text`), so only its case is left to fold (a regular expression per value cost 1 s of
# 11M values on `large`).
STAGED_TEXT_FORM = "nullif(lower(CAST(s.{f} AS VARCHAR)), '')"


SHEET_ONLY = (Kind.MONEY, Kind.TIMESTAMP, Kind.STATUS)  # compared only against spreadsheet cells


def field_values_sql(ws: Config, entities: list[str]) -> str:
    """The fields checks compare, one row each: the value as text and the normal form it is
    compared by, for the records of the real things two or more systems hold (spreadsheets count):
    where systems can disagree. Descriptive fields (names, emails, phones, addresses, text, extra
    fields) of those records; amounts, times, statuses and copies of another entity's field (an
    invoice's customer name) only of the records a spreadsheet row stands for, the one place they
    are compared cell by cell (the job-to-cash checks compare amounts and times in their own joins,
    and a copy is compared where its entity is: 1.45M rows no check read on `large`). Only the
    fields two or more of the entity's systems map (for amounts, times, statuses and copies, a
    spreadsheet among them): a field one system keeps has nothing to disagree with (a sixth of the
    rows on `large`). Not references: as exported, each is an id of the system it points into,
    comparable across systems only as the canonical ids the `records_*` tables hold (they were a
    quarter of the rows on `large`, and no check read them). Each entity's records are joined to
    their canonical ids once."""
    sheets = [n for n, s in ws.systems.items() if s.kind == "spreadsheet"]
    parts = []
    for entity in entities:
        systems = ws.entities.get(entity, {})
        if len(systems) < 2:
            continue  # one system holds this entity: nothing to compare
        # each canonical and each extra field, with the systems that map it
        keepers = {
            f: {s for s, m in systems.items() if f in m.fields} for m in systems.values() for f in m.fields
        }
        extras = {
            f: {s for s, m in systems.items() if f in m.extra} for m in systems.values() for f in m.extra
        }
        selects = []
        for field, kind in ENTITIES[entity].fields.items():
            kept = keepers.get(field, set())
            copy = (entity, field) in COPIES  # (another entity's field: compared where that entity is)
            sheet_only = kind in SHEET_ONLY or copy
            if len(kept) < 2 or kind is Kind.REFERENCE or (sheet_only and not kept & set(sheets)):
                continue
            norm = NORMAL_FORMS.get(kind, STAGED_TEXT_FORM).format(f=field)  # fields are identifiers
            shown = "copy" if copy else str(kind)
            where = " AND s.in_sheet" if sheet_only else ""
            selects.append(_values_part(field, shown, f"CAST(s.{ident(field)} AS VARCHAR)", norm) + where)
        for field in sorted(f for f, kept in extras.items() if len(kept) >= 2):
            value = f"json_extract_string(s.extra, {literal('$.' + json_key(field))})"
            selects.append(_values_part(field, "extra", value, TEXT_FORM.format(v=value)))
        sheet_mapped = any(n in systems for n in sheets)
        if not selects:
            continue
        records = f"clusters WHERE entity = {literal(entity)}"  # the entity's records, with canonical ids
        in_sheets = (
            f"SELECT canonical_id FROM {records} AND system IN ({', '.join(literal(n) for n in sheets)})"
        )
        in_sheet = f"c.canonical_id IN ({in_sheets})" if sheet_mapped else "false"
        # Held by two or more systems: the golden record names the systems it is built from (not
        # spreadsheets); a record a spreadsheet holds is counted among its cluster's few records
        # (grouping every record of the entity by its canonical id cost more than the rest).
        shared = f"SELECT canonical_id FROM {ident(entity)} WHERE len(systems) >= 2"
        if sheet_mapped:
            shared += (
                f" UNION ALL SELECT canonical_id FROM {records} AND canonical_id IN ({in_sheets})"
                " GROUP BY canonical_id HAVING min(system) <> max(system)"
            )
        parts.append(
            f"(WITH members AS MATERIALIZED (SELECT system, source_id, canonical_id FROM {records}"
            f" AND canonical_id IN ({shared})),"
            f" s AS MATERIALIZED (SELECT c.canonical_id, {in_sheet} AS in_sheet, t.* FROM staged_{entity} t"
            " JOIN members c ON c.system = t.system AND c.source_id = t.source_id)"
            f" SELECT {literal(entity)} AS entity, * FROM ({' UNION ALL '.join(selects)}))"
        )
    if not parts:
        return ("SELECT NULL::VARCHAR AS entity, NULL::VARCHAR AS canonical_id, NULL::VARCHAR AS system,"
                " NULL::VARCHAR AS source_id, NULL::VARCHAR AS field, NULL::VARCHAR AS kind,"
                " NULL::VARCHAR AS value, NULL::VARCHAR AS norm WHERE false")  # fmt: skip
    return " UNION ALL ".join(parts)


SAMPLE = 2048  # records of each system a mapped field is first looked for in


def _empty_fields(con: duckdb.DuckDBPyConnection, ws: Config, entities: list[str]) -> None:
    """The mapped fields a system leaves empty on every one of its records, with how many it has:
    `config.empty_fields`. A field is looked for in a system's first records, and only those none
    of them fills are counted over all: counting every value of every mapped field read as much
    of the warehouse as the job-to-cash checks together (75 MB on `large`)."""
    rows: list[tuple[object, ...]] = []
    for entity in entities:
        table = f"staged_{entity}"
        mapped = {
            system: [f for f in ENTITIES[entity].fields if f in mapping.fields]
            for system, mapping in ws.entities.get(entity, {}).items()
        }
        records = dict(con.execute(f"SELECT system, count(*) FROM {table} GROUP BY system").fetchall())
        held = [s for s in records if mapped.get(s)]
        if not held:
            continue
        samples = " UNION ALL ".join(
            f"SELECT {literal(s)}, [{', '.join(f'count({ident(f)})' for f in mapped[s])}]"
            f" FROM (SELECT * FROM {table} WHERE system = {literal(s)} LIMIT {SAMPLE})"
            for s in held
        )
        unseen = [
            (system, field)
            for system, filled in con.execute(samples).fetchall()
            for field, n in zip(mapped[system], filled, strict=True)
            if n == 0
        ]
        if not unseen:
            continue
        everywhere = ", ".join(f"count({ident(f)}) FILTER (WHERE system = {literal(s)})" for s, f in unseen)
        filled_anywhere = con.execute(f"SELECT {everywhere} FROM {table}").fetchall()[0]
        rows += [
            (entity, system, field, records[system])
            for (system, field), n in zip(unseen, filled_anywhere, strict=True)
            if n == 0
        ]
    _table(con, "empty_fields", "entity VARCHAR, system VARCHAR, field VARCHAR, records BIGINT", rows)


def json_key(name: str) -> str:
    return '"' + name.replace('"', '\\"') + '"'


def _values_part(field: str, kind: str, value: str, norm: str) -> str:
    return (
        f"SELECT s.canonical_id, s.system, s.source_id, {literal(field)} AS field, {literal(kind)} AS kind,"
        f" {value} AS value, {norm} AS norm FROM s WHERE {value} IS NOT NULL"
    )


def _sheet_columns(con: duckdb.DuckDBPyConnection, ws: Config) -> None:
    """Each spreadsheet column with how many rows fill it and whether a mapping reads it as a
    canonical field: a column only people fill in has no system behind it."""
    rows = []
    for name, system in ws.systems.items():
        if system.kind != "spreadsheet":
            continue
        for tbl in system.source.tables:
            relation = raw_table(name, tbl)
            if not table_exists(con, RAW_SCHEMA, f"{name}__{tbl}"):
                continue
            names = [c for c in columns(con, relation) if not c.startswith("_")]
            if not names:
                continue
            counts = con.execute(
                f"SELECT count(*), {', '.join(f'count({ident(c)})' for c in names)} FROM {relation}"
            ).fetchall()[0]
            rows += [(name, tbl, c, int(counts[i + 1]), int(counts[0])) for i, c in enumerate(names)]
    _table(con, "sheet_columns", "system VARCHAR, source_table VARCHAR, column_name VARCHAR, filled BIGINT, rows BIGINT",
           rows)  # fmt: skip


def _retired_matches(con: duckdb.DuckDBPyConnection, ws: Config, entities: list[str]) -> None:
    """Every id, reference and listed field of a current system that matches a retired system's
    `id_pattern`, as `config.retired_matches` (`how`: id, reference or field), read from every
    record. Each pattern is written into its query: a pattern read from a column is compiled again
    for every row."""
    con.execute(
        f"CREATE OR REPLACE TABLE {SCHEMA}.retired_matches (retired VARCHAR, how VARCHAR, entity VARCHAR,"
        " system VARCHAR, source_id VARCHAR, field VARCHAR, value VARCHAR)"
    )
    for r in ws.retired:
        if not r.id_pattern:
            continue
        pattern, name = literal(r.id_pattern), literal(r.system)
        carried = [
            f"SELECT {literal(how)} AS how, {literal(entity)} AS entity, system, source_id, {literal(field)} AS field,"
            f" {value} AS value FROM staged_{entity} WHERE source_id IS NOT NULL"
            for entity in entities
            for field, how, value in _carriers(ws, entity, r.fields)
        ]
        if carried:
            con.execute(
                f"INSERT INTO {SCHEMA}.retired_matches SELECT {name}, * FROM ({' UNION ALL '.join(carried)})"
                f" WHERE system <> {name} AND regexp_matches(value, {pattern})"
            )
        con.execute(
            f"INSERT INTO {SCHEMA}.retired_matches SELECT {name}, 'id', entity, system, source_id, 'id', source_id"
            f" FROM clusters WHERE system <> {name} AND regexp_matches(source_id, {pattern})"
        )


def _carriers(ws: Config, entity: str, listed: list[str]) -> list[tuple[str, str, str]]:
    """The fields of an entity that may carry a retired system's id, with how (`reference` or
    `field`, one the retirement lists as `entity.field`) and their value as text: every mapped
    reference, and the listed fields, canonical or extra."""
    mappings = ws.entities.get(entity, {}).values()
    mapped = {f for m in mappings for f in m.fields}
    extra = {f for m in mappings for f in m.extra}
    out = []
    for field in sorted(mapped | extra):
        kind = ENTITIES[entity].fields.get(field) if field in mapped else None
        reference = kind == Kind.REFERENCE and (entity, field) not in COPIES
        if not reference and f"{entity}.{field}" not in listed:
            continue
        value = (
            f"CAST({ident(field)} AS VARCHAR)"
            if field in mapped
            else f"json_extract_string(extra, {literal('$.' + json_key(field))})"
        )
        out.append((field, "reference" if reference else "field", value))
    return out


def _per_handoff(con: duckdb.DuckDBPyConnection, pairs: HandoffPairs) -> str:
    """The pairs' SQL for every handoff in use between their entities, one after another, each with
    its id and systems in place (with none: no rows). The id is an ENUM of those handoffs' ids: one
    byte a row where the text took 16 to 33 (50 MB of the two tables on `large`)."""
    handoffs = con.execute(
        f"SELECT id, from_system, to_system FROM {SCHEMA}.handoffs_in_use(?, ?) ORDER BY position",
        [pairs.source, pairs.target],
    ).fetchall()
    kind = _enum([h for h, _, _ in handoffs]) if handoffs else "VARCHAR"
    parts = []
    for handoff, from_system, to_system in handoffs or [(None, None, None)]:
        parts.append(
            pairs.sql.replace("__HANDOFF__", f"CAST({literal(handoff)} AS {kind})")
            .replace("__FROM__", literal(from_system))
            .replace("__TO__", literal(to_system))
        )
    return " UNION ALL ".join(f"({part})" for part in parts)


def _materialise(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> None:
    """A table checks read, computed once for all of them; temporary (in memory, spilling to disk
    when large), so it costs no write to the warehouse file: twice as fast on 5M field values."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")


def clear(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the shared temporary tables once the checks have run, before the step commits: kept,
    the commit merges them into the temporary database (3.5 s for 16M field values on `large`)."""
    for name in ("field_values", *SHARED):
        con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")


def _carried(carries: str | None) -> tuple[str | None, str | None]:
    """`deal->job` is a deal that becomes a job; `invoice` is an invoice copied as it is."""
    if not carries:
        return None, None
    source, _, target = (part.strip() for part in carries.partition("->"))
    return source, target or source


def _retired_on(retired: bool | date) -> date | None:
    if isinstance(retired, date):
        return retired
    return date.min if retired else None


def _table(con: duckdb.DuckDBPyConnection, name: str, schema: str, rows: Sequence[Sequence[object]]) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{name} ({schema})")
    if rows:  # one statement (a statement per row costs a millisecond each)
        marks = "(" + ", ".join("?" for _ in rows[0]) + ")"
        values = ", ".join(marks for _ in rows)
        con.execute(f"INSERT INTO {SCHEMA}.{name} VALUES {values}", [v for r in rows for v in r])
