"""Ingest: read every source table into the warehouse's raw tables, quarantining bad rows.

Each loaded file becomes an immutable, content-addressed table in `raw_files`; the raw table a
user queries (`raw.<system>__<table>`) is a view over the current files of that table. A file
loads in its own transaction, then one short transaction switches the view, the file manifest and
the quarantine together, so a crash at any point leaves either the old table or the new one.
An unchanged file (same content and reading options) is not read again.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from trueup import failpoints
from trueup.config.models import FilesSource, FileTable, SqlSource
from trueup.errors import SourceError, TransientError
from trueup.ingest.base import META_COLUMNS, FileLoad, LoadMeta, literal, own_names
from trueup.ingest.probe import READERS, file_format
from trueup.runtime import StepContext, StepResult
from trueup.warehouse import FILES_SCHEMA, RAW_SCHEMA, ident, raw_table, scalar, table_exists

MANIFEST = "ingest_files"
QUARANTINE = "quarantine"


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {MANIFEST} (system VARCHAR, tbl VARCHAR, source VARCHAR, key VARCHAR,"
        " digest VARCHAR, bytes BIGINT, stat VARCHAR, rows BIGINT, quarantined BIGINT,"
        " load_id VARCHAR, loaded_at TIMESTAMPTZ, row_offset BIGINT)"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {QUARANTINE} (stage VARCHAR, system VARCHAR, tbl VARCHAR, source VARCHAR,"
        " line BIGINT, column_name VARCHAR, raw VARCHAR, reason VARCHAR, load_id VARCHAR, key VARCHAR)"
    )


@dataclass
class Loaded:
    """One file or query as it should be in the warehouse after this run."""

    source: str
    key: str
    digest: str
    bytes: int = 0
    stat: str = ""  # modification time, change time and inode: see _stat_key
    load: FileLoad | None = None  # None: unchanged, the manifest row stands
    load_id: str = ""


def run(ctx: StepContext) -> StepResult:
    result = StepResult()
    con = ctx.con
    ensure_tables(con)
    _drop_orphans(con)
    units = [(s, t) for s, system in ctx.workspace.config.systems.items() for t in system.source.tables]
    for system, table in ctx.progress.track(units, "Ingesting", total=len(units)):
        source = ctx.workspace.config.systems[system].source
        try:
            if isinstance(source, FilesSource):
                current = _load_files(ctx, system, table, source, result)
            else:
                current = _load_query(ctx, system, table, source, result)
        except TransientError as exc:
            result.errors.append(f"{system}.{table}: {exc}")
            continue
        if current is None and not table_exists(con, RAW_SCHEMA, f"{system}__{table}"):
            current = []  # nothing could be loaded yet: an empty table, so later steps still run
        if current is not None:
            _publish(con, system, table, current, ctx)
        rows = scalar(con, f"SELECT count(*) FROM {raw_table(system, table)}")
        result.counts[f"rows.{system}.{table}"] = rows
    result.counts["quarantined"] = scalar(con, f"SELECT count(*) FROM {QUARANTINE} WHERE stage = 'ingest'")
    return result


def _manifest(con: duckdb.DuckDBPyConnection, system: str, table: str) -> dict[str, tuple]:
    rows = con.execute(
        f"SELECT source, key, digest, bytes, stat FROM {MANIFEST} WHERE system = ? AND tbl = ?",
        [system, table],
    ).fetchall()
    return {r[0]: r for r in rows}


def _stat_key(stat: os.stat_result) -> str:
    """What changes whenever a file's content may have: `cp -p` or `rsync -t` can set the
    modification time back, but not the change time or the inode."""
    return f"{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"


def _digest(path: Path, stat: os.stat_result, previous: tuple | None) -> str:
    if previous and previous[3] == stat.st_size and previous[4] == _stat_key(stat):
        return str(previous[2])  # the same file, untouched since: trust the digest we stored
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:20]


def _load_files(
    ctx: StepContext, system: str, table: str, source: FilesSource, result: StepResult
) -> list[Loaded] | None:
    root = ctx.workspace.root
    spec = source.table(table)
    base = root / source.path
    paths = sorted(p for p in base.glob(spec.file) if p.is_file())
    if not paths:
        result.errors.append(f"{system}.{table}: no file matches {source.path}/{spec.file}")
    options = spec.model_dump_json()
    previous = _manifest(ctx.con, system, table)
    current: list[Loaded] = []
    changed = False
    scratch = ctx.workspace.store / "tmp"
    scratch.mkdir(exist_ok=True)
    for path in paths:
        relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        before = previous.get(relative)
        stat = path.stat()
        digest = _digest(path, stat, before)
        key = _key(system, table, relative, digest, options)
        if before and before[1] == key:
            if before[4] != _stat_key(stat):  # touched, not changed: remember, so it is not hashed again
                ctx.con.execute(
                    f"UPDATE {MANIFEST} SET stat = ? WHERE system = ? AND tbl = ? AND source = ?",
                    [_stat_key(stat), system, table, relative],
                )
            current.append(Loaded(relative, key, digest, stat.st_size, _stat_key(stat)))
            continue
        changed = True
        meta = LoadMeta(load_id=ctx.new_load_id(), loaded_at=ctx.started_at, source=relative)
        fmt = file_format(path, spec)
        if fmt is None:
            result.errors.append(
                f"{relative}: unknown file type {path.suffix!r}; set `format:` (csv, xlsx, json, parquet)"
            )
            continue
        try:
            read = functools.partial(
                READERS[fmt], ctx.con, path, _with_format(spec, fmt), meta=meta, scratch=scratch
            )
            load = _in_transaction(ctx.con, key, relative, read)
        except SourceError as exc:
            result.errors.append(str(exc))
            if before:  # keep what loaded last time rather than lose it
                current.append(Loaded(relative, before[1], str(before[2]), before[3], before[4]))
            continue
        finally:
            for leftover in scratch.iterdir():  # a reader's transcoded or split copy of the file
                leftover.unlink()
        result.notes.extend(load.notes)
        current.append(Loaded(relative, key, digest, stat.st_size, _stat_key(stat), load, meta.load_id))
        failpoints.hit("ingest.file-loaded")
    if not changed and set(previous) == {c.source for c in current}:
        return None
    return current


def _with_format(spec: FileTable, fmt: str) -> FileTable:
    return spec if spec.format == fmt else spec.model_copy(update={"format": fmt})


def _in_transaction(
    con: duckdb.DuckDBPyConnection, key: str, source: str, reader: Callable[[str], FileLoad]
) -> FileLoad:
    """Run one reader in its own transaction into the content-addressed table for `key`."""
    into = f"{FILES_SCHEMA}.{ident('f_' + key)}"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DROP TABLE IF EXISTS {into}")
        load: FileLoad = reader(into)
        if load.rows == 0 and not table_exists(con, FILES_SCHEMA, "f_" + key):
            con.execute(f"CREATE TABLE {into} AS SELECT NULL::BIGINT AS _row WHERE false")
        own_names(con, into, load, source)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return load


def _load_query(
    ctx: StepContext, system: str, table: str, source: SqlSource, result: StepResult
) -> list[Loaded] | None:
    from trueup.ingest import sql  # SQLAlchemy and pyarrow, only for SQL sources

    spec = source.table(table)
    described = sql.describe(spec)
    meta = LoadMeta(load_id=ctx.new_load_id(), loaded_at=ctx.started_at, source=described)
    pending = "pending_" + meta.load_id
    digest_box: list[str] = []

    def reader(into: str) -> FileLoad:
        load, digest = sql.read(ctx.con, source.url, spec, into, meta)
        digest_box.append(digest)
        return load

    try:
        load = _in_transaction(ctx.con, pending, described, reader)
    except SourceError as exc:
        result.errors.append(f"{system}.{table}: {exc}")
        return None
    result.notes.extend(load.notes)
    digest = digest_box[0]
    key = _key(system, table, described, digest, spec.model_dump_json())
    previous = _manifest(ctx.con, system, table)
    pending_table = f"{FILES_SCHEMA}.{ident('f_' + pending)}"
    if described in previous and previous[described][1] == key:
        ctx.con.execute(f"DROP TABLE {pending_table}")
        return None
    ctx.con.execute(f"DROP TABLE IF EXISTS {FILES_SCHEMA}.{ident('f_' + key)}")
    ctx.con.execute(f"ALTER TABLE {pending_table} RENAME TO {ident('f_' + key)}")
    return [Loaded(described, key, digest, 0, "", load, meta.load_id)]


def _publish(
    con: duckdb.DuckDBPyConnection, system: str, table: str, current: list[Loaded], ctx: StepContext
) -> None:
    """Switch the raw view, the manifest and the quarantine to `current`, all or nothing."""
    previous = _manifest(con, system, table)
    keep = {c.key for c in current}
    gone = [row[1] for row in previous.values() if row[1] not in keep]
    failpoints.hit("ingest.before-publish")
    con.execute("BEGIN TRANSACTION")
    try:
        for item in current:
            if item.load is None:
                continue
            con.execute(
                f"DELETE FROM {MANIFEST} WHERE system = ? AND tbl = ? AND source = ?",
                [system, table, item.source],
            )
            con.execute(
                f"DELETE FROM {QUARANTINE} WHERE stage = 'ingest' AND system = ? AND tbl = ? AND source = ?",
                [system, table, item.source],
            )
            con.execute(
                f"INSERT INTO {MANIFEST} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    system,
                    table,
                    item.source,
                    item.key,
                    item.digest,
                    item.bytes,
                    item.stat,
                    item.load.rows,
                    len(item.load.quarantined),
                    item.load_id,
                    ctx.started_at,
                    item.load.row_offset,
                ],
            )
            if item.load.quarantined:
                con.executemany(
                    f"INSERT INTO {QUARANTINE} VALUES ('ingest', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        [
                            system,
                            table,
                            item.source,
                            q.line,
                            q.column,
                            q.raw,
                            q.reason,
                            item.load_id,
                            item.key,
                        ]
                        for q in item.load.quarantined
                    ],
                )
        sources = [c.source for c in current]
        stale = [s for s in previous if s not in sources]
        for source in stale:
            con.execute(
                f"DELETE FROM {MANIFEST} WHERE system = ? AND tbl = ? AND source = ?", [system, table, source]
            )
            con.execute(
                f"DELETE FROM {QUARANTINE} WHERE stage = 'ingest' AND system = ? AND tbl = ? AND source = ?",
                [system, table, source],
            )
        loads = {
            row[0]: row[1:]
            for row in con.execute(
                f"SELECT key, load_id, loaded_at, source, row_offset FROM {MANIFEST} WHERE system = ? AND tbl = ?",
                [system, table],
            ).fetchall()
        }
        con.execute(f"CREATE OR REPLACE VIEW {raw_table(system, table)} AS {_union(current, loads)}")
        for key in gone:
            con.execute(f"DROP TABLE IF EXISTS {FILES_SCHEMA}.{ident('f_' + key)}")
        failpoints.hit("ingest.in-publish")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _union(current: list[Loaded], loads: dict[str, tuple[Any, ...]]) -> str:
    """The raw view: every current file's table with its load's metadata added as constants."""
    meta = ", ".join(META_COLUMNS)
    if not current:
        return (
            "SELECT NULL::VARCHAR AS _load_id, NULL::TIMESTAMPTZ AS _loaded_at, NULL::VARCHAR AS _source,"
            " NULL::BIGINT AS _row WHERE false"
        )

    def select(item: Loaded) -> str:
        load_id, loaded_at, source, offset = loads[item.key]
        columns = (
            f"{literal(load_id)} AS _load_id, {literal(loaded_at.isoformat())}::TIMESTAMPTZ AS _loaded_at, "
            f"{literal(source)} AS _source"
        )
        # `_row` is stored where a reader worked it out, else it is the record's position.
        row = "" if offset is None else f", {offset} + rowid AS _row"
        return f"SELECT *, {columns}{row} FROM {FILES_SCHEMA}.{ident('f_' + item.key)}"

    parts = " UNION ALL BY NAME ".join(select(c) for c in sorted(current, key=lambda c: c.source))
    return f"SELECT * EXCLUDE ({meta}), {meta} FROM ({parts})"


def _drop_orphans(con: duckdb.DuckDBPyConnection) -> None:
    """Tables a killed run loaded but never published."""
    known = {r[0] for r in con.execute(f"SELECT 'f_' || key FROM {MANIFEST}").fetchall()}
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [FILES_SCHEMA]
    ).fetchall()
    for (name,) in tables:
        if name not in known:
            con.execute(f"DROP TABLE {FILES_SCHEMA}.{ident(name)}")


def source_columns(con: duckdb.DuckDBPyConnection, system: str, table: str) -> dict[str, str]:
    """The loaded columns of a raw table (empty when nothing was loaded yet)."""
    from trueup.warehouse import columns

    if not table_exists(con, RAW_SCHEMA, f"{system}__{table}"):
        return {}
    return {k: v for k, v in columns(con, raw_table(system, table)).items() if k not in META_COLUMNS}


__all__ = ["MANIFEST", "QUARANTINE", "ensure_tables", "run", "source_columns"]
