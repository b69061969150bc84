"""Validate mappings against the sources themselves: every column and expression must bind.

Each expression is bound by DuckDB against an empty table with the source's columns, so the
message a user sees is exact ("no column `stauts`; the columns of jobs are: ...").
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import duckdb

from trueup.config.loader import Located
from trueup.config.models import Workspace
from trueup.errors import Problem
from trueup.ingest import probe
from trueup.mapping.compile import install_macros
from trueup.model import ENTITIES
from trueup.warehouse import ident


def mapping_problems(
    ws: Workspace,
    located: Located,
    root: Path,
    known: dict[tuple[str, str], dict[str, str]] | None = None,
    probe_sources: bool = True,
) -> list[Problem]:
    """Problems binding every `entities` expression.

    `known` gives the columns of tables already loaded; other tables are probed from their files
    unless `probe_sources` is off (then they are left to the step that loads them).
    """
    problems: list[Problem] = []
    con = duckdb.connect()
    install_macros(con, ws)
    tables: dict[tuple[str, str], dict[str, str] | None] = {}
    try:
        for entity, per_system in ws.entities.items():
            if entity not in ENTITIES:
                continue  # reported by the config checks
            for system, mapping in per_system.items():
                if system not in ws.systems or mapping.from_ not in ws.systems[system].source.tables:
                    continue  # reported by the config checks
                key = (system, mapping.from_)
                if key not in tables:
                    tables[key] = (known or {}).get(key) or (
                        probe.columns(root, ws.systems[system], mapping.from_) if probe_sources else None
                    )
                    if tables[key] is not None:
                        _create(con, key, tables[key])  # type: ignore[arg-type]
                cols = tables[key]
                if cols is None:
                    continue
                here = ("entities", entity, system)
                relation = f"{ident(system + '__' + mapping.from_)} AS r"
                exprs: list[tuple[tuple[str | int, ...], str]] = [((*here, "id"), mapping.id)]
                if mapping.where:
                    exprs.append(((*here, "where"), mapping.where))
                exprs += [((*here, "fields", f), mapping.field(f).expr) for f in mapping.fields]
                exprs += [((*here, "extra", f), e) for f, e in mapping.extra.items()]
                for path, expr in exprs:
                    error = _bind(con, relation, expr, is_filter=path[-1] == "where")
                    if error:
                        problems.append(
                            located.problem(path, error, value=expr, fix=_fix(error, cols, mapping.from_))
                        )
    finally:
        con.close()
    return problems


def _create(con: duckdb.DuckDBPyConnection, key: tuple[str, str], cols: dict[str, str]) -> None:
    body = ", ".join(f"{ident(name)} {kind}" for name, kind in cols.items()) or "_empty VARCHAR"
    con.execute(f"CREATE TABLE {ident(key[0] + '__' + key[1])} ({body})")


def _bind(con: duckdb.DuckDBPyConnection, relation: str, expr: str, is_filter: bool) -> str | None:
    sql = f"SELECT * FROM {relation} WHERE ({expr})" if is_filter else f"SELECT ({expr}) FROM {relation}"
    try:
        con.execute(f"{sql} LIMIT 0")
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        return re.sub(r"^\w+ Error: ", "", first).rstrip(".!")
    return None


def _fix(error: str, cols: dict[str, str], table: str) -> str:
    match = re.search(r'column "?([^"\s]+)"? not found', error, re.IGNORECASE) or re.search(
        r'"([^"]+)" not found', error
    )
    names = sorted(cols)
    if match:
        near = difflib.get_close_matches(match.group(1), names, n=1, cutoff=0.5)
        hint = f"did you mean `{near[0]}`? " if near else ""
        return f"{hint}the columns of `{table}` are: {', '.join(names)}"
    return f"write a DuckDB SQL expression over the columns of `{table}`: {', '.join(names)}"
