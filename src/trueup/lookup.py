"""Customer 360 over the warehouse: find a customer, explain their golden record, and list every
interaction with them across systems in time order. Read-only; used by the CLI and later the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from trueup.errors import TrueupError
from trueup.mapping.normalize import SQL_MACROS, phone_e164
from trueup.model import ENTITIES


class NotFound(TrueupError):
    """No customer matched, or several did and the question must be narrowed."""

    def __init__(self, message: str, candidates: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.candidates = candidates or []


def find_customers(con: duckdb.DuckDBPyConnection, text: str, region: str = "US") -> list[dict[str, Any]]:
    """Customers matching a canonical id, any system's id, an email, a phone or part of a name."""
    for macro in SQL_MACROS:
        con.execute(macro)
    needle = text.strip()
    phone = phone_e164(needle, region) if any(ch.isdigit() for ch in needle) else None
    rows = con.execute(
        """
        SELECT DISTINCT g.canonical_id, g.name, g.email, g.phone, g.systems FROM customer g
        JOIN clusters c ON c.entity = 'customer' AND c.canonical_id = g.canonical_id
        JOIN staged_customer s ON s.system = c.system AND s.source_id = c.source_id
        WHERE g.canonical_id = $1 OR s.source_id = $1 OR s.email_norm = lower($1)
           OR s.phone_e164 = $2 OR s.name_key LIKE '%' || trueup_name_key($1) || '%'
        ORDER BY g.name, g.canonical_id LIMIT 50
        """,
        [needle, phone],
    ).fetchall()
    return [dict(zip(("canonical_id", "name", "email", "phone", "systems"), r, strict=True)) for r in rows]


def one_customer(con: duckdb.DuckDBPyConnection, text: str, region: str = "US") -> str:
    found = find_customers(con, text, region)
    if not found:
        raise NotFound(
            f"no customer matches {text!r}: try an id from any system, an email, a phone or a name"
        )
    if len(found) > 1:
        exact = [c for c in found if c["canonical_id"] == text.strip()]
        if len(exact) == 1:
            return str(exact[0]["canonical_id"])
        raise NotFound(f"{len(found)} customers match {text!r}; give one of their ids", found)
    return str(found[0]["canonical_id"])


@dataclass
class Explanation:
    canonical_id: str
    fields: list[dict[str, Any]] = field(default_factory=list)  # field, value, system, source_id, loaded_at
    records: list[dict[str, Any]] = field(default_factory=list)  # every linked source record
    links: list[dict[str, Any]] = field(default_factory=list)  # why they were linked

    def as_dict(self) -> dict[str, Any]:
        return {
            "canonical_id": self.canonical_id,
            "fields": self.fields,
            "records": self.records,
            "links": self.links,
        }


# What a customer's explanation shows of each linked source record, with its file and line.
SOURCE_COLUMNS = (
    "system",
    "source_id",
    "name",
    "company",
    "email",
    "phone",
    "address",
    "city",
    "postal_code",
)


def explain_customer(con: duckdb.DuckDBPyConnection, canonical_id: str) -> Explanation:
    out = Explanation(canonical_id)
    golden = con.execute("SELECT * FROM customer WHERE canonical_id = ?", [canonical_id])
    names = [d[0] for d in golden.description or []]
    row = golden.fetchone()
    if row is None:
        raise NotFound(f"no customer {canonical_id!r}")
    values = dict(zip(names, row, strict=True))
    sources = {
        f: (system, source_id, loaded_at)
        for f, system, source_id, loaded_at in con.execute(
            "SELECT field, system, source_id, loaded_at FROM provenance WHERE entity = 'customer' AND canonical_id = ?",
            [canonical_id],
        ).fetchall()
    }
    for name in ENTITIES["customer"].fields:
        system, source_id, loaded_at = sources.get(name, (None, None, None))
        out.fields.append(
            {
                "field": name,
                "value": values.get(name),
                "system": system,
                "source_id": source_id,
                "loaded_at": loaded_at,
            }
        )
    # The members first, then their rows by id: a lookup, where a join would read whole tables.
    members = set(
        con.execute(
            "SELECT system, source_id FROM clusters WHERE entity = 'customer' AND canonical_id = ?",
            [canonical_id],
        ).fetchall()
    )
    ids = sorted({source_id for _, source_id in members})
    if not ids:
        return out
    marks = ", ".join("?" for _ in ids)
    cursor = con.execute(
        f"SELECT {', '.join('s.' + c for c in SOURCE_COLUMNS)}, s._source AS file, s._row AS line"
        f" FROM staged_customer s WHERE s.source_id IN ({marks}) ORDER BY s.system, s.source_id",
        ids,
    )
    columns = [d[0] for d in cursor.description or []]
    out.records = [
        r for r in (dict(zip(columns, row, strict=True)) for row in cursor.fetchall())
        if (r["system"], r["source_id"]) in members
    ]  # fmt: skip
    cursor = con.execute(
        f"""
        SELECT l.entity, l.system_a, l.source_a, l.system_b, l.source_b, l.rule, l.probability, l.evidence
        FROM links l WHERE l.source_a IN ({marks}) ORDER BY ALL
        """,
        ids,
    )  # the entity is kept out of the filter: with it, DuckDB reads whole row groups instead of the ids
    columns = [d[0] for d in cursor.description or []]
    out.links = [
        {k: v for k, v in link.items() if k != "entity"}
        for link in (dict(zip(columns, row, strict=True)) for row in cursor.fetchall())
        if link["entity"] == "customer" and (link["system_a"], link["source_a"]) in members
    ]  # fmt: skip
    return out


# Every dated thing that happens to a customer, from the golden tables: (entity, time column,
# kind, what to say about it).
EVENTS = (
    ("interaction", "occurred_at", "kind", "subject"),
    ("deal", "closed_at", "'deal ' || coalesce(state, status, '')", "name || ' (' || coalesce(printf('%.2f', amount), '') || ')'"),
    ("job", "scheduled_at", "'job scheduled'", "'#' || number || ' ' || coalesce(title, '')"),
    ("job", "completed_at", "'job completed'", "'#' || number || ' ' || coalesce(title, '') || ' ' || coalesce(printf('%.2f', amount), '')"),
    ("invoice", "issued_at", "'invoice issued'", "number || ' ' || coalesce(printf('%.2f', amount), '') || ' ' || coalesce(state, '')"),
    ("payment", "paid_at", "'payment'", "coalesce(printf('%.2f', amount), '') || ' by ' || coalesce(method, '?')"),
)  # fmt: skip


def _events(since: datetime | None) -> tuple[str, str]:
    """Every event of a customer ($1) as one query, and the filter for a start ($2)."""
    parts = [
        f"SELECT {time} AS occurred_at, {kind} AS kind, {summary} AS summary, '{entity}' AS entity, canonical_id, systems"
        f" FROM {entity} WHERE customer = $1 AND {time} IS NOT NULL"
        for entity, time, kind, summary in EVENTS
    ]
    return " UNION ALL ".join(parts), " WHERE occurred_at >= $2" if since else ""


def timeline(
    con: duckdb.DuckDBPyConnection, canonical_id: str, since: datetime | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Everything that happened with a customer, oldest first, each with the systems it is in;
    with `limit`, only the newest that many (still oldest first)."""
    events, where = _events(since)
    newest = (
        f" ORDER BY occurred_at DESC, entity DESC, canonical_id DESC, kind DESC LIMIT {int(limit)}"
        if limit
        else ""
    )
    cursor = con.execute(
        f"SELECT * FROM (SELECT * FROM ({events}){where}{newest}) ORDER BY occurred_at, entity, canonical_id, kind",
        [canonical_id, since] if since else [canonical_id],
    )
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]


def parse_since(text: str, now: datetime) -> datetime:
    """`90d`, `12w`, `6m` (months of 30 days), or a date."""
    text = text.strip().lower()
    units = {"d": 1, "w": 7, "m": 30, "y": 365}
    if text[:-1].isdigit() and text[-1:] in units:
        return now - timedelta(days=int(text[:-1]) * units[text[-1]])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TrueupError(
            f"--since {text!r}: write a span such as 90d, 12w, 6m or a date such as 2026-09-01"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def link_candidates(con: duckdb.DuckDBPyConnection, entity: str, limit: int) -> list[dict[str, Any]]:
    """Pairs waiting for a person, most likely first, each record with what it says."""
    if entity != "customer":
        return []
    columns = ("system", "source_id", "name", "email", "phone", "address", "postal_code")

    def record(t: str) -> str:
        return "{" + ", ".join(f"'{c}': {t}.{c}" for c in columns) + "}"

    rows = con.execute(
        f"""
        SELECT {record("a")}, {record("b")}, l.probability, l.evidence
        FROM link_candidates l
        JOIN staged_customer a ON a.system = l.system_a AND a.source_id = l.source_a
        JOIN staged_customer b ON b.system = l.system_b AND b.source_id = l.source_b
        WHERE l.entity = ? ORDER BY l.probability DESC, l.system_a, l.source_a LIMIT ?
        """,
        [entity, limit],
    ).fetchall()
    return [{"a": a, "b": b, "probability": p, "evidence": e} for a, b, p, e in rows]


def busy_customer(con: duckdb.DuckDBPyConnection) -> str | None:
    """The email of the customer with most jobs among those every system knows."""
    rows = con.execute(
        "SELECT c.email FROM customer c JOIN job j ON j.customer = c.canonical_id"
        " WHERE c.records >= 3 AND c.email IS NOT NULL GROUP BY c.email, c.canonical_id"
        " ORDER BY count(*) DESC, c.canonical_id LIMIT 1"
    ).fetchall()
    return str(rows[0][0]) if rows else None
