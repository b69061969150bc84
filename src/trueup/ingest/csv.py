"""CSV files: dialect and encoding detected, parsed by DuckDB, bad rows quarantined by line.

The dialect comes from the stdlib sniffer over a sample (DuckDB's own sniffer gives up on files
with ragged rows, which are exactly the files that need quarantining); the header is read with the
stdlib `csv` module; DuckDB then parses the whole file with explicit columns, every column as
text, and writes rows it cannot parse to a rejects table.
"""

from __future__ import annotations

import codecs
import csv as stdlib_csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from trueup.config.models import FileTable
from trueup.errors import SourceError
from trueup.ingest.base import FileLoad, LoadMeta, Quarantined, clip, literal
from trueup.warehouse import ident

SAMPLE_BYTES = 256 * 1024
DELIMITERS = ",;\t|"
MAX_LINE_BYTES = 512 * 1024 * 1024  # a single field may be large; only memory bounds it

REASONS = {
    "MISSING COLUMNS": "the row has fewer columns than the header",
    "TOO MANY COLUMNS": "the row has more columns than the header",
    "UNQUOTED VALUE": "a quoted value is not closed (truncated file or stray quote)",
    "INVALID ENCODING": "the row has bytes that are not valid text in the file's encoding",
    "LINE SIZE OVER MAXIMUM": "the row is longer than the maximum line size",
    "INVALID UNICODE": "the row has bytes that are not valid text in the file's encoding",
}


@dataclass(frozen=True)
class Dialect:
    encoding: str
    delimiter: str
    quote: str
    escape: str
    header: bool
    header_line: int  # the 1-based line of the header (or the line before the first record)


def detect_encoding(sample: bytes, declared: str | None) -> str:
    """UTF-8 (with or without BOM) when the sample decodes as UTF-8, else the best other guess."""
    if declared:
        try:
            codecs.lookup(declared)
        except LookupError:
            raise SourceError(f"unknown encoding {declared!r}; use utf-8, cp1252 or latin-1") from None
        return declared
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=["cp1252", "latin_1", "utf_16", "cp1250", "mac_roman"]).best()
    name = best.encoding if best else "cp1252"
    # Windows exports labelled latin-1 are almost always cp1252 (smart quotes, euro sign).
    return "cp1252" if name in ("latin_1", "iso8859_1") else name


def sniff(sample_text: str, spec: FileTable, encoding: str) -> Dialect:
    lines = sample_text.splitlines()
    body = "\n".join(lines[spec.header_row - 1 :])
    delimiter, quote = spec.delimiter, spec.quote or '"'
    escape = quote
    if delimiter is None:
        try:
            found = stdlib_csv.Sniffer().sniff(body[:65536], delimiters=DELIMITERS)
            delimiter = found.delimiter
            if found.escapechar:
                escape = found.escapechar
        except stdlib_csv.Error:
            first = lines[spec.header_row - 1] if len(lines) >= spec.header_row else ""
            counts = {d: first.count(d) for d in DELIMITERS}
            delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    header = spec.header if spec.header is not None else _looks_like_header(body, delimiter, quote)
    return Dialect(encoding, delimiter, quote, escape, header, spec.header_row if header else spec.header_row - 1)


_DATA_LIKE = re.compile(
    r"^\s*(-?[$€£]?\d[\d,.]*%?|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}.*|[^@\s]+@[^@\s]+\.\w+|\+?[\d ()-]{7,})\s*$"
)


def _looks_like_header(body: str, delimiter: str, quote: str) -> bool:
    """A header row has distinct, non-empty labels, none of which looks like a number, date or email."""
    try:
        first = next(stdlib_csv.reader(io.StringIO(body), delimiter=delimiter, quotechar=quote))
    except (StopIteration, stdlib_csv.Error):
        return True
    labels = [c.strip() for c in first]
    if not labels or any(not c for c in labels) and len(labels) == 1:
        return False
    return not any(_DATA_LIKE.match(c) for c in labels if c) and len(set(labels)) == len(labels)


def header_names(text_head: str, dialect: Dialect, width_hint: int) -> list[str]:
    """Column names from the header record; blanks and duplicates get unique names."""
    reader = stdlib_csv.reader(io.StringIO(text_head), delimiter=dialect.delimiter, quotechar=dialect.quote)
    row: list[str] = []
    for i, record in enumerate(reader, start=1):
        if i == max(dialect.header_line, 1):
            row = record
            break
    if not dialect.header:
        row = [f"column_{i}" for i in range(1, max(len(row), width_hint) + 1)]
    names: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(row, start=1):
        name = raw.strip().lstrip("\ufeff") or f"column_{i}"
        base, n = name, 2
        while name.lower() in seen or name.startswith("_"):
            name = f"{base}_{n}" if not base.startswith("_") else f"col{base}"
            n += 1
        seen.add(name.lower())
        names.append(name)
    return names


def read(con: duckdb.DuckDBPyConnection, path: Path, spec: FileTable, into: str, meta: LoadMeta,
         scratch: Path) -> FileLoad:
    size = path.stat().st_size
    if size == 0:
        return FileLoad(notes=[f"{meta.source} is empty"])
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    encoding = detect_encoding(sample, spec.encoding)
    parse_path = path
    if encoding not in ("utf-8", "utf-8-sig"):
        parse_path = _transcode(path, encoding, scratch)
        sample = parse_path.open("rb").read(SAMPLE_BYTES)
    sample_text = sample.decode("utf-8-sig", errors="replace")
    if not sample_text.strip():
        return FileLoad(notes=[f"{meta.source} has no rows"])
    dialect = sniff(sample_text, spec, encoding)
    names = header_names(sample_text, dialect, 1)
    columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
    rejects, scans = f"rejects_{meta.load_id}", f"reject_scans_{meta.load_id}"
    options = (
        f"auto_detect=false, header=false, skip={dialect.header_line}, columns={columns}, "
        f"delim={literal(dialect.delimiter)}, quote={literal(dialect.quote)}, escape={literal(dialect.escape)}, "
        f"store_rejects=true, rejects_table={literal(rejects)}, rejects_scan={literal(scans)}, "
        f"max_line_size={min(max(size + 1, 2_097_152), MAX_LINE_BYTES)}, strict_mode=true"
    )
    try:
        con.execute(
            f"CREATE TABLE {into} AS SELECT *, {meta.select_sql()}, "
            f"{dialect.header_line} + row_number() OVER () AS _row "
            f"FROM read_csv({literal(str(parse_path))}, {options})"
        )
    except duckdb.Error as exc:
        raise SourceError(f"{meta.source}: cannot be read as CSV: {str(exc).splitlines()[0]}") from None
    try:
        bad = con.execute(
            f"SELECT line, line_byte_position, column_name, error_type, csv_line, error_message "
            f"FROM {ident(rejects)} ORDER BY line_byte_position"
        ).fetchall()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {ident(rejects)}")
        con.execute(f"DROP TABLE IF EXISTS {ident(scans)}")
    # fetchall, not fetchone: DuckDB 2.0 refuses `register` (in _number_rows) while a result is unfinished
    good = con.execute(f"SELECT count(*) FROM {into}").fetchall()[0][0]
    quarantined = _quarantine(parse_path, bad)
    _number_rows(con, into, parse_path, dialect, good, quarantined)
    return FileLoad(rows=good, quarantined=quarantined)


def _transcode(path: Path, encoding: str, scratch: Path) -> Path:
    """Re-encode to UTF-8 with the same line breaks, so line numbers stay true."""
    target = scratch / (path.name + ".utf8")
    with path.open("r", encoding=encoding, errors="replace", newline="") as src, \
            target.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    return target


def _quarantine(path: Path, bad: list[tuple]) -> list[Quarantined]:
    """One quarantine entry per bad record (DuckDB may list several errors for one record)."""
    by_record: dict[int, Quarantined] = {}
    if not bad:
        return []
    positions = sorted({row[1] for row in bad})
    lines = _lines_at(path, [p - 1 for p in positions])
    for (_, position, column, error_type, csv_line, message) in bad:
        if position in by_record:
            continue
        reason = REASONS.get(error_type, str(message).splitlines()[0])
        if error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            reason += f" ({str(message).splitlines()[0].lower()})"
        by_record[position] = Quarantined(
            line=lines[position - 1], reason=reason, column=column, raw=clip(csv_line)
        )
    return list(by_record.values())


def _lines_at(path: Path, offsets: list[int]) -> dict[int, int]:
    """The 1-based line number of each byte offset, counting newlines in one pass."""
    found: dict[int, int] = {}
    remaining = sorted(set(offsets))
    newlines, consumed = 0, 0
    with path.open("rb") as handle:
        while remaining:
            chunk = handle.read(1 << 22)
            if not chunk:
                break
            while remaining and remaining[0] < consumed + len(chunk):
                offset = remaining.pop(0)
                found[offset] = 1 + newlines + chunk.count(b"\n", 0, offset - consumed)
            newlines += chunk.count(b"\n")
            consumed += len(chunk)
    for offset in remaining:
        found[offset] = 1 + newlines
    return found


def _number_rows(con: duckdb.DuckDBPyConnection, into: str, path: Path, dialect: Dialect, good: int,
                 quarantined: list[Quarantined]) -> None:
    """Correct `_row` to the line each loaded record starts on, where it is not already.

    The table was written with `_row` = header line + position, which is right when the file has
    one line per record and nothing was quarantined (checked by counting newlines). Otherwise the
    lines are worked out here: from the quarantined lines alone when records are one line each, or
    by letting the stdlib reader walk the file once when some record spans lines.
    """
    bad_lines = sorted(q.line for q in quarantined if q.line is not None)
    records = good + len(bad_lines)
    newlines = _count_newlines(path)
    one_line_each = newlines in (dialect.header_line + records, dialect.header_line + records - 1)
    if one_line_each and not bad_lines:
        return
    if one_line_each:
        bad_set = set(bad_lines)
        first = dialect.header_line + 1
        lines = [n for n in range(first, first + records) if n not in bad_set]
    else:
        bad_set = set(bad_lines)
        lines = [n for n in _record_starts(path, dialect) if n not in bad_set]
    lines = lines[:good]
    table = pa.table({
        "_pos": pa.array(range(1, len(lines) + 1), pa.int64()),
        "_line": pa.array(lines, pa.int64()),
    })
    con.register("_lines", table)
    con.execute(
        f"UPDATE {into} SET _row = _lines._line FROM _lines "
        f"WHERE {into}._row - {dialect.header_line} = _lines._pos"
    )
    con.unregister("_lines")


def _count_newlines(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            count += chunk.count(b"\n")
    return count


def _record_starts(path: Path, dialect: Dialect) -> list[int]:
    """The line each non-blank record after the header starts on."""
    starts: list[int] = []
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = stdlib_csv.reader(handle, delimiter=dialect.delimiter, quotechar=dialect.quote)
        line = 1
        try:
            for record in reader:
                if reader.line_num > dialect.header_line and record:
                    starts.append(line)
                line = reader.line_num + 1
        except stdlib_csv.Error:
            pass
    return starts


