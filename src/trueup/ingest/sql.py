"""SQL databases: any SQLAlchemy URL, a table or a query, streamed in Arrow batches into DuckDB.

DuckDB 2.0 ships no postgres or sqlite scanner offline, so rows come through SQLAlchemy with a
server-side cursor and are handed to DuckDB one Arrow batch at a time. A digest of the batches
tells whether the result changed since the last load.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa

from trueup.config.models import SqlTable
from trueup.database import engine_url
from trueup.errors import SourceError, TransientError
from trueup.ingest.base import FileLoad, LoadMeta, row_column
from trueup.warehouse import ident

PLAIN = (str, int, float, bool, datetime, date, time, timedelta, bytes)


def describe(spec: SqlTable) -> str:
    if spec.query:
        return " ".join(spec.query.split())
    return f"{spec.schema_ + '.' if spec.schema_ else ''}{spec.table}"


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, PLAIN):
        return value
    if isinstance(value, Decimal):
        # Exact text, as the database printed it: a DECIMAL type inferred per batch would overflow
        # or round when a later batch carries more digits. The map step types money exactly.
        return format(value, "f")
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def batches(url: str, spec: SqlTable) -> Iterator[pa.Table]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

    engine = create_engine(engine_url(url))
    try:
        with engine.connect() as conn:
            if spec.query:
                statement = text(spec.query)
            else:
                prep = engine.dialect.identifier_preparer
                name = prep.quote(spec.table or "")
                statement = text(
                    f"SELECT * FROM {prep.quote_schema(spec.schema_) + '.' if spec.schema_ else ''}{name}"
                )
            result = conn.execution_options(stream_results=True, yield_per=spec.batch_size).execute(statement)
            keys = list(result.keys())
            for rows in result.partitions(spec.batch_size):
                yield _arrow(keys, rows)
    except OperationalError as exc:
        raise TransientError(f"cannot reach the database for {describe(spec)}: {exc.orig}") from None
    except (DBAPIError, SQLAlchemyError) as exc:
        reason = getattr(exc, "orig", None) or exc
        raise SourceError(f"cannot read {describe(spec)}: {str(reason).strip().splitlines()[0]}") from None
    finally:
        engine.dispose()


def _arrow(keys: list[str], rows: Sequence[Sequence[Any]]) -> pa.Table:
    columns: dict[str, pa.Array] = {}
    for i, key in enumerate(keys):
        values = [_plain(row[i]) for row in rows]
        try:
            columns[key] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[key] = pa.array([None if v is None else str(v) for v in values], pa.string())
        if pa.types.is_null(columns[key].type):
            columns[key] = columns[key].cast(pa.string())
    return pa.table(columns)


def read(
    con: duckdb.DuckDBPyConnection, url: str, spec: SqlTable, into: str, meta: LoadMeta
) -> tuple[FileLoad, str]:
    """Load the result into `into`; return the load and a digest of the rows read."""
    digest = hashlib.sha256()
    rows = 0
    created = False
    numbers: str | None = None  # the column of row numbers, named from the first batch's columns
    for batch in batches(url, spec):
        for record_batch in batch.to_batches():
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, record_batch.schema) as writer:
                writer.write_batch(record_batch)
            digest.update(sink.getvalue().to_pybytes())
        con.register("_batch", batch)
        try:
            numbers = numbers or row_column(batch.column_names)
            select = f"SELECT *, {rows} + row_number() OVER () AS {ident(numbers)} FROM _batch"
            if not created:
                con.execute(f"CREATE TABLE {into} AS {select}")
                created = True
            else:
                _widen(con, into, batch)
                con.execute(f"INSERT INTO {into} BY NAME {select}")
        finally:
            with contextlib.suppress(duckdb.Error):  # keep the real error, not a failed clean-up
                con.unregister("_batch")
        rows += batch.num_rows
    if not created:
        con.execute(f"CREATE TABLE {into} AS SELECT 0::BIGINT AS _row WHERE false")
    return FileLoad(rows=rows, numbers=numbers or "_row"), digest.hexdigest()


def _widen(con: duckdb.DuckDBPyConnection, into: str, batch: pa.Table) -> None:
    """A later batch may carry a column the first one lacked, or text where the first had numbers."""
    existing = {r[0]: r[1] for r in con.execute(f"DESCRIBE {into}").fetchall()}
    for field in batch.schema:
        if field.name not in existing:
            con.execute(f"ALTER TABLE {into} ADD COLUMN {ident(field.name)} VARCHAR")
        elif pa.types.is_string(field.type) and existing[field.name] != "VARCHAR":
            con.execute(f"ALTER TABLE {into} ALTER {ident(field.name)} TYPE VARCHAR")
