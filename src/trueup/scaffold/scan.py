"""Find the export files in a folder and read a sample of each into DuckDB.

Each first-level subfolder is a system; files directly in the folder form one more system. Each
file is a table, except that files differing only in digits (`jobs_2026-10.csv`, `jobs_2026-11.csv`)
form one table read through a glob, and each sheet of a workbook with several is its own table.
"""

from __future__ import annotations

import glob
import itertools
import json
import math
import os
import re
import unicodedata
from collections import deque
from pathlib import Path
from typing import Any

import duckdb

from trueup.config.models import FileTable
from trueup.errors import TrueupError
from trueup.ingest.base import META_COLUMNS, literal
from trueup.ingest.json import first_char
from trueup.ingest.probe import FORMATS, load_sample
from trueup.scaffold.plan import Column, Skipped, System, Table
from trueup.warehouse import ident

SAMPLE_ROWS = 100_000  # rows kept per table for the guesses
MAX_COLUMNS = 300  # leaves of nested values considered per table
MAX_DEPTH = 4
SKIPPED_DIRS = {"__pycache__", "__MACOSX", "node_modules"}
REPORT_FILES = ("index.html", "report.md", "report.json")  # what the report step writes (report.render.FILES)


# --- names -----------------------------------------------------------------------------------


def snake(text: str) -> str:
    """`PrimaryEmailAddr.Address` -> `primary_email_addr_address`, `WO #` -> `wo_number`."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.replace("#", " number ")
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def config_name(text: str, fallback: str) -> str:
    """A system or table name: lower snake case starting with a letter, no double underscores."""
    name = snake(text)
    if not name:
        return fallback
    return name if name[0].isalpha() else f"{fallback}_{name}"


def unique_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    taken.add(candidate)
    return candidate


class Quoter:
    """Writes column names as DuckDB identifiers: bare when that is safe, else double-quoted."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        rows = con.execute(
            "SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category <> 'unreserved'"
        )
        self.reserved = {r[0].lower() for r in rows.fetchall()}

    def __call__(self, name: str) -> str:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and name.lower() not in self.reserved:
            return name
        return ident(name)


# --- discovery -------------------------------------------------------------------------------


def _hidden(name: str) -> bool:
    return name.startswith((".", "~$", "__")) or name in SKIPPED_DIRS


def _report(folder: Path) -> bool:
    """Whether the folder is trueup's own report (every file the report step writes), not exports:
    `trueup init --force` again in a workspace that has run found its `report.json` a table."""
    return all((folder / name).is_file() for name in REPORT_FILES)


def _wanted(path: Path) -> bool:
    return path.is_file() and not _hidden(path.name) and path.suffix.lower() in FORMATS


def _files_under(folder: Path) -> list[Path]:
    found: list[Path] = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not _hidden(d))
        found += [Path(here) / f for f in sorted(files) if _wanted(Path(here) / f)]
    return found


def discover(directory: Path) -> list[System]:
    """Systems and their files (not yet read); the folder's own files come last."""
    systems: list[System] = []
    taken: set[str] = set()
    folders = [p for p in directory.iterdir() if p.is_dir() and not _hidden(p.name) and not _report(p)]
    for sub in sorted(folders, key=lambda p: (p.name.lower(), p.name)):
        files = _files_under(sub)
        if files:
            system = System(name=unique_name(config_name(sub.name, "system"), taken), folder=sub)
            system.tables = _tables(system, files)
            systems.append(system)
    own = sorted(p for p in directory.iterdir() if _wanted(p))
    if own:
        name = config_name(directory.name, "files")
        system = System(name=unique_name(name if name not in taken else "files", taken), folder=directory)
        system.tables = _tables(system, own)
        systems.append(system)
    return systems


def _tables(system: System, files: list[Path]) -> list[Table]:
    """One table per file, or per group of files that differ only in digits (read as a glob)."""
    groups: dict[tuple[Path, str, str], list[Path]] = {}
    for path in files:
        groups.setdefault((path.parent, re.sub(r"\d+", "#", path.stem), path.suffix), []).append(path)
    tables: list[Table] = []
    taken: set[str] = set()
    for (parent, pattern, suffix), paths in groups.items():
        relative = parent.relative_to(system.folder)
        if len(paths) > 1 and "#" in pattern:
            parts = re.split(r"(\d+)", paths[0].stem)
            star = "".join("*" if re.fullmatch(r"\d+", p) else glob.escape(p) for p in parts) + glob.escape(
                suffix
            )
            if sorted(parent.glob(star)) == sorted(paths):
                stem = re.sub(r"[\s_-]*#[\s_-]*", "_", pattern)
                tables.append(_table(system, parent, relative, star, stem, sorted(paths)[0], taken))
                continue
        for path in paths:
            tables.append(_table(system, parent, relative, glob.escape(path.name), path.stem, path, taken))
    return tables


def _table(
    system: System, parent: Path, relative: Path, file: str, stem: str, path: Path, taken: set[str]
) -> Table:
    name = config_name(stem, "table")
    if name in taken and relative.parts:
        name = config_name("_".join((*relative.parts, stem)), "table")
    rel = (relative / file).as_posix() if relative.parts else file
    return Table(system=system.name, name=unique_name(name, taken), path=path, file=rel)


# --- reading ---------------------------------------------------------------------------------


def expand_sheets(system: System, skipped: list[Skipped], base: Path) -> None:
    """Replace each workbook table by one table per non-empty sheet, with its header row found."""
    out: list[Table] = []
    taken = {t.name for t in system.tables if FORMATS.get(t.path.suffix.lower()) != "xlsx"}
    for table in system.tables:
        if FORMATS.get(table.path.suffix.lower()) != "xlsx":
            out.append(table)
            continue
        try:
            sheets = workbook_sheets(table.path)
        except (TrueupError, OSError, ValueError, KeyError) as exc:
            skipped.append(Skipped(_shown(table.path, base), f"not a readable workbook: {exc}"))
            continue
        if not sheets:
            skipped.append(Skipped(_shown(table.path, base), "every sheet is empty"))
        for sheet, row in sheets:
            name = table.name if len(sheets) == 1 else config_name(f"{table.name}_{sheet}", "table")
            out.append(
                Table(
                    system=table.system,
                    name=unique_name(name, taken),
                    path=table.path,
                    file=table.file,
                    sheet=sheet,
                    header_row=row,
                )
            )
    system.tables = out


def workbook_sheets(path: Path) -> list[tuple[str, int]]:
    """Each sheet with values, and the 1-based row its header is on."""
    import openpyxl

    from trueup.ingest.xlsx import check_zip

    check_zip(path, path.name)
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        found = []
        for name in book.sheetnames:
            sheet: Any = book[name]
            if not hasattr(sheet, "iter_rows"):
                continue  # a chart sheet
            row = header_row(list(itertools.islice(sheet.iter_rows(values_only=True), 30)))
            if row is not None:
                found.append((name, row))
        return found
    finally:
        book.close()


def header_row(rows: list[tuple[Any, ...]]) -> int | None:
    """The first row filled like a header (most cells, all text): title rows above it are skipped."""
    counts = [sum(1 for v in row if v is not None and str(v).strip()) for row in rows]
    top = max(counts, default=0)
    if top == 0:
        return None
    need = max(2, math.ceil(top * 0.6)) if top >= 2 else 1
    for i, (row, n) in enumerate(zip(rows, counts, strict=True)):
        if n >= need and all(isinstance(v, str) for v in row if v is not None and str(v).strip()):
            return i + 1
    return next(i + 1 for i, n in enumerate(counts) if n >= need)


def records_path(con: duckdb.DuckDBPyConnection, path: Path) -> str | None:
    """For a JSON document with an envelope, the dotted path of the first list of objects in it."""
    if first_char(path) != "{":
        return None
    size = max(path.stat().st_size + 1024, 16 << 20)
    try:
        rows = con.execute(
            f"SELECT json_structure(json) FROM read_json_objects({literal(str(path))}, format='auto', "
            f"maximum_object_size={size}) LIMIT 2"
        ).fetchall()
    except duckdb.Error:
        return None
    if len(rows) != 1 or rows[0][0] is None:
        return None  # newline-delimited records, or nothing
    queue: deque[tuple[tuple[str, ...], Any]] = deque([((), json.loads(rows[0][0]))])
    while queue:
        here, node = queue.popleft()
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if "." in key:
                continue  # not expressible as a dotted path
            if isinstance(value, list) and value and isinstance(value[0], dict):
                return ".".join((*here, key))
            if isinstance(value, dict):
                queue.append(((*here, key), value))
    return None


def sample(con: duckdb.DuckDBPyConnection, table: Table, index: int, quote: Quoter) -> str | None:
    """Load a sample of `table` as `s<index>`; the reason it cannot be read, or None."""
    if FORMATS.get(table.path.suffix.lower()) == "json":
        table.records = records_path(con, table.path)
    spec = FileTable(file=table.file, records=table.records, sheet=table.sheet, header_row=table.header_row)
    raw = f"_raw{index}"
    try:
        load_sample(con, table.path, spec, raw)
    except (TrueupError, duckdb.Error) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [raw]).fetchall()
    if not found[0][0]:
        return "no header and no records (the file is empty)"
    described = con.execute(f"DESCRIBE {raw}").fetchall()
    keep = [(r[0], r[1]) for r in described if r[0] not in META_COLUMNS]
    if not keep:
        return "no columns"
    if table.path.suffix.lower() == ".txt" and len(keep) < 2:
        return "not a delimited table (one column)"
    table.sample = f"s{index}"
    con.execute(
        f"CREATE TABLE {table.sample} AS SELECT {', '.join(ident(n) for n, _ in keep)} FROM {raw}"
        f"{' ORDER BY _row' if '_row' in {r[0] for r in described} else ''} LIMIT {SAMPLE_ROWS}"
    )
    con.execute(f"DROP TABLE {raw}")
    table.raw_columns = dict(keep)
    table.rows = con.execute(f"SELECT count(*) FROM {table.sample}").fetchall()[0][0]
    relation = con.table(table.sample)
    for name, dtype in zip(relation.columns, relation.dtypes, strict=True):
        _leaves(quote(name), name, [name], dtype, False, 0, table.columns, quote)
    return None


def _leaves(
    expr: str,
    label: str,
    parts: list[str],
    dtype: Any,
    in_list: bool,
    depth: int,
    out: list[Column],
    quote: Quoter,
) -> None:
    """Every scalar reachable in a value: struct fields by name, lists through their first item."""
    if len(out) >= MAX_COLUMNS:
        return
    kind = getattr(dtype, "id", "")
    if kind == "struct" and depth < MAX_DEPTH:
        for child, child_type in dtype.children:
            _leaves(
                f"{expr}.{quote(child)}",
                f"{label}.{child}",
                [*parts, child],
                child_type,
                in_list,
                depth + 1,
                out,
                quote,
            )
    elif kind == "list":
        child_type = dtype.children[0][1]
        if getattr(child_type, "id", "") == "struct" and depth < MAX_DEPTH:
            _leaves(f"{expr}[1]", f"{label}[1]", parts, child_type, True, depth + 1, out, quote)
    elif kind not in ("struct", "map", "union"):
        out.append(
            Column(expr=expr, label=label, key=snake("_".join(parts)), type=str(dtype), in_list=in_list)
        )


def _shown(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)
