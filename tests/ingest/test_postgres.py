"""PostgreSQL as a `sql` source, on the real server: types, batches, queries, re-runs and changes."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.ingest.helpers import manifest, query, run

pytestmark = pytest.mark.postgres

ROWS = 120_000
CONFIG = """
name: Postgres source
systems:
  shop:
    source:
      type: sql
      url: ${env:TRUEUP_PG_URL}
      tables:
        orders: {table: orders, batch_size: 50000}
        big_orders: {query: "SELECT id, note, amount FROM orders WHERE id % 1000 = 0 ORDER BY id"}
"""


@pytest.fixture
def database(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`orders` with numeric, text, timestamptz, jsonb, uuid and all-NULL columns; the URL in the env."""
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS orders"))
        conn.execute(
            text(
                "CREATE TABLE orders (id integer PRIMARY KEY, amount numeric(12, 2), qty numeric, note text,"
                " placed_at timestamptz, doc jsonb, ref uuid, nothing text)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO orders SELECT g, 1000 + g % 9000 + 0.25, g % 7,"
                " CASE WHEN g % 10 = 0 THEN NULL ELSE 'order ' || g END,"
                " timestamptz '2026-01-01 00:00+00' + g * interval '1 minute',"
                " jsonb_build_object('lines', jsonb_build_array(g, 'x'), 'ok', g % 2 = 0),"
                " md5(g::text)::uuid, NULL FROM generate_series(1, :n) AS g ORDER BY g"
            ),
            {"n": ROWS},
        )
    monkeypatch.setenv("TRUEUP_PG_URL", postgres_url)
    try:
        yield postgres_url
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS orders"))
        engine.dispose()


def test_a_postgres_table_and_query_load_in_batches(
    database: str, make_workspace: Callable[..., Path]
) -> None:
    ws = make_workspace(CONFIG)
    assert database not in (ws / "trueup.yaml").read_text()  # the secret stays in the environment
    outcome = run(ws)
    assert outcome.outcome == "succeeded", outcome.steps[0].result.errors
    counts = outcome.steps[0].result.counts
    assert counts["rows.shop.orders"] == ROWS and counts["rows.shop.big_orders"] == ROWS // 1000

    assert query(
        ws,
        "SELECT count(*), count(DISTINCT _row), min(_row), max(_row), count(DISTINCT _load_id),"
        ' min(_source), max(_source) FROM raw."shop__orders"',
    ) == [(ROWS, ROWS, 1, ROWS, 1, "orders", "orders")]
    assert query(ws, 'SELECT count(*) FROM raw."shop__orders" WHERE _row <> id') == [(0,)]
    row = query(
        ws,
        'SELECT id, amount, qty, note, placed_at, doc, ref, nothing FROM raw."shop__orders" WHERE id = 60001',
    )[0]  # in the second batch
    # numeric arrives as its exact text; the map step types money
    assert row[:4] == (60001, "7001.25", "4", "order 60001")
    assert row[4] == datetime(2026, 2, 11, 16, 1, tzinfo=UTC)
    assert json.loads(row[5]) == {"lines": [60001, "x"], "ok": False}
    assert row[6] == str(uuid.UUID(hashlib.md5(b"60001").hexdigest()))
    assert row[7] is None
    assert query(ws, 'SELECT count(*) FROM raw."shop__orders" WHERE note IS NULL') == [(ROWS // 10,)]
    assert query(ws, 'SELECT id, _row FROM raw."shop__big_orders" ORDER BY _row LIMIT 2') == [
        (1000, 1),
        (2000, 2),
    ]
    files = manifest(ws)
    assert [(f[1], f[2], f[5]) for f in files] == [
        ("big_orders", "SELECT id, note, amount FROM orders WHERE id % 1000 = 0 ORDER BY id", ROWS // 1000),
        ("orders", "orders", ROWS),
    ]

    # unchanged: nothing is replaced (the same key and load id)
    assert run(ws).outcome == "succeeded"
    assert manifest(ws) == files

    # one row changes: the table's rows are replaced, nothing duplicated; the query's result is unchanged
    with create_engine(database).begin() as conn:
        conn.execute(text("UPDATE orders SET note = 'changed', amount = 1234.50 WHERE id = 5"))
    assert run(ws).outcome == "succeeded"
    changed = manifest(ws)
    assert changed[0] == files[0]
    assert changed[1][3] != files[1][3] and changed[1][4] != files[1][4]
    assert query(
        ws, 'SELECT count(*), count(DISTINCT id), count(DISTINCT _load_id) FROM raw."shop__orders"'
    ) == [(ROWS, ROWS, 1)]
    assert query(ws, 'SELECT note, amount FROM raw."shop__orders" WHERE id = 5') == [("changed", "1234.50")]
    stored = query(ws, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw_files' ORDER BY 1")
    assert stored == sorted((f"f_{f[3]}",) for f in changed)


def test_an_unreachable_database_is_reported_not_raised(
    make_workspace: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUEUP_PG_URL", "postgresql://nobody@127.0.0.1:1/none")
    ws = make_workspace(CONFIG)
    outcome = run(ws)
    assert outcome.outcome == "partial"
    assert all(
        e.startswith(("shop.orders: cannot reach the database", "shop.big_orders: cannot reach"))
        for e in outcome.steps[0].result.errors
    ), outcome.steps[0].result.errors


def _one_query(make_workspace: Callable[..., Path], table: str, sql: str, batch_size: int) -> Path:
    """A workspace whose system `shop` reads one query (`sql`, as YAML) from TRUEUP_PG_URL as `table`."""
    return make_workspace(f"""
        name: Postgres source
        systems:
          shop:
            source: {{type: sql, url: '${{env:TRUEUP_PG_URL}}',
                     tables: {{{table}: {{query: {sql}, batch_size: {batch_size}}}}}}}
        """)


@pytest.mark.parametrize(
    "values",
    [["1.5", "2.5", "123456.5"], ["12345678.5", "1.123456"]],
    ids=["more digits later", "more decimals later"],
)
def test_numeric_values_survive_batches_of_different_widths(
    values: list[str], postgres_url: str, make_workspace: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS prices"))
        conn.execute(text("CREATE TABLE prices (id integer, price numeric)"))
        for i, value in enumerate(values, start=1):
            conn.execute(text("INSERT INTO prices VALUES (:i, CAST(:v AS numeric))"), {"i": i, "v": value})
    engine.dispose()
    monkeypatch.setenv("TRUEUP_PG_URL", postgres_url)
    ws = _one_query(make_workspace, "prices", "'SELECT * FROM prices ORDER BY id'", batch_size=1)
    outcome = run(ws)
    assert outcome.outcome == "succeeded"
    assert [
        str(r[0]).rstrip("0").rstrip(".")
        for r in query(ws, 'SELECT price FROM raw."shop__prices" ORDER BY _row')
    ] == [v.rstrip("0").rstrip(".") for v in values]


def test_a_result_with_a_row_column_of_its_own_keeps_it_beside_the_row_numbers(
    postgres_url: str, make_workspace: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`_row` and `_source` are the loader's: a result's own are loaded as `col_row` and
    `col_source`, over batches, and `_row` numbers the rows."""
    monkeypatch.setenv("TRUEUP_PG_URL", postgres_url)
    values = "(1, 'A', 's'), (2, 'B', 't'), (3, 'C', 'u')"
    ws = _one_query(make_workspace, "t", f'"SELECT * FROM (VALUES {values}) v(id, _row, _source) ORDER BY id"', 2)
    outcome = run(ws)
    assert outcome.outcome == "succeeded", outcome.steps[0].result.errors
    assert query(ws, 'SELECT _row, id, col_row, col_source FROM raw."shop__t" ORDER BY _row') == [
        (1, 1, "A", "s"),
        (2, 2, "B", "t"),
        (3, 3, "C", "u"),
    ]
    [(source,)] = query(ws, 'SELECT DISTINCT _source FROM raw."shop__t"')
    assert sorted(n for n in outcome.steps[0].result.notes if "loaded as" in n) == [
        f"{source}: its column _row is loaded as col_row (_row is what trueup adds to every row)",
        f"{source}: its column _source is loaded as col_source (_source is what trueup adds to every row)",
    ]
