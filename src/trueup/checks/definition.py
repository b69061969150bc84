"""What a check is, and how one is read from a `.sql` file with a small header.

Built-in checks and a workspace's own `checks/*.sql` are the same thing: a SQL query over the
warehouse, preceded by `--` comment lines that hold YAML:

    -- name: big_open_invoice
    -- category: lifecycle_mismatch
    -- severity: warning
    -- owner: billing
    -- money: balance
    -- stake: unpaid
    -- entities: {invoice.billing: invoice_no}
    -- description: Open invoices above $5,000, so somebody chases them.
    SELECT number AS invoice_no, balance FROM invoice WHERE state = 'invoiced' AND balance > 5000

Each row the query returns is one finding. `entities` names the columns holding the ids of the
records a finding is about, as `entity.system: column`; a query may instead return an `entities`
column (a list of `{entity, system, source_id}`). A query may also return any of `title`, `detail`,
`owner`, `severity`, `field`, `handoff`, `money`, `key`, `values`, `cause` and `cause_reason`, which
then win over the header's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from trueup.config.loader import SAFE_LOADER
from trueup.errors import Problem

CATEGORIES = (
    "source_of_truth_conflict",
    "lifecycle_mismatch",
    "spreadsheet_middleware",
    "silent_sync_failure",
    "corrected_reporting",
    "vendor_setting",
    "migration_residue",
    "unowned_automation",
)
SEVERITIES = ("critical", "warning", "info")
CAUSES = ("configuration", "design")
# What a check's findings are about: the records they list, or a setting as a whole (a mapping, a
# column), naming no record. Only findings about records give their cause to others.
ABOUT = ("records", "setting")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
ENTITY_KEY_RE = re.compile(r"^([a-z_]+)\.([a-z][a-z0-9_]*)$")
# What a finding's money is, for the debt ledger; the first four are money at stake now.
STAKES = ("unbilled", "unposted", "mismatched", "unpaid", "lost", "misreported", "delayed")
AT_STAKE = STAKES[:4]
HEADER_KEYS = (
    "name", "category", "severity", "owner", "money", "stake", "entities", "description", "cause", "about",
)  # fmt: skip


def at_stake(money: Mapping[str, Decimal]) -> Decimal:
    """Money wrong or missing now, of money by stake: unbilled, unposted, mismatched and unpaid."""
    return sum((money.get(k, Decimal()) for k in AT_STAKE), Decimal())


@dataclass(frozen=True)
class Check:
    """One named detector: its SQL and what every finding it makes is (unless a row says otherwise)."""

    name: str
    category: str
    severity: str
    description: str
    sql: str
    owner: str | None = None
    money: str | None = None  # the column holding the money at stake
    stake: str | None = None  # what that money is (one of STAKES); None: shown, not added up
    entities: dict[str, str] = field(default_factory=dict)  # "entity.system" -> column
    cause: str = "design"
    about: str = "records"  # one of ABOUT
    path: Path | None = None  # where the check was read from
    builtin: bool = True


def parse(text: str, path: Path, builtin: bool) -> tuple[Check | None, list[Problem]]:
    """Read one check file; every problem with its header is reported, with the line it is on."""
    header, lines, sql = _split(text)
    problems: list[Problem] = []

    def problem(key: str, message: str, fix: str, value: Any = None) -> None:
        problems.append(Problem(f"checks.{path.stem}.{key}", message, fix, value, str(path), lines.get(key)))

    try:
        meta = yaml.load(header, Loader=SAFE_LOADER) if header.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        return None, [Problem(f"checks.{path.stem}", f"the header is not YAML ({exc})",
                              "write each header line as `-- key: value`", None, str(path), line)]  # fmt: skip
    if not isinstance(meta, dict):
        meta = {}
    for key in sorted(set(meta) - set(HEADER_KEYS)):
        problem(key, "is not a header key", f"the keys are: {', '.join(HEADER_KEYS)}", key)
    name = str(meta.get("name") or path.stem)
    if not NAME_RE.match(name):
        problem("name", "is not a check name", "use lower case letters, digits and _", name)
    category = meta.get("category")
    if category not in CATEGORIES:
        problem("category", "is not a debt category", f"one of: {', '.join(CATEGORIES)}", category)
    severity = meta.get("severity", "warning")
    if severity not in SEVERITIES:
        problem("severity", "is not a severity", f"one of: {', '.join(SEVERITIES)}", severity)
    cause = meta.get("cause", "design")
    if cause not in CAUSES:
        problem("cause", "is not a root cause", f"one of: {', '.join(CAUSES)}", cause)
    about = meta.get("about", "records")
    if about not in ABOUT:
        problem("about", "is not what findings can be about", f"one of: {', '.join(ABOUT)}", about)
    stake = meta.get("stake")
    if stake is not None and stake not in STAKES:
        problem("stake", "is not a kind of money at stake", f"one of: {', '.join(STAKES)}", stake)
    entities = meta.get("entities") or {}
    if not isinstance(entities, dict) or not all(
        isinstance(k, str) and ENTITY_KEY_RE.match(k) and isinstance(v, str) for k, v in entities.items()
    ):
        problem(
            "entities", "must map `entity.system` to a column", "e.g. {invoice.billing: invoice_no}", entities
        )
        entities = {}
    if not sql.strip():
        problem("sql", "has no query after the header", "write one SELECT statement after the header")
    if problems:
        return None, problems
    return Check(
        name=name,
        category=str(category),
        severity=str(severity),
        description=str(meta.get("description") or "").strip(),
        sql=sql.strip().rstrip(";"),
        owner=None if meta.get("owner") is None else str(meta["owner"]),
        money=None if meta.get("money") is None else str(meta["money"]),
        stake=None if stake is None else str(stake),
        entities={str(k): str(v) for k, v in entities.items()},
        cause=str(cause),
        about=str(about),
        path=path,
        builtin=builtin,
    ), []


def _split(text: str) -> tuple[str, dict[str, int], str]:
    """The YAML of the leading `--` lines, the line each key is on, and the SQL after them."""
    header: list[str] = []
    lines: dict[str, int] = {}
    rest = text.splitlines()
    for number, line in enumerate(rest, start=1):
        stripped = line.strip()
        if not stripped.startswith("--"):
            if stripped:
                return "\n".join(header), lines, "\n".join(rest[number - 1 :])
            header.append("")
            continue
        body = stripped[2:].removeprefix(" ")
        key = re.match(r"^([A-Za-z_]+)\s*:", body)
        if key:
            lines.setdefault(key.group(1), number)
        header.append(body)
    return "\n".join(header), lines, ""
