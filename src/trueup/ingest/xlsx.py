"""XLSX workbooks: the values people saw, never a formula evaluated, never a bomb opened.

openpyxl reads in read-only mode twice in step: once for the values Excel saved, once to tell
which cells hold formulas. A formula with no saved value is quarantined rather than guessed.
defusedxml (a dependency) makes openpyxl's XML parsing refuse entity expansion; the zip is
inspected before it is opened so a zip bomb is refused by its declared sizes.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from trueup.config.models import FileTable
from trueup.errors import SourceError
from trueup.ingest.base import FileLoad, LoadMeta, Quarantined, clip, create_from_arrow, unique_names

if TYPE_CHECKING:
    pass

MAX_UNCOMPRESSED = 1 << 30  # 1 GiB of XML in all
MAX_RATIO = 200  # uncompressed / compressed for any part larger than 1 MiB
MAX_PARTS = 10_000


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


def read(
    con: duckdb.DuckDBPyConnection, path: Path, spec: FileTable, into: str, meta: LoadMeta, scratch: Path
) -> FileLoad:
    import openpyxl
    import pyarrow as pa  # imported on use: only rows built in Python need it

    check_zip(path, meta.source)
    try:
        values_book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formula_book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise SourceError(f"{meta.source}: not a readable XLSX workbook: {exc}") from None
    try:
        name = spec.sheet or values_book.sheetnames[0]
        if name not in values_book.sheetnames:
            raise SourceError(
                f"{meta.source}: no sheet {name!r}; the sheets are: {', '.join(values_book.sheetnames)}"
            )
        values_rows = values_book[name].iter_rows(values_only=True)
        formula_rows = formula_book[name].iter_rows(values_only=True)
        header: list[str] = []
        rows: list[list[str | None]] = []
        lines: list[int] = []
        load = FileLoad()
        for number, (values, formulas) in enumerate(zip(values_rows, formula_rows, strict=False), start=1):
            if number < spec.header_row:
                continue
            texts = [cell_text(v) for v in values]
            if number == spec.header_row:
                header = unique_names(texts)
                continue
            missing = [
                i
                for i, (v, f) in enumerate(zip(values, formulas, strict=False))
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
                header += unique_names(
                    [None] * (len(texts) - len(header)), start=len(header) + 1, taken=header
                )
            rows.append(texts)
            lines.append(number)
    finally:
        values_book.close()
        formula_book.close()
    if not header:
        load.notes.append(f"{meta.source}: sheet {name!r} has no header row at row {spec.header_row}")
        return load
    columns = {
        h: pa.array([r[i] if i < len(r) else None for r in rows], pa.string()) for i, h in enumerate(header)
    }
    columns["_row"] = pa.array(lines, pa.int64())
    create_from_arrow(con, into, pa.table(columns))
    load.rows = len(rows)
    return load
