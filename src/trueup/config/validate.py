"""Cross-reference checks over a workspace whose shape is already valid.

Each check appends problems; none stops at the first. Checks that need the source data itself
(columns, expressions) are in :mod:`trueup.mapping.check`.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Iterable
from pathlib import Path

from trueup.config.loader import Located, Path_
from trueup.config.models import NAME_RE, FilesSource, SqlSource, Workspace
from trueup.errors import Problem
from trueup.model import ENTITIES, Kind


def cross_reference_problems(ws: Workspace, located: Located, root: Path) -> list[Problem]:
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(ws, located, root))
    return problems


def _unknown_system(at: Located, ws: Workspace, name: str) -> bool:
    """Unknown, and not merely a system whose own definition has problems (reported already)."""
    return name not in ws.systems and name not in at.declared_systems


def _hint(value: str, choices: Iterable[str], what: str) -> str:
    choices = sorted(choices)
    near = difflib.get_close_matches(value, choices, n=1)
    listed = f"{what} are: {', '.join(choices)}" if choices else f"there are no {what}"
    return (f"did you mean `{near[0]}`? " if near else "") + listed


def _zone(name: str, here: Path_, at: Located) -> Iterable[Problem]:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        yield at.problem(
            here,
            "unknown time zone",
            value=name,
            fix="use an IANA name such as America/Chicago, Europe/London or UTC",
        )


COUNTRY_FIX = "use a two-letter ISO 3166 code such as US, CA or GB"


def known_country(code: str) -> bool:
    """Whether `code` names a country phone numbers (and so trueup) know."""
    import phonenumbers

    return code in phonenumbers.SUPPORTED_REGIONS


def _settings(ws: Workspace, at: Located, root: Path) -> Iterable[Problem]:
    yield from _zone(ws.timezone, ("timezone",), at)
    if not known_country(ws.country):
        yield at.problem(("country",), "unknown country code", value=ws.country, fix=COUNTRY_FIX)
    if ws.state and not re.match(r"^(sqlite|postgresql)(\+\w+)?://", ws.state):
        yield at.problem(
            ("state",),
            "the state store must be a sqlite:// or postgresql:// URL",
            value=ws.state,
            fix="write postgresql://user@host/db or leave it out for SQLite",
        )


def _systems(ws: Workspace, at: Located, root: Path) -> Iterable[Problem]:
    for name, system in ws.systems.items():
        here: Path_ = ("systems", name)
        if not NAME_RE.match(name) or "__" in name:
            yield at.problem(
                here,
                "a system name must be lower case letters, digits and single underscores",
                value=name,
                fix="rename it, e.g. `crm` or `friday_sheet`",
            )
        if system.timezone is not None:
            yield from _zone(system.timezone, (*here, "timezone"), at)
        for i, parent in enumerate(system.derived_from):
            if _unknown_system(at, ws, parent):
                yield at.problem(
                    (*here, "derived_from", i),
                    "unknown system",
                    value=parent,
                    fix=_hint(parent, ws.systems, "systems"),
                )
        if system.derived_from and system.kind != "spreadsheet":
            yield at.problem(
                (*here, "derived_from"),
                "only a `kind: spreadsheet` system is derived from others",
                fix="add `kind: spreadsheet` or remove `derived_from`",
            )
        source = system.source
        for table in source.tables:
            if not NAME_RE.match(table) or "__" in table:
                yield at.problem(
                    (*here, "source", "tables", table),
                    "a table name must be lower case letters, digits and single underscores",
                    value=table,
                    fix="rename the key; the file name goes in the value",
                )
        if isinstance(source, FilesSource):
            yield from _files_source(name, source, at, root)
        elif isinstance(source, SqlSource):
            yield from _sql_source(name, source, at)


def _files_source(system: str, source: FilesSource, at: Located, root: Path) -> Iterable[Problem]:
    base = root / source.path
    here: Path_ = ("systems", system, "source")
    if not base.is_dir():
        yield at.problem(
            (*here, "path"),
            "no such folder",
            value=source.path,
            fix=f"the path is relative to the workspace folder {root}",
        )
        return
    for table in source.tables:
        spec = source.table(table)
        if not sorted(base.glob(spec.file)):
            files = sorted(p.name for p in base.iterdir() if p.is_file())[:12]
            yield at.problem(
                (*here, "tables", table),
                f"no file matches in {base}",
                value=spec.file,
                fix=_hint(spec.file, files, "files there"),
            )


def _sql_source(system: str, source: SqlSource, at: Located) -> Iterable[Problem]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    here: Path_ = ("systems", system, "source")
    try:
        make_url(source.url)
    except ArgumentError:
        yield at.problem(
            (*here, "url"),
            "not a database URL",
            fix="write a SQLAlchemy URL such as postgresql://user@host/db; keep passwords in ${env:NAME}",
        )
    for table in source.tables:
        spec = source.table(table)
        if (spec.table is None) == (spec.query is None):
            yield at.problem((*here, "tables", table), "give exactly one of `table:` or `query:`")


def _entities(ws: Workspace, at: Located, root: Path) -> Iterable[Problem]:
    for entity, per_system in ws.entities.items():
        if entity not in ENTITIES:
            yield at.problem(("entities", entity), "unknown entity", fix=_hint(entity, ENTITIES, "entities"))
            continue
        canonical = ENTITIES[entity].fields
        for system, mapping in per_system.items():
            here: Path_ = ("entities", entity, system)
            if system not in ws.systems:
                if _unknown_system(at, ws, system):
                    yield at.problem(here, "unknown system", fix=_hint(system, ws.systems, "systems"))
                continue
            tables = ws.systems[system].source.tables
            if mapping.from_ not in tables:
                yield at.problem(
                    (*here, "from"),
                    f"no table `{mapping.from_}` in system `{system}`",
                    value=mapping.from_,
                    fix=_hint(mapping.from_, tables, "tables"),
                )
            for field in mapping.fields:
                if field not in canonical:
                    yield at.problem(
                        (*here, "fields", field),
                        f"`{field}` is not a canonical {entity} field",
                        fix=_hint(field, canonical, "fields")
                        + "; to keep a custom field, move it under `extra:`",
                    )
                    continue
                spec = mapping.field(field)
                if spec.system is not None and _unknown_system(at, ws, spec.system):
                    yield at.problem(
                        (*here, "fields", field, "system"),
                        "unknown system",
                        value=spec.system,
                        fix=_hint(spec.system, ws.systems, "systems"),
                    )
                if spec.system is not None and field not in ENTITIES:
                    yield at.problem(
                        (*here, "fields", field, "system"),
                        "only a reference field (customer, location, deal, job, invoice) names a system",
                    )
                if spec.timezone is not None:
                    if canonical[field] is Kind.TIMESTAMP:
                        yield from _zone(spec.timezone, (*here, "fields", field, "timezone"), at)
                    else:
                        yield at.problem(
                            (*here, "fields", field, "timezone"),
                            "only a time field has a time zone",
                            value=spec.timezone,
                            fix="remove `timezone` here, or give it to the time field it belongs to",
                        )
            for field in mapping.extra:
                if field in canonical:
                    yield at.problem(
                        (*here, "extra", field),
                        f"`{field}` is a canonical field",
                        fix="move it under `fields:`",
                    )


def _statuses(ws: Workspace, at: Located, root: Path) -> Iterable[Problem]:
    for entity, per_system in ws.statuses.items():
        if entity not in ENTITIES or not ENTITIES[entity].states:
            with_status = [e.name for e in ENTITIES.values() if e.states]
            yield at.problem(
                ("statuses", entity),
                "this entity has no lifecycle states",
                fix=_hint(entity, with_status, "entities with a status"),
            )
            continue
        states = ENTITIES[entity].states
        for system, vocabulary in per_system.items():
            here: Path_ = ("statuses", entity, system)
            mapping = ws.entities.get(entity, {}).get(system)
            if system not in ws.systems:
                if _unknown_system(at, ws, system):
                    yield at.problem(here, "unknown system", fix=_hint(system, ws.systems, "systems"))
            elif mapping is None or "status" not in mapping.fields:
                yield at.problem(
                    here,
                    f"system `{system}` does not map a {entity} status",
                    fix=f"add `status:` to `entities.{entity}.{system}.fields`",
                )
            seen: dict[str, str] = {}
            for value, state in vocabulary.items():
                key = str(value).strip().lower()
                if key in seen:
                    yield at.problem(
                        (*here, value),
                        f"`{value}` and `{seen[key]}` are the same value "
                        "(statuses match without regard to case or spaces)",
                        fix="keep one of them",
                    )
                seen[key] = str(value)
                if state not in states:
                    yield at.problem(
                        (*here, value),
                        f"`{state}` is not a {entity} state",
                        value=state,
                        fix=_hint(str(state), states, "states"),
                    )


def _ownership(ws: Workspace, at: Located, root: Path) -> Iterable[Problem]:
    for key, owner in ws.ownership.items():
        here: Path_ = ("ownership", key)
        if key == "fallback":
            if not isinstance(owner, dict):
                yield at.problem(
                    here,
                    "`fallback` maps an entity or entity.field to a list of systems",
                    fix="write `fallback: {customer: [crm, accounting]}`",
                )
                continue
            for target, order in owner.items():
                for i, system in enumerate(order):
                    if _unknown_system(at, ws, system):
                        yield at.problem(
                            (*here, target, i),
                            "unknown system",
                            value=system,
                            fix=_hint(system, ws.systems, "systems"),
                        )
            continue
        entity, _, field = str(key).partition(".")
        if entity not in ENTITIES or not field:
            yield at.problem(
                here,
                "an ownership key is `entity.field` or `entity.*`",
                fix=_hint(entity, ENTITIES, "entities"),
            )
            continue
        if not isinstance(owner, str):
            yield at.problem(here, "the owner is one system name", value=owner)
            continue
        mappings = ws.entities.get(entity, {})
        known = set(ENTITIES[entity].fields) | {f for m in mappings.values() for f in m.extra}
        if field != "*" and field not in known:
            yield at.problem(here, f"`{field}` is not a field of {entity}", fix=_hint(field, known, "fields"))
        if owner not in ws.systems:
            if _unknown_system(at, ws, owner):
                yield at.problem(here, "unknown system", value=owner, fix=_hint(owner, ws.systems, "systems"))
        elif owner not in mappings:
            yield at.problem(
                here,
                f"system `{owner}` does not map {entity}",
                value=owner,
                fix=_hint(owner, mappings, f"systems mapping {entity}"),
            )


def _matching(ws: Workspace, at: Located, root: Path) -> Iterable[Problem]:
    for i, shared in enumerate(ws.matching.shared_ids):
        here: Path_ = ("matching", "shared_ids", i)
        if shared.entity not in ENTITIES:
            yield at.problem(
                (*here, "entity"), "unknown entity", fix=_hint(shared.entity, ENTITIES, "entities")
            )
            continue
        mappings = ws.entities.get(shared.entity, {})
        for key in ("system", "target"):
            system = getattr(shared, key)
            if system not in mappings:
                yield at.problem(
                    (*here, key), f"no mapping of {shared.entity} from this system", value=system,
                    fix=_hint(system, mappings, f"systems mapping {shared.entity}"),
                )  # fmt: skip
        mapping = mappings.get(shared.system)
        if mapping and shared.field not in mapping.fields and shared.field not in mapping.extra:
            known = [*mapping.fields, *mapping.extra]
            yield at.problem(
                (*here, "field"), f"`{shared.field}` is not mapped from {shared.system}",
                fix=f"add it under `extra:` of entities.{shared.entity}.{shared.system}; " + _hint(shared.field, known, "fields"),
            )  # fmt: skip
    extras = {f for m in ws.entities.get("customer", {}).values() for f in m.extra}
    for i, name in enumerate(ws.matching.compare):
        if name not in extras:
            yield at.problem(
                ("matching", "compare", i), "not an `extra:` field of any customer mapping", value=name,
                fix=_hint(name, extras, "extra fields"),
            )  # fmt: skip


def _handoffs(ws: Workspace, at: Located, root: Path) -> Iterable[Problem]:
    known = set(ws.systems) | {r.system for r in ws.retired} | at.declared_systems
    seen: set[str] = set()
    for i, handoff in enumerate(ws.handoffs):
        here: Path_ = ("handoffs", i)
        if handoff.id in seen:
            yield at.problem(
                (*here, "id"),
                "two handoffs share this id",
                value=handoff.id,
                fix="give each handoff its own id",
            )
        seen.add(handoff.id)
        for end in ("from", "to"):
            system = handoff.from_ if end == "from" else handoff.to
            if system not in known:
                yield at.problem(
                    (*here, end), "unknown system", value=system, fix=_hint(system, known, "systems")
                )
        if handoff.carries:
            for part in re.split(r"\s*->\s*", handoff.carries):
                if part not in ENTITIES:
                    yield at.problem(
                        (*here, "carries"),
                        f"`{part}` is not an entity",
                        value=handoff.carries,
                        fix="write an entity or `source->target`, e.g. `deal->job`; "
                        + _hint(part, ENTITIES, "entities"),
                    )


def _retired(ws: Workspace, at: Located, root: Path) -> Iterable[Problem]:
    for i, entry in enumerate(ws.retired):
        if entry.id_pattern:
            try:
                re.compile(entry.id_pattern)
            except re.error as exc:
                yield at.problem(
                    ("retired", i, "id_pattern"),
                    f"not a regular expression: {exc}",
                    value=entry.id_pattern,
                    fix="quote the pattern and escape special characters",
                )


def _reported(ws: Workspace, at: Located, root: Path) -> Iterable[Problem]:
    for i, entry in enumerate(ws.reported):
        if entry.source and _unknown_system(at, ws, entry.source):
            yield at.problem(
                ("reported", i, "source"),
                "unknown system",
                value=entry.source,
                fix=_hint(entry.source, ws.systems, "systems"),
            )


def _costs(ws: Workspace, at: Located, root: Path) -> Iterable[Problem]:
    for system in ws.costs.systems:
        if _unknown_system(at, ws, system):
            yield at.problem(
                ("costs", "systems", system), "unknown system", fix=_hint(system, ws.systems, "systems")
            )


CHECKS = (
    _settings, _systems, _entities, _statuses, _ownership, _matching, _handoffs, _retired, _reported, _costs,
)  # fmt: skip
