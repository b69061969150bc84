"""The publish step and the snapshot the API answers from.

A run holds the warehouse open for writing, and DuckDB lets no other process read a file while one
writes it. So the last step of a run copies what the API reads (the golden tables, the clusters and
the customers' source records it searches, the quarantine, the ledger) into a new file beside the
warehouse, `serving-<run id>.duckdb`, and then points `serving.current` at it (a rename, so
atomic). An API process keeps reading the snapshot it has open until the pointer names a newer
one, and a run never waits for a reader. Each snapshot has its own path because DuckDB shares one
database per path within a process: reopening the same path would find the old one. Beside it,
`serving-<run id>.customers.db` holds each customer's detail and timeline ready for point reads
(`serving.customers`), built from the warehouse's provenance and links: those two tables are not
copied (no request reads them; provenance alone is 35M rows on the `large` demo, and sorting and
indexing it was 30 s of a 78 s step).
"""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb

from trueup.ingest.base import literal
from trueup.model import ENTITIES
from trueup.runtime import StepContext, StepResult
from trueup.serving import customers
from trueup.serving.customers import CustomerStore
from trueup.warehouse import ident, table_exists

# What the API reads, and the columns point lookups filter by (indexed).
TABLES: dict[str, tuple[str, ...]] = {
    **{entity: ("canonical_id",) for entity in ENTITIES},
    "clusters": ("canonical_id", "source_id"),  # search: a source id, a customer's records
    "staged_customer": ("source_id",),
    "quarantine": ("system",),  # the rows that could not be read, for the dashboard's runs page
}
REFERENCED = {"job": "customer", "invoice": "customer", "payment": "customer", "interaction": "customer",
              "deal": "customer", "location": "customer"}  # fmt: skip


def run(ctx: StepContext) -> StepResult:
    result = StepResult()
    ledger_file = ctx.workspace.root / ctx.workspace.config.report.output / "report.json"
    ledger = ledger_file.read_text() if ledger_file.exists() else None
    rows = publish(ctx.con, ctx.workspace.serving_pointer, ctx.run_id, ledger)
    result.counts.update({f"rows.{t}": n for t, n in rows.items()})
    return result


def publish(con: duckdb.DuckDBPyConnection, pointer: Path, run_id: str, ledger: str | None) -> dict[str, int]:
    """Write a new snapshot and point at it; returns the rows copied per table.

    The customers' file is written at the same time, on a cursor of its own: its rows pass through
    Python into SQLite, mostly on one core, while DuckDB copies the tables (on the `large` demo,
    about 30 s each one after the other, 49 s together)."""
    path = pointer.with_name(f"serving-{run_id}.duckdb")
    with ThreadPoolExecutor(max_workers=1) as pool:
        documents = pool.submit(_write_customers, con.cursor(), customers_file(path))
        rows = _copy_tables(con, path, run_id, ledger)
        rows.update(documents.result())
    named = pointer.with_name(pointer.name + ".partial")
    named.write_text(path.name)
    os.replace(named, pointer)
    keep = {path, customers_file(path)}
    for old in [*pointer.parent.glob("serving-*.duckdb"), *pointer.parent.glob("serving-*.customers.db")]:
        if old not in keep:  # a reader still holding one keeps it until it closes
            old.unlink(missing_ok=True)
    return rows


def _write_customers(cursor: duckdb.DuckDBPyConnection, path: Path) -> dict[str, int]:
    try:
        cursor.execute("SET enable_progress_bar = false")  # (a cursor is a connection of its own)
        return customers.write(cursor, path)
    finally:
        cursor.close()


def _copy_tables(
    con: duckdb.DuckDBPyConnection, path: Path, run_id: str, ledger: str | None
) -> dict[str, int]:
    """The tables the API reads, and the run and its ledger, into the snapshot file `path`."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    con.execute(f"ATTACH {literal(str(partial))} AS serving")
    rows: dict[str, int] = {}
    try:
        for table, keys in TABLES.items():
            if not table_exists(con, "main", table):
                continue
            # Rows of one customer together, so a customer's jobs or events are a few row groups
            # to read (point lookups by canonical id use the index instead).
            order = f"{REFERENCED[table]}, canonical_id" if table in REFERENCED else keys[0]
            con.execute(
                f"CREATE TABLE serving.{ident(table)} AS SELECT * FROM main.{ident(table)} ORDER BY {order}"
            )
            for column in {*keys, REFERENCED.get(table, keys[0])}:
                con.execute(
                    f"CREATE INDEX {ident(f'{table}_{column}')} ON serving.{ident(table)} ({ident(column)})"
                )
            rows[table] = int(con.execute(f"SELECT count(*) FROM serving.{ident(table)}").fetchall()[0][0])
        con.execute("CREATE TABLE serving.published (run_id VARCHAR, ledger JSON)")
        con.execute("INSERT INTO serving.published VALUES (?, ?)", [run_id, ledger])
    finally:
        con.execute("DETACH serving")
    os.replace(partial, path)
    return rows


def customers_file(snapshot: Path) -> Path:
    return snapshot.with_name(snapshot.name.removesuffix(".duckdb") + ".customers.db")


class Snapshot:
    """The newest published snapshot, opened read-only and reopened when a run publishes another.

    `cursor()` hands each request its own cursor (DuckDB cursors are safe across threads); the
    check for a newer snapshot is one `stat` of the pointer."""

    def __init__(self, pointer: Path):
        self.pointer = pointer
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._customers: CustomerStore | None = None
        self._stamp: tuple[int, int] | None = None
        self.run_id: str | None = None
        self.ledger: dict[str, Any] | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            self._refresh()
            assert self._con is not None
            return self._con.cursor()

    def customers(self) -> CustomerStore | None:
        """The customers' details and timelines of the snapshot (None: nothing published, or a
        snapshot written before trueup published them). Lock-free unless a newer one is published:
        every customer read asks."""
        if self._con is None or self._stat() != self._stamp:
            with self._lock:
                self._refresh()
        return self._customers

    def published(self) -> tuple[str | None, dict[str, Any] | None]:
        """The run the snapshot is of, and its ledger (a newer snapshot is opened first)."""
        with self._lock:
            self._refresh()
            return self.run_id, self.ledger

    def _refresh(self) -> None:
        stamp = self._stat()
        if self._con is None or stamp != self._stamp:
            self._open(stamp)

    @property
    def available(self) -> bool:
        return self.pointer.exists()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.pointer.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def _open(self, stamp: tuple[int, int] | None) -> None:
        old, store = self._con, None
        if stamp is None:
            self._con = duckdb.connect(":memory:")
            self.run_id, self.ledger = None, None
        else:
            path = self.pointer.with_name(self.pointer.read_text().strip())
            self._con = duckdb.connect(str(path), read_only=True)
            row = self._con.execute("SELECT run_id, ledger FROM published").fetchone()
            self.run_id = row[0] if row else None
            self.ledger = json.loads(row[1]) if row and row[1] else None
            store = CustomerStore.open(customers_file(path))
        self._customers = store  # one assignment: a reader without the lock sees the old or the new
        self._stamp = stamp  # (requests still reading the old store keep it until they are done)
        if old is not None:
            old.close()

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
            if self._customers is not None:
                self._customers.close()
                self._customers = None
