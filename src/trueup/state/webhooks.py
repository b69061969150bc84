"""Webhook subscriptions and the outbox; mixed into the state store.

Events are written in the same transaction as the change they report (:func:`emit`): a finding
opened or auto-resolved by a run, a finding a person resolves, a run that finished. Sending them
is :mod:`trueup.webhooks`' job; here they wait, are claimed, and are marked delivered or retried.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from trueup.errors import TrueupError
from trueup.state.models import Delivery, Webhook

EVENTS = ("finding.opened", "finding.resolved", "run.finished")
MAX_ATTEMPTS = 8
CLAIM = timedelta(seconds=60)  # a claimed delivery is retried by others if not finished by then


class WebhookError(TrueupError):
    """An unknown subscription or event."""


def finding_payload(f: Any) -> dict[str, Any]:
    """What an event says about a finding (the public shape's essentials)."""
    return {
        "id": f.id, "check": f.check, "category": f.category, "severity": f.severity, "state": f.state,
        "title": f.title, "owner": f.owner, "handoff": f.handoff, "entities": f.entities,
        "money": None if f.money is None else float(f.money),
    }  # fmt: skip


def _hooks(session: Session, event: str) -> list[Webhook]:
    return [
        h for h in session.scalars(select(Webhook).where(Webhook.disabled_at.is_(None))) if event in h.events
    ]


def subscribed(session: Session, event: str) -> bool:
    return bool(_hooks(session, event))


def emit(session: Session, event: str, payloads: Iterable[dict[str, Any]]) -> int:
    """Queue an event per payload for every live subscription to it, in the caller's transaction."""
    hooks = _hooks(session, event)
    if not hooks:
        return 0
    now = datetime.now(UTC)
    rows = [
        {"webhook_id": h.id, "event": event, "payload": {"event": event, "at": now.isoformat(), "data": p},
         "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
        for p in payloads for h in hooks
    ]  # fmt: skip
    if rows:
        from trueup.state.findings import bulk_insert

        bulk_insert(session.connection(), Delivery.__table__, rows)  # type: ignore[arg-type]
    return len(rows)


class Webhooks:
    sessions: sessionmaker[Session]

    def create_webhook(
        self, url: str, events: list[str], created_by: str, allow_private: bool = False
    ) -> Webhook:
        unknown = [e for e in events if e not in EVENTS]
        if unknown or not events:
            raise WebhookError(f"events: write some of {', '.join(EVENTS)}")
        hook = Webhook(url=url, events=events, secret=secrets.token_hex(32), allow_private=allow_private,
                       created_at=datetime.now(UTC), created_by=created_by)  # fmt: skip
        with self.sessions() as s, s.begin():
            s.add(hook)
        return hook

    def webhooks(self) -> list[Webhook]:
        with self.sessions() as s:
            return list(s.scalars(select(Webhook).order_by(Webhook.id)))

    def disable_webhook(self, webhook_id: int) -> Webhook:
        with self.sessions() as s, s.begin():
            hook = s.get(Webhook, webhook_id)
            if hook is None:
                raise WebhookError(f"no webhook {webhook_id}")
            hook.disabled_at = hook.disabled_at or datetime.now(UTC)
            return hook

    def deliveries(self, webhook_id: int | None = None, limit: int = 100) -> list[Delivery]:
        with self.sessions() as s:
            query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
            if webhook_id is not None:
                query = query.where(Delivery.webhook_id == webhook_id)
            return list(s.scalars(query))

    def claim_deliveries(
        self, limit: int = 50, now: datetime | None = None
    ) -> list[tuple[Delivery, Webhook]]:
        """Due deliveries, each claimed for this sender (a claim another sender made and left expires)."""
        now = now or datetime.now(UTC)
        claimed = []
        with self.sessions() as s, s.begin():
            due = s.execute(
                select(Delivery.id).where(Delivery.state == "pending", Delivery.next_attempt_at <= now,
                                          or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now))
                .order_by(Delivery.id).limit(limit)
            ).scalars().all()  # fmt: skip
            for delivery_id in due:
                took = s.execute(
                    update(Delivery).where(Delivery.id == delivery_id,
                                           or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now))
                    .values(claimed_until=now + CLAIM)
                )  # fmt: skip
                if took.rowcount == 1:  # type: ignore[attr-defined]
                    delivery = s.get_one(Delivery, delivery_id)
                    claimed.append((delivery, s.get_one(Webhook, delivery.webhook_id)))
        return claimed

    def record_attempt(
        self, delivery_id: int, status: int | None, error: str | None, delivered: bool
    ) -> Delivery:
        """Mark a delivery sent, or schedule its next try (1 s, 2 s, 4 s ... up to an hour), or give up."""
        with self.sessions() as s, s.begin():
            delivery = s.get_one(Delivery, delivery_id)
            now = datetime.now(UTC)
            delivery.attempts += 1
            delivery.last_status, delivery.last_error, delivery.claimed_until = status, error, None
            if delivered:
                delivery.state, delivery.delivered_at = "delivered", now
            elif delivery.attempts >= MAX_ATTEMPTS:
                delivery.state = "failed"
            else:
                delivery.next_attempt_at = now + timedelta(seconds=min(3600, 2 ** (delivery.attempts - 1)))
            return delivery

    def redeliver(self, delivery_id: int) -> Delivery:
        """Send a delivery again by hand, whatever became of it."""
        with self.sessions() as s, s.begin():
            delivery = s.get(Delivery, delivery_id)
            if delivery is None:
                raise WebhookError(f"no delivery {delivery_id}")
            delivery.state, delivery.next_attempt_at, delivery.claimed_until = (
                "pending",
                datetime.now(UTC),
                None,
            )
            delivery.attempts = 0
            return delivery
