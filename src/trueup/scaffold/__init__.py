"""`trueup init`: scan a folder of exports and write a commented `trueup.yaml` that validates.

The steps: find the files (:mod:`.scan`), read a sample of each into DuckDB, guess vendors,
entities, ids, fields (:mod:`.guess`), references, statuses and owners (:mod:`.relate`), write the
YAML (:mod:`.write`), then validate it exactly as `trueup validate` would before it replaces
anything. A guess that fails validation is dropped (and named in a comment), never written broken.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from trueup.config.validate import COUNTRY_FIX, known_country
from trueup.errors import Problem, TerminalError
from trueup.ingest.probe import FORMATS
from trueup.scaffold import guess, relate, scan
from trueup.scaffold.plan import Plan, Skipped
from trueup.scaffold.write import render

CONFIG_FILE = "trueup.yaml"
MAX_REPAIRS = 6


class InitError(TerminalError):
    """`trueup init` cannot write a workspace from this folder."""


@dataclass
class InitReport:
    """What `trueup init` wrote and what it guessed."""

    path: Path
    plan: Plan

    def as_dict(self) -> dict[str, Any]:
        plan, base = self.plan, self.path.parent
        return {
            "path": str(self.path),
            "directory": str(plan.directory),
            "systems": [
                {
                    "name": s.name,
                    "label": s.label,
                    "role": s.role,
                    "kind": s.kind,
                    "path": Path(os.path.relpath(s.folder, base)).as_posix(),
                    "tables": [
                        {
                            "name": t.name,
                            "file": t.file,
                            "records": t.records,
                            "sheet": t.sheet,
                            "header_row": t.header_row,
                            "rows_sampled": t.rows,
                            "columns": list(t.raw_columns),
                            "entity": t.entity if t.mapped else None,
                            "id": t.id.expr if t.mapped and t.id else None,
                            "fields": {f: g.expr for f, g in t.fields.items()} if t.mapped else {},
                            "unmapped_columns": t.unmapped() if t.mapped else [],
                        }
                        for t in s.tables
                    ],
                }
                for s in plan.systems
            ],
            "entities": {
                e: {t.system: t.name for t in plan.tables() if t.mapped and t.entity == e}
                for e in dict.fromkeys(t.entity for t in plan.tables() if t.mapped and t.entity)
            },
            "statuses": {
                t.entity: {t.system: {v: s for v, (s, _) in t.statuses.items()}}
                for t in plan.tables()
                if t.mapped and t.statuses and t.entity
            },
            "ownership": {f"{e}.*": s for e, (s, _) in plan.ownership.items()},
            "skipped": [{"file": s.file, "reason": s.reason} for s in plan.skipped],
        }

    def summary(self) -> list[str]:
        plan = self.plan
        mapped = [t for t in plan.tables() if t.mapped]
        lines = [
            f"{len(plan.systems)} systems, {len(plan.tables())} tables, {len(mapped)} mapped to entities"
        ]
        for system in plan.systems:
            tables = ", ".join(
                f"{t.name} → {t.entity}" if t.mapped else f"{t.name} (not mapped)" for t in system.tables
            )
            lines.append(f"{system.name} ({system.label}): {tables}")
        for table in mapped:
            open_values = [v for v, (s, _) in table.statuses.items() if s is None]
            if open_values:
                shown = ", ".join(repr(v) for v in open_values[:5]) + (" …" if len(open_values) > 5 else "")
                lines.append(f"{table.entity} statuses of {table.system} to map by hand: {shown}")
        for entity, (owner, _) in plan.ownership.items():
            lines.append(f"owner of {entity}: {owner} (a guess: decide it)")
        lines += [f"skipped {s.file}: {s.reason}" for s in plan.skipped]
        folder = _one_folder_of_systems(plan)
        if folder is not None:
            lines.append(
                f"every export is in {folder.name}/ and was read as one system; if its folders are"
                f" systems, run: trueup init {folder}"
            )
        return lines


def _one_folder_of_systems(plan: Plan) -> Path | None:
    """The folder every export sits in, when `trueup init` was given the folder above it (a workspace
    whose exports are in `exports/<system>/`): one system of files from two or more of its folders.
    Only said, not done: `qbo/2025/` and `qbo/2026/` are one system's folders too."""
    if len(plan.systems) != 1 or plan.systems[0].folder == plan.directory:
        return None
    system = plan.systems[0]
    below = {
        t.path.relative_to(system.folder).parts[0] for t in system.tables if t.path.parent != system.folder
    }
    return system.folder if len(below) >= 2 else None


def init_workspace(
    directory: Path, output: Path | None = None, force: bool = False, country: str = "US"
) -> InitReport:
    """Scan `directory` for exports and write a validated `trueup.yaml` (to `output` if given),
    reading their dates and amounts as `country` writes them."""
    if not known_country(country.upper()):
        raise InitError(f"--country {country}: no such country; {COUNTRY_FIX}")
    directory = Path(directory).expanduser()
    if not directory.exists():
        raise InitError(f"{directory}: no such folder")
    if not directory.is_dir():
        raise InitError(f"{directory}: not a folder; give the folder that holds the export files")
    directory = directory.resolve()
    target = _target(directory, output)
    if target.exists() and not force:
        raise InitError(
            f"{target} already exists; pass --force to overwrite it, or --output to write elsewhere"
        )
    plan = build_plan(directory, country.upper())
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_validated(plan, target)
    return InitReport(path=target, plan=plan)


def _target(directory: Path, output: Path | None) -> Path:
    if output is None:
        return directory / CONFIG_FILE
    output = Path(output).expanduser()
    if output.is_dir():
        output = output / CONFIG_FILE
    return output.resolve()


def build_plan(directory: Path, country: str = "US") -> Plan:
    """Read a sample of every export under `directory` and make every guess, reading values as
    `country` writes them."""
    systems = scan.discover(directory)
    if not systems:
        kinds = ", ".join(sorted(FORMATS))
        raise InitError(
            f"no export files in {directory}: looked for {kinds} files "
            "(hidden folders and .trueup are skipped)"
        )
    plan = Plan(name=_title(directory.name), directory=directory, country=country)
    con = duckdb.connect()
    try:
        guess.install_macros(con, country)
        quote, sampler = scan.Quoter(con), guess.Sampler(con)
        index = 0
        for system in systems:
            scan.expand_sheets(system, plan.skipped, directory)
            readable = []
            for table in system.tables:
                reason = scan.sample(con, table, index, quote)
                index += 1
                if reason:
                    plan.skipped.append(Skipped(_shown(table.path, directory), reason))
                else:
                    readable.append(table)
            system.tables = readable
            if readable:
                plan.systems.append(system)
        if not plan.systems:
            reasons = "; ".join(f"{s.file}: {s.reason}" for s in plan.skipped[:5])
            raise InitError(f"no readable export files in {directory} ({reasons})")
        _guess(plan, sampler, con)
    finally:
        con.close()
    return plan


def _guess(plan: Plan, sampler: guess.Sampler, con: duckdb.DuckDBPyConnection) -> None:
    for system in plan.systems:
        guess.vendor(system)
    for table in plan.tables():
        guess.entity(table)
        if table.entity:
            guess.identify(sampler, con, table)
    guess.one_table_per_entity(plan)
    for table in plan.tables():
        if table.mapped:
            guess.fields(sampler, table)
    relate.references(sampler, plan)
    for table in plan.tables():
        if table.mapped:
            relate.statuses(sampler, table)
    relate.ownership(plan)


def _title(name: str) -> str:
    words = name.replace("_", " ").replace("-", " ").split()
    return " ".join(w if not w.islower() else w.capitalize() for w in words) or "My company"


def _shown(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


# --- validation ------------------------------------------------------------------------------


def _write_validated(plan: Plan, target: Path) -> None:
    """Write to a scratch file beside the target, validate it there, then move it into place."""
    scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        for _ in range(MAX_REPAIRS):
            scratch.write_text(render(plan, target.parent), encoding="utf-8")
            problems = _problems(plan, scratch)
            if not problems:
                os.replace(scratch, target)
                return
            if not _repair(plan, problems):
                break
        listed = "\n".join("  " + p.render() for p in problems)
        raise InitError(f"the guessed configuration does not validate, so nothing was written:\n{listed}")
    finally:
        scratch.unlink(missing_ok=True)


def _problems(plan: Plan, path: Path) -> list[Problem]:
    from trueup.config.loader import load_workspace
    from trueup.mapping.check import mapping_problems

    config, located, problems = load_workspace(path)
    if problems or config is None or located is None:
        return problems
    known = {(t.system, t.name): t.raw_columns for t in plan.tables()}
    return mapping_problems(config, located, path.parent, known)


def _repair(plan: Plan, problems: list[Problem]) -> bool:
    """Drop what each problem points at; False when a problem is not about a guess."""
    for problem in problems:
        parts = problem.path.split(".")
        reason = f"left out: {problem.message}"
        if parts[0] == "entities" and len(parts) >= 3 and (table := plan.mapping(parts[1], parts[2])):
            if len(parts) >= 5 and parts[3] in ("fields", "extra"):
                table.fields.pop(parts[4], None)
                table.notes.append(f"`{parts[4]}` {reason}")
                if parts[4] == "status":
                    table.statuses.clear()
            else:
                table.notes.append(f"{table.entity} {reason}")
                table.entity = None
        elif parts[0] == "statuses" and len(parts) >= 3 and (table := plan.mapping(parts[1], parts[2])):
            table.statuses.clear()
        elif parts[0] == "ownership" and len(parts) >= 2:
            plan.ownership.pop(parts[1], None)
        elif parts[0] == "systems" and len(parts) >= 2 and any(s.name == parts[1] for s in plan.systems):
            system = plan.system(parts[1])
            doomed = [
                t for t in system.tables if len(parts) >= 5 and parts[3] == "tables" and t.name == parts[4]
            ]
            for table in doomed or system.tables:
                plan.skipped.append(Skipped(_shown(table.path, plan.directory), reason))
            system.tables = [t for t in system.tables if t not in (doomed or system.tables)]
            plan.systems = [s for s in plan.systems if s.tables]
        else:
            return False
    plan.ownership.clear()
    relate.ownership(plan)
    return bool(plan.systems)


__all__ = ["InitError", "InitReport", "init_workspace"]
