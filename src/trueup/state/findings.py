"""The findings store: each finding's workflow state, kept across runs, and its audit trail.

A run hands over everything its checks found (:meth:`Findings.sync`): a new fingerprint opens a
finding; one found again keeps whatever a person made of it (acknowledged, assigned, suppressed),
except that a resolved one comes back as `reopened` and an expired suppression ends; one no longer
found is `auto_resolved`. People move findings with :meth:`Findings.act`. Every change of state is
a row in `finding_events`, which is only ever appended to.
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    Numeric,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from trueup.errors import TrueupError
from trueup.state.models import CheckRun, Finding, FindingEvent, UtcDateTime
from trueup.state.webhooks import emit, finding_payload, subscribed

STATES = ("open", "acknowledged", "resolved", "auto_resolved", "suppressed", "reopened")
ACTIVE = ("open", "acknowledged", "suppressed", "reopened")  # what a run still expects to find
GONE = ("resolved", "auto_resolved")
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
PREVIEW = 10  # records a page of the queue shows of each finding (all of them: one finding's detail)
RUN_ACTOR = "trueup"


class JSONText(NamedTuple):
    """A value already written as JSON, stored as it is (see `Found`)."""

    text: str


# How Python separates JSON's items and keys, and how DuckDB does (a `Found` row's JSON text).
JSON_SEPARATORS = ((", ", ": "), (",", ":"))


def json_text(value: Any) -> str:
    """A value as the store's JSON columns keep it (the engine's `json_serializer`)."""
    return value.text if isinstance(value, JSONText) else json.dumps(value)


# A person's action: the states it may start from and the state it leads to (None: unchanged).
ACTIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "acknowledge": (("open", "reopened"), "acknowledged"),
    "assign": (ACTIVE, None),
    "resolve": (("open", "acknowledged", "reopened", "suppressed"), "resolved"),
    "suppress": (("open", "acknowledged", "reopened"), "suppressed"),
    "reopen": (("resolved", "auto_resolved", "suppressed", "acknowledged"), "reopened"),
}
CONTENT = ("check", "category", "severity", "title", "detail", "owner", "handoff", "field", "money",
           "minutes", "cause", "cause_reason", "entities", "values")  # fmt: skip


FINDINGS = cast(Table, Finding.__table__)
EVENTS = cast(Table, FindingEvent.__table__)
CHECK_RUNS = cast(Table, CheckRun.__table__)
# A finding as people read it: an open one was last seen by the last run of its check.
_SEEN = FINDINGS.outerjoin(CHECK_RUNS, CHECK_RUNS.c.check == FINDINGS.c.check)


class ActiveRow(NamedTuple):
    """A finding as the debt ledger reads it (`Findings.active_rows`)."""

    id: int
    check: str
    category: str
    severity: str
    state: str
    title: str
    owner: str | None
    handoff: str | None
    field: str | None
    money: Decimal | None
    minutes: float | None
    cause: str | None
    entities: list[dict[str, Any]]
    first_seen: datetime
    suppressed_until: datetime | None


def _records(value: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return json.loads(value) if isinstance(value, str) else (value or [])


def _filters(
    states: Iterable[str] | None, systems: Iterable[str], people: Iterable[str], columns: dict[str, Iterable[str]],
) -> list[Any]:  # fmt: skip
    """The conditions of `Findings.findings()` (see there), for a query over FINDINGS."""
    where: list[Any] = []
    if states:
        where.append(Finding.state.in_(list(states)))
    for name, values in columns.items():
        if values:
            where.append(getattr(Finding, name).in_(list(values)))
    systems = list(systems)
    if systems:  # the records' systems, as the JSON of `entities` spells them
        text = cast(Any, FINDINGS.c.entities).cast(String)
        spelt = [json.dumps({"system": x}, separators=s)[1:-1] for x in systems for s in JSON_SEPARATORS]
        where.append(or_(*(text.like(f"%{pattern}%") for pattern in spelt)))
    people = list(people)
    if people:
        where.append(or_(Finding.owner.in_(people), Finding.assignee.in_(people)))
    return where


def _columns(entities: bool = True) -> list[Any]:
    """The findings' columns, `last_seen` and `last_run` as people read them (see `_SEEN`); every
    record (`entities`) or the first few (`entities_preview`), not both: each is JSON to decode."""
    open_now = and_(FINDINGS.c.state.in_(ACTIVE), CHECK_RUNS.c.run_id.is_not(None))
    out: list[Any] = []
    for c in FINDINGS.c:
        if c.name == "last_seen":
            out.append(
                type_coerce(case((open_now, CHECK_RUNS.c.seen_at), else_=c), UtcDateTime()).label(c.name)
            )
        elif c.name == "last_run":
            out.append(case((open_now, CHECK_RUNS.c.run_id), else_=c).label(c.name))
        elif c.name != ("entities_preview" if entities else "entities"):
            out.append(c)
    return out


class FindingError(TrueupError):
    """An action that cannot apply: an unknown finding, or a state it cannot move from."""


@dataclass
class SyncResult:
    opened: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    auto_resolved: list[int] = field(default_factory=list)
    changed: int = 0
    unchanged: int = 0
    new_by_severity: dict[str, int] = field(default_factory=dict)  # opened + reopened

    @property
    def counts(self) -> dict[str, int]:
        return {
            "opened": len(self.opened),
            "reopened": len(self.reopened),
            "auto_resolved": len(self.auto_resolved),
            "changed": self.changed,
            "unchanged": self.unchanged,
        }


def digest(row: dict[str, Any]) -> str:
    """What the check said about a finding, so that a changed amount or title is noticed."""
    text = json.dumps([row.get(k) for k in CONTENT], sort_keys=True, default=str)
    return hashlib.md5(text.encode()).hexdigest()


def summary(pairs: Iterable[tuple[str, str]]) -> str:
    """One check's findings in one value: its fingerprints, each with its digest, in order. (The check
    step computes the same in the warehouse: md5 of the fingerprint-digest strings in order.)"""
    return hashlib.md5("".join(fp + dig for fp, dig in sorted(pairs)).encode()).hexdigest()


@dataclass
class Found:
    """What a run found, check by check: each check's summary (`summary`) and number of findings;
    each finding's digest of what its check said, read for the checks asked; and whole rows (the
    columns of `CONTENT`, `fingerprint`, `digest`, and what a page of the queue shows of the records:
    `entity_count` and `entities_preview`), read for the findings asked.

    A row's `entities`, `values` and `entities_preview` are JSON text, stored as they are: the check
    step has DuckDB write them, and parsing 115,417 findings' records and values to write them again
    took 5 s of a first run on `large`. Its layout may differ from Python's (`{"system":"crm"}`);
    what it says does not."""

    summaries: dict[str, tuple[str, int]]  # check -> (summary, findings)
    digests_of: Callable[[list[str]], dict[str, str]]  # these checks' fingerprints -> digests
    fetch: Callable[[list[str]], Iterable[dict[str, Any]]]

    @property
    def count(self) -> int:
        return sum(n for _, n in self.summaries.values())

    @classmethod
    def of(cls, rows: Iterable[dict[str, Any]]) -> Found:
        """From whole rows as Python values (a digest is computed for those without one)."""
        full = {r["fingerprint"]: {**r, "digest": r.get("digest") or digest(r)} for r in rows}
        by_check: dict[str, dict[str, str]] = {}
        for fp, r in full.items():
            by_check.setdefault(r["check"], {})[fp] = r["digest"]
        return cls(
            {check: (summary(d.items()), len(d)) for check, d in by_check.items()},
            lambda checks: {fp: dig for c in checks for fp, dig in by_check.get(c, {}).items()},
            lambda fps: [_encoded(full[fp]) for fp in fps],
        )


ENCODED = ("entities", "values", "entities_preview")  # a `Found` row's columns in JSON text


def _encoded(row: dict[str, Any]) -> dict[str, Any]:
    """A row of Python values as `Found.fetch` gives it."""
    entities = row.get("entities") or []
    values = row.get("values")
    return {**row, "entities": json.dumps(entities), "values": None if values is None else json.dumps(values),
            "entity_count": len(entities), "entities_preview": json.dumps(entities[:PREVIEW])}  # fmt: skip


class Findings:
    """The findings workflow; mixed into the state store."""

    engine: Engine
    sessions: sessionmaker[Session]

    def sync(
        self, run_id: str, rows: Iterable[dict[str, Any]] | Found, now: datetime | None = None,
        checks: Iterable[str] | None = None,
    ) -> SyncResult:  # fmt: skip
        """Bring the store in line with what a run found; one transaction, in bulk. With `checks`
        (a run of only some checks), only those checks' findings can be gone.

        A check whose findings are what its last run left them (the same summary of what it found,
        none of its findings touched since, no suppression of it expired) costs one row. For the
        others, every finding's digest is compared, and whole rows are read (`Found.fetch`) only for
        findings that are new, changed or come back."""
        now = now or datetime.now(UTC)
        seen = rows if isinstance(rows, Found) else Found.of(rows)
        asked = None if checks is None else set(checks)
        result = SyncResult()
        with self.sessions() as s, s.begin():
            f = FINDINGS.c
            conn = s.connection()
            before = {row.check: row for row in conn.execute(select(CHECK_RUNS))}
            ran = asked if asked is not None else set(seen.summaries)
            marks = _marks(conn, sorted(ran))
            expired = set(  # through the index of suppressed findings (a DISTINCT would walk that of checks)
                conn.scalars(select(f.check).where(f.state == "suppressed", f.suppressed_until <= now))
            )
            settled = {
                c for c in seen.summaries
                if c in ran and c in before and c not in expired
                and (before[c].summary, before[c].mark) == (seen.summaries[c][0], _mark_text(marks.get(c, (0, 0))))
            }  # fmt: skip
            result.unchanged = sum(seen.summaries[c][1] for c in settled)
            digests = seen.digests_of([c for c in seen.summaries if c not in settled])
            # The stored findings of the checks not settled (with every check run, of checks no longer
            # run too), asked for by name: a NOT IN, or an empty IN, read every finding.
            unsettled = sorted((_stored_checks(conn) if asked is None else asked) - settled)
            known: dict[str, Any] = {}
            if unsettled:  # (through the connection: the ORM's own handling of rows doubles the time)
                stored = select(f.id, f.fingerprint, f.state, f.suppressed_until, f.digest, f.check)
                known = {row.fingerprint: row for row in conn.execute(stored.where(f.check.in_(unsettled)))}
            new = [fp for fp in digests if fp not in known]
            moved = [
                fp for fp, dig in digests.items()
                if fp in known and (known[fp].digest != dig or known[fp].state in (*GONE, "suppressed"))
            ]  # fmt: skip
            found = {r["fingerprint"]: r for r in seen.fetch(new + moved)}
            if new:
                bulk_insert(
                    s.connection(),
                    FINDINGS,
                    [
                        {**_content(found[fp]), "fingerprint": fp, "digest": found[fp]["digest"], "state": "open",
                         "first_seen": now, "last_seen": now, "first_run": run_id, "last_run": run_id, "version": 1}
                        for fp in new
                    ],
                    encoded=ENCODED,
                )  # fmt: skip
                ids = {  # the ids given to this run's new findings
                    fp: fid
                    for fp, fid in s.execute(
                        select(Finding.fingerprint, Finding.id).where(Finding.first_run == run_id)
                    )
                }
                result.opened = [ids[fp] for fp in new]
                events = [_event(ids[fp], now, "opened", None, "open", run_id) for fp in new]
                for fp in new:
                    sev = found[fp]["severity"]
                    result.new_by_severity[sev] = result.new_by_severity.get(sev, 0) + 1
            else:
                events = []
            changes: list[dict[str, Any]] = []
            result.unchanged += len(digests) - len(new) - len(moved)
            for fp in moved:
                row = found[fp]
                fid, _fp, state, until, dig, check = known[fp]
                to_state = state
                if state in GONE:
                    to_state = "reopened"
                    result.reopened.append(fid)
                    events.append(_event(fid, now, "reopened", state, to_state, run_id, "found again"))
                elif state == "suppressed" and until is not None and _aware(until) <= now:
                    to_state = "reopened"
                    result.reopened.append(fid)
                    events.append(
                        _event(fid, now, "reopened", state, to_state, run_id, "suppression expired")
                    )
                if to_state != state:
                    sev = row["severity"]
                    result.new_by_severity[sev] = result.new_by_severity.get(sev, 0) + 1
                if to_state != state or row["digest"] != dig:
                    until = None if to_state != state else until
                    content = _content(row)
                    for k in ENCODED:  # JSON text, written as it is by the engine's serializer
                        if content[k] is not None:
                            content[k] = JSONText(content[k])
                    changes.append({"_id": fid, "_check": check, "state": to_state, **content,
                                    "digest": row["digest"], "suppressed_until": until})  # fmt: skip
                    result.changed += row["digest"] != dig
                else:
                    result.unchanged += 1
            if changes:  # one executemany for every finding whose state or content moved
                columns = [k for k in changes[0] if k not in ("_id", "_check")]
                statement = (
                    update(FINDINGS)
                    .where(FINDINGS.c.id == bindparam("_id"))
                    .values(version=FINDINGS.c.version + 1, **{k: bindparam("b_" + k) for k in columns})
                )
                s.connection().execute(
                    statement, [{"_id": c["_id"], **{"b_" + k: c[k] for k in columns}} for c in changes]
                )
            vanished = [
                (k.id, k.state, k.check) for fp, k in known.items() if fp not in digests and k.state in ACTIVE
            ]
            for fid, state, _check in vanished:
                events.append(
                    _event(fid, now, "auto_resolved", state, "auto_resolved", run_id, "no longer found")
                )
            result.auto_resolved = [fid for fid, *_ in vanished]
            for check in sorted({check for *_, check in vanished}):  # last seen by their check's last run
                gone = [fid for fid, _state, c in vanished if c == check]
                last = before.get(check)
                seen_last = {"last_seen": last.seen_at, "last_run": last.run_id} if last is not None else {}
                for chunk in _chunks(gone, 10_000):
                    s.execute(
                        update(Finding).where(Finding.id.in_(chunk))
                        .values(state="auto_resolved", suppressed_until=None, version=Finding.version + 1,
                                **seen_last)
                    )  # fmt: skip
            # This run saw again every finding of the checks it ran: one row per check, not per finding,
            # with what the check found and the mark its findings bear after this run's own changes (a
            # person's action committed meanwhile is not in it, so the next run looks again).
            added = Counter(found[fp]["check"] for fp in new)  # each at version 1
            bumped = Counter([c["_check"] for c in changes] + [check for *_, check in vanished])  # each +1
            for c in ran:
                count, versions = marks.get(c, (0, 0))
                marks[c] = (count + added[c], versions + added[c] + bumped[c])
            if ran:
                s.execute(delete(CHECK_RUNS).where(CHECK_RUNS.c.check.in_(sorted(ran))))
                s.execute(
                    insert(CHECK_RUNS),
                    [
                        {"check": c, "run_id": run_id, "seen_at": now, "mark": _mark_text(marks[c]),
                         "summary": seen.summaries[c][0] if c in seen.summaries else None}
                        for c in sorted(ran)
                    ],
                )  # fmt: skip
            if events:
                bulk_insert(s.connection(), EVENTS, events)
            _announce(s, "finding.opened", result.opened + result.reopened)
            _announce(s, "finding.resolved", result.auto_resolved)
            # Fresh statistics when many findings moved, or SQLite sorts the whole queue for every page
            # instead of reading it in order.
            if len(new) + len(changes) + len(vanished) > 1000 and s.get_bind().dialect.name == "sqlite":
                s.execute(text("ANALYZE findings"))
        return result

    def act(
        self,
        ids: list[int],
        action: str,
        actor: str,
        reason: str | None = None,
        assignee: str | None = None,
        until: datetime | None = None,
    ) -> list[Finding]:
        """A person acknowledges, assigns, resolves, suppresses or reopens findings."""
        if action not in ACTIONS:
            raise FindingError(f"unknown action {action}; the actions are: {', '.join(ACTIONS)}")
        if action == "suppress" and not reason:
            raise FindingError("say why the finding is suppressed (--reason)")
        allowed, to_state = ACTIONS[action]
        now = datetime.now(UTC)
        with self.sessions() as s, s.begin():
            found = {f.id: f for f in s.scalars(select(Finding).where(Finding.id.in_(ids)).with_for_update())}
            missing = [i for i in ids if i not in found]
            if missing:
                raise FindingError(f"no finding {', '.join(map(str, missing))}; `trueup findings` lists them")
            for fid in ids:
                finding = found[fid]
                if finding.state not in allowed:
                    raise FindingError(
                        f"finding {fid} is {finding.state.replace('_', ' ')}; {action} applies to findings that are"
                        f" {', '.join(a.replace('_', ' ') for a in allowed)}"
                    )
                before = finding.state
                detail: dict[str, Any] = {}
                if action == "assign":
                    detail = {"assignee": assignee, "previous": finding.assignee}
                    finding.assignee = assignee
                if action == "suppress":
                    finding.suppressed_until = until
                    detail = {"until": until.isoformat() if until else None}
                elif to_state:
                    finding.suppressed_until = None
                if before in ACTIVE and to_state in GONE:  # it stops being open: keep when it was seen
                    sighting = s.get(CheckRun, finding.check)
                    if sighting is not None:
                        finding.last_seen, finding.last_run = sighting.seen_at, sighting.run_id
                finding.state = to_state or finding.state
                finding.version += 1
                s.add(
                    FindingEvent(
                        **_event(fid, now, action, before, finding.state, None, reason, actor, detail)
                    )
                )
            if action == "resolve":
                s.flush()
                _announce(s, "finding.resolved", ids)
        return self.findings_by_id(ids)

    def findings_by_id(self, ids: list[int]) -> list[Any]:
        """These findings, in this order (those that exist), as light rows with the ORM's names."""
        with self.engine.connect() as conn:
            query = select(*_columns()).select_from(_SEEN).where(FINDINGS.c.id.in_(ids))
            rows = {f.id: f for f in conn.execute(query)}
        return [rows[i] for i in ids if i in rows]

    def findings(
        self,
        states: Iterable[str] | None = None,
        *,
        systems: Iterable[str] = (),
        people: Iterable[str] = (),
        order: str | None = None,
        offset: int = 0,
        limit: int | None = None,
        preview: bool = False,
        **columns: Iterable[str],
    ) -> list[Any]:
        """Findings in these states (all when none is given) whose columns hold one of the values
        given for them (`category=["lifecycle_mismatch"]`), about a record of one of `systems`,
        owned by or assigned to one of `people`; in `order`: `queue` (newest, then costliest, then
        most severe first), `money` (costliest first) or `age` (oldest first); `offset`/`limit`
        page through them. The database does all of it. Light rows with the ORM's names; with
        `preview`, without `entities`, each finding's whole list of records (its `entity_count` and
        `entities_preview` say enough for a page of the queue)."""
        with self.engine.connect() as s:
            query: Any = select(*_columns(entities=not preview)).select_from(_SEEN)
            query = query.where(*_filters(states, systems, people, columns))
            if order:
                rank = Finding.severity_rank
                money = Finding.money.desc().nulls_last()  # money at stake is never negative
                keys: dict[str, tuple[Any, ...]] = {
                    "queue": (Finding.first_seen.desc(), money, rank.desc()),
                    "money": (money, rank.desc(), Finding.first_seen.desc()),
                    "age": (Finding.first_seen, money, rank.desc()),
                }
                if order not in keys:
                    raise FindingError(f"order {order!r}: write one of {', '.join(keys)}")
                query = query.order_by(*keys[order], Finding.id)
            if offset:
                query = query.offset(offset)
            if limit is not None:
                query = query.limit(limit)
            return list(s.execute(query))

    def tally(
        self, states: Iterable[str] | None = None, *, systems: Iterable[str] = (), people: Iterable[str] = (),
        **columns: Iterable[str],
    ) -> dict[str, tuple[int, Decimal]]:  # fmt: skip
        """Per check, how many findings `findings()` with these filters returns unpaged, and their money."""
        with self.engine.connect() as s:
            money = func.coalesce(func.sum(FINDINGS.c.money), 0)
            query = select(FINDINGS.c.check, func.count(), money).select_from(FINDINGS)
            query = query.where(*_filters(states, systems, people, columns)).group_by(FINDINGS.c.check)
            return {check: (int(n), Decimal(str(m))) for check, n, m in s.execute(query)}

    def active_rows(self) -> list[ActiveRow]:
        """Every finding a run still expects, as light rows (no ORM objects): what the ledger adds up."""
        columns = [
            type_coerce(FINDINGS.c[n], String).label(n) if n == "entities" else FINDINGS.c[n]
            for n in ActiveRow._fields
        ]
        with self.sessions() as s:  # (all at once: a row at a time cost 0.3 s of 2.6 s for 167,166)
            rows = s.execute(select(*columns).where(FINDINGS.c.state.in_(ACTIVE))).all()
        # The records' JSON decoded here: SQLAlchemy's JSON type took 2.2 s for the 167,166 findings of
        # the `large` demo, json.loads 0.6 s. (PostgreSQL's driver hands JSON over decoded.)
        at = ActiveRow._fields.index("entities")
        return [ActiveRow._make((*r[:at], _records(r[at]), *r[at + 1 :])) for r in rows]

    def open_counts(self) -> dict[str, int]:
        """Findings still open, per category."""
        with self.sessions() as s:
            query = (
                select(FINDINGS.c.category, func.count())
                .where(FINDINGS.c.state.in_(ACTIVE))
                .group_by(FINDINGS.c.category)
            )
            return {category: int(n) for category, n in s.execute(query)}

    def finding_events(self, finding_id: int | None = None) -> list[Any]:
        """The audit trail, oldest first, as light rows with the ORM's names."""
        with self.engine.connect() as conn:
            query = select(EVENTS).order_by(EVENTS.c.id)
            if finding_id is not None:
                query = query.where(EVENTS.c.finding_id == finding_id)
            return list(conn.execute(query))


def _announce(s: Session, event: str, ids: list[int]) -> None:
    """Queue the event for these findings, when anybody subscribed to it."""
    if not ids or not subscribed(s, event):
        return
    for chunk in _chunks(ids, 10_000):
        emit(s, event, [finding_payload(f) for f in s.scalars(select(Finding).where(Finding.id.in_(chunk)))])


def _mark_text(mark: tuple[int, int]) -> str:
    return f"{mark[0]}:{mark[1]}"


# The checks that have findings in the store, from the index of checks, one step per check (a
# DISTINCT would read the index entry of every finding).
STORED_CHECKS = text(
    'WITH RECURSIVE c(name) AS (SELECT min("check") FROM findings UNION ALL'
    ' SELECT (SELECT min("check") FROM findings WHERE "check" > c.name) FROM c WHERE c.name IS NOT NULL)'
    " SELECT name FROM c WHERE name IS NOT NULL"
)


def _stored_checks(conn: Connection) -> set[str]:
    return set(conn.scalars(STORED_CHECKS))


def _marks(conn: Connection, checks: list[str]) -> dict[str, tuple[int, int]]:
    """Each check's findings in the store, marked so that any change shows: how many there are and
    the sum of their versions (a run or a person changing a finding adds one to its version)."""
    if not checks:
        return {}
    f = FINDINGS.c
    query = select(f.check, func.count(), func.sum(f.version)).where(f.check.in_(checks)).group_by(f.check)
    return {check: (int(count), int(versions)) for check, count, versions in conn.execute(query)}


def bulk_insert(
    conn: Connection, table: Table, rows: list[dict[str, Any]], encoded: Collection[str] = ()
) -> None:
    """Many rows in one go: PostgreSQL's COPY (twenty times faster than INSERTs through psycopg),
    SQLite's own executemany with the values converted once per distinct value (SQLAlchemy's
    per-row typing takes most of the time otherwise; its ORM bulk path is a hundred times slower).
    The JSON columns named `encoded` hold JSON text already."""
    names = list(rows[0])
    quoted = ", ".join('"' + n + '"' for n in names)
    dialect = conn.dialect.name
    convert: list[tuple[int, Callable[[Any], Any]]] = []  # the columns whose values are converted
    for i, n in enumerate(names):
        kind = getattr(table.c[n].type, "impl", table.c[n].type)  # a TypeDecorator's own type
        if isinstance(kind, JSON) and n not in encoded:
            convert.append((i, _json))
        elif dialect == "sqlite" and isinstance(kind, DateTime | Numeric):
            # a run stamps every row with one time
            convert.append((i, functools.lru_cache(maxsize=4096)(_sqlite)))
    pick = operator.itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)

    def values() -> Iterator[list[Any]]:
        for row in rows:
            value = list(pick(row))
            for i, converted in convert:
                value[i] = converted(value[i])
            yield value

    if dialect == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
            for row in values():
                copy.write_row(row)
    elif dialect == "sqlite":
        marks = ", ".join("?" for _ in names)
        sqlite = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        # A larger page cache while the rows go in (a KiB a row, at most 256 MiB), for the pages of
        # the indexes they land in all over (the fingerprints'): 115,417 findings of `large` went in
        # in 1.8 s instead of 2.7 with SQLite's 2 MiB. Set back after: the API keeps forty connections.
        [(cache,)] = sqlite.execute("PRAGMA cache_size").fetchall()  # negative: in KiB
        sqlite.execute(f"PRAGMA cache_size = {min(cache, -min(len(rows), 1 << 18))}")
        try:
            sqlite.executemany(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})', values())
        finally:
            sqlite.execute(f"PRAGMA cache_size = {cache}")
    else:
        conn.execute(insert(table), rows)


def _json(value: Any) -> str | None:
    return None if value is None else json_text(value)


def _sqlite(value: Any) -> Any:
    """A value as SQLAlchemy stores it in SQLite: decimals as text, times in UTC in its own format."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _content(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row.get(k) for k in CONTENT}
    out["entity_count"], out["entities_preview"] = row["entity_count"], row["entities_preview"]
    out["severity_rank"] = SEVERITY_RANK.get(str(out["severity"]), 0)
    if out["money"] is not None and not isinstance(out["money"], Decimal):
        out["money"] = Decimal(str(out["money"]))
    return out


def _event(
    finding_id: int, at: datetime, action: str, from_state: str | None, to_state: str, run_id: str | None,
    reason: str | None = None, actor: str = RUN_ACTOR, detail: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {"finding_id": finding_id, "at": at, "actor": actor, "action": action, "from_state": from_state,
            "to_state": to_state, "reason": reason, "run_id": run_id, "detail": detail or {}}  # fmt: skip


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive times


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
