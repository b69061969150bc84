"""The bad-input corpus: every input row is either loaded or quarantined, at its true line.

Each case runs the real ingest step on a workspace holding one bad file and checks that
loaded + quarantined = the records in the input, the exact 1-based physical lines of the
quarantined records (the header is line 1), and that `_row` of every loaded record is the line it
starts on (XLSX: the sheet row; JSON documents: the record number; NDJSON: the line).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest

from tests.ingest.helpers import columns, files_workspace, quarantined, query, raw_rows, run


@dataclass
class Case:
    files: dict[str, bytes]
    rows: list[int]  # `_row` of the loaded records, in order
    bad: list[int] = field(default_factory=list)  # lines of the quarantined records
    records: int | None = None  # records in the input (default: rows + bad, stated where it matters)
    spec: str | None = None  # the table's YAML spec (default: the only file's name)
    values: dict[str, list[str | None]] = field(default_factory=dict)  # column -> loaded values, in order


def _cp1252() -> bytes:
    return "id,name,note\r\n1,Café Noël,\u201csmart\u201d quotes \u2013 5\u20ac\r\n2,Zoë,plain\r\n".encode(
        "cp1252"
    )


def _latin1() -> bytes:
    return "id,name,city\n1,Zoë Müller,Zürich\n2,Iñigo Peña,Logroño\n3,Ångström,Malmö\n".encode("latin-1")


BIG_FIELD = 10 * 1024 * 1024

CASES: dict[str, Case] = {
    "truncated mid quoted field": Case(
        {"t.csv": b'id,name,note\n1,a,"fine"\n2,b,"spans\ntwo lines"\n3,c,"cut off in the midd'},
        rows=[2, 3],
        bad=[5],
        records=3,
        values={"note": ["fine", "spans\ntwo lines"]},
    ),
    "cp1252 with smart quotes and accents": Case(
        {"t.csv": _cp1252()},
        rows=[2, 3],
        records=2,
        values={"name": ["Café Noël", "Zoë"], "note": ["\u201csmart\u201d quotes \u2013 5\u20ac", "plain"]},
    ),
    "latin-1": Case(
        {"t.csv": _latin1()},
        rows=[2, 3, 4],
        records=3,
        values={"name": ["Zoë Müller", "Iñigo Peña", "Ångström"], "city": ["Zürich", "Logroño", "Malmö"]},
    ),
    "utf-8 with BOM": Case(
        {"t.csv": "\ufeffid,name\n1,Renée\n2,Łukasz\n".encode()},
        rows=[2, 3],
        records=2,
        values={"id": ["1", "2"], "name": ["Renée", "Łukasz"]},
    ),
    "utf-8 with BOM and a ragged row": Case(
        {"t.csv": "\ufeffid,name\n1,é\n2\n3,ü\n".encode()}, rows=[2, 4], bad=[3], records=3
    ),
    "ragged rows": Case(
        {"t.csv": b"id,name,amount\n1,a,10\n2,b\n3,c,30,extra\n4,d,40\n5\n6,f,60,x,y\n7,g,70\n"},
        rows=[2, 5, 8],
        bad=[3, 4, 6, 7],
        records=7,
        values={"id": ["1", "4", "7"]},
    ),
    "duplicate headers": Case(
        {"t.csv": b"id,name,name,Name,\n1,a,b,c,d\n2,e,f,g,h\n"},
        rows=[2, 3],
        records=2,
        values={"name": ["a", "e"], "name_2": ["b", "f"], "Name_3": ["c", "g"], "column_5": ["d", "h"]},
    ),
    "empty file": Case({"t.csv": b""}, rows=[], records=0),
    "header only": Case({"t.csv": b"id,name,amount\n"}, rows=[], records=0),
    "header only without a line break": Case({"t.csv": b"id,name,amount"}, rows=[], records=0),
    "a 10 MB single field": Case(
        {"t.csv": b'id,blob,n\n1,"' + b"x" * BIG_FIELD + b'",1\n2,"short\nfield",2\n3,z,3\n'},
        rows=[2, 3, 5],
        records=3,
        values={"n": ["1", "2", "3"]},
    ),
    "semicolon delimited": Case(
        {"t.csv": b"id;name;amount\n1;Smith, John;1,50\n2;Doe;2,75\n"},
        rows=[2, 3],
        records=2,
        values={"name": ["Smith, John", "Doe"], "amount": ["1,50", "2,75"]},
    ),
    "tab delimited": Case(
        {"t.tsv": b"id\tname\tamount\n1\tSmith, John\t1.50\n2\tDoe\t2.75\n"},
        rows=[2, 3],
        records=2,
        spec="t.tsv",
        values={"name": ["Smith, John", "Doe"]},
    ),
    "pipe delimited": Case(
        {"t.txt": b"id|name|amount\n1|Smith, John|1.50\n2|Doe|2.75\n3|x\n"},
        rows=[2, 3],
        bad=[4],
        records=3,
        spec="t.txt",
        values={"name": ["Smith, John", "Doe"]},
    ),
    "quoted newlines": Case(
        {"t.csv": b'id,note,n\n1,"one\ntwo",1\n2,"a\n\nb\n",2\n3,plain,3\n4,"x\r\ny",4\n'},
        rows=[2, 4, 8, 9],
        records=4,
        values={"note": ["one\ntwo", "a\n\nb\n", "plain", "x\r\ny"]},
    ),
    "blank lines": Case({"t.csv": b"id,name\n1,a\n\n2,b\n\n\n3,c\n\n"}, rows=[2, 4, 7], records=3),
    "blank lines, no final line break": Case({"t.csv": b"id,name\n1,a\n\n2,b"}, rows=[2, 4], records=2),
    "one column with blank lines": Case(
        {"t.csv": b'id\n1\n\n""\n2\n'}, rows=[2, 4, 5], records=3, values={"id": ["1", "", "2"]}
    ),
    "CRLF line endings": Case(
        {"t.csv": b'id,name\r\n1,a\r\n2,"b\r\nc"\r\n3,d\r\n'},
        rows=[2, 3, 5],
        records=3,
        values={"name": ["a", "b\r\nc", "d"]},
    ),
    "CRLF with ragged rows, blank lines and quoted newlines": Case(
        {"t.csv": b'id,name\r\n1,a\r\n2\r\n\r\n3,c,d\r\n4,"e\r\nf"\r\n5,g\r\n6,"cut\r\n'},
        rows=[2, 6, 8],
        bad=[3, 5, 9],
        records=6,
        values={"id": ["1", "4", "5"]},
    ),
    "mixed line endings: a CRLF file with LF lines": Case(
        {"t.csv": b'id,name\r\n1,a\r\n2,b\n3,"c\r\nd"\r\n4,"e\nf"\n\n'},
        rows=[2, 3, 4, 6],
        records=4,
        values={"name": ["a", "b", "c\r\nd", "e\nf"]},
    ),
    "mixed line endings: a bare CR in an LF file": Case(
        {"t.csv": b"id,note\n1,old Mac\rtext\n2,b\n"},
        rows=[2, 4],
        bad=[3],
        records=3,
        values={"note": ["old Mac", "b"]},
    ),
    "CR only line endings": Case({"t.csv": b"id,name\r1,a\r2\r3,c\r"}, rows=[2, 4], bad=[3], records=3),
    "stray quote": Case(
        {"t.csv": b'id,name,amount\n1,O"Brien,10\n2,"b"x,20\n3,c,30\n'},
        rows=[2, 4],
        bad=[3],
        records=3,
        values={"name": ['O"Brien', "c"]},
    ),
    "malformed quotes that DuckDB's recovery splits into phantom rows": Case(
        {"t.csv": b'a\n";","",";",",\r,"\n1\n'},
        rows=[3, 4],
        bad=[2],
        records=3,
        spec="{file: t.csv, delimiter: ';'}",
        values={"a": [',"', "1"]},
    ),
    "ndjson with one bad line": Case(
        {
            "t.jsonl": b'{"id": 1, "name": "a"}\n{"id": 2, "name": \n\n{"id": 3, "name": "c"}\n[1, 2]\n{"id": 4}\n'
        },
        rows=[1, 4, 6],
        bad=[2, 5],
        records=5,
        spec="t.jsonl",
    ),
    "json array": Case(
        {"t.json": json.dumps([{"id": "a"}, {"id": "b", "x": 1}, {"id": "c"}]).encode()},
        rows=[1, 2, 3],
        records=3,
        values={"id": ["a", "b", "c"]},
    ),
    "json envelope": Case(
        {
            "t.json": json.dumps(
                {"QueryResponse": {"Invoice": [{"Id": "7"}, {"Id": "8"}], "startPosition": 1}}
            ).encode()
        },
        rows=[1, 2],
        records=2,
        spec="{file: t.json, records: QueryResponse.Invoice}",
        values={"Id": ["7", "8"]},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_input_record_is_loaded_or_quarantined_at_its_line(
    name: str, make_workspace: Callable[..., Path]
) -> None:
    case = CASES[name]
    (file,) = case.files
    ws = files_workspace(make_workspace, case.files, {"t": case.spec or file})
    outcome = run(ws)
    assert outcome.outcome == "succeeded", outcome.steps[0].result.errors
    rows = raw_rows(ws, "t")
    bad = quarantined(ws)
    assert [r["_row"] for r in rows] == case.rows
    assert [q["line"] for q in bad] == case.bad
    assert len(rows) + len(bad) == (
        case.records if case.records is not None else len(case.rows) + len(case.bad)
    )
    assert all(q["source"] == f"data/{file}" and q["reason"] and q["raw"] for q in bad)
    assert {r["_source"] for r in rows} <= {f"data/{file}"}
    for column, expected in case.values.items():
        assert [r[column] for r in rows] == expected, column
    counts = outcome.steps[0].result.counts
    assert counts["rows.src.t"] == len(rows) and counts["quarantined"] == len(bad)


def test_a_10_mb_field_loads_whole(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(make_workspace, CASES["a 10 MB single field"].files, {"t": "t.csv"})
    run(ws)
    assert [len(r["blob"]) for r in raw_rows(ws, "t")] == [BIG_FIELD, len("short\nfield"), 1]


def test_header_only_files_still_have_their_columns(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(make_workspace, CASES["header only"].files, {"t": "t.csv"})
    run(ws)
    assert columns(ws, "t") == ["id", "name", "amount"]


def test_quarantine_says_why(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(make_workspace, {"t.csv": b'id,name\n1\n2,b,c\n3,"open\n'}, {"t": "t.csv"})
    run(ws)
    reasons = [q["reason"] for q in quarantined(ws)]
    assert "fewer columns" in reasons[0] and "more columns" in reasons[1] and "not closed" in reasons[2]
    assert [q["raw"] for q in quarantined(ws)] == ["1", "2,b,c", '3,"open\n']


# --- XLSX ------------------------------------------------------------------------------------------------


def _workbook() -> bytes:
    """A sheet with a title row, the header on row 2, a blank row, and two formula cells.

    openpyxl saves formulas without a cached value; the first one gets its cached value patched into
    the sheet XML, as a spreadsheet program would have saved it.
    """
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Week 46"
    sheet.append(["Friday sheet"])
    sheet.append(["job", "amount", "doubled", "when", "ok"])
    sheet.append(["J-1", 10, "=B3*2", datetime(2026, 11, 2, 9, 30), True])
    sheet.append([])
    sheet.append(["J-2", 20, "=B5*2", None, False])
    sheet.append(["J-3", 30.5, None, None, None, "beyond the header"])
    sheet.append([None, None, "=B7*2"])  # nothing but an uncalculated formula: still a record
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    patched = io.BytesIO()
    with zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                cell = b'<c r="C3"><f>B3*2</f><v /></c>'
                assert cell in data
                data = data.replace(cell, b'<c r="C3"><f>B3*2</f><v>20</v></c>')
            target.writestr(item, data)
    return patched.getvalue()


def test_xlsx_formulas_load_their_saved_value_or_are_quarantined(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(
        make_workspace,
        {"sheet.xlsx": _workbook()},
        {"rows": "{file: sheet.xlsx, sheet: Week 46, header_row: 2}"},
    )
    outcome = run(ws)
    assert outcome.outcome == "succeeded"
    rows = raw_rows(ws, "rows")
    assert [(r["_row"], r["job"], r["doubled"]) for r in rows] == [(3, "J-1", "20"), (6, "J-3", None)]
    assert rows[0]["when"] == "2026-11-02 09:30:00" and rows[0]["ok"] == "true"
    assert rows[1]["column_6"] == "beyond the header"
    bad = quarantined(ws)
    assert [(q["line"], q["column_name"], q["raw"]) for q in bad] == [
        (5, "doubled", "=B5*2"),
        (7, "doubled", "=B7*2"),
    ]
    assert all("no saved value" in q["reason"] for q in bad)
    assert len(rows) + len(bad) == 4  # the sheet's records: rows 3, 5, 6 and 7


def test_a_file_that_is_not_a_workbook_is_one_clear_error(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(
        make_workspace,
        {"sheet.xlsx": b"PK\x03\x04 not really", "ok.csv": b"a\n1\n"},
        {"rows": "sheet.xlsx", "ok": "ok.csv"},
    )
    outcome = run(ws)
    assert outcome.outcome == "partial"
    assert outcome.steps[0].result.errors == [
        "data/sheet.xlsx: not an XLSX workbook (File is not a zip file)"
    ]
    assert [r["a"] for r in raw_rows(ws, "ok")] == ["1"]


# --- JSON ------------------------------------------------------------------------------------------------


def test_a_json_file_that_is_not_json_is_one_error_and_the_rest_loads(
    make_workspace: Callable[..., Path],
) -> None:
    ws = files_workspace(
        make_workspace,
        {
            "broken.json": b"<html>502 Bad Gateway</html>",
            "lines.jsonl": b'{"a": 1}\n{"a": 2}\n',
            "t.csv": b"id\n1\n2\n",
        },
        {"broken": "broken.json", "lines": "lines.jsonl", "t": "t.csv"},
    )
    outcome = run(ws)
    assert outcome.outcome == "partial"
    (error,) = outcome.steps[0].result.errors
    assert error.startswith("data/broken.json: not valid JSON: ")
    assert raw_rows(ws, "broken") == []
    assert [r["a"] for r in raw_rows(ws, "lines")] == [1, 2]
    assert [r["id"] for r in raw_rows(ws, "t")] == ["1", "2"]


def test_a_wrong_records_path_names_the_keys_there_are(make_workspace: Callable[..., Path]) -> None:
    doc = json.dumps({"QueryResponse": {"Invoice": [{"Id": "1"}]}, "time": "now"}).encode()
    ws = files_workspace(
        make_workspace, {"t.json": doc}, {"t": "{file: t.json, records: QueryResponse.Bill}"}
    )
    outcome = run(ws)
    assert outcome.steps[0].result.errors == [
        "data/t.json: no list of records at `QueryResponse.Bill`; the document's top-level keys are: "
        "QueryResponse, time"
    ]


# --- values the map step cannot type -----------------------------------------------------------------------

MAPPING = """
entities:
  job:
    src:
      from: jobs
      id: job_number
      fields: {number: job_number, amount: total, completed_at: completed_at}
"""


def test_bad_amounts_and_dates_are_kept_raw_and_quarantined_by_map(
    make_workspace: Callable[..., Path],
) -> None:
    jobs = (
        b"job_number,total,completed_at\n"
        b"J-1,100.50,2026-11-01\n"
        b"J-2,about 300,2026-11-02\n"
        b'J-3,"1,200.00",not a date\n'
        b"J-4,$5,2026-13-45\n"
        b"J-5,,\n"
    )
    ws = files_workspace(make_workspace, {"jobs.csv": jobs}, {"jobs": "jobs.csv"}, MAPPING)
    outcome = run(ws, "ingest", "map")
    assert outcome.outcome == "succeeded"
    # ingest keeps every value as text, exactly as exported
    rows = raw_rows(ws, "jobs")
    assert [(r["_row"], r["total"], r["completed_at"]) for r in rows] == [
        (2, "100.50", "2026-11-01"),
        (3, "about 300", "2026-11-02"),
        (4, "1,200.00", "not a date"),
        (5, "$5", "2026-13-45"),
        (6, None, None),
    ]
    assert quarantined(ws, "ingest") == []
    bad = quarantined(ws, "map")
    assert [(q["system"], q["tbl"], q["source"], q["line"], q["column_name"], q["raw"]) for q in bad] == [
        ("src", "jobs", "data/jobs.csv", 3, "amount", "about 300"),
        ("src", "jobs", "data/jobs.csv", 4, "completed_at", "not a date"),
        ("src", "jobs", "data/jobs.csv", 5, "completed_at", "2026-13-45"),
    ]
    assert "not an amount" in bad[0]["reason"] and "not a date" in bad[1]["reason"]
    staged = query(ws, "SELECT source_id, _row FROM staged_job ORDER BY _row")
    assert staged == [("J-1", 2), ("J-5", 6)]
    assert len(staged) + len(bad) == len(rows)


def test_xlsx_rows_are_sheet_rows_when_the_table_starts_low_and_has_gaps(
    make_workspace: Callable[..., Path],
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["B3"], sheet["C3"] = "id", "name"
    sheet["B4"], sheet["C4"] = 1, "a"
    sheet["B7"], sheet["C7"] = 2, "b"
    buffer = io.BytesIO()
    book.save(buffer)
    ws = files_workspace(
        make_workspace, {"t.xlsx": buffer.getvalue()}, {"t": "{file: t.xlsx, header_row: 3}"}
    )
    run(ws)
    assert [(r["_row"], r["id"], r["name"]) for r in raw_rows(ws, "t")] == [(4, "1", "a"), (7, "2", "b")]
    assert quarantined(ws) == []


# --- The loader's own names ----------------------------------------------------------------------------


def test_a_source_column_named_as_the_loaders_own_is_renamed_and_the_lines_stay_right(
    make_workspace: Callable[..., Path], tmp_path: Path
) -> None:
    """`_row`, `_source`, `_load_id` and `_loaded_at` are what trueup adds to every raw row: a source
    column of one of those names (in any case) keeps its values as `col_<name>`, and `_row` stays the
    record's line. (A JSON document with a `_row` key put the key's values in `_row`; an NDJSON file
    with one failed whole.)"""
    parquet = tmp_path / "p.parquet"
    duckdb.execute(
        f"COPY (SELECT * FROM (VALUES (1, 'A', 'x'), (2, 'B', 'y')) v(id, _row, _LOAD_ID)) TO '{parquet}'"
    )
    ws = files_workspace(
        make_workspace,
        {
            "lines.jsonl": b'{"id": 1, "_row": "A", "_Source": "s"}\n\n{"id": 2, "_row": "B"}\nnot json\n',
            "doc.json": json.dumps([{"id": 1, "_row": "A", "_id": 5}, {"id": 2, "_row": "B", "col_row": 7}]),
            "env.json": json.dumps({"Q": {"I": [{"id": 1, "_row": "A"}, {"id": 2, "_row": "B"}]}}),
            "p.parquet": parquet.read_bytes(),
            "t.csv": b"id,_row\n1,A\n2,B\n",
        },
        {
            "lines": "lines.jsonl",
            "doc": "doc.json",
            "env": "{file: env.json, records: Q.I}",
            "p": "p.parquet",
            "t": "t.csv",
        },
    )
    outcome = run(ws)
    assert outcome.outcome == "succeeded"
    got = {t: [(r["_row"], r["id"], r["col_row"]) for r in raw_rows(ws, t)] for t in ("lines", "env", "p")}
    assert got == {
        "lines": [(1, 1, "A"), (3, 2, "B")],  # line 2 is blank, line 4 quarantined
        "env": [(1, 1, "A"), (2, 2, "B")],
        "p": [(1, 1, "A"), (2, 2, "B")],
    }
    assert [r["col_Source"] for r in raw_rows(ws, "lines")] == ["s", None]
    assert [r["col_LOAD_ID"] for r in raw_rows(ws, "p")] == ["x", "y"]
    # the document has a `col_row` of its own, and keeps it; a key `_id` is no name of the loader's
    assert [(r["_row"], r["col_row_2"], r["col_row"], r["_id"]) for r in raw_rows(ws, "doc")] == [
        (1, "A", None, 5),
        (2, "B", 7, None),
    ]
    assert [(r["_row"], r["col_row"]) for r in raw_rows(ws, "t")] == [(2, "A"), (3, "B")]  # as before
    notes = sorted(n for n in outcome.steps[0].result.notes if "loaded as" in n)
    assert notes == [
        "data/doc.json: its column _row is loaded as col_row_2 (_row is what trueup adds to every row)",
        "data/env.json: its column _row is loaded as col_row (_row is what trueup adds to every row)",
        "data/lines.jsonl: its column _Source is loaded as col_Source (_source is what trueup adds to every row)",
        "data/lines.jsonl: its column _row is loaded as col_row (_row is what trueup adds to every row)",
        "data/p.parquet: its column _LOAD_ID is loaded as col_LOAD_ID (_load_id is what trueup adds to every row)",
        "data/p.parquet: its column _row is loaded as col_row (_row is what trueup adds to every row)",
    ]
