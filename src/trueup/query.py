"""Read-only SQL over the warehouse, for `trueup sql` and later the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from trueup.errors import TrueupError
from trueup.warehouse import connect


class QueryError(TrueupError):
    """The query was refused or failed."""


def read_only_query(warehouse: Path, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run `query` on a read-only connection with no access to files or the network."""
    if not warehouse.exists():
        raise QueryError("the warehouse is empty: run `trueup run` first")
    with connect(warehouse, read_only=True) as con:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        try:
            cursor = con.execute(query)
        except duckdb.Error as exc:
            raise QueryError(str(exc).splitlines()[0]) from None
        if cursor.description is None:
            return [], []
        columns = [d[0] for d in cursor.description]
        return columns, cursor.fetchall()
