"""The plan as `trueup.yaml` text: block style, every guess with its evidence in a comment.

The text is written by hand rather than dumped so the comments survive; every scalar goes through
:func:`scalar`, which leaves a value plain only when YAML reads it back as the same string.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from trueup.model import ENTITIES
from trueup.scaffold.plan import Guess, Plan, Table, plural

PLAIN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_./*-]*")
# Words some YAML readers take for booleans or null even where PyYAML does not.
YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "none", "~"}
WIDTH = 108

HEADER = """\
# trueup.yaml, written by `trueup init` from the export files it found in {source}.
#
# Everything below was guessed from the files: their names, their column names and a sample of
# their values. Review it from top to bottom before trusting a run:
#   - a line marked `# check` is a guess to confirm or correct; other comments give the evidence;
#   - status values that could not be placed are listed as `# "value": ?   # map me`: uncomment
#     each and write one of the states listed above it;
#   - `ownership` says which system is the source of truth for each entity: decide it, do not guess;
#   - a table or column left out is named in a `# not mapped` comment: add what matters.
# Then run `trueup validate` (every expression is checked against the files) and `trueup run`.
"""


def scalar(value: object) -> str:
    """A YAML scalar that reads back as `value`: plain when safe, else double-quoted."""
    text = str(value)
    if PLAIN_RE.fullmatch(text) and text.lower() not in YAML_WORDS and _reads_back(text, text):
        return text
    quoted = yaml.safe_dump(text, default_style='"', allow_unicode=True, width=1 << 30).rstrip("\n")
    if any(c in quoted for c in "\r\n\x85\u2028\u2029") or not _reads_back(quoted, text):
        quoted = yaml.safe_dump(text, default_style='"', allow_unicode=False, width=1 << 30).rstrip("\n")
    return quoted


def _reads_back(written: str, value: str) -> bool:
    try:
        return bool(yaml.safe_load(f"k: {written}") == {"k": value})
    except yaml.YAMLError:
        return False


def comment(text: str) -> str:
    """Comment text on one line: line breaks of every kind become spaces."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", text).strip()


class Lines:
    def __init__(self) -> None:
        self.out: list[str] = []

    def add(self, indent: int, body: str, note: str = "") -> None:
        line = " " * indent + body
        self.out.append(f"{line}   # {comment(note)}" if note else line)

    def note(self, indent: int, text: str) -> None:
        """A comment on its own lines, wrapped."""
        words, line = comment(text).split(" "), ""
        for word in words:
            if line and len(line) + len(word) + indent + 3 > WIDTH:
                self.out.append(" " * indent + "# " + line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        if line:
            self.out.append(" " * indent + "# " + line)

    def blank(self) -> None:
        self.out.append("")


def render(plan: Plan, base: Path) -> str:
    """The whole file; source paths are written relative to `base`, the folder the file is in."""
    lines = Lines()
    lines.out += HEADER.format(source=comment(str(plan.directory))).splitlines()
    lines.blank()
    lines.add(0, f"name: {scalar(plan.name)}", "check: the company's name, shown in reports")
    lines.add(0, "currency: USD", "check: the ISO 4217 code of the amounts in these exports")
    lines.add(
        0,
        "timezone: UTC",
        "check: set the company's time zone (e.g. America/Chicago); "
        "times written without an offset are read in it",
    )
    lines.add(
        0,
        f"country: {plan.country}",
        "check: the ISO 3166 country whose way the exports write phone numbers, dates (03/11 month"
        " or day first) and amounts (1,234.56 or 1.234,56)",
    )
    lines.blank()
    _systems(lines, plan, base)
    lines.blank()
    _entities(lines, plan)
    _statuses(lines, plan)
    _ownership(lines, plan)
    lines.blank()
    _handoffs(lines, plan)
    return "\n".join(lines.out) + "\n"


def _systems(lines: Lines, plan: Plan, base: Path) -> None:
    lines.add(0, "systems:", "one per folder of exports; each file (or sheet) is a table")
    for system in plan.systems:
        lines.add(2, f"{system.name}:")
        lines.add(4, f"label: {scalar(system.label)}", system.label_note)
        if system.kind == "spreadsheet":
            lines.add(4, "kind: spreadsheet", "check: every table is a workbook sheet")
            others = [s.name for s in plan.systems if s.kind != "spreadsheet"]
            if others:
                lines.note(4, f"derived_from: [{', '.join(others)}]   # the systems this sheet is built from")
        lines.add(4, "source:")
        lines.add(6, "type: files")
        lines.add(6, f"path: {scalar(_relative(system.folder, base))}")
        lines.add(6, "tables:")
        for table in system.tables:
            lines.add(8, f"{scalar(table.name)}: {_table_spec(table)}", _table_note(table))


def _relative(folder: Path, base: Path) -> str:
    return Path(os.path.relpath(folder, base)).as_posix()


def _table_spec(table: Table) -> str:
    parts = [("file", table.file)]
    if table.records:
        parts.append(("records", table.records))
    if table.sheet is not None:
        parts.append(("sheet", table.sheet))
    if table.header_row != 1:
        parts.append(("header_row", str(table.header_row)))
    if len(parts) == 1:
        return scalar(table.file)
    return "{" + ", ".join(f"{k}: {v if k == 'header_row' else scalar(v)}" for k, v in parts) + "}"


def _table_note(table: Table) -> str:
    notes = [f"{plural(table.rows, 'row')} sampled, {plural(len(table.raw_columns), 'column')}"]
    if table.records:
        notes.append(f"records found at {table.records}")
    if table.header_row != 1:
        above = table.header_row - 1
        notes.append(
            f"check: header on row {table.header_row}, below {above} title row{'s' if above > 1 else ''}"
        )
    if "*" in table.file:
        notes.append("check: every file matching the pattern is read")
    return "; ".join(notes)


def _entities(lines: Lines, plan: Plan) -> None:
    lines.add(0, "entities:", "raw table -> canonical entity, per system; values are SQL over the raw row")
    for entity in ENTITIES:
        tables = plan.mappers(entity)
        if not tables:
            continue
        lines.add(2, f"{entity}:")
        for table in tables:
            assert table.id
            lines.add(4, f"{table.system}:", f"{table.name}: {table.entity_note}")
            lines.add(6, f"from: {scalar(table.name)}")
            lines.add(6, f"id: {scalar(table.id.expr)}", _guess_note(table.id))
            if table.fields:
                lines.add(6, "fields:")
                for field in (f for f in ENTITIES[entity].fields if f in table.fields):
                    guess = table.fields[field]
                    lines.add(8, f"{field}: {_field_spec(guess)}", _guess_note(guess))
            for note in table.notes:
                lines.note(6, "note: " + note)
            unmapped = table.unmapped()
            if unmapped:
                lines.note(6, "not mapped: " + ", ".join(unmapped))
    left = [t for t in plan.tables() if not t.mapped]
    if left:
        lines.note(0, "Tables not mapped to an entity (map them by hand if they matter):")
        for table in left:
            reason = "; ".join(table.notes) or "could not tell which entity it holds"
            lines.note(0, f"  {table.system}.{table.name}: {reason}")
    lines.blank()


def _guess_note(guess: Guess) -> str:
    if guess.check and not guess.note.startswith("check"):
        return "check: " + guess.note if guess.note else "check"
    return guess.note


def _field_spec(guess: Guess) -> str:
    if guess.system is None and guess.matches == "id":
        return scalar(guess.expr)
    parts = [f"expr: {scalar(guess.expr)}"]
    if guess.system is not None:
        parts.append(f"system: {scalar(guess.system)}")
    if guess.matches != "id":
        parts.append(f"matches: {guess.matches}")
    return "{" + ", ".join(parts) + "}"


def _statuses(lines: Lines, plan: Plan) -> None:
    found = [(e, t) for e in ENTITIES for t in plan.mappers(e) if t.statuses and ENTITIES[e].states]
    if not found:
        return
    lines.add(0, "statuses:", "each system's status values -> canonical lifecycle states")
    for entity in dict.fromkeys(e for e, _ in found):
        lines.add(2, f"{entity}:")
        lines.note(4, f"{entity} states: {', '.join(ENTITIES[entity].states)}")
        for _, table in (item for item in found if item[0] == entity):
            sure = {v: s for v, (s, _) in table.statuses.items() if s is not None}
            column = table.fields["status"].expr
            where = f"the values of {column} in {table.name}"
            if sure:
                lines.add(4, f"{table.system}:", where)
            else:
                lines.add(4, f"{table.system}: {{}}", where + "; none could be placed")
            for value, (state, confident) in table.statuses.items():
                if state is None:
                    lines.add(6, f"# {scalar(value)}: ?", "map me")
                else:
                    lines.add(6, f"{scalar(value)}: {state}", "" if confident else "check")
    lines.blank()


def _ownership(lines: Lines, plan: Plan) -> None:
    if not plan.ownership:
        lines.note(0, "ownership: nothing was mapped, so no system owns anything yet")
        return
    lines.add(
        0,
        "ownership:",
        "the source of truth for each entity; `customer.address: <system>` overrides one field",
    )
    for entity, (system, why) in plan.ownership.items():
        lines.add(2, f"{entity}.*: {scalar(system)}", "check: " + why)


def _handoffs(lines: Lines, plan: Plan) -> None:
    def by_role(*roles: str) -> str:
        for role in roles:
            found = next((s.name for s in plan.systems if s.role == role), None)
            if found:
                return found
        return roles[0]

    crm, dispatch = by_role("crm"), by_role("dispatch")
    billing, accounting = by_role("billing", "accounting"), by_role("accounting")
    lines.note(
        0,
        "handoffs: the integration inventory, one line per system-to-system flow. Uncomment and "
        "complete these examples; a missing owner, trigger, monitoring or rollback is a finding.",
    )
    example = [
        "handoffs:",
        f"  - {{id: deal-to-job, from: {crm}, to: {dispatch}, carries: deal->job, mechanism: manual,",
        "     owner: ops@example.com, trigger: deal won, expected: job created, sla: 1d}",
        f"  - {{id: job-to-invoice, from: {dispatch}, to: {billing}, carries: job->invoice, sla: 3d}}",
    ]
    if billing != accounting:
        example.append(
            f"  - {{id: invoice-to-ledger, from: {billing}, to: {accounting}, carries: invoice, sla: 1d}}"
        )
    for text in example:
        lines.out.append("# " + text)
