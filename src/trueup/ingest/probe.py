"""Learn a source table's columns cheaply, without loading it, for validation and `trueup init`."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from trueup.config.models import FilesSource, FileTable, System
from trueup.errors import SourceError, TrueupError
from trueup.ingest import csv, json, parquet, xlsx
from trueup.ingest.base import META_COLUMNS, LoadMeta

FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
}
READERS = {"csv": csv.read, "xlsx": xlsx.read, "json": json.read, "parquet": parquet.read}


def file_format(path: Path, spec: FileTable) -> str | None:
    return spec.format or FORMATS.get(path.suffix.lower())


def load_sample(con: duckdb.DuckDBPyConnection, path: Path, spec: FileTable, into: str) -> None:
    """Load one file into `into` on a scratch connection (CSV: the header and a sample only)."""
    fmt = file_format(path, spec)
    if fmt is None:
        raise SourceError(f"{path.name}: unknown file type {path.suffix!r}")
    meta = LoadMeta(load_id="probe", loaded_at=datetime.now(UTC), source=path.name)
    with tempfile.TemporaryDirectory() as scratch:
        source = path
        if fmt == "csv" and path.stat().st_size > csv.SAMPLE_BYTES:
            source = Path(scratch) / ("head" + path.suffix)
            source.write_bytes(_head(path))
        READERS[fmt](con, source, spec.model_copy(update={"format": fmt}), into, meta, Path(scratch))


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(csv.SAMPLE_BYTES)
    cut = data.rfind(b"\n")
    return data[: cut + 1] if cut > 0 else data


def columns(root: Path, system: System, table: str) -> dict[str, str] | None:
    """Column name to type for a source table, or None when it cannot be known without loading."""
    source = system.source
    if not isinstance(source, FilesSource):
        return None
    spec = source.table(table)
    paths = sorted(p for p in (root / source.path).glob(spec.file) if p.is_file())
    if not paths:
        return None
    con = duckdb.connect()
    try:
        load_sample(con, paths[0], spec, "probe")
        found = {r[0]: r[1] for r in con.execute("DESCRIBE probe").fetchall()}
    except (TrueupError, duckdb.Error):
        return None
    finally:
        con.close()
    return {k: v for k, v in found.items() if k not in META_COLUMNS}
