"""Shared helpers for the ingest tests: a one-system workspace, running the real step, reading back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from trueup import pipeline
from trueup.pipeline.runner import RunOutcome
from trueup.workspace import Workspace

SYSTEM = "src"


def files_config(tables: dict[str, str], extra: str = "", path: str = "data") -> str:
    """A trueup.yaml with one `files` system `src`; `tables` maps a table to its YAML spec."""
    lines = [
        "name: Ingest test",
        "systems:",
        f"  {SYSTEM}:",
        "    source:",
        "      type: files",
        f"      path: {path}",
        "      tables:",
    ]
    lines += [f"        {name}: {spec}" for name, spec in tables.items()]
    return "\n".join(lines) + "\n" + extra


def files_workspace(
    make_workspace: Callable[..., Path],
    files: dict[str, bytes | str],
    tables: dict[str, str],
    extra: str = "",
) -> Path:
    """A workspace whose source files sit in `data/` (bytes are written exactly as given)."""
    return make_workspace(
        files_config(tables, extra), {f"data/{name}": content for name, content in files.items()}
    )


def run(ws: Path, *steps: str) -> RunOutcome:
    return pipeline.run(Workspace.open(ws), only=list(steps or ("ingest",)))


def query(ws: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    con = duckdb.connect(str(ws / ".trueup" / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def raw(system: str, table: str) -> str:
    return f'raw."{system}__{table}"'


def raw_rows(ws: Path, table: str, system: str = SYSTEM) -> list[dict[str, Any]]:
    """The loaded rows of a raw table in `_row` order, without the load id and time."""
    con = duckdb.connect(str(ws / ".trueup" / "warehouse.duckdb"), read_only=True)
    try:
        cur = con.execute(
            f"SELECT * EXCLUDE (_load_id, _loaded_at) FROM {raw(system, table)} ORDER BY _source, _row"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def columns(ws: Path, table: str, system: str = SYSTEM) -> list[str]:
    return [
        r[0]
        for r in query(ws, f"DESCRIBE {raw(system, table)}")
        if r[0] not in ("_load_id", "_loaded_at", "_source", "_row")
    ]


def quarantined(ws: Path, stage: str = "ingest", table: str | None = None) -> list[dict[str, Any]]:
    con = duckdb.connect(str(ws / ".trueup" / "warehouse.duckdb"), read_only=True)
    try:
        sql = "SELECT * FROM quarantine WHERE stage = ?" + (" AND tbl = ?" if table else "")
        cur = con.execute(sql + " ORDER BY source, line", [stage, table] if table else [stage])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def manifest(ws: Path) -> list[tuple]:
    return query(
        ws,
        "SELECT system, tbl, source, key, load_id, rows, quarantined FROM ingest_files"
        " ORDER BY system, tbl, source",
    )


def snapshot(ws: Path) -> dict[str, Any]:
    """Everything ingest leaves behind, minus what differs between two equal runs (load ids, times)."""
    con = duckdb.connect(str(ws / ".trueup" / "warehouse.duckdb"), read_only=True)
    try:
        views = [
            r[0]
            for r in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE schema_name = 'raw' ORDER BY view_name"
            ).fetchall()
        ]
        tables: dict[str, Any] = {}
        for view in views:
            cur = con.execute(f'SELECT * EXCLUDE (_load_id, _loaded_at) FROM raw."{view}"')
            names = tuple(d[0] for d in cur.description)
            rows = cur.fetchall()
            tables[view] = (names, sorted(map(repr, rows)))
        quarantine = sorted(
            map(
                repr,
                con.execute(
                    "SELECT stage, system, tbl, source, line, column_name, raw, reason, key FROM quarantine"
                ).fetchall(),
            )
        )
        files = sorted(
            con.execute(
                "SELECT system, tbl, source, key, digest, rows, quarantined FROM ingest_files"
            ).fetchall()
        )
        stored = sorted(
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw_files'"
            ).fetchall()
        )
        return {"tables": tables, "quarantine": quarantine, "files": files, "stored": stored}
    finally:
        con.close()
