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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from trueup.config.models import FileTable
from trueup.errors import SourceError
from trueup.ingest.base import (
    FileLoad,
    LoadMeta,
    Quarantined,
    clip,
    create_from_columns,
    literal,
    store_lines,
    unique_names,
)
from trueup.warehouse import ident

SAMPLE_BYTES = 256 * 1024
DELIMITERS = ",;\t|"
DEFAULT_MAX_LINE = 2_097_152  # DuckDB's own default
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
    if sample.count(b"\x00") * 4 < len(sample):  # many NULs: rather UTF-16 without a BOM
        try:
            sample.decode("cp1252")
            # The Western exports the design names (cp1252, Latin-1) decode here; left to itself,
            # charset_normalizer picks cp1250 for short samples and turns Latin-1 "ñ" into "ń".
            return "cp1252"
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=["cp1252", "latin_1", "utf_16", "cp1250", "mac_roman"]).best()
    name = best.encoding if best else "cp1252"
    # Windows exports labelled latin-1 are almost always cp1252 (smart quotes, euro sign).
    return "cp1252" if name in ("latin_1", "iso8859_1") else name


# The stdlib sniffer's regular expressions cost about 4 ms per KiB on quote-heavy exports
# (0.25 s for 64 KiB, measured); a hundred-odd lines decide a delimiter as well.
SNIFF_CHARS = 16_384


def _whole_lines(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[:cut] if cut > 0 else text[:limit]


def sniff(sample_text: str, spec: FileTable, encoding: str) -> Dialect:
    lines = sample_text.splitlines()
    body = "\n".join(lines[spec.header_row - 1 :])
    delimiter, quote = spec.delimiter, spec.quote or '"'
    escape = quote
    if delimiter is None:
        try:
            found = stdlib_csv.Sniffer().sniff(_whole_lines(body, SNIFF_CHARS), delimiters=DELIMITERS)
            delimiter = found.delimiter
            if found.escapechar:
                escape = found.escapechar
        except stdlib_csv.Error:
            first = lines[spec.header_row - 1] if len(lines) >= spec.header_row else ""
            counts = {d: first.count(d) for d in DELIMITERS}
            delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    header = spec.header if spec.header is not None else _looks_like_header(body, delimiter, quote)
    return Dialect(
        encoding, delimiter, quote, escape, header, spec.header_row if header else spec.header_row - 1
    )


_DATA_LIKE = re.compile(
    r"^\s*(-?[$€£]?\d[\d,.]*%?|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}.*|[^@\s]+@[^@\s]+\.\w+|\+?[\d ()-]{7,})\s*$"
)


def _looks_like_header(body: str, delimiter: str, quote: str) -> bool:
    """A header row has non-empty labels, none of which looks like a number, date or email.

    Labels may repeat (exports with two `Name` columns exist); `header_names` makes them unique.
    """
    try:
        first = next(stdlib_csv.reader(io.StringIO(body), delimiter=delimiter, quotechar=quote))
    except (StopIteration, stdlib_csv.Error):
        return True
    labels = [c.strip() for c in first]
    if not labels or (any(not c for c in labels) and len(labels) == 1):
        return False
    return not any(_DATA_LIKE.match(c) for c in labels if c)


def header_names(text_head: str, dialect: Dialect, width_hint: int) -> list[str]:
    """Column names from the header record; blanks and duplicates get unique names."""
    reader = stdlib_csv.reader(
        io.StringIO(text_head, newline=""), delimiter=dialect.delimiter, quotechar=dialect.quote
    )
    row: list[str] = []
    for i, record in enumerate(reader, start=1):
        if i == max(dialect.header_line, 1):
            row = record
            break
    if not dialect.header:
        row = [f"column_{i}" for i in range(1, max(len(row), width_hint) + 1)]
    return unique_names(list(row))


def read(
    con: duckdb.DuckDBPyConnection, path: Path, spec: FileTable, into: str, meta: LoadMeta, scratch: Path
) -> FileLoad:
    size = path.stat().st_size
    if size == 0:
        return FileLoad(notes=[f"{meta.source} is empty"])
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    try:
        encoding = detect_encoding(sample, spec.encoding)
    except SourceError as exc:
        raise SourceError(f"{meta.source}: {exc}") from None
    parse_path = path
    if encoding not in ("utf-8", "utf-8-sig"):
        parse_path = _transcode(path, encoding, scratch)
        with parse_path.open("rb") as handle:
            sample = handle.read(SAMPLE_BYTES)
    sample_text = sample.decode("utf-8-sig", errors="replace")
    if not sample_text.strip():
        return FileLoad(notes=[f"{meta.source} has no rows"])
    dialect = sniff(sample_text, spec, encoding)
    names = header_names(sample_text, dialect, 1)
    breaks = _line_breaks(parse_path)  # the normalised copy below keeps every break, so these hold
    if breaks.mixed:
        parse_path = _normalize_breaks(parse_path, dialect, scratch)
    columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"
    base_options = (
        f"auto_detect=false, header=false, skip={dialect.header_line}, columns={columns}, "
        f"delim={literal(dialect.delimiter)}, quote={literal(dialect.quote)}, escape={literal(dialect.escape)}, "
        "strict_mode=true"
    )
    where = ""
    if len(names) == 1:
        # With one column DuckDB reads a blank line as a NULL row (and `""` as NULL too, unless quoted
        # nulls are off); a blank line is no record, as it is in files of several columns.
        base_options += ", allow_quoted_nulls=false"
        where = f" WHERE {ident(names[0])} IS NOT NULL"
    # DuckDB's default line limit reads fastest; a file with a longer record is read again with a
    # limit that fits it, so a 10 MB field loads rather than being quarantined.
    for max_line in (DEFAULT_MAX_LINE, min(max(size + 1, DEFAULT_MAX_LINE), MAX_LINE_BYTES)):
        bad = _parse(con, parse_path, into, meta, f"{base_options}, max_line_size={max_line}", where)
        if max_line >= size or not any(row[3] == "LINE SIZE OVER MAXIMUM" for row in bad):
            break
        con.execute(f"DROP TABLE {into}")
    # fetchall, not fetchone: DuckDB 2.0 refuses `register` (in _number_rows) while a result is unfinished
    good = con.execute(f"SELECT count(*) FROM {into}").fetchall()[0][0]
    quarantined = _quarantine(parse_path, bad)
    numbered = _number_rows(con, into, parse_path, dialect, good, quarantined, breaks.lines)
    if numbered == "by position":
        return FileLoad(rows=good, quarantined=quarantined, row_offset=dialect.header_line + 1)
    if numbered == "stored":
        return FileLoad(rows=good, quarantined=quarantined)
    con.execute(f"DROP TABLE {into}")
    load = _read_by_lines(con, parse_path, dialect, names, into, meta)
    load.notes.append(f"{meta.source}: read line by line (DuckDB split its malformed rows differently)")
    return load


def _parse(
    con: duckdb.DuckDBPyConnection, path: Path, into: str, meta: LoadMeta, options: str, where: str
) -> list[tuple[Any, ...]]:
    """DuckDB parses the file into `into` (without `_row`: see `_number_rows`); returns the rejects."""
    rejects, scans = f"rejects_{meta.load_id}", f"reject_scans_{meta.load_id}"
    options += f", store_rejects=true, rejects_table={literal(rejects)}, rejects_scan={literal(scans)}"
    try:
        con.execute(f"CREATE TABLE {into} AS SELECT * FROM read_csv({literal(str(path))}, {options}){where}")
    except duckdb.Error as exc:
        raise SourceError(f"{meta.source}: cannot be read as CSV: {str(exc).splitlines()[0]}") from None
    try:
        return con.execute(
            f"SELECT line, line_byte_position, column_name, error_type, csv_line, error_message "
            f"FROM {ident(rejects)} ORDER BY line_byte_position"
        ).fetchall()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {ident(rejects)}")
        con.execute(f"DROP TABLE IF EXISTS {ident(scans)}")


@dataclass(frozen=True)
class Breaks:
    """The line breaks of a file, counted in one pass: LF, CRLF and a lone CR each end a line."""

    crlf: int
    lf: int
    cr: int
    unterminated: bool  # the last line has no break

    @property
    def mixed(self) -> bool:
        return sum(1 for n in (self.crlf, self.lf, self.cr) if n) > 1

    @property
    def lines(self) -> int:
        return self.crlf + self.lf + self.cr + self.unterminated


def _line_breaks(path: Path) -> Breaks:
    crlf = lf = cr = 0
    previous = b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            if b"\r" not in chunk and not previous.endswith(b"\r"):
                lf += chunk.count(b"\n")  # the common case: one count, not three
            else:
                straddles = previous.endswith(b"\r") and chunk.startswith(b"\n")  # its CR was counted bare
                pairs = chunk.count(b"\r\n")
                crlf += pairs + straddles
                lf += chunk.count(b"\n") - pairs - straddles
                cr += chunk.count(b"\r") - pairs - straddles
            previous = chunk
    return Breaks(crlf, lf, cr, previous[-1:] not in (b"\n", b"\r", b""))


def _normalize_breaks(path: Path, dialect: Dialect, scratch: Path) -> Path:
    """A copy with every line break outside quotes written as LF, quoted values left as they are.

    DuckDB (strict mode) takes the first line break it sees for the file's, then refuses the whole
    file at a break of another kind outside quotes: a CRLF export with one LF line, a trailing blank
    LF line, or a bare CR. Each break stays one break, so line numbers do not move.
    """
    quote, delimiter = re.escape(dialect.quote.encode()), re.escape(dialect.delimiter.encode())
    escape = re.escape(dialect.escape.encode())
    inside = rb"[^" + quote + rb"]++|" + quote + quote
    if dialect.escape != dialect.quote:
        inside = rb"[^" + quote + escape + rb"]++|" + escape + rb"[\s\S]"
    token = re.compile(  # a quoted value opening a field (closed or not), or a CR / CRLF break
        rb"(?<![^" + delimiter + rb"\r\n])" + quote + rb"(?:" + inside + rb")*+(?:" + quote + rb"|\Z)|\r\n?"
    )
    target = scratch / (path.name + ".lf.utf8")
    with path.open("rb") as src, target.open("wb") as dst:
        data = b""
        start = 0  # data[:start] is context only (the byte before), already written
        while True:
            chunk = src.read(1 << 22)
            data = data + chunk
            written = start
            for match in token.finditer(data, start):
                if chunk and match.end() == len(data):  # may go on in the next chunk: decide then
                    dst.write(data[written : match.start()])
                    written = match.start()
                    break
                dst.write(data[written : match.start()])
                dst.write(b"\n" if match.group()[:1] == b"\r" else match.group())
                written = match.end()
            else:
                dst.write(data[written:])
                written = len(data)
            if not chunk:
                break
            keep = max(written - 1, 0)
            data, start = data[keep:], written - keep
    return target


def _transcode(path: Path, encoding: str, scratch: Path) -> Path:
    """Re-encode to UTF-8 with the same line breaks, so line numbers stay true."""
    target = scratch / (path.name + ".utf8")
    with (
        path.open("r", encoding=encoding, errors="replace", newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    return target


def _quarantine(path: Path, bad: list[tuple]) -> list[Quarantined]:
    """One quarantine entry per bad record (DuckDB may list several errors for one record)."""
    by_record: dict[int, Quarantined] = {}
    if not bad:
        return []
    # DuckDB's position can point at the line break before the record (the LF of a CRLF, or blank
    # lines before it), which its csv_line then starts with: skip those to the record's first byte.
    starts = {row[1]: row[1] - 1 + _leading_breaks(row[4]) for row in bad}
    lines = _lines_at(path, sorted(set(starts.values())))
    for _, position, column, error_type, csv_line, message in bad:
        if position in by_record:
            continue
        reason = REASONS.get(error_type, str(message).splitlines()[0])
        if error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            reason += f" ({str(message).splitlines()[0].lower()})"
        by_record[position] = Quarantined(
            line=lines[starts[position]], reason=reason, column=column, raw=clip(csv_line)
        )
    return list(by_record.values())


def _leading_breaks(text: str | None) -> int:
    text = text or ""
    return len(text) - len(text.lstrip("\r\n"))


def _breaks(data: bytes, before: int | None = None) -> int:
    """Line breaks in `data[:before]`: LF, CRLF and a lone CR each end a line (as DuckDB reads them)."""
    part = data if before is None else data[:before]
    return part.count(b"\n") + part.count(b"\r") - part.count(b"\r\n")


def _lines_at(path: Path, offsets: list[int]) -> dict[int, int]:
    """The 1-based line number of each byte offset, counting line breaks in one pass."""
    found: dict[int, int] = {}
    remaining = sorted(set(offsets))
    newlines, consumed = 0, 0
    previous = b""
    with path.open("rb") as handle:
        while remaining:
            chunk = handle.read(1 << 22)
            if not chunk:
                break
            straddles = previous.endswith(b"\r") and chunk.startswith(b"\n")  # one CRLF across two chunks
            while remaining and remaining[0] < consumed + len(chunk):
                offset = remaining.pop(0)
                found[offset] = (
                    1 + newlines + _breaks(chunk, offset - consumed) - (straddles and offset > consumed)
                )
            newlines += _breaks(chunk) - straddles
            consumed += len(chunk)
            previous = chunk
    for offset in remaining:
        found[offset] = 1 + newlines
    return found


def _number_rows(
    con: duckdb.DuckDBPyConnection,
    into: str,
    path: Path,
    dialect: Dialect,
    good: int,
    quarantined: list[Quarantined],
    lines_in_file: int,
) -> str:
    """Work out the line each loaded record starts on.

    Returns "by position" when the file has one line per record and nothing was quarantined
    (checked by counting lines): then `_row` is the header line + 1 + the table's rowid, computed
    in the raw view for free. Otherwise the lines are worked out here and stored in a `_row` column
    ("stored"): from the quarantined lines alone when records are one line each, or by letting the
    stdlib reader walk the file once when some record spans lines. Returns "unmatched", changing
    nothing, when DuckDB's records cannot be matched to the file's lines (its recovery from some
    malformed quoting splits or merges records): the caller then reads line by line.
    """
    bad_lines = sorted(q.line for q in quarantined if q.line is not None)
    bad_set = set(bad_lines)
    records = good + len(bad_lines)
    if len(bad_set) != len(bad_lines) or len(bad_lines) != len(quarantined):
        return "unmatched"
    # Every record takes at least one line, so as many lines as header + records means one line
    # each and no blank line; comparing line breaks alone is fooled by a missing final break.
    if lines_in_file == dialect.header_line + records:
        if not bad_lines:
            return "by position"
        first = dialect.header_line + 1
        starts = list(range(first, first + records))
    else:
        starts = _record_starts(path, dialect)
    lines = [n for n in starts if n not in bad_set]
    if len(starts) != records or len(lines) != good:
        return "unmatched"
    store_lines(con, into, lines)  # `_row`: no CSV column starts with an underscore (see unique_names)
    return "stored"


def _read_by_lines(
    con: duckdb.DuckDBPyConnection, path: Path, dialect: Dialect, names: list[str], into: str, meta: LoadMeta
) -> FileLoad:
    """The file parsed by the stdlib reader in strict mode, one record at a time: slow, but every
    record is loaded or quarantined at the line it starts on. Like DuckDB, it takes empty values
    as NULL and lets a row carry extra empty values at its end."""
    width = len(names)
    values: list[list[str | None]] = [[] for _ in names]
    rows: list[int] = []
    load = FileLoad()
    limit = stdlib_csv.field_size_limit()
    stdlib_csv.field_size_limit(MAX_LINE_BYTES)
    escaped = dialect.escape != dialect.quote
    try:
        with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
            taken: list[str] = []

            def lines() -> Iterator[str]:
                for text in handle:
                    taken.append(text)
                    yield text

            reader = stdlib_csv.reader(
                lines(),
                delimiter=dialect.delimiter,
                quotechar=dialect.quote,
                strict=True,
                escapechar=dialect.escape if escaped else None,
                doublequote=not escaped,
            )
            start = 1
            while True:
                try:
                    record: list[str] | None = next(reader)
                    reason = ""
                except StopIteration:
                    break
                except stdlib_csv.Error as exc:
                    record, reason = None, f"the row cannot be parsed as CSV ({exc})"
                raw = "".join(taken)
                taken.clear()
                line, start = start, reader.line_num + 1
                if line <= dialect.header_line or record == []:
                    continue
                if record is not None and len(record) > width and not any(record[width:]):
                    record = record[:width]
                if record is not None and len(record) != width:
                    kind = "MISSING COLUMNS" if len(record) < width else "TOO MANY COLUMNS"
                    reason = f"{REASONS[kind]} (expected {width}, found {len(record)})"
                if reason:
                    load.quarantined.append(
                        Quarantined(line=line, reason=reason, raw=clip(raw.rstrip("\r\n")))
                    )
                    continue
                for column, value in zip(values, record or [], strict=True):
                    column.append(value or None)
                rows.append(line)
    finally:
        stdlib_csv.field_size_limit(limit)
    create_from_columns(con, into, dict(zip(names, values, strict=True)), rows)
    load.rows = len(rows)
    return load


def _record_starts(path: Path, dialect: Dialect) -> list[int]:
    """The line each non-blank record after the header starts on."""
    starts: list[int] = []
    limit = stdlib_csv.field_size_limit()
    stdlib_csv.field_size_limit(MAX_LINE_BYTES)  # the default (128 KiB) stops at the first big field
    escaped = dialect.escape != dialect.quote
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = stdlib_csv.reader(
            handle,
            delimiter=dialect.delimiter,
            quotechar=dialect.quote,
            escapechar=dialect.escape if escaped else None,
            doublequote=not escaped,
        )
        line = 1
        try:
            for record in reader:
                if reader.line_num > dialect.header_line and record:
                    starts.append(line)
                line = reader.line_num + 1
        except stdlib_csv.Error:
            pass
        finally:
            stdlib_csv.field_size_limit(limit)
    return starts
