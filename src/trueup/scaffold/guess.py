"""Guesses over the sampled tables: vendor, entity, id, fields, references, statuses and owners.

Each guess is a lookup in :mod:`trueup.scaffold.vocab`, confirmed (or refused) by the values:
an email field must mostly hold emails, an amount must read as money in every sampled row (else
the run would quarantine the row), a reference must point at ids that exist in another table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from trueup.config.models import Workspace as Config
from trueup.mapping.compile import install_macros as install_mapping_macros
from trueup.model import ENTITIES, Kind
from trueup.scaffold import vocab
from trueup.scaffold.plan import Column, Guess, Plan, System, Table, plural

EMAIL_RE = r"[^@\s]+@[^@\s]+\.[^@\s]+"
PHONE_RE = r"\+?[0-9 ().-]{7,24}"
# An amount (as the map step reads it) written like money: with cents, or a currency sign.
MONEY_LIKE_RE = r"[$€£]|[.,][0-9]{1,2}\s?[$€£]?\)?$"
STATUS_LIMIT = 40  # more distinct values than this is not a status
NOT_REFERENCES = ("DOUBLE", "FLOAT", "DECIMAL", "DATE", "TIME", "BOOLEAN", "STRUCT", "[]")


def install_macros(con: duckdb.DuckDBPyConnection, country: str = "US") -> None:
    """The same value readers the map step uses, so a guess that reads here reads in a run."""
    install_mapping_macros(con, Config(name="init", systems={}, country=country))


def text(expr: str) -> str:
    return f"trueup_text(CAST(({expr}) AS VARCHAR))"


@dataclass(frozen=True)
class Stats:
    values: int
    distinct: int
    emails: int
    phones: int
    money: int
    times: int
    amounts: int
    digits: int

    def share(self, count: int) -> float:
        return count / self.values if self.values else 0.0


class Sampler:
    """Value statistics of a table's columns, computed once each."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.cache: dict[tuple[str, str], Stats] = {}

    def stats(self, table: Table, expr: str) -> Stats:
        key = (table.sample, expr)
        if key not in self.cache:
            row = self.con.execute(
                "SELECT count(v), count(DISTINCT v),"
                f" count(v) FILTER (WHERE regexp_full_match(v, '{EMAIL_RE}')),"
                f" count(v) FILTER (WHERE regexp_full_match(v, '{PHONE_RE}')"
                "   AND length(regexp_replace(v, '[^0-9]', '', 'g')) BETWEEN 10 AND 15),"
                " count(v) FILTER (WHERE trueup_money(v) IS NOT NULL),"
                " count(v) FILTER (WHERE trueup_ts(v, 'UTC') IS NOT NULL),"
                f" count(v) FILTER (WHERE trueup_money(v) IS NOT NULL AND regexp_matches(v, '{MONEY_LIKE_RE}')),"
                " count(v) FILTER (WHERE regexp_full_match(v, '[0-9]+'))"
                f" FROM (SELECT {text(expr)} AS v FROM (SELECT * FROM {table.sample} LIMIT 5000) AS r)"
            ).fetchall()[0]  # fetchall: DuckDB refuses other work while a result is unfinished
            self.cache[key] = Stats(*row)
        return self.cache[key]

    def binds(self, table: Table, expr: str) -> bool:
        try:
            self.con.execute(f"SELECT ({expr}) FROM {table.sample} AS r LIMIT 0")
        except duckdb.Error:
            return False
        return True


# --- systems ---------------------------------------------------------------------------------


def vendor(system: System) -> None:
    """Label and role of a system from the first vendor signature its tables or name match."""
    words = set(system.name.split("_")) | {system.name.replace("_", "")}
    for sig in vocab.VENDORS:
        hit = (
            (sig.columns and any(sig.columns <= {c.key for c in t.columns} for t in system.tables))
            or (sig.records and any((t.records or "").startswith(sig.records) for t in system.tables))
            or (sig.names and words & set(sig.names))
        )
        if hit:
            system.label, system.role = sig.label, sig.role
            system.label_note = f"recognised from {sig.evidence()}"
            break
    else:
        name = system.folder.name.replace("_", " ").strip()
        system.label = (
            name.upper() if name.lower() in vocab.ACRONYMS else name[:1].upper() + name[1:]
        ) or system.name
        system.label_note = "from the folder name"
        system.role = next((role for role, found in vocab.ROLE_WORDS.items() if words & set(found)), None)
    if system.tables and all(t.sheet for t in system.tables):
        system.kind = "spreadsheet"


# --- entities and ids ------------------------------------------------------------------------


def entity(table: Table) -> None:
    """The canonical entity a table holds: from its name, else from telling columns."""
    padded = f"_{table.name}_"
    named = [(len(w), e, w) for e, words in vocab.TABLE_WORDS.items() for w in words if f"_{w}_" in padded]
    if named:
        _, table.entity, word = max(named, key=lambda n: n[0])
        table.entity_note = f"the table name (`{word}`)"
        return
    keys = {c.key for c in table.columns}
    best: tuple[int, str, list[str]] | None = None
    for name, telling_words in vocab.TELLING_COLUMNS.items():
        telling = sorted(keys & set(telling_words))
        if not telling:
            continue
        named_fields = sum(1 for names in vocab.SYNONYMS[name].values() if keys & set(names))
        score = 2 * len(telling) + named_fields
        if score >= 3 and (best is None or score > best[0]):
            best = (score, name, telling)
    if best:
        table.entity = best[1]
        table.entity_note = "check: columns such as " + ", ".join(best[2][:3])


def one_table_per_entity(plan: Plan) -> None:
    """A system maps an entity from one table: keep the one named for it, then the largest."""
    for system in plan.systems:
        for name in ENTITIES:
            tables = [t for t in system.tables if t.entity == name]
            if len(tables) < 2:
                continue
            tables.sort(key=lambda t: (t.entity_note.startswith("check"), -t.rows))
            for other in tables[1:]:
                other.notes.append(f"also looks like {name} data, but `{tables[0].name}` maps {name} here")
                other.entity = None


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def id_rank(key: str, entity_name: str, table_name: str) -> int | None:
    words = {
        "e": [entity_name],
        "t": [_singular(table_name)],
        "a": list(vocab.ENTITY_ABBREVIATIONS[entity_name]),
    }
    for rank, patterns in enumerate(vocab.ID_PATTERNS):
        for pattern in patterns:
            if "{" not in pattern:
                if key == pattern:
                    return rank
                continue
            slot = pattern[1]
            if any(key == pattern.replace("{" + slot + "}", w) for w in words[slot]):
                return rank
    if key.endswith("_id"):
        return len(vocab.ID_PATTERNS)
    if re.search(r"_(number|no|num)$", key):
        return len(vocab.ID_PATTERNS) + 1
    return None


def identify(sampler: Sampler, con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """The id: the best-named column whose sampled values are unique and never empty."""
    assert table.entity
    ranked = sorted(
        (rank, pos, col)
        for pos, col in enumerate(table.columns)
        if not col.in_list and (rank := id_rank(col.key, table.entity, table.name)) is not None
    )
    for rank, _, col in ranked:
        if table.rows == 0 and rank < len(vocab.ID_PATTERNS):
            table.id = Guess(col.expr, "check: named like an id; the file has no rows to confirm it")
            break
        if _unique(con, table, col):
            table.id = Guess(col.expr, f"unique in all {plural(table.rows, 'row')} sampled", check=rank > 2)
            break
    else:
        for col in table.columns:
            if (
                not col.in_list
                and table.rows
                and not col.type.startswith(("DOUBLE", "FLOAT"))
                and _unique(con, table, col)
            ):
                table.id = Guess(
                    col.expr,
                    f"check: no column is named like an id; `{col.label}` is unique"
                    f" in all {plural(table.rows, 'row')} sampled",
                )
                break
    if table.id:
        table.used.add(table.id.expr)
    else:
        table.notes.append(f"not mapped as {table.entity}: no column has a unique value in every row")


def _unique(con: duckdb.DuckDBPyConnection, table: Table, col: Column) -> bool:
    row = con.execute(
        f"SELECT count(*), count(DISTINCT v), count(*) FILTER (WHERE v IS NULL)"
        f" FROM (SELECT {text(col.expr)} AS v FROM {table.sample} AS r)"
    ).fetchall()[0]
    return bool(row[0]) and row[0] == row[1] and row[2] == 0


# --- fields ----------------------------------------------------------------------------------


def _name_score(key: str, names: tuple[str, ...]) -> int:
    if key in names:
        return 3
    for name in names:
        if ("_" in name or name not in vocab.GENERIC_WORDS) and key.endswith("_" + name):
            return 2
    return 0


def fields(sampler: Sampler, table: Table) -> None:
    """Canonical fields from column names (synonyms) and values (emails, phones, amounts)."""
    assert table.entity and table.id
    canonical = ENTITIES[table.entity].fields
    found: list[tuple[int, int, str, Column, str]] = []
    for pos, col in enumerate(table.columns):
        for field, names in vocab.SYNONYMS[table.entity].items():
            score = _name_score(col.key, names)
            if score:
                found.append((score, pos, field, col, "the column name"))
    for pos, col in enumerate(table.columns):
        if col.in_list or re.search(r"(^|_)(id|number|no|num|key)$", col.key):
            continue
        stats = sampler.stats(table, col.expr)
        for kind, count, what in ((Kind.EMAIL, stats.emails, "emails"), (Kind.PHONE, stats.phones, "phones")):
            if stats.values and stats.share(count) >= 0.8:
                for field in (f for f, k in canonical.items() if k is kind):
                    found.append((1, pos, field, col, f"{stats.share(count):.0%} of values look like {what}"))
    for score, _, field, col, why in sorted(found, key=lambda f: (-f[0], f[1])):
        if field in table.fields or (col.expr in table.used and not _also_number(table, field, col)):
            continue
        if (col.in_list and canonical[field] is not Kind.REFERENCE) or not sampler.binds(table, col.expr):
            continue
        verdict = _values_fit(sampler, table, col, canonical[field])
        if verdict is None:
            if score > 1:
                table.notes.append(f"`{col.label}` is named like {field} but {_refusal(canonical[field])}")
            continue
        table.fields[field] = Guess(col.expr, f"{why}; {verdict}" if verdict else why, check=score < 3)
        table.used.add(col.expr)
    _amount_by_values(sampler, table)
    _derived(table)


def _also_number(table: Table, field: str, col: Column) -> bool:
    """The id column may also be the record's number (job_number is both)."""
    return field == "number" and table.id is not None and table.id.expr == col.expr


def _values_fit(sampler: Sampler, table: Table, col: Column, kind: Kind) -> str | None:
    """Why the sampled values fit a field of `kind` ("" when nothing to add), or None if they do not."""
    stats = sampler.stats(table, col.expr)
    if not stats.values:
        return "no values in the sample"
    if kind is Kind.EMAIL:
        return (
            f"{stats.share(stats.emails):.0%} of values look like emails"
            if stats.share(stats.emails) >= 0.5
            else None
        )
    if kind is Kind.PHONE:
        return (
            f"{stats.share(stats.phones):.0%} of values look like phone numbers"
            if stats.share(stats.phones) >= 0.5
            else None
        )
    if kind is Kind.MONEY:
        return (
            f"{plural(stats.values, 'value')} sampled, all read as amounts"
            if stats.money == stats.values
            else None
        )
    if kind is Kind.TIMESTAMP:
        return (
            f"{plural(stats.values, 'value')} sampled, all read as dates"
            if stats.times == stats.values
            else None
        )
    if kind is Kind.STATUS:
        return plural(stats.distinct, "distinct value") if stats.distinct <= STATUS_LIMIT else None
    if kind is Kind.REFERENCE:
        return "" if not col.type.upper().startswith(NOT_REFERENCES) else None
    if kind in (Kind.NAME, Kind.TEXT) and stats.share(stats.emails) > 0.5:
        return None
    return ""


def _refusal(kind: Kind) -> str:
    return {
        Kind.EMAIL: "its values are not emails",
        Kind.PHONE: "its values are not phone numbers",
        Kind.MONEY: "some values do not read as amounts as `country` writes them (the run would quarantine"
        " those rows)",
        Kind.TIMESTAMP: "some values do not read as dates (the run would quarantine those rows; `country` says"
        " whether 03/11 is month or day first)",
        Kind.STATUS: f"it has more than {STATUS_LIMIT} distinct values",
    }.get(kind, "its values do not fit")


def _amount_by_values(sampler: Sampler, table: Table) -> None:
    """With no column named like an amount, the one column of money-looking values is it."""
    assert table.entity
    if "amount" not in ENTITIES[table.entity].fields or "amount" in table.fields:
        return
    money = []
    for col in table.columns:
        if col.in_list or col.expr in table.used:
            continue
        stats = sampler.stats(table, col.expr)
        if stats.values and stats.money == stats.values and stats.share(stats.amounts) >= 0.8:
            money.append(col)
    if len(money) == 1:
        table.fields["amount"] = Guess(money[0].expr, "check: the only column of money-looking values")
        table.used.add(money[0].expr)


def _derived(table: Table) -> None:
    """Fields built from more than one column, or from the table itself."""
    assert table.entity
    keys = {c.key: c for c in table.columns if not c.in_list}
    if table.entity == "customer" and "name" not in table.fields:
        first = keys.get("firstname") or keys.get("first_name")
        last = keys.get("lastname") or keys.get("last_name")
        if first and last:
            table.fields["name"] = Guess(
                f"concat_ws(' ', {first.expr}, {last.expr})", "check: first and last name joined"
            )
            table.used |= {first.expr, last.expr}
    if table.entity == "interaction" and "kind" not in table.fields:
        kind = next(
            (k for w, k in vocab.INTERACTION_TABLE_KINDS.items() if f"_{w}_" in f"_{table.name}_"), None
        )
        if kind:
            table.fields["kind"] = Guess(f"'{kind}'", f"check: every row of `{table.name}` is a {kind}")
