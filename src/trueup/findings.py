"""The findings queue as people and scripts read it: filtered, ordered, and in the public shape.

`public()` is the contract of `trueup findings --json` (documented in docs/findings.md): every
finding as an object with `id`, `check`, `category`, `severity`, `state`, `title`, `owner`,
`money`, `cause` and `entities` (`{entity, system, source_id, canonical_id}`), among others.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Row

from trueup.errors import TrueupError
from trueup.state.findings import ACTIVE, FindingError, Findings
from trueup.state.models import Finding, FindingEvent


@dataclass(frozen=True)
class Filters:
    category: tuple[str, ...] = ()
    check: tuple[str, ...] = ()
    system: tuple[str, ...] = ()
    handoff: tuple[str, ...] = ()
    owner: tuple[str, ...] = ()
    state: tuple[str, ...] = ACTIVE
    severity: tuple[str, ...] = ()

    def mistake(self) -> str | None:
        """Why no finding can match, when a category, state or severity is none there is (said, so
        that a typo is not read as a clean queue), with the nearest one."""
        from trueup.checks.definition import CATEGORIES, SEVERITIES
        from trueup.state.findings import STATES

        for option, given, known in (("category", self.category, CATEGORIES), ("state", self.state, STATES),
                                     ("severity", self.severity, SEVERITIES)):  # fmt: skip
            for value in given:
                if value not in known:
                    near = difflib.get_close_matches(value, known, n=1)
                    hint = f" (did you mean {near[0]}?)" if near else ""
                    return f"no {option} {value!r}{hint}; the {option} values are {', '.join(known)}"
        return None

    def columns(self) -> dict[str, tuple[str, ...]]:
        return {
            "category": self.category,
            "check": self.check,
            "handoff": self.handoff,
            "severity": self.severity,
        }


def select(
    store: Findings, filters: Filters, limit: int | None = None, offset: int = 0, order: str = "queue",
    preview: bool = False,
) -> list[Any]:  # fmt: skip
    """The findings that pass the filters, in queue order by default (newest first, then costliest,
    then most severe: what to look at this morning); the state store filters, orders and pages.
    With `preview`, each finding's list of records is left unread: pass them to `public(f, preview=True)`."""
    return store.findings(
        filters.state, systems=filters.system, people=filters.owner, order=order, offset=offset, limit=limit,
        preview=preview, **filters.columns(),
    )  # fmt: skip


@dataclass(frozen=True)
class Tally:
    """The findings that pass the filters, unpaged: how many, and their money by what it is."""

    findings: int
    money: dict[str, Decimal]  # by stake (`unbilled`, ... as the checks declare; `other`)


def tally(store: Findings, filters: Filters, stakes: dict[str, str | None]) -> Tally:
    """How many findings pass the filters (`select` unpaged would return this many) and their money
    by stake, each check's (`stakes`: check name -> stake) or `other`."""
    per_check = store.tally(filters.state, systems=filters.system, people=filters.owner, **filters.columns())
    money: dict[str, Decimal] = {}
    for check, (_, amount) in per_check.items():
        if amount:
            stake = stakes.get(check) or "other"
            money[stake] = money.get(stake, Decimal()) + amount
    return Tally(sum(n for n, _ in per_check.values()), money)


def public(f: Finding | Any, preview: bool = False) -> dict[str, Any]:
    """A finding in the public shape; with `preview`, `entities` holds the first few records it is
    about (`entity_count` says how many there are) instead of all of them. `f` is a row of the
    store's queries or a Finding."""
    return publics([f], preview)[0]


def publics(found: Sequence[Any], preview: bool = False) -> list[dict[str, Any]]:
    """Findings in the public shape (see `public`). A row of the store's queries is read as one dict,
    by the names of its query's columns, read once: a row's attributes cost a microsecond each (7 s
    for the 167,166 findings of the `large` demo), and so do its names (0.5 s)."""
    if found and isinstance(found[0], Row):
        names = found[0]._fields
        return [_public(dict(zip(names, f, strict=True)).__getitem__, preview) for f in found]
    return [_public(partial(getattr, f), preview) for f in found]


def _public(get: Callable[[str], Any], preview: bool) -> dict[str, Any]:
    money, suppressed = get("money"), get("suppressed_until")
    return {
        "id": get("id"),
        "check": get("check"),
        "category": get("category"),
        "severity": get("severity"),
        "state": get("state"),
        "title": get("title"),
        "detail": get("detail"),
        "owner": get("owner"),
        "assignee": get("assignee"),
        "handoff": get("handoff"),
        "field": get("field"),
        "money": None if money is None else float(money),
        "minutes": get("minutes"),
        "cause": get("cause"),
        "cause_reason": get("cause_reason"),
        "entities": (get("entities_preview") or []) if preview else get("entities"),
        "entity_count": get("entity_count"),
        "values": get("values"),
        "first_seen": get("first_seen").isoformat(),
        "last_seen": get("last_seen").isoformat(),
        "first_run": get("first_run"),
        "last_run": get("last_run"),
        "suppressed_until": suppressed.isoformat() if suppressed else None,
        "fingerprint": get("fingerprint"),
    }


def detail(store: Findings, root: Path, finding_id: int) -> dict[str, Any]:
    """One finding in the public shape, with its check's rule and its history."""
    from trueup.checks.registry import find

    found = store.findings_by_id([finding_id])
    if not found:
        raise FindingError(f"no finding {finding_id}; `trueup findings` lists them")
    check = find(root, found[0].check)
    history = [event(e) for e in store.finding_events(finding_id)]
    return {**public(found[0]), "rule": check.description if check else None, "history": history}


def parse_until(text: str | None, now: datetime | None = None) -> datetime | None:
    """When a suppression ends: a duration from now (30d, 2w) or a date (2026-12-31)."""
    from trueup.config.models import parse_duration

    if text is None:
        return None
    try:
        return (now or datetime.now(UTC)) + parse_duration(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TrueupError(f"until {text!r}: write a date (2026-12-31) or a duration (30d, 2w)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def event(e: FindingEvent) -> dict[str, Any]:
    return {
        "at": e.at.isoformat(),
        "actor": e.actor,
        "action": e.action,
        "from_state": e.from_state,
        "to_state": e.to_state,
        "reason": e.reason,
        "run_id": e.run_id,
        "detail": e.detail,
    }
