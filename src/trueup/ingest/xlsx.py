"""XLSX workbooks: the values people saw, never a formula evaluated, never a bomb opened.

A sheet of values alone (no formulas, no error cells: what tools export and people paste) is read
by calamine, in Rust, at about fifteen times openpyxl's speed. A sheet with formulas or error cells
is read by openpyxl in read-only mode twice in step: once for the values Excel saved, once to tell
which cells hold formulas; a formula with no saved value is quarantined rather than guessed, and an
error cell keeps its text (`#N/A`), which calamine would empty. Both give a cell the same text. The
zip is inspected before it is opened so a zip bomb is refused by its declared sizes; defusedxml (a
dependency) makes openpyxl's XML parsing, and the reading of the workbook's parts here, refuse
entity expansion, and calamine's parser expands none.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from itertools import zip_longest
from pathlib import Path
from typing import Any

import duckdb

from trueup.config.models import FileTable
from trueup.errors import SourceError
from trueup.ingest.base import FileLoad, LoadMeta, Quarantined, clip, create_from_columns, unique_names

MAX_UNCOMPRESSED = 1 << 30  # 1 GiB of XML in all
MAX_RATIO = 200  # uncompressed / compressed for any part larger than 1 MiB
MAX_PARTS = 10_000
# What only openpyxl reads: a formula (`<f>`, `<x:f t="shared"/>`) or an error cell (`t="e"`); the
# pattern is looked for where one of the hints is (a plain search for them is ten times faster).
HINTS = (b"<f", b":f", b'"e"', b"'e'")
NEEDS_OPENPYXL = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?f[\s>/]|\st\s*=\s*["']e["']""")
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def check_zip(path: Path, source: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{source}: not an XLSX workbook ({exc})") from None
    if len(parts) > MAX_PARTS:
        raise SourceError(f"{source}: refused: the workbook has {len(parts)} parts (limit {MAX_PARTS})")
    total = sum(p.file_size for p in parts)
    if total > MAX_UNCOMPRESSED:
        raise SourceError(
            f"{source}: refused: it unpacks to {total >> 20} MiB (limit {MAX_UNCOMPRESSED >> 20} MiB)"
        )
    for part in parts:
        if part.file_size > 1 << 20 and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise SourceError(
                f"{source}: refused: part {part.filename} expands {part.file_size // max(part.compress_size, 1)}x "
                f"(limit {MAX_RATIO}x); this looks like a zip bomb"
            )


def cell_text(value: Any) -> str | None:
    if type(value) is str:  # most cells: first
        return value if value.strip() else None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | int):
        return str(value)
    text = str(value)
    return text if text.strip() else None


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's name, in the workbook's order, and the zip part holding its cells: the package's
    relationships name the workbook part, the workbook's name each sheet's part."""
    from defusedxml import ElementTree

    def targets(rels: str, folder: str, kind: str) -> dict[str | None, str]:
        """Each relationship's id and the part it leads to, of those whose type ends in `kind`."""
        found = {}
        for rel in ElementTree.fromstring(archive.read(rels)):
            target = rel.get("Target") or ""
            if rel.get("Type", "").endswith(kind):
                found[rel.get("Id")] = (
                    target[1:] if target.startswith("/") else posixpath.join(folder, target)
                )
        return found

    book = next(iter(targets("_rels/.rels", "", "/officeDocument").values()))
    folder, file = posixpath.split(book)
    sheets = targets(posixpath.join(folder, "_rels", f"{file}.rels"), folder, "/worksheet")
    return {
        sheet.get("name", ""): sheets.get(sheet.get(RELATIONSHIP), "")
        for sheet in ElementTree.fromstring(archive.read(book)).iter(f"{MAIN}sheet")
    }


def only_values(archive: zipfile.ZipFile, part: str) -> bool:
    """Whether a sheet's part holds values alone: no formula and no error cell anywhere in it."""
    if part not in archive.namelist():
        return False  # openpyxl reads it, and says what is wrong
    with archive.open(part) as xml:
        tail = b""
        while chunk := xml.read(1 << 24):
            text = tail + chunk
            if any(hint in text for hint in HINTS) and NEEDS_OPENPYXL.search(text):
                return False
            tail = chunk[-32:]
    return True


def calamine_rows(path: Path, name: str, source: str) -> Iterator[tuple[list[Any], Sequence[Any]]]:
    """Each row of a sheet of values from row 1 and column A (an empty cell is "", which `cell_text`
    reads as None); no formulas."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        try:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        finally:
            book.close()
    except CalamineError as exc:  # an entity it will not expand, a damaged part
        raise SourceError(f"{source}: not a readable XLSX workbook: {exc}") from None
    for row in rows:
        yield [at_midnight(v) if type(v) is date else v for v in row], ()


def at_midnight(day: date) -> datetime:
    """calamine gives a date cell, and a date-time cell at midnight, as a date; openpyxl gives both as
    a date-time. Read as openpyxl reads it, a time written in another zone keeps its midnight there."""
    return datetime.combine(day, time())


def openpyxl_rows(path: Path, name: str, source: str) -> Iterator[tuple[Sequence[Any], Sequence[Any]]]:
    """Each row's saved values beside its formulas (a formula's text, or the value itself), to the
    end of the longer: a row of uncalculated formulas has no values."""
    import openpyxl

    try:
        values_book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formula_book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise SourceError(f"{source}: not a readable XLSX workbook: {exc}") from None
    try:
        values, formulas = (book[name].iter_rows(values_only=True) for book in (values_book, formula_book))
        yield from zip_longest(values, formulas, fillvalue=())
    finally:
        values_book.close()
        formula_book.close()


def read(
    con: duckdb.DuckDBPyConnection, path: Path, spec: FileTable, into: str, meta: LoadMeta, scratch: Path
) -> FileLoad:
    check_zip(path, meta.source)
    try:
        with zipfile.ZipFile(path) as archive:
            parts = sheet_parts(archive)
            name = spec.sheet or next(iter(parts), "")
            plain = name in parts and only_values(archive, parts[name])
    except Exception as exc:  # a workbook without its sheet list, or one that is not XML
        raise SourceError(f"{meta.source}: not a readable XLSX workbook: {exc}") from None
    if name not in parts:
        raise SourceError(f"{meta.source}: no sheet {name!r}; the sheets are: {', '.join(parts)}")
    header: list[str] = []
    rows: list[list[str | None]] = []
    lines: list[int] = []
    load = FileLoad()
    cells = calamine_rows(path, name, meta.source) if plain else openpyxl_rows(path, name, meta.source)
    for number, (values, formulas) in enumerate(cells, start=1):
        if number < spec.header_row:
            continue
        texts = [cell_text(v) for v in values]
        if number == spec.header_row:
            header = unique_names(texts)
            continue
        missing = formulas and [
            i
            for i, (v, f) in enumerate(zip_longest(values, formulas))
            if v is None and isinstance(f, str) and f.startswith("=")
        ]
        if not missing and not any(t is not None for t in texts):
            continue  # blank; a row of unsaved formulas looks blank too, but is a record
        if missing:
            column = header[missing[0]] if missing[0] < len(header) else f"column_{missing[0] + 1}"
            load.quarantined.append(
                Quarantined(
                    line=number,
                    column=column,
                    raw=clip(str(formulas[missing[0]])),
                    reason="a formula cell has no saved value (the workbook was saved without calculating);"
                    " open and save it in a spreadsheet program",
                )
            )
            continue
        if len(texts) > len(header):
            header += unique_names([None] * (len(texts) - len(header)), start=len(header) + 1, taken=header)
        rows.append(texts)
        lines.append(number)
    if not header:
        load.notes.append(f"{meta.source}: sheet {name!r} has no header row at row {spec.header_row}")
        return load
    columns = {h: [r[i] if i < len(r) else None for r in rows] for i, h in enumerate(header)}
    create_from_columns(con, into, columns, lines)
    load.rows = len(rows)
    return load
