"""What `trueup init` found and guessed: the plan the YAML is written from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def plural(count: int, noun: str) -> str:
    """`1 row`, `5 rows`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Column:
    """One readable value of a raw row: a top-level column or a path into a nested JSON value."""

    expr: str  # a DuckDB expression over the raw row: email, "WO #", CustomerRef.value
    label: str  # as the export names it: WO #, CustomerRef.value
    key: str  # normalised for matching: wo_number, customer_ref_value
    type: str  # the DuckDB type
    in_list: bool = False  # reached through a list (the first element is taken)


@dataclass
class Guess:
    """One guessed value: an expression and why it was chosen."""

    expr: str
    note: str = ""
    check: bool = True  # the reader should confirm it
    system: str | None = None  # a reference into another system's ids
    matches: str = "id"


@dataclass
class Table:
    system: str
    name: str
    path: Path  # the file sampled (the first of a glob)
    file: str  # relative to the system's folder, as written (may be a glob)
    sample: str = ""  # the table holding the sample in the scan connection
    records: str | None = None
    sheet: str | None = None
    header_row: int = 1
    notes: list[str] = field(default_factory=list)
    rows: int = 0
    columns: list[Column] = field(default_factory=list)
    raw_columns: dict[str, str] = field(default_factory=dict)  # top-level name -> DuckDB type
    vendor: Any = None  # the matched vocab.Signature
    entity: str | None = None
    entity_note: str = ""
    id: Guess | None = None
    fields: dict[str, Guess] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # column expressions already mapped
    statuses: dict[str, tuple[str | None, bool]] = field(default_factory=dict)  # value -> (state, sure)

    @property
    def mapped(self) -> bool:
        return self.entity is not None and self.id is not None

    def unmapped(self) -> list[str]:
        return [c.label for c in self.columns if c.expr not in self.used and not c.in_list]


@dataclass
class System:
    name: str
    folder: Path
    tables: list[Table] = field(default_factory=list)
    label: str = ""
    label_note: str = ""
    role: str | None = None
    kind: str = "system"


@dataclass
class Skipped:
    file: str
    reason: str


@dataclass
class Plan:
    name: str
    directory: Path
    country: str = "US"  # whose way the exports write phones, dates and amounts
    systems: list[System] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ownership: dict[str, tuple[str, str]] = field(default_factory=dict)  # entity -> (system, why)

    def tables(self) -> list[Table]:
        return [t for s in self.systems for t in s.tables]

    def mapping(self, entity: str, system: str) -> Table | None:
        """The table that maps `entity` in `system`, if any (one per system)."""
        for table in self.tables():
            if table.system == system and table.entity == entity and table.mapped:
                return table
        return None

    def mappers(self, entity: str) -> list[Table]:
        return [t for t in self.tables() if t.entity == entity and t.mapped]

    def system(self, name: str) -> System:
        return next(s for s in self.systems if s.name == name)
