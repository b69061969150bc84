"""The customers file of a warehouse with nothing to serve yet: written, empty, and answering."""

from __future__ import annotations

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
