"""What every reader returns, and the metadata columns every raw row carries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from trueup.warehouse import from_columns

META_COLUMNS = ("_load_id", "_loaded_at", "_source", "_row")


def literal(value: object) -> str:
    """A SQL literal for a string or number (used for constants in generated SQL)."""
    if value is None:
        return "NULL"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class LoadMeta:
    """Where a load came from. Readers store only the file's own columns (and `_row` where it is
    not the position): the raw view adds these as constants, so no reader writes them per row."""

    load_id: str
    loaded_at: datetime
    source: str  # the file path relative to the workspace, or the SQL table / query


@dataclass(frozen=True)
class Quarantined:
    """One input row that could not be loaded, and why."""

    line: int | None
    reason: str
    column: str | None = None
    raw: str | None = None


@dataclass
class FileLoad:
    """What a reader loaded. With `row_offset` set, the table has no `_row` column: a record's
    line is `row_offset + rowid` (the table is written in file order and never changed), which
    spares a pass over a large file that has exactly one line per record."""

    rows: int = 0
    row_offset: int | None = None
    quarantined: list[Quarantined] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def create_from_columns(
    con: duckdb.DuckDBPyConnection, into: str, texts: dict[str, list[str | None]], rows: list[int]
) -> None:
    """Store rows a Python reader built (a sheet, a file read line by line) as the load's table: each
    column's text, and `_row`, the line of each (handed over as `from_columns` does)."""
    columns: dict[str, tuple[str, Sequence[object]]] = {
        name: ("VARCHAR", values) for name, values in texts.items()
    }
    select, params = from_columns({**columns, "_row": ("BIGINT", rows)})
    con.execute(f"CREATE TABLE {into} AS {select}", params)


def unique_names(labels: list[str | None], start: int = 1, taken: list[str] | None = None) -> list[str]:
    """Column names from a header: a blank label becomes `column_<n>`, a repeated one (ignoring
    case, as DuckDB does) gets `_2`, `_3`, and a leading underscore is prefixed with `col` so no
    source column can be taken for the loader's own (`_row`, `_source`, ...)."""
    seen = {t.lower() for t in taken or []}
    names = []
    for i, label in enumerate(labels, start=start):
        base = (label or "").strip().lstrip("\ufeff") or f"column_{i}"
        if base.startswith("_"):
            base = "col" + base
        name, n = base, 2
        while name.lower() in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name.lower())
        names.append(name)
    return names


RAW_TEXT_LIMIT = 2000  # quarantine keeps this much of a bad line; the file keeps the rest


def clip(text: str | None) -> str | None:
    if text is None or len(text) <= RAW_TEXT_LIMIT:
        return text
    return text[:RAW_TEXT_LIMIT] + f"… ({len(text) - RAW_TEXT_LIMIT} more characters)"
