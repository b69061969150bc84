"""JSON files: an array of records, newline-delimited records, or records inside an envelope.

Documents (an array, or an envelope such as QuickBooks Online's `QueryResponse.Invoice`) are read
whole by DuckDB, with the object size limit raised to the file's size so a 100 MB export reads.
Newline-delimited files are read line by line so one bad line is quarantined with its number and
the rest load.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from trueup.config.models import FileTable
from trueup.errors import SourceError
from trueup.ingest.base import FileLoad, LoadMeta, Quarantined, clip, literal
from trueup.warehouse import ident

if TYPE_CHECKING:
    pass


def read(
    con: duckdb.DuckDBPyConnection, path: Path, spec: FileTable, into: str, meta: LoadMeta, scratch: Path
) -> FileLoad:
    size = path.stat().st_size
    if size == 0:
        return FileLoad(notes=[f"{meta.source} is empty"])
    head = first_char(path)
    if head is None:
        return FileLoad(notes=[f"{meta.source} has no records"])
    # A .jsonl/.ndjson name says one record per line, even when only one line is a valid object.
    lines = path.suffix.lower() in (".jsonl", ".ndjson") or _is_line_delimited(path)
    if spec.records or head == "[" or not lines:
        return _read_document(con, path, spec, into, meta, size)
    return _read_lines(con, path, into, meta)


def first_char(path: Path) -> str | None:
    """The first character of the document, past a BOM and white space."""
    with path.open("rb") as handle:
        while chunk := handle.read(4096):
            text = chunk.lstrip(b"\xef\xbb\xbf \t\r\n")
            if text:
                return chr(text[0])
    return None


def _is_line_delimited(path: Path) -> bool:
    """NDJSON: more than one line that starts with `{` in the first few kilobytes."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    starts = [line for line in head.splitlines() if line.strip().startswith(b"{")]
    return len(starts) > 1 and not head.lstrip().startswith(b"{\n")


def _read_document(
    con: duckdb.DuckDBPyConnection, path: Path, spec: FileTable, into: str, meta: LoadMeta, size: int
) -> FileLoad:
    reader = (
        f"read_json({literal(str(path))}, maximum_object_size={max(size + 1024, 16 << 20)}, "
        f"sample_size=-1, map_inference_threshold=-1)"
    )
    try:
        if spec.records:
            records = ".".join(ident(part) for part in spec.records.split("."))
            source = (
                f"SELECT unnest(_r), _i AS _row FROM (SELECT unnest({records}) AS _r, "
                f"generate_subscripts({records}, 1) AS _i FROM {reader})"
            )
        else:
            source = f"SELECT *, row_number() OVER () AS _row FROM {reader}"
        con.execute(f"CREATE TABLE {into} AS SELECT * FROM ({source})")
    except duckdb.BinderException:
        keys = _top_keys(con, reader)
        raise SourceError(
            f"{meta.source}: no list of records at `{spec.records}`; the document's top-level keys are: "
            f"{', '.join(keys) or '(none)'}"
        ) from None
    except duckdb.Error as exc:
        raise SourceError(f"{meta.source}: not valid JSON: {str(exc).splitlines()[0]}") from None
    rows = con.execute(f"SELECT count(*) FROM {into}").fetchone()[0]  # type: ignore[index]
    return FileLoad(rows=rows)


def _top_keys(con: duckdb.DuckDBPyConnection, reader: str) -> list[str]:
    # A cursor of its own: the binder error has aborted the load's transaction on `con`.
    cursor = con.cursor()
    try:
        return [row[0] for row in cursor.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    except duckdb.Error:
        return []
    finally:
        cursor.close()


def _read_lines(con: duckdb.DuckDBPyConnection, path: Path, into: str, meta: LoadMeta) -> FileLoad:
    import pyarrow as pa  # imported on use: only rows built in Python need it

    numbers: list[int] = []
    texts: list[str] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.decode("utf-8", errors="replace").strip().lstrip("\ufeff")
            if text:
                numbers.append(number)
                texts.append(text)
    con.register("_ndjson", pa.table({"_row": pa.array(numbers, pa.int64()), "_text": pa.array(texts)}))
    try:
        con.execute(
            "CREATE TEMP TABLE _checked AS SELECT _row, _text, "
            # TRY_CAST: AND does not short-circuit, and a plain cast of a bad line aborts the load
            "coalesce(json_type(TRY_CAST(_text AS JSON)) = 'OBJECT', false) AS _ok FROM _ndjson"
        )
    finally:
        con.unregister("_ndjson")
    bad = con.execute("SELECT _row, _text FROM _checked WHERE NOT _ok ORDER BY _row").fetchall()
    structure = con.execute("SELECT json_group_structure(_text::JSON) FROM _checked WHERE _ok").fetchone()[0]  # type: ignore[index]
    if structure is None:
        con.execute(f"CREATE TABLE {into} AS SELECT _row FROM _checked WHERE false")
    else:
        con.execute(
            f"CREATE TABLE {into} AS SELECT unnest(json_transform(_text, {literal(structure)})), "
            f"_row FROM _checked WHERE _ok ORDER BY _row"
        )
    con.execute("DROP TABLE _checked")
    quarantined = [
        Quarantined(line=line, reason="the line is not a JSON object", raw=clip(text)) for line, text in bad
    ]
    return FileLoad(rows=len(numbers) - len(bad), quarantined=quarantined)
