"""The analytic store: one DuckDB file per workspace, and the names of the tables in it.

Every step reads and writes the warehouse through :func:`connect`; table names are built here so
that no other module spells them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb

from trueup.errors import WarehouseBusy

RAW_SCHEMA = "raw"  # one view per system table: the union of its loaded files
FILES_SCHEMA = "raw_files"  # one immutable table per loaded file (content-addressed)


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def raw_table(system: str, table: str) -> str:
    return f"{RAW_SCHEMA}.{ident(f'{system}__{table}')}"


def staged_table(entity: str) -> str:
    return ident(f"staged_{entity}")


@contextlib.contextmanager
def connect(
    path: Path, read_only: bool = False, timezone: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse; a lock held by another process is a transient, retryable error."""
    if read_only and not path.exists():
        con = duckdb.connect(":memory:")
    else:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WarehouseBusy(
                    f"another trueup process is using {path}; wait for it to finish and try again"
                ) from None
            raise
    try:
        con.execute("SET enable_progress_bar = false")  # trueup draws its own progress
        if timezone:  # times are handed to Python in this zone
            con.execute("SET TimeZone = ?", [timezone])
        if not read_only:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {FILES_SCHEMA}")
        yield con
    finally:
        con.close()


def relations(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    """The tables and views of a schema (one query, where asking about each costs one each)."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?"
        " UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = ?",
        [schema, schema],
    ).fetchall()
    return {r[0] for r in rows}


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?"
        " UNION ALL SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
        [schema, name, schema, name],
    ).fetchall()
    return sum(r[0] for r in row) > 0


def columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column name to DuckDB type of a table, view or query."""
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE {relation}").fetchall()}


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> Any:
    """The first column of the first row of a query (None when there is no row)."""
    rows = con.execute(sql, params or []).fetchall()  # fetchall: a half-read result blocks the next statement
    return rows[0][0] if rows else None


def from_columns(columns: dict[str, tuple[str, Sequence[Any]]]) -> tuple[str, list[list[Any]]]:
    """A SELECT of Python values and its parameters: `columns` maps each column to its DuckDB type
    and its values, one list per column, all of one length. Handed over as list parameters, not as
    an Arrow table: pyarrow's first array from Python values imports pandas, a quarter of a second
    that a small workspace's whole run would notice."""
    select = ", ".join(f"unnest(?::{kind}[]) AS {ident(column)}" for column, (kind, _) in columns.items())
    return f"SELECT {select}", [list(values) for _, values in columns.values()]


def temp_table(
    con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, tuple[str, Sequence[Any]]]
) -> None:
    """Python values as a temporary table (see `from_columns`)."""
    select, params = from_columns(columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ident(name)} AS {select}", params)
