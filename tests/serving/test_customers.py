"""The customers file of a warehouse with nothing to serve yet (written, empty, and answering), and
one an older trueup wrote (not read)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from trueup.serving.customers import CustomerStore, write


def test_a_warehouse_without_golden_records_gives_an_empty_file(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        counts = write(con, tmp_path / "customers.db")
    finally:
        con.close()
    assert counts == {"customer_documents": 0, "customer_events": 0}
    store = CustomerStore(tmp_path / "customers.db")
    try:
        assert store.customer("cus_1") is None
        assert store.timeline("cus_1", datetime(2026, 1, 1, tzinfo=UTC), 10) == ([], 0)
    finally:
        store.close()
    assert not (tmp_path / "customers.db.partial").exists()


def test_a_file_of_another_layout_is_not_read(tmp_path: Path) -> None:
    older = tmp_path / "older.customers.db"
    db = sqlite3.connect(older)  # as trueup wrote it before timelines were paged: no version
    db.execute("CREATE TABLE event (customer TEXT, occurred_at TEXT)")
    db.commit()
    db.close()
    assert CustomerStore.open(older) is None
    assert CustomerStore.open(tmp_path / "missing.customers.db") is None
    con = duckdb.connect()
    try:
        write(con, tmp_path / "customers.db")
    finally:
        con.close()
    store = CustomerStore.open(tmp_path / "customers.db")
    assert store is not None
    store.close()
