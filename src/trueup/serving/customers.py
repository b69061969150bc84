"""Each customer's answers, ready to read: the golden record with where each field came from, the
linked source records and why, and every event of their timeline, in an SQLite file published
beside the snapshot (`serving-<run id>.customers.db`).

A customer's detail and timeline are the API's busiest reads, and they are point reads: one
customer, or one customer's newest events. DuckDB answers them in 3 to 10 ms (it scans at least a
row group, and a customer's detail took five queries); an SQLite B-tree answers in well under one,
so the publish step writes them once per run, built in DuckDB SQL: one JSON document per customer,
and each customer's events newest first in pages of `PAGE`, one JSON array per page with the
moments it spans. (A row per event passed 5.2M rows through Python on the `large` demo, 34 s; its
210k pages take 14 s.) The file never changes after it is published, so readers open it immutable
(no locks) with one connection per thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from trueup.lookup import EVENTS, SOURCE_COLUMNS
from trueup.model import ENTITIES
from trueup.warehouse import ident, table_exists

NEEDED = ("customer", "provenance", "clusters", "links", "staged_customer")
BATCH = 50_000
PAGE = 200  # events per page of a timeline: the API's default number of events
LAYOUT = 2  # the file's `user_version`; a file of another layout is not read (the next run writes one)


def iso(column: str) -> str:
    """SQL for a TIMESTAMPTZ as JSON writes it (UTC, `Z`, microseconds only when there are some)."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL WHEN epoch_us({column}) % 1000000 = 0"
        f" THEN strftime({utc}, '%Y-%m-%dT%H:%M:%SZ') ELSE strftime({utc}, '%Y-%m-%dT%H:%M:%S.%fZ') END"
    )


def sortable(column: str) -> str:
    """SQL for a TIMESTAMPTZ as fixed-width UTC text, which sorts as the moments do."""
    return f"strftime({column} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f') || '+00:00'"


def _json_columns(con: duckdb.DuckDBPyConnection, table: str, alias: str) -> str:
    """A struct of a table's columns with moments and money as the API writes them."""
    parts = []
    for name, kind, *_ in con.execute(f"DESCRIBE {ident(table)}").fetchall():
        column = f"{alias}.{ident(name)}"
        if kind.startswith("TIMESTAMP"):
            column = iso(column)
        elif kind.startswith("DECIMAL"):
            column = f"{column}::DOUBLE"
        parts.append(f"{ident(name)} := {column}")
    return "struct_pack(" + ", ".join(parts) + ")"


def _documents_sql(con: duckdb.DuckDBPyConnection) -> str:
    fields = list(ENTITIES["customer"].fields)
    sources = ", ".join(
        f"any_value(struct_pack(system := system, source_id := source_id, loaded_at := {iso('loaded_at')}))"
        f" FILTER (WHERE field = '{f}') AS {ident('p_' + f)}"
        for f in fields
    )

    def value(name: str, kind: str) -> str:
        column = "g." + ident(name)
        return f"to_json({iso(column) if kind.startswith('TIMESTAMP') else column})"

    def source(name: str) -> str:
        return f"p.{ident('p_' + name)}"

    field_list = ", ".join(
        f"struct_pack(field := '{f}', value := {value(f, kind)}, system := {source(f)}.system,"
        f" source_id := {source(f)}.source_id, loaded_at := {source(f)}.loaded_at)"
        for f, kind in _types(con, "customer", fields)
    )
    record = ", ".join(f"{c} := s.{c}" for c in SOURCE_COLUMNS)
    return f"""
        WITH members AS (SELECT canonical_id, system, source_id FROM clusters WHERE entity = 'customer'),
        sources AS (SELECT canonical_id, {sources} FROM provenance WHERE entity = 'customer' GROUP BY canonical_id),
        records AS (
          SELECT m.canonical_id,
            list(struct_pack({record}, file := s._source, line := s._row) ORDER BY s.system, s.source_id) AS records
          FROM members m JOIN staged_customer s ON s.system = m.system AND s.source_id = m.source_id
          GROUP BY m.canonical_id),
        linked AS (
          SELECT m.canonical_id,
            list(struct_pack(system_a := l.system_a, source_a := l.source_a, system_b := l.system_b,
                             source_b := l.source_b, rule := l.rule, probability := l.probability,
                             evidence := l.evidence::VARCHAR)
                 ORDER BY l.system_a, l.source_a, l.system_b, l.source_b, l.rule, l.probability,
                          l.evidence::VARCHAR) AS links
          FROM links l JOIN members m ON m.system = l.system_a AND m.source_id = l.source_a
          WHERE l.entity = 'customer' GROUP BY m.canonical_id)
        SELECT g.canonical_id, to_json(g.systems)::VARCHAR,
          to_json(struct_pack(customer := {_json_columns(con, "customer", "g")}, fields := [{field_list}],
                              records := coalesce(r.records, []), links := coalesce(k.links, [])))::VARCHAR
        FROM customer g LEFT JOIN sources p USING (canonical_id) LEFT JOIN records r USING (canonical_id)
          LEFT JOIN linked k USING (canonical_id)
    """


def _types(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list[tuple[str, str]]:
    kinds = {name: kind for name, kind, *_ in con.execute(f"DESCRIBE {ident(table)}").fetchall()}
    return [(c, kinds[c]) for c in columns]


def _timeline_sql(con: duckdb.DuckDBPyConnection) -> str | None:
    """Each customer's events, newest first, in pages: customer, page (0 the newest), the newest and
    oldest moment in it (as `sortable` text), how many events, and the events as a JSON array of
    `[occurred_at, kind, summary, entity, canonical_id, systems]`."""
    parts = [
        f"SELECT customer, {time} AS moment, {kind} AS kind, {summary} AS summary, '{entity}' AS entity,"
        f" canonical_id, systems FROM {ident(entity)} WHERE customer IS NOT NULL AND {time} IS NOT NULL"
        for entity, time, kind, summary in EVENTS
        if table_exists(con, "main", entity)
    ]
    if not parts:
        return None
    newest_first = "moment DESC, entity DESC, canonical_id DESC, kind DESC"  # as `lookup.timeline` orders
    event = f"json_array({sortable('moment')}, kind, summary, entity, canonical_id, systems)::VARCHAR"
    return f"""
        WITH events AS (
          SELECT *, row_number() OVER (PARTITION BY customer ORDER BY {newest_first}) - 1 AS n
          FROM ({" UNION ALL ".join(parts)}))
        SELECT customer, n // {PAGE} AS page, {sortable("max(moment)")}, {sortable("min(moment)")}, count(*),
          '[' || string_agg({event}, ',' ORDER BY n) || ']'
        FROM events GROUP BY customer, page ORDER BY customer, page
    """


def write(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, int]:
    """Write the customers' documents and events from the warehouse `con` reads; rows per table."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    db = sqlite3.connect(partial)
    counts = {"customer_documents": 0, "customer_events": 0}
    try:
        db.execute("PRAGMA journal_mode = OFF")  # a new file, renamed into place only when complete
        db.execute("PRAGMA synchronous = OFF")
        # (a rowid table: WITHOUT ROWID writes documents of a few KB a third slower)
        db.execute("CREATE TABLE customer (canonical_id TEXT PRIMARY KEY, systems TEXT, document TEXT)")
        db.execute(
            "CREATE TABLE timeline (customer TEXT, page INTEGER, newest TEXT, oldest TEXT, events INTEGER,"
            " body TEXT, PRIMARY KEY (customer, page))"
        )
        if all(table_exists(con, "main", t) for t in NEEDED):
            counts["customer_documents"] = _copy(
                con, _documents_sql(con), db, "INSERT INTO customer VALUES (?, ?, ?)"
            )
            pages = _timeline_sql(con)
            if pages is not None:  # (written in key order: a customer's pages are neighbours)
                _copy(con, pages, db, "INSERT INTO timeline VALUES (?, ?, ?, ?, ?, ?)")
                events = db.execute("SELECT coalesce(sum(events), 0) FROM timeline")
                counts["customer_events"] = events.fetchone()[0]
        db.execute("ANALYZE")
        db.execute(f"PRAGMA user_version = {LAYOUT}")
        db.commit()
    finally:
        db.close()
    os.replace(partial, path)
    return counts


def _copy(con: duckdb.DuckDBPyConnection, sql: str, db: sqlite3.Connection, insert: str) -> int:
    """A query's rows into SQLite, in batches through Python: DuckDB's own SQLite writer is an
    extension, and extensions cannot be installed offline."""
    cursor = con.execute(sql)
    copied = 0
    while rows := cursor.fetchmany(BATCH):
        db.executemany(insert, rows)
        copied += len(rows)
    return copied


class CustomerStore:
    """Reads one published customers file; safe to share across threads (each has its own
    connection, closed with the store: when the last request holding it lets go, or by `close`)."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: Path) -> CustomerStore | None:
        """The store of a customers file, or None when there is none or an older trueup wrote it."""
        if not path.exists():
            return None
        store = cls(path)
        layout = store._db().execute("PRAGMA user_version").fetchone()[0]
        if layout != LAYOUT:
            store.close()
            return None
        return store

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                                 check_same_thread=False)  # fmt: skip
            self._local.db = db
            with self._lock:
                self._opened.append(db)
        return db

    def customer(self, canonical_id: str) -> dict[str, Any] | None:
        """`{customer, fields, records, links, systems}`, or None when there is no such customer."""
        row = (
            self._db()
            .execute("SELECT systems, document FROM customer WHERE canonical_id = ?", [canonical_id])
            .fetchone()
        )
        if row is None:
            return None
        return {**json.loads(row[1]), "systems": json.loads(row[0])}

    def timeline(
        self, canonical_id: str, since: datetime | None = None, limit: int | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """The newest `limit` events of a customer since a moment, oldest first, and how many there are."""
        start = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00") if since else ""
        pages = self._db().execute(
            "SELECT oldest, events, body FROM timeline WHERE customer = ? AND newest >= ? ORDER BY page",
            [canonical_id, start],
        )
        chosen: list[list[Any]] = []  # newest first
        total = 0
        for oldest, count, body in pages:  # newest first: only the last page can start before `since`
            wanted = limit is None or len(chosen) < limit
            if oldest >= start and not wanted:
                total += count  # a page wholly in the span, past the events asked for: counted unread
                continue
            events = json.loads(body)
            if oldest < start:
                events = [e for e in events if e[0] >= start]
            total += len(events)
            if wanted:
                chosen += events if limit is None else events[: limit - len(chosen)]
        events = [
            {"occurred_at": datetime.fromisoformat(at), "kind": kind, "summary": summary, "entity": entity,
             "canonical_id": cid, "systems": systems}
            for at, kind, summary, entity, cid, systems in reversed(chosen)
        ]  # fmt: skip
        return events, total

    def close(self) -> None:
        with self._lock:
            for db in self._opened:
                db.close()
            self._opened.clear()
