"""JSON documents: a list of records is lifted out and read line by line, exactly as DuckDB reads
the whole document.

The oracle is DuckDB reading the document whole (the reader's way before, and still its way for a
document that holds no list of records): for any records, the table read from the lifted lines has
the same columns, the same types and the same rows at the same record numbers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trueup.config.models import FileTable
from trueup.errors import SourceError
from trueup.ingest import json as json_reader
from trueup.ingest.base import LoadMeta

META = LoadMeta(load_id="l", loaded_at=datetime(2026, 1, 1, tzinfo=UTC), source="t.json")
# Distinct without case: DuckDB cannot type a struct with both `Id` and `id` (see the test below).
KEYS = st.sampled_from(["Id", "Amount", "Ref", "note", "Line", "ü ñ", "a/b", "x~y"])
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-1000, 1000).map(float),  # 3.0 must stay a DOUBLE, not turn into the BIGINT 3
    st.text(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
records = st.lists(st.dictionaries(KEYS, values, min_size=1, max_size=5), min_size=1, max_size=6)


def _read_both(tmp: Path, document: object, records_at: str | None) -> duckdb.DuckDBPyConnection:
    """Tables `lifted` (the reader) and `whole` (DuckDB reading the document), each with `_row`."""
    path = tmp / "t.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    spec = FileTable(file="t.json", records=records_at)
    con = duckdb.connect()
    load = json_reader.read(con, path, spec, "lifted_raw", META, tmp)
    assert load.row_offset == 1, "the records were not lifted out"
    con.execute("CREATE TABLE lifted AS SELECT *, rowid + 1 AS _row FROM lifted_raw")
    whole = json_reader._read_document(con, path, spec, "whole_raw", META, path.stat().st_size)
    assert whole.row_offset == 1  # read whole, the records are in order too
    con.execute("CREATE TABLE whole AS SELECT *, rowid + 1 AS _row FROM whole_raw")
    assert load.rows == whole.rows
    assert list(tmp.glob("*.records")) == []  # the lines are removed once read
    return con


def _assert_same(con: duckdb.DuckDBPyConnection) -> None:
    lifted = [row[:2] for row in con.execute("DESCRIBE lifted").fetchall()]
    whole = [row[:2] for row in con.execute("DESCRIBE whole").fetchall()]
    assert sorted(lifted) == sorted(whole)
    columns = ", ".join(f'"{name}"' for name, _ in whole)
    for a, b in (("lifted", "whole"), ("whole", "lifted")):
        extra = con.execute(f"SELECT {columns} FROM {a} EXCEPT ALL SELECT {columns} FROM {b}").fetchall()
        assert extra == [], f"rows of {a} not in {b}"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(found=records, envelope=st.booleans())
def test_lifted_records_read_as_duckdb_reads_the_whole_document(
    tmp_path_factory: pytest.TempPathFactory, found: list[dict], envelope: bool
) -> None:
    tmp = tmp_path_factory.mktemp("json")
    document = {"QueryResponse": {"Invoice": found, "startPosition": 1}, "time": "now"} if envelope else found
    con = _read_both(tmp, document, "QueryResponse.Invoice" if envelope else None)
    _assert_same(con)


def test_a_key_with_a_slash_or_tilde_is_a_step_of_the_path(tmp_path: Path) -> None:
    con = _read_both(tmp_path, {"a/b": {"x~y": [{"Id": "1"}, {"Id": "2"}]}}, "a/b.x~y")
    assert con.execute("SELECT Id, _row FROM lifted ORDER BY _row").fetchall() == [("1", 1), ("2", 2)]


@pytest.mark.parametrize(
    "document",
    [
        {"QueryResponse": {"Invoice": []}},  # no records: DuckDB's reading of it stands
        {"QueryResponse": {"Invoice": [{"Id": "1"}, 2]}},  # not every record is an object
        {"QueryResponse": {"Invoice": [{"Id": 2**70}]}},  # a number beyond 64 bits
        {"QueryResponse": {"Invoice": {"Id": "1"}}},  # one object, not a list
    ],
)
def test_a_document_without_a_list_of_objects_is_read_whole(tmp_path: Path, document: dict) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert json_reader._split_records(path, "QueryResponse.Invoice", tmp_path) is None
    assert list(tmp_path.glob("*.records")) == []


def test_keys_that_differ_by_case_are_two_columns_and_nested_ones_one_clear_error(tmp_path: Path) -> None:
    # Read whole, DuckDB refused both documents ("Duplicate name in struct"); lifted out, the
    # records' own keys become columns `Id` and `id_1`, as DuckDB names a CSV's repeated header.
    con = _read_lifted(tmp_path, {"r": [{"Id": "1", "id": 2}, {"id": 3}]})
    assert con.execute("SELECT Id, id_1 FROM t").fetchall() == [("1", 2), (None, 3)]
    with pytest.raises(SourceError, match=r"^t\.json: the records cannot be read: .*Duplicate name"):
        _read_lifted(tmp_path, {"r": [{"Ref": {"Id": "1", "id": 2}}]})


def _read_lifted(tmp: Path, document: dict) -> duckdb.DuckDBPyConnection:
    path = tmp / "t.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    con = duckdb.connect()
    json_reader.read(con, path, FileTable(file="t.json", records="r"), "t", META, tmp)
    return con


NOT_OBJECTS = st.one_of(
    st.sampled_from(["[1, 2]", '"text"', "42", "null", '{"a": ', "{'a': 1}", "nope", "}{"]),
    st.text(st.characters(exclude_characters="\n", exclude_categories=["Cs"]), max_size=20).map(
        lambda t: "x" + t
    ),
)
BLANK = st.sampled_from(["", "   ", "\t"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.one_of(
            st.tuples(st.just("record"), st.dictionaries(KEYS, values, min_size=1, max_size=5)),
            st.tuples(st.just("bad"), NOT_OBJECTS),
            st.tuples(st.just("blank"), BLANK),
        ),
        min_size=1,
        max_size=10,
    ).filter(lambda ls: any(kind == "record" for kind, _ in ls)),
    bom=st.booleans(),
)
def test_ndjson_loads_its_objects_as_the_same_records_in_a_document_and_quarantines_the_rest(
    tmp_path_factory: pytest.TempPathFactory, lines: list[tuple[str, object]], bom: bool
) -> None:
    tmp = tmp_path_factory.mktemp("ndjson")
    text = [json.dumps(value) if kind == "record" else str(value) for kind, value in lines]
    (tmp / "t.jsonl").write_bytes((b"\xef\xbb\xbf" if bom else b"") + "\n".join(text).encode() + b"\n")
    good = [value for kind, value in lines if kind == "record"]
    (tmp / "t.json").write_text(json.dumps(good), encoding="utf-8")
    con = duckdb.connect()
    load = json_reader.read(con, tmp / "t.jsonl", FileTable(file="t.jsonl"), "lifted_raw", META, tmp)
    assert [q.line for q in load.quarantined] == [n for n, (kind, _) in enumerate(lines, 1) if kind == "bad"]
    assert load.rows == len(good)
    assert list(tmp.glob("*.records")) == []
    # each record's line: its position when no line was skipped, else stored
    skipped = any(kind != "record" for kind, _ in lines)
    assert (load.row_offset is None) == skipped
    if load.row_offset:
        con.execute(f"CREATE TABLE lifted AS SELECT *, rowid + {load.row_offset} AS _row FROM lifted_raw")
    else:
        con.execute("ALTER TABLE lifted_raw RENAME TO lifted")
    # The same objects as one document's list, and each at its own line of the file.
    document = tmp / "t.json"
    json_reader._read_document(
        con, document, FileTable(file="t.json"), "whole_raw", META, document.stat().st_size
    )
    numbers = [n for n, (kind, _) in enumerate(lines, 1) if kind == "record"]
    con.execute(
        "CREATE TABLE whole AS SELECT w.* EXCLUDE (i), n._row FROM (SELECT *, rowid + 1 AS i FROM whole_raw) w"
        " JOIN (SELECT unnest(?::BIGINT[]) AS _row, generate_subscripts(?::BIGINT[], 1) AS i) n ON n.i = w.i",
        [numbers, numbers],
    )
    _assert_same(con)


def test_an_ndjson_line_with_a_number_beyond_64_bits_loads(tmp_path: Path) -> None:
    # simdjson cannot hold 2**70; the line is valid JSON, so it loads (as DuckDB reads such a number)
    (tmp_path / "t.jsonl").write_text('{"Id": 1}\n{ "Id": 2, "big": 1180591620717411303424 }\n{ }\n[2]\n')
    con = duckdb.connect()
    load = json_reader.read(con, tmp_path / "t.jsonl", FileTable(file="t.jsonl"), "t", META, tmp_path)
    assert [q.line for q in load.quarantined] == [4]
    assert con.execute("SELECT Id, big IS NOT NULL, _row FROM t ORDER BY _row").fetchall() == [
        (1, False, 1),
        (2, True, 2),
        (None, False, 3),
    ]
