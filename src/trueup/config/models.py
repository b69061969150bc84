"""The workspace format (`trueup.yaml`) as pydantic models.

Shape checks live here; checks that need several sections at once (a mapping naming a system
that exists, a column that exists in a table) live in :mod:`trueup.config.validate`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MISSING_WORDS = {"", "none", "null", "n/a", "na", "-", "false", "no", "missing", "tbd", "unknown"}


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _missing_to_none(value: Any) -> Any:
    """`none`, an empty value or an absent key all mean the same thing: not there."""
    if value is None or value is False:
        return None
    if isinstance(value, str) and value.strip().lower() in MISSING_WORDS:
        return None
    return value


Gap = Annotated[str | None, BeforeValidator(_missing_to_none)]


# --- sources ---------------------------------------------------------------------------------


class FileTable(Model):
    """One table of a `files` source: a file name or glob, and how to read it."""

    file: str
    format: Literal["csv", "xlsx", "json", "parquet"] | None = None  # default: from the extension
    records: str | None = None  # JSON: dotted path to the list of records inside the document
    sheet: str | None = None  # XLSX: sheet name; default: the first sheet
    header_row: int = Field(default=1, ge=1)  # XLSX / CSV: the 1-based row holding the header
    header: bool | None = None  # CSV: force header detection on or off
    delimiter: str | None = None  # CSV: default: sniffed
    quote: str | None = None
    encoding: str | None = None  # default: detected (UTF-8, UTF-8 with BOM, cp1252, Latin-1)

    @field_validator("delimiter", "quote")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError("write one character, e.g. ';' or '\\t' for a tab")
        return value


class FilesSource(Model):
    type: Literal["files"]
    path: str = "."
    tables: dict[str, str | FileTable]

    def table(self, name: str) -> FileTable:
        spec = self.tables[name]
        return FileTable(file=spec) if isinstance(spec, str) else spec


class SqlTable(Model):
    """One table of a `sql` source: a table name or a query."""

    table: str | None = None
    query: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    batch_size: int = Field(default=50_000, ge=1)


class SqlSource(Model):
    type: Literal["sql"]
    url: str  # any SQLAlchemy URL; write secrets as ${env:NAME}
    tables: dict[str, str | SqlTable]

    def table(self, name: str) -> SqlTable:
        spec = self.tables[name]
        return SqlTable(table=spec) if isinstance(spec, str) else spec


Source = Annotated[FilesSource | SqlSource, Field(discriminator="type")]


class System(Model):
    label: str | None = None
    kind: Literal["system", "spreadsheet"] = "system"
    derived_from: list[str] = []
    timezone: str | None = None  # its times without an offset are in this zone (default: the workspace's)
    source: Source


# --- mappings --------------------------------------------------------------------------------


class FieldSpec(Model):
    """A field given explicitly: its SQL; for a reference, whose ids it holds; for a time, the zone
    its values without an offset are in, when not its system's (one column pasted from an API)."""

    expr: str
    system: str | None = None  # the system whose id space a reference points into
    matches: Literal["id", "number"] = "id"
    timezone: str | None = None  # a time field's zone, when not its system's


class EntityMapping(Model):
    """How one system's raw table maps onto one canonical entity."""

    from_: str = Field(alias="from")
    id: str
    where: str | None = None  # optional SQL filter over the raw rows
    fields: dict[str, str | FieldSpec] = {}
    extra: dict[str, str] = {}  # custom fields, kept and shown, compared only when owned

    def field(self, name: str) -> FieldSpec:
        spec = self.fields[name]
        return FieldSpec(expr=spec) if isinstance(spec, str) else spec


# --- the rest of the contract ----------------------------------------------------------------

DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$")
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    match = DURATION_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit: 30m, 4h, 3d, 2w")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


HANDOFF_PARTS = (
    "owner",
    "trigger",
    "expected",
    "exceptions",
    "monitoring",
    "rollback",
)  # a handoff lacking one has a gap


class Handoff(Model):
    id: str
    from_: str = Field(alias="from")
    to: str
    carries: str | None = None  # "deal->job", "invoice"
    mechanism: Gap = None
    owner: Gap = None
    trigger: Gap = None
    expected: Gap = None
    sla: str | None = None
    exceptions: Gap = None
    monitoring: Gap = None
    rollback: Gap = None
    retired: bool | date = False
    notes: str | None = None

    @field_validator("sla", mode="before")
    @classmethod
    def _sla(cls, value: Any) -> Any:
        value = _missing_to_none(value)
        if value is not None:
            parse_duration(str(value))
            return str(value)
        return None

    @property
    def sla_delta(self) -> timedelta | None:
        return parse_duration(self.sla) if self.sla else None


class Retired(Model):
    system: str
    id_pattern: str | None = None
    retired_on: date | None = None
    fields: list[str] = []
    statuses: list[str] = []


class Reported(Model):
    metric: Literal["revenue", "invoiced", "collected", "jobs_completed"]
    period: str  # 2026-10, 2026-Q3, 2026
    value: float
    source: str | None = None
    basis: Literal["issued", "posted", "paid"] | None = None

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: Any) -> str:
        text = str(value)
        if not re.match(r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$", text):
            raise ValueError("a period is a year (2026), a month (2026-10) or a quarter (2026-Q3)")
        return text


class SystemCost(Model):
    maintenance_hours_per_month: float = 0
    license_per_month: float = 0
    initiatives_blocked: list[str] = []


class Costs(Model):
    hourly_rate: float = 50
    minutes_per_finding: dict[str, float] = {"default": 10}
    systems: dict[str, SystemCost] = {}


class Report(Model):
    """Where the report is written, and when a handoff's findings call for more than monitoring."""

    output: str = "report"  # a folder, relative to the workspace
    trend_runs: int = Field(default=8, ge=2)  # runs shown in the trend
    sprint_money: float = Field(default=10_000, ge=0)  # money at stake on a handoff that calls for a sprint
    repeated: int = Field(default=5, ge=2)  # one check this often around a handoff: map ownership and sync


class Tolerance(Model):
    amount: float = 0.0


class SharedId(Model):
    """A system that keeps another system's id for the same thing (the ledger's customer id in
    the CRM): records joined by it are linked as surely as by the id itself."""

    entity: str = "customer"
    system: str
    field: str  # a field of that system's mapping (usually under `extra:`) holding the target's id
    target: str


class Matching(Model):
    """How records are matched beyond the built-in rules: shared ids, Splink's probability and
    the band for review, and extra fields for Splink to compare."""

    shared_ids: list[SharedId] = []
    compare: list[str] = []  # `extra:` fields of customer mappings that Splink also compares
    probabilistic: bool = True
    link_at: float = Field(default=0.95, gt=0, le=1)  # linked at or above this match probability
    review_from: float = Field(default=0.5, gt=0, le=1)  # from here up to link_at: a person decides
    max_pairs: float = Field(default=1e5, gt=0)  # pairs sampled to estimate how often non-matches agree


class Workspace(Model):
    """The whole `trueup.yaml`."""

    name: str
    currency: str = "USD"
    timezone: str = "UTC"
    country: str = "US"
    as_of: datetime | None = None
    state: str | None = None  # the state store URL; default: SQLite in .trueup/state.db
    systems: dict[str, System]
    entities: dict[str, dict[str, EntityMapping]] = {}
    statuses: dict[str, dict[str, dict[str, str]]] = {}
    ownership: dict[str, str | list[str] | dict[str, list[str]]] = {}
    handoffs: list[Handoff] = []
    retired: list[Retired] = []
    reported: list[Reported] = []
    costs: Costs = Costs()
    report: Report = Report()
    tolerance: Tolerance = Tolerance()
    matching: Matching = Matching()

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.match(r"^[A-Z]{3}$", value):
            raise ValueError("a currency is a three-letter ISO 4217 code such as USD or EUR")
        return value

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: Any) -> Any:
        return datetime.fromisoformat(value) if isinstance(value, str) else value


def zone_of(ws: Workspace, system: str, entity: str | None = None, field: str | None = None) -> str:
    """The time zone a system's times without an offset are read in: the field's own (given the
    entity and field), the system's, or the workspace's."""
    mapping = ws.entities.get(entity or "", {}).get(system)
    own = mapping.field(field).timezone if mapping and field in mapping.fields else None
    return own or ws.systems[system].timezone or ws.timezone


def owner_of(ws: Workspace, entity: str, field: str = "*") -> str | None:
    """The system declared to own `entity.field` (falling back to `entity.*`), if any."""
    for key in (f"{entity}.{field}", f"{entity}.*"):
        owner = ws.ownership.get(key)
        if isinstance(owner, str):
            return owner
    return None


def id_space(ws: Workspace, system: str, field: str, spec_system: str | None) -> str | None:
    """Whose ids a reference field holds: explicit, else this system's, else the target's owner's."""
    if spec_system:
        return spec_system
    mappers = ws.entities.get(field, {})
    if system in mappers:
        return system
    owner = owner_of(ws, field)
    if owner:
        return owner
    ordered = [s for s in ws.systems if s in mappers]
    return ordered[0] if ordered else None
