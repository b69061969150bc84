"""Parquet files: typed already, read by DuckDB as they are."""

from __future__ import annotations

from pathlib import Path

import duckdb

from trueup.config.models import FileTable
from trueup.errors import SourceError
from trueup.ingest.base import FileLoad, LoadMeta, literal


def read(
    con: duckdb.DuckDBPyConnection, path: Path, spec: FileTable, into: str, meta: LoadMeta, scratch: Path
) -> FileLoad:
    try:
        con.execute(f"CREATE TABLE {into} AS SELECT * FROM read_parquet({literal(str(path))})")
    except duckdb.Error as exc:
        raise SourceError(f"{meta.source}: not a readable Parquet file: {str(exc).splitlines()[0]}") from None
    rows = con.execute(f"SELECT count(*) FROM {into}").fetchone()[0]  # type: ignore[index]
    return FileLoad(rows=rows, row_offset=1)  # record numbers are 1 + rowid: see FileLoad
