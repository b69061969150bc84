"""XLSX: a sheet of values is read by calamine, one with formulas or error cells by openpyxl, and a
cell reads the same text either way."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.ingest.helpers import files_workspace, quarantined, raw_rows, run
from trueup.ingest.xlsx import calamine_rows, cell_text, only_values, openpyxl_rows, sheet_parts

VALUES: list[list[Any]] = [
    ["job", "count", "amount", "done", "day", "at", "start", "took", "note"],
    ["J-1", 3, 1840.5, True, date(2026, 11, 2), datetime(2026, 11, 2, 9, 30), time(7, 15), timedelta(hours=26),
     "  padded  "],
    ["J-2", 0, -0.1, False, datetime(2026, 11, 3), datetime(2026, 11, 3, 23, 59, 59), time(0, 0), None, "ünïcode"],
    [None, None, None, None, None, None, None, None, "   "],
    ["J-3", 12345678901, 1e-7, None, date(1999, 12, 31), None, None, None, None, "beyond the header"],
]  # fmt: skip


def _book(summary_formula: bool = True) -> bytes:
    """A values sheet starting at B2, beside a summary sheet with a formula (as Friday sheets have)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Jobs"
    for r, row in enumerate(VALUES, start=2):
        for c, value in enumerate(row, start=2):
            sheet.cell(r, c, value)
    summary = book.create_sheet("Summary")
    summary["A1"] = "=SUM(Jobs!D3:D6)" if summary_formula else 42
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _texts(rows: Iterable[tuple[Sequence[Any], Sequence[Any]]]) -> list[list[str | None]]:
    """Each row's texts to the last row with one, every row as wide as the widest (column A is empty)."""
    texts = [[cell_text(v) for v in values] for values, _ in rows]
    while texts and not any(texts[-1]):
        texts.pop()
    width = 1 + max(len(row) for row in VALUES)
    return [row + [None] * (width - len(row)) for row in texts]


def test_a_sheet_of_values_reads_the_same_text_with_calamine_and_openpyxl(tmp_path: Path) -> None:
    path = tmp_path / "friday.xlsx"
    path.write_bytes(_book())
    with zipfile.ZipFile(path) as archive:
        parts = sheet_parts(archive)
        assert list(parts) == ["Jobs", "Summary"]
        # the summary's formula sends only the summary to openpyxl
        assert only_values(archive, parts["Jobs"]) and not only_values(archive, parts["Summary"])
    fast, slow = _texts(calamine_rows(path, "Jobs", "friday")), _texts(openpyxl_rows(path, "Jobs", "friday"))
    assert fast == slow
    assert fast[1][1:5] == ["job", "count", "amount", "done"]
    assert fast[2][1:10] == ["J-1", "3", "1840.5", "true", "2026-11-02 00:00:00", "2026-11-02 09:30:00", "07:15:00",
                             "1 day, 2:00:00", "  padded  "]  # fmt: skip
    # a date, and a date-time at midnight (which calamine gives as a date), are openpyxl's date-time
    assert fast[3][5] == "2026-11-03 00:00:00" and fast[3][6] == "2026-11-03 23:59:59"
    assert fast[5][1:4] == ["J-3", "12345678901", "1e-07"] and fast[5][10] == "beyond the header"


def test_error_cells_keep_their_text_and_uncalculated_formulas_are_quarantined(
    make_workspace: Callable[..., Path],
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["job", "rate", "share"])
    sheet.append(["J-1", 1, "=B2/0"])
    sheet.append(["J-2", 2, "=B3*2"])
    sheet.append([None, None, "=B4*2"])  # the last row holds nothing but an uncalculated formula
    buffer = io.BytesIO()
    book.save(buffer)
    source, patched = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":  # saved as a spreadsheet program would
                data = data.replace(b'<c r="C2"><f>B2/0</f><v /></c>', b'<c r="C2" t="e"><f>B2/0</f><v>#DIV/0!</v></c>')
                data = data.replace(b'<c r="C3"><f>B3*2</f><v /></c>', b'<c r="C3"><f>B3*2</f><v>4</v></c>')
            target.writestr(item, data)
    ws = files_workspace(make_workspace, {"t.xlsx": patched.getvalue()}, {"t": "t.xlsx"})
    assert run(ws).outcome == "succeeded"
    assert [(r["_row"], r["job"], r["share"]) for r in raw_rows(ws, "t")] == [(2, "J-1", "#DIV/0!"), (3, "J-2", "4")]
    assert [(q["line"], q["column_name"], q["raw"]) for q in quarantined(ws)] == [(4, "share", "=B4*2")]


@pytest.mark.parametrize("summary_formula", [True, False])
def test_a_sheet_of_values_loads_every_row_at_its_line(
    make_workspace: Callable[..., Path], summary_formula: bool
) -> None:
    ws = files_workspace(
        make_workspace, {"f.xlsx": _book(summary_formula)}, {"t": "{file: f.xlsx, sheet: Jobs, header_row: 2}"}
    )
    assert run(ws).outcome == "succeeded"
    rows = raw_rows(ws, "t")
    assert [(r["_row"], r["job"], r["day"]) for r in rows] == [
        (3, "J-1", "2026-11-02 00:00:00"), (4, "J-2", "2026-11-03 00:00:00"), (6, "J-3", "1999-12-31 00:00:00")
    ]  # fmt: skip
    assert rows[2]["column_11"] == "beyond the header" and quarantined(ws) == []


def test_a_missing_sheet_names_the_sheets_there_are(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(make_workspace, {"f.xlsx": _book()}, {"t": "{file: f.xlsx, sheet: Week 46}"})
    outcome = run(ws)
    assert outcome.outcome == "partial"
    assert outcome.steps[0].result.errors == ["data/f.xlsx: no sheet 'Week 46'; the sheets are: Jobs, Summary"]


def test_a_sheet_defining_entities_is_refused_not_expanded(make_workspace: Callable[..., Path]) -> None:
    """A billion laughs in a sheet of values: calamine expands no entity, and says so."""
    book = openpyxl.Workbook()
    book.active.append(["name"])
    book.active.append(["placeholder"])
    buffer = io.BytesIO()
    book.save(buffer)
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10 if n else "lol"}">' for n in range(10))
    source, bomb = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(bomb, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = f"<!DOCTYPE worksheet [{laughs}]>".encode() + data.replace(b"placeholder", b"&l9;")
            target.writestr(item, data)
    ws = files_workspace(make_workspace, {"b.xlsx": bomb.getvalue(), "ok.csv": b"a\n1\n"}, {"b": "b.xlsx", "ok": "ok.csv"})
    outcome = run(ws)
    assert outcome.outcome == "partial"
    [error] = outcome.steps[0].result.errors
    assert error.startswith("data/b.xlsx: not a readable XLSX workbook:") and "entity" in error
    assert [r["a"] for r in raw_rows(ws, "ok")] == ["1"]
