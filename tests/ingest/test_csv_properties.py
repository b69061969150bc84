"""Property tests: whatever a CSV file holds, ingest completes and accounts for every record.

For well-formed tables (written by Python's csv module) the oracle is Python's csv module reading
the same bytes with the same dialect: every record loads, at the line it starts on, with its
values intact. For arbitrary and corrupted bytes the run must still complete (an unreadable file is
a reported error, never an exception) and what it loaded must be consistent: distinct lines,
inside the file, loaded and quarantined rows never sharing a line.
"""

from __future__ import annotations

import csv
import io
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ingest.helpers import columns, files_config, manifest, quarantined, raw_rows, run
from trueup.config.models import FileTable
from trueup.ingest.csv import SAMPLE_BYTES, sniff

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DELIMITERS = ",;\t|"

special = st.sampled_from(
    [",", ";", "\t", "|", '"', "'", "\r", "\n", "\r\n", " ", "\\", "\x00", "é", "€", "“"]
)
cells = st.lists(st.one_of(special, st.characters(codec="utf-8")), max_size=10).map("".join)
names = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)


@st.composite
def tables(draw: st.DrawFn) -> dict:
    width = draw(st.integers(1, 5))
    header = draw(st.lists(names, min_size=width, max_size=width))
    rows = draw(st.lists(st.lists(cells, min_size=width, max_size=width), max_size=8))
    return {
        "header": header,
        "rows": rows,
        "delimiter": draw(st.sampled_from(DELIMITERS)),
        "terminator": draw(st.sampled_from(["\n", "\r\n"])),
        "quoting": draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])),
        "blank_after": draw(st.sets(st.integers(0, 8), max_size=3)),  # blank lines after these records
        "final_break": draw(st.booleans()),
        "declare": draw(st.booleans()),  # declare the delimiter, or leave it to the sniffer
    }


def _render(table: dict) -> bytes:
    parts: list[str] = []
    for i, record in enumerate([table["header"], *table["rows"]]):
        buffer = io.StringIO()
        # csv.writer quotes only the characters of its own line terminator: with "\n" a CR would be
        # written bare, and a bare CR is a line break, so the table would no longer be well formed.
        quoting = csv.QUOTE_ALL if any("\r" in c for c in record) else table["quoting"]
        csv.writer(
            buffer, delimiter=table["delimiter"], lineterminator=table["terminator"], quoting=quoting
        ).writerow(record)
        parts.append(buffer.getvalue())
        if i - 1 in table["blank_after"]:
            parts.append(table["terminator"])
    text = "".join(parts)
    if not table["final_break"]:
        text = text.removesuffix(table["terminator"])
    if table["encoding"] == "cp1252":
        return text.encode("cp1252", errors="replace")
    return text.encode(table["encoding"])


def _decode(data: bytes) -> str:
    """The text trueup reads: UTF-8 (with or without BOM) when it decodes, else cp1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _oracle(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """(line the record starts on, fields) for each non-blank record, header included."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out, line = [], 1
    for record in reader:
        if record:
            out.append((line, record))
        line = reader.line_num + 1
    return out


def _physical_lines(data: bytes) -> int:
    breaks = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return breaks + (data[-1:] not in (b"\n", b"\r", b""))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One workspace reused by every example: each example rewrites the file, so ingest reloads it."""
    return tmp_path_factory.mktemp("csv_properties")


def _write(ws: Path, data: bytes, spec: str) -> None:
    (ws / "data").mkdir(exist_ok=True)
    (ws / "data" / "t.csv").write_bytes(data)
    (ws / "trueup.yaml").write_text(textwrap.dedent(files_config({"t": spec})))


@SETTINGS
@given(table=tables())
def test_well_formed_tables_load_every_record_at_its_line(workspace: Path, table: dict) -> None:
    data = _render(table)
    delimiter = table["delimiter"]
    quoted = '"\\t"' if delimiter == "\t" else f"'{delimiter}'"
    spec = f"{{file: t.csv, delimiter: {quoted}}}" if table["declare"] else "t.csv"
    _write(workspace, data, spec)
    outcome = run(workspace)
    assert outcome.outcome == "succeeded", outcome.steps[0].result.errors

    text = _decode(data)
    if not table["declare"]:
        sample = text[:SAMPLE_BYTES]
        used = sniff(sample, FileTable(file="t.csv"), "utf-8").delimiter
        if used != delimiter:  # the sniffer may guess another delimiter for odd data: only consistency then
            _assert_consistent(workspace, data)
            return
    header, *records = _oracle(text, delimiter)
    rows = raw_rows(workspace, "t")
    assert quarantined(workspace) == []
    assert len(columns(workspace, "t")) == len(header[1])
    assert [r["_row"] for r in rows] == [line for line, _ in records]
    names = columns(workspace, "t")
    assert [[r[n] or "" for n in names] for r in rows] == [[v or "" for v in fields] for _, fields in records]


corruptions = st.sampled_from(
    ["truncate", "stray quote", "drop byte", "insert bytes", "extra field", "cut line"]
)


@SETTINGS
@given(table=tables(), how=corruptions, where=st.floats(0, 1), junk=st.binary(min_size=1, max_size=8))
def test_corrupted_tables_never_break_the_run(
    workspace: Path, table: dict, how: str, where: float, junk: bytes
) -> None:
    data = _render(table)
    at = int(len(data) * where)
    data = {
        "truncate": data[:at],
        "stray quote": data[:at] + b'"' + data[at:],
        "drop byte": data[:at] + data[at + 1 :],
        "insert bytes": data[:at] + junk + data[at:],
        "extra field": data[:at] + table["delimiter"].encode() + data[at:],
        "cut line": data[:at] + b"\n" + data[at:],
    }[how]
    _write(workspace, data, "t.csv")
    _assert_consistent(workspace, data)


@SETTINGS
@given(data=st.binary(max_size=3000))
def test_arbitrary_bytes_never_break_the_run(workspace: Path, data: bytes) -> None:
    _write(workspace, data, "t.csv")
    _assert_consistent(workspace, data)


def _assert_consistent(ws: Path, data: bytes) -> None:
    before = manifest(ws) if (ws / ".trueup" / "warehouse.duckdb").exists() else []
    outcome = run(ws)  # an exception here fails the test: bad bytes must never escape as one
    assert outcome.outcome in ("succeeded", "partial")
    result = outcome.steps[0].result
    files = manifest(ws)
    if outcome.outcome == "partial":
        assert all(e.startswith("data/t.csv: ") for e in result.errors), result.errors
        assert files == before  # nothing of the unreadable file counts; the last good load stands
        return
    ((*_, loaded, bad),) = files
    rows, lost = raw_rows(ws, "t"), quarantined(ws)
    assert (len(rows), len(lost)) == (loaded, bad)
    lines = _physical_lines(data)
    row_lines = [r["_row"] for r in rows]
    bad_lines = [q["line"] for q in lost]
    assert len(set(row_lines)) == len(row_lines), "two loaded records on one line"
    assert not set(row_lines) & set(bad_lines), "a line both loaded and quarantined"
    assert all(1 <= n <= max(lines, 1) for n in row_lines + bad_lines)
    assert len(rows) + len(lost) <= lines


def test_oracle_helpers_agree_with_the_reader() -> None:
    """A sanity check of this file's own oracle on a known table."""
    data = b'a,b\r\n1,"x\r\ny"\r\n\r\n2,z'
    assert _oracle(_decode(data), ",") == [(1, ["a", "b"]), (2, ["1", "x\r\ny"]), (5, ["2", "z"])]
    assert _physical_lines(data) == 5
