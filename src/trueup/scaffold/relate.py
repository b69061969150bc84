"""Guesses across tables: references between them, status vocabularies and owners."""

from __future__ import annotations

import re

import duckdb

from trueup.model import ENTITIES, is_reference
from trueup.scaffold import vocab
from trueup.scaffold.guess import NOT_REFERENCES, STATUS_LIMIT, Sampler, text
from trueup.scaffold.plan import Column, Guess, Plan, Table

CONTAINED = 0.8  # share of a column's distinct values found among the target's ids
CONTAINED_IF_NAMED = 0.5  # ... when the column is also named like the reference


def references(sampler: Sampler, plan: Plan) -> None:
    """A column whose values are mostly another table's ids refers to that table's entity."""
    for table in plan.tables():
        if not table.mapped:
            continue
        assert table.entity
        for field in (f for f in ENTITIES[table.entity].fields if is_reference(f)):
            targets = [t for t in plan.mappers(field) if t is not table]
            if targets:
                _reference(sampler, plan, table, field, targets)


def _reference(sampler: Sampler, plan: Plan, table: Table, field: str, targets: list[Table]) -> None:
    named = table.fields.get(field)
    best: tuple[tuple[float, int, int, int], Column, Table, str, float] | None = None
    for col in table.columns:
        if table.id and col.expr == table.id.expr:
            continue
        if col.expr in table.used and (named is None or named.expr != col.expr):
            continue
        if not _worth_testing(sampler, table, col):
            continue
        is_named = named is not None and named.expr == col.expr
        for target in targets:
            for target_expr, matches in _target_keys(target):
                share = _containment(sampler.con, table, col, target, target_expr)
                if share < (CONTAINED_IF_NAMED if is_named else CONTAINED):
                    continue
                spreadsheet = plan.system(target.system).kind == "spreadsheet"
                score = (share, int(target.system == table.system), int(not spreadsheet), int(is_named))
                if best is None or score > best[0]:
                    best = (score, col, target, matches, share)
    if best is None:
        if named is not None:
            where = ", ".join(f"{t.system}.{t.name}" for t in targets)
            named.note = f"check: named like a {field} reference, but its values are not ids of {where}"
        return
    _, col, target, matches, share = best
    if named is not None:
        table.used.discard(named.expr)
    what = "numbers" if matches == "number" else "ids"
    note = f"{share:.0%} of its values are {field} {what} of {target.system}.{target.name}"
    same = target.system == table.system
    table.fields[field] = Guess(
        col.expr, note, check=share < 0.95, system=None if same else target.system, matches=matches
    )
    table.used.add(col.expr)


def _target_keys(target: Table) -> list[tuple[str, str]]:
    assert target.id
    keys = [(target.id.expr, "id")]
    number = target.fields.get("number")
    if number is not None and number.expr != target.id.expr:
        keys.append((number.expr, "number"))
    return keys


def _worth_testing(sampler: Sampler, table: Table, col: Column) -> bool:
    """Text or integer values that are named like a key or are not plain numbers."""
    if col.type.upper().startswith(NOT_REFERENCES):
        return False
    stats = sampler.stats(table, col.expr)
    if not stats.values or stats.emails:
        return False
    hinted = any(word in vocab.REFERENCE_HINTS for word in col.key.split("_"))
    return hinted or stats.digits < stats.values


def _containment(
    con: duckdb.DuckDBPyConnection, table: Table, col: Column, target: Table, expr: str
) -> float:
    row = con.execute(
        f"SELECT count(DISTINCT v), count(DISTINCT v) FILTER (WHERE v IN"
        f" (SELECT {text(expr)} FROM {target.sample} AS r))"
        f" FROM (SELECT {text(col.expr)} AS v FROM {table.sample} AS r) WHERE v IS NOT NULL"
    ).fetchall()[0]
    return row[1] / row[0] if row[0] else 0.0


# --- statuses --------------------------------------------------------------------------------


def statuses(sampler: Sampler, table: Table) -> None:
    """The distinct status values of a mapped table, each with a canonical state where one is clear."""
    status = table.fields.get("status")
    if status is None or table.entity is None:
        return
    rows = sampler.con.execute(
        f"SELECT v, count(*) AS n FROM (SELECT {text(status.expr)} AS v FROM {table.sample} AS r)"
        f" WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT {STATUS_LIMIT}"
    ).fetchall()
    # The map step matches values ignoring case and outer spaces: list each such value once.
    spellings: dict[str, str] = {}
    for value, _ in rows:
        spellings.setdefault(str(value).strip().lower(), str(value))
    for key in sorted(spellings):
        table.statuses[spellings[key]] = state_of(table.entity, spellings[key])


def _compact(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", value.lower())


def state_of(entity: str, value: str) -> tuple[str | None, bool]:
    """(state, sure): sure when the value is a known word for the state, unsure when it only contains one."""
    words_of = vocab.STATE_WORDS.get(entity, {})
    compact = _compact(value)
    for state, phrases in words_of.items():
        if any(compact == _compact(p) for p in phrases):
            return state, True
    words = re.findall(r"[a-z0-9]+", value.lower())
    if set(words) & vocab.NEGATIONS:
        return None, False
    hits: list[tuple[int, str]] = []
    for state, phrases in words_of.items():
        for phrase in phrases:
            part = phrase.split()
            if any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1)):
                hits.append((len(phrase), state))
    if not hits:
        return None, False
    longest = max(h[0] for h in hits)
    states = {s for n, s in hits if n == longest}
    return (states.pop(), False) if len(states) == 1 else (None, False)


# --- ownership -------------------------------------------------------------------------------


def ownership(plan: Plan) -> None:
    """Each mapped entity's owner: the system of the preferred role, never a sheet if avoidable."""
    for entity in ENTITIES:
        systems = [s for s in plan.systems if plan.mapping(entity, s.name)]
        if not systems:
            continue
        candidates = [s for s in systems if s.kind != "spreadsheet"] or systems
        for role in vocab.OWNER_ROLES[entity]:
            chosen = next((s for s in candidates if s.role == role), None)
            if chosen:
                why = f"the {role} system usually owns {entity} facts"
                break
        else:
            chosen = candidates[0]
            why = "the first system that maps it"
        others = [s.name for s in systems if s is not chosen]
        if others:
            why += "; also mapped by " + ", ".join(others)
        plan.ownership[entity] = (chosen.name, why)
