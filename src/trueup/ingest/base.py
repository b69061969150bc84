"""What every reader returns, and the metadata columns every raw row carries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from trueup.warehouse import from_columns, ident, temp_table

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
    # Without `row_offset`, the column holding each record's line: `_row`, or another name where
    # the source has a `_row` of its own (see `row_column`; `own_names` gives it the loader's name).
    numbers: str = "_row"


def numbered(base: str, taken: set[str]) -> str:
    """`base`, or `base_2`, `base_3`, ... the first no name in `taken` (lower case) is, ignoring case
    as DuckDB does; it is added to `taken`."""
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name.lower())
    return name


def row_column(names: Iterable[str]) -> str:
    """The column for a reader's record numbers: `_row`, or `_row_2`, `_row_3`, ... where the source
    has a column of that name, in any case (`own_names` then sorts the names out)."""
    return numbered("_row", {name.lower() for name in names})


def store_lines(con: duckdb.DuckDBPyConnection, into: str, lines: Sequence[int]) -> str:
    """Store each record's line (`lines`, in the table's order) in a new column of `into`, named by
    `row_column`; returns its name.

    rowid follows the record's position: the table was written in file order and never changed.
    Inside the load's transaction rowids start at a transaction-local base, so the position is
    counted from the smallest one."""
    column = row_column(row[0] for row in con.execute(f"DESCRIBE {into}").fetchall())
    temp_table(con, "_lines", {"_pos": ("BIGINT", range(len(lines))), "_line": ("BIGINT", lines)})
    con.execute(f"ALTER TABLE {into} ADD COLUMN {column} BIGINT")
    base = con.execute(f"SELECT min(rowid) FROM {into}").fetchall()[0][0] or 0
    con.execute(
        f"UPDATE {into} SET {column} = _lines._line FROM _lines WHERE {into}.rowid - {base} = _lines._pos"
    )
    con.execute("DROP TABLE _lines")  # (a failed load's is replaced by the next: see temp_table)
    return column


def own_names(con: duckdb.DuckDBPyConnection, into: str, load: FileLoad, source: str) -> None:
    """Keep the loader's names (`META_COLUMNS`) for the loader: a source column named as one of them,
    in any case, is renamed `col_<name>` as a CSV header's is (numbered on when that is taken too),
    with a note; then the reader's record numbers, when it stored them, are named `_row`."""
    names = [row[0] for row in con.execute(f"DESCRIBE {into}").fetchall()]
    ours = None if load.row_offset is not None else load.numbers
    taken = {name.lower() for name in names}
    for name in names:
        if name == ours or name.lower() not in META_COLUMNS:
            continue
        renamed = numbered("col" + name, taken)
        con.execute(f"ALTER TABLE {into} RENAME COLUMN {ident(name)} TO {ident(renamed)}")
        load.notes.append(
            f"{source}: its column {name} is loaded as {renamed} ({name.lower()} is what trueup adds to every row)"
        )
    if ours and ours != "_row":
        con.execute(f"ALTER TABLE {into} RENAME COLUMN {ident(ours)} TO _row")


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
        names.append(numbered("col" + base if base.startswith("_") else base, seen))
    return names


RAW_TEXT_LIMIT = 2000  # quarantine keeps this much of a bad line; the file keeps the rest


def clip(text: str | None) -> str | None:
    if text is None or len(text) <= RAW_TEXT_LIMIT:
        return text
    return text[:RAW_TEXT_LIMIT] + f"… ({len(text) - RAW_TEXT_LIMIT} more characters)"
