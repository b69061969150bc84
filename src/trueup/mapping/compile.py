"""Compile the `entities` section into SQL: one SELECT per system mapping, unioned per entity.

The SQL is built as named pieces so that `trueup` can print it for a user, and each canonical
field's kind (see :mod:`trueup.model`) decides how its value is typed and normalised.
"""

from __future__ import annotations

import re

import duckdb

from trueup.config.models import EntityMapping, Workspace, id_space, zone_of
from trueup.ingest.base import literal
from trueup.mapping.normalize import MONTH_FIRST, SQL_MACROS, date_formats, number_symbols
from trueup.model import ENTITIES, Kind
from trueup.warehouse import ident, raw_table

SQL_TYPES = {Kind.MONEY: "DECIMAL(18,4)", Kind.TIMESTAMP: "TIMESTAMPTZ"}
COERCED = {Kind.MONEY: "not an amount", Kind.TIMESTAMP: "not a date or time"}


def timestamp_macro(ws: Workspace) -> str:
    """`trueup_ts(v, zone)`: a time as exported, as an instant; one without an offset is read in
    `zone` (a field's or a system's `timezone`, or the workspace's). A date alone (no clock time in
    the text: `2026-11-03`, `Nov 3, 2026`) is a day of the company's calendar, the workspace's,
    whatever zone the system's times are in: read in UTC, a due date would fall on the day before."""
    formats = "[" + ", ".join(literal(f) for f in date_formats(ws.country)) + "]"
    company = literal(ws.timezone)
    return (
        "CREATE OR REPLACE TEMP MACRO trueup_ts(v, zone) AS CASE"
        " WHEN nullif(trim(CAST(v AS VARCHAR)), '') IS NULL THEN NULL"
        " WHEN regexp_matches(trim(CAST(v AS VARCHAR)),"
        " '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{1,2}:\\d{2}.*(Z|[+-]\\d{2}(:?\\d{2})?)$')"
        " THEN TRY_CAST(trim(CAST(v AS VARCHAR)) AS TIMESTAMPTZ)"
        f" ELSE timezone(CASE WHEN zone = {company} OR regexp_matches(CAST(v AS VARCHAR), '\\d:\\d\\d') THEN zone"
        f" ELSE {company} END, COALESCE(TRY_CAST(trim(CAST(v AS VARCHAR)) AS TIMESTAMP),"
        f" try_strptime(trim(CAST(v AS VARCHAR)), {formats}))) END"
    )


def money_macros(ws: Workspace) -> list[str]:
    """`trueup_money(v)`: an amount as exported, as DECIMAL(18,4); NULL when it is not one. A number
    the source typed (JSON, Parquet, a sheet's number cell) is read from the digits it is written
    with. Text is read as the workspace's `country` writes amounts (`1,234.50` in the US, `1.234,50`
    in Germany, `1 234,50` in France), with a currency sign or code, a sign, or parentheses for a
    negative; a group separator only where it separates groups of digits (`12,50` is no amount in
    the US: dropping every comma made it 1250); and, where the decimal mark is a comma, as a program
    writes amounts too (`1234.50`), but for `1.234`, there a thousand and more."""
    decimal, group = number_symbols(ws.country)
    group = "'" if group == "\u2019" else group  # (Swiss groups: CLDR has had either apostrophe)
    d, g = re.escape(decimal), re.escape(group)
    grouped = f"^[-+]?[0-9]{{1,3}}({g}[0-9]{{2,3}})*{g}[0-9]{{3}}({d}[0-9]+)?$"
    # no group separator (and no point where the decimal mark is a comma): the cast judges the rest
    ungrouped = f"NOT contains(t, {literal(group)})" + ("" if decimal == "." else " AND NOT contains(t, '.')")
    program = " WHEN regexp_matches(t, '^[-+]?[0-9]+[.][0-9]+$') THEN t" if decimal != "." else ""
    # the digits of a text with currency, blanks and parentheses gone, in the form DECIMAL casts
    digits = (
        f"CREATE OR REPLACE TEMP MACRO trueup_digits(t) AS CASE WHEN {ungrouped} THEN replace(t, {literal(decimal)}, '.')"
        f" WHEN regexp_matches(t, {literal(grouped)}) THEN replace(replace(t, {literal(group)}, ''), {literal(decimal)}, '.')"
        f"{program} END"
    )
    text = "replace(upper(trim(CAST(v AS VARCHAR))), '\u2212', '-')"  # (a true minus sign, as some locales write)
    if group == "'":  # (Swiss groups, written with either apostrophe)
        text = f"replace({text}, '\u2019', '''')"
    stripped = f"regexp_replace({text}, '[\\s\u00a0\u202f$€£()]|USD|EUR|GBP|CAD|AUD|CHF', '', 'g')"
    money = (
        "CREATE OR REPLACE TEMP MACRO trueup_money(v) AS CASE"
        " WHEN typeof(v) <> 'VARCHAR' THEN TRY_CAST(CAST(v AS VARCHAR) AS DECIMAL(18,4))"
        " WHEN nullif(trim(CAST(v AS VARCHAR)), '') IS NULL THEN NULL"
        " ELSE TRY_CAST((CASE WHEN regexp_matches(trim(CAST(v AS VARCHAR)), '^\\(.*\\)$') THEN '-' ELSE '' END)"
        f" || trueup_digits({stripped}) AS DECIMAL(18,4)) END"
    )
    return [digits, money]


def install_macros(con: duckdb.DuckDBPyConnection, ws: Workspace) -> None:
    """The SQL macros mapping expressions are wrapped in (money, times, text, email and name keys)."""
    for macro in (*SQL_MACROS, *money_macros(ws), timestamp_macro(ws)):
        con.execute(macro)


def derived_columns(field: str, kind: Kind) -> list[tuple[str, str]]:
    """Normalised columns kept beside a field: (name, type)."""
    if kind in (Kind.NAME, Kind.ADDRESS):
        return [(f"{field}_key", "VARCHAR")]
    if kind is Kind.EMAIL:
        return [(f"{field}_norm", "VARCHAR")]
    if kind is Kind.PHONE:
        return [(f"{field}_e164", "VARCHAR")]
    if kind is Kind.STATUS:
        return [("state", "VARCHAR")]
    if kind is Kind.REFERENCE:
        return [(f"{field}_system", "VARCHAR"), (f"{field}_matches", "VARCHAR")]
    return []


def staged_columns(entity: str) -> list[tuple[str, str]]:
    """Every column of `staged_<entity>`, in order."""
    fields = ENTITIES[entity].fields
    out = [("system", "VARCHAR"), ("source_id", "VARCHAR")]
    out += [(f, SQL_TYPES.get(k, "VARCHAR")) for f, k in fields.items()]
    for field, kind in fields.items():
        out += derived_columns(field, kind)
    out += [
        ("extra", "JSON"),
        ("_source", "VARCHAR"),
        ("_row", "BIGINT"),
        ("_load_id", "VARCHAR"),
        ("_loaded_at", "TIMESTAMPTZ"),
    ]
    return out


def _raw(kind: Kind, expr: str) -> str:
    """A field's value as read: text, but for an amount, which a source that typed it (JSON,
    Parquet, a sheet's number cell) hands over as the number it is, never read the country's way
    (in Germany the text `1.234` is a thousand and more; the number 1.234 stays 1.234)."""
    return f"({expr})" if kind is Kind.MONEY else f"CAST(({expr}) AS VARCHAR)"


def _unread(ws: Workspace, kind: Kind) -> str:
    """Why a value is quarantined: not of its kind as the workspace's country writes it (a company
    that left `country` at US reads its German amounts and British dates here)."""
    if kind is Kind.MONEY:
        decimal, group = number_symbols(ws.country)
        written = f"amounts are written in {ws.country} (1{group}234{decimal}56)"
    else:
        day = "March 11" if ws.country in MONTH_FIRST else "3 November"
        written = f"dates are written in {ws.country} (03/11/2026 is {day})"
    written = written.replace("\u202f", " ").replace("\xa0", " ")
    return f"{COERCED[kind]} as {written}; `country` in trueup.yaml says where"


def _typed(kind: Kind, expr: str, zone: str) -> str:
    if kind is Kind.MONEY:
        return f"trueup_money({expr})"
    if kind is Kind.TIMESTAMP:
        return f"trueup_ts({expr}, {literal(zone)})"
    if kind in (Kind.POSTAL_CODE, Kind.COUNTRY):
        return f"upper(trueup_text({expr}))"
    return f"trueup_text({expr})"


def system_select(ws: Workspace, entity: str, system: str, mapping: EntityMapping) -> str:
    """The SELECT mapping one system's raw rows onto the entity, with `_bad` listing coercion failures.

    Phone and address normal forms and the canonical state are joined in afterwards (see
    :func:`staged_select`); here they are left NULL.
    """
    fields = ENTITIES[entity].fields
    inner = [f"{literal(system)} AS system", f"trueup_text(CAST(({mapping.id}) AS VARCHAR)) AS source_id"]
    outer = ["system", "source_id"]
    checks = [
        f"CASE WHEN source_id IS NULL THEN {{'column': 'id', 'raw': NULL, 'reason': "
        f"{literal('the record has no id (' + mapping.id + ')')}}} END"
    ]
    for field, kind in fields.items():
        column_type = SQL_TYPES.get(kind, "VARCHAR")
        if field not in mapping.fields:
            outer.append(f"NULL::{column_type} AS {ident(field)}")
            continue
        spec = mapping.field(field)
        raw = f"_in_{field}"
        zone = zone_of(ws, system, entity, field)  # the field's own, its system's or the workspace's
        inner.append(f"{_raw(kind, spec.expr)} AS {ident(raw)}")
        outer.append(f"{_typed(kind, ident(raw), zone)} AS {ident(field)}")
        if kind in COERCED:
            text = f"CAST({ident(raw)} AS VARCHAR)"
            checks.append(
                f"CASE WHEN nullif(trim({text}), '') IS NOT NULL AND {_typed(kind, ident(raw), zone)} IS NULL"
                f" THEN {{'column': {literal(field)}, 'raw': {text}, 'reason': {literal(_unread(ws, kind))}}} END"
            )
    for field, kind in fields.items():
        mapped = field in mapping.fields
        if kind in (Kind.NAME, Kind.ADDRESS):
            key = "trueup_name_key" if kind is Kind.NAME else "trueup_address_key"
            outer.append(
                f"{key}({ident('_in_' + field)}) AS {ident(field + '_key')}"
                if mapped
                else f"NULL::VARCHAR AS {ident(field + '_key')}"
            )
        elif kind is Kind.EMAIL:
            outer.append(
                f"trueup_email({ident('_in_' + field)}) AS {ident(field + '_norm')}"
                if mapped
                else f"NULL::VARCHAR AS {ident(field + '_norm')}"
            )
        elif kind is Kind.REFERENCE:
            space = id_space(ws, system, field, mapping.field(field).system) if mapped else None
            matches = mapping.field(field).matches if mapped else None
            outer.append(f"{literal(space) if mapped else 'NULL'}::VARCHAR AS {ident(field + '_system')}")
            outer.append(f"{literal(matches) if mapped else 'NULL'}::VARCHAR AS {ident(field + '_matches')}")
        else:
            for name, column_type in derived_columns(field, kind):
                outer.append(f"NULL::{column_type} AS {ident(name)}")
    if mapping.extra:
        pairs = ", ".join(f"{literal(k)}, CAST(({v}) AS VARCHAR)" for k, v in mapping.extra.items())
        inner.append(f"json_object({pairs}) AS _extra")
        outer.append("_extra AS extra")
    else:
        outer.append("NULL::JSON AS extra")
    inner += ["_source", "_row", "_load_id", "_loaded_at"]
    outer += ["_source", "_row", "_load_id", "_loaded_at", f"{literal(mapping.from_)} AS _table"]
    outer.append(f"list_filter([{', '.join(checks)}], lambda x: x IS NOT NULL) AS _bad")
    where = f" WHERE ({mapping.where})" if mapping.where else ""
    return (
        f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} "
        f"FROM {raw_table(system, mapping.from_)} AS r{where})"
    )


def mapped_select(ws: Workspace, entity: str, systems: list[str] | None = None) -> str:
    """All systems' rows for `entity`, before normal forms are joined (a named CTE per system)."""
    mappings = {s: m for s, m in ws.entities.get(entity, {}).items() if systems is None or s in systems}
    if not mappings:
        columns = ", ".join(f"NULL::{t} AS {ident(c)}" for c, t in staged_columns(entity))
        return (
            f"SELECT {columns}, NULL::VARCHAR AS _table,"
            f' []::STRUCT("column" VARCHAR, raw VARCHAR, reason VARCHAR)[] AS _bad WHERE false'
        )
    ctes = ",\n".join(
        f"{ident('from_' + s)} AS (\n  {system_select(ws, entity, s, m)}\n)" for s, m in mappings.items()
    )
    union = "\nUNION ALL BY NAME\n".join(f"SELECT * FROM {ident('from_' + s)}" for s in mappings)
    return f"WITH {ctes}\n{union}"


def staged_select(entity: str, mapped: str) -> str:
    """Join the normal forms and canonical states onto the mapped rows that passed every check."""
    fields = ENTITIES[entity].fields
    joins, replaced = [], {}
    for field, kind in fields.items():
        if kind is Kind.PHONE:
            alias = ident("p_" + field)
            joins.append(f"LEFT JOIN _norm_phone {alias} ON {alias}.raw = m.{ident(field)}")
            replaced[f"{field}_e164"] = f"{alias}.norm"
        elif kind is Kind.STATUS:
            joins.append(
                f"LEFT JOIN _status_map sm ON sm.entity = {literal(entity)} AND sm.system = m.system "
                f"AND sm.value_key = lower(trim(m.status))"
            )
            replaced["state"] = "sm.state"
    columns = [
        f"{replaced[c]}::{t} AS {ident(c)}" if c in replaced else f"m.{ident(c)}"
        for c, t in staged_columns(entity)
    ]
    return f"SELECT {', '.join(columns)} FROM {mapped} m {' '.join(joins)} WHERE len(m._bad) = 0"
