"""The canonical model: the entities every system maps onto, their fields and lifecycles.

This is data, not code: mapping, validation and `trueup init` all read these tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a canonical field is typed and normalised when staged."""

    TEXT = "text"
    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    POSTAL_CODE = "postal_code"
    COUNTRY = "country"
    MONEY = "money"
    TIMESTAMP = "timestamp"
    STATUS = "status"
    REFERENCE = "reference"


@dataclass(frozen=True)
class Entity:
    name: str
    fields: dict[str, Kind]
    states: tuple[str, ...] = ()  # canonical lifecycle states, for entities with a status

    @property
    def has_status(self) -> bool:
        return "status" in self.fields


T, N, E, P, A = Kind.TEXT, Kind.NAME, Kind.EMAIL, Kind.PHONE, Kind.ADDRESS
M, TS, S, R = Kind.MONEY, Kind.TIMESTAMP, Kind.STATUS, Kind.REFERENCE

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "customer",
            {
                "name": N,
                "company": N,
                "email": E,
                "phone": P,
                "address": A,
                "city": T,
                "region": T,
                "postal_code": Kind.POSTAL_CODE,
                "country": Kind.COUNTRY,
                "account_owner": T,
                "created_at": TS,
                "updated_at": TS,
            },
        ),
        Entity(
            "location",
            {
                "customer": R,
                "address": A,
                "city": T,
                "region": T,
                "postal_code": Kind.POSTAL_CODE,
                "country": Kind.COUNTRY,
            },
        ),
        Entity(
            "deal",
            {"customer": R, "name": T, "amount": M, "status": S, "closed_at": TS},
            states=("open", "won", "lost"),
        ),
        Entity(
            "job",
            {
                "number": T,
                "customer": R,
                "location": R,
                "deal": R,
                "status": S,
                "title": T,
                "service_line": T,
                "branch": T,
                "technician": T,
                "scheduled_at": TS,
                "completed_at": TS,
                "amount": M,
            },
            states=(
                "scheduled",
                "in_progress",
                "completed",
                "invoice_ready",
                "closed",
                "cancelled",
                "on_hold",
            ),
        ),
        Entity(
            "invoice",
            {
                "number": T,
                "job": R,
                "customer": R,
                "customer_name": N,
                "amount": M,
                "tax": M,
                "balance": M,
                "status": S,
                "issued_at": TS,
                "posted_at": TS,
                "due_at": TS,
            },
            states=("draft", "invoiced", "partially_paid", "paid", "cancelled"),
        ),
        Entity("payment", {"invoice": R, "customer": R, "amount": M, "method": T, "paid_at": TS}),
        Entity("interaction", {"customer": R, "kind": T, "subject": T, "actor": T, "occurred_at": TS}),
    )
}

# Interaction kinds the timeline understands; a mapping may use others.
INTERACTION_KINDS = ("call", "email", "meeting", "ticket", "visit", "note")

# Fields that copy another entity's field (kept to help linking): compared on that entity, not here.
COPIES = {("invoice", "customer_name"): ("customer", "name")}

# Job states in which the work is done and billable.
DONE_JOB_STATES = ("completed", "invoice_ready", "closed")


def is_reference(field: str) -> bool:
    """A field named after an entity refers to a record of that entity."""
    return field in ENTITIES
