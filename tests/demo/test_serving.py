"""The customers file the publish step writes answers exactly what the warehouse says: every
customer's golden record, field sources, linked records and links, and their timelines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from trueup import lookup
from trueup.api.customers import CustomerDetail, Timeline
from trueup.serving import Snapshot
from trueup.serving.customers import CustomerStore
from trueup.workspace import Workspace


@pytest.fixture(scope="module")
def store(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> CustomerStore:
    found = Snapshot(Workspace.open(demo).serving_pointer).customers()
    assert found is not None
    return found


def _as_api_writes(model: type, data: dict) -> dict:
    return json.loads(model.model_validate(data).model_dump_json())


def test_every_customer_document_equals_the_warehouse(store: CustomerStore, demo_run: duckdb.DuckDBPyConnection) -> None:
    con = demo_run
    ids = [r[0] for r in con.execute("SELECT canonical_id FROM customer ORDER BY canonical_id").fetchall()]
    columns = [d[0] for d in con.execute("SELECT * FROM customer LIMIT 0").description]
    assert len(ids) > 100
    for canonical_id in ids:
        golden = dict(zip(columns, con.execute("SELECT * FROM customer WHERE canonical_id = ?", [canonical_id]).fetchone(), strict=True))
        explained = lookup.explain_customer(con, canonical_id)
        expected = {"customer": golden, "fields": explained.fields, "records": explained.records, "links": explained.links}
        document = store.customer(canonical_id)
        assert document is not None
        assert document["systems"] == golden["systems"]
        assert _as_api_writes(CustomerDetail, document) == _as_api_writes(CustomerDetail, expected), canonical_id
    assert store.customer("cus_nobody") is None


def test_timelines_equal_the_warehouse(store: CustomerStore, demo_run: duckdb.DuckDBPyConnection) -> None:
    con = demo_run
    busiest = [r[0] for r in con.execute(
        "SELECT customer FROM job WHERE customer IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 15"
    ).fetchall()]  # fmt: skip
    some = [r[0] for r in con.execute("SELECT canonical_id FROM customer ORDER BY hash(canonical_id) LIMIT 15").fetchall()]
    newest = con.execute("SELECT max(occurred_at) FROM interaction").fetchone()[0]
    for canonical_id in busiest + some:
        for since in (None, newest - timedelta(days=90), newest - timedelta(days=400)):
            for limit in (None, 5, 200, 450):  # (pages hold 200 events)
                expected = lookup.timeline(con, canonical_id, since, limit)
                events, total = store.timeline(canonical_id, since, limit)
                assert total == len(lookup.timeline(con, canonical_id, since))
                shape = {"customer": canonical_id, "since": since, "total": total}
                assert _as_api_writes(Timeline, {**shape, "events": events}) == _as_api_writes(
                    Timeline, {**shape, "events": expected}
                ), (canonical_id, since, limit)
    assert store.timeline("cus_nobody", datetime(2020, 1, 1, tzinfo=UTC)) == ([], 0)
