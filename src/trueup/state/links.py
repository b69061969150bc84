"""What people decided about pairs of records, and the merges and splits of canonical ids."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from trueup.state.models import IdEvent, LinkDecision

Record = tuple[str, str]  # (system, source id)


def pair(a: Record, b: Record) -> tuple[Record, Record]:
    """A pair of records in the one order every table keeps: the smaller (system, id) first."""
    return (a, b) if a <= b else (b, a)


class LinkDecisions:
    """What people decided about pairs of records; mixed into the state store."""

    sessions: sessionmaker[Session]

    def decide(
        self, entity: str, a: Record, b: Record, decision: str, actor: str, reason: str | None
    ) -> None:
        (sa, ia), (sb, ib) = pair(a, b)
        with self.sessions() as s, s.begin():
            s.add(
                LinkDecision(
                    entity=entity, system_a=sa, source_a=ia, system_b=sb, source_b=ib, decision=decision,
                    actor=actor, reason=reason, decided_at=datetime.now(UTC),
                )
            )  # fmt: skip

    def decisions(self, entity: str) -> dict[tuple[Record, Record], LinkDecision]:
        """The latest decision on each pair."""
        with self.sessions() as s:
            rows = s.scalars(
                select(LinkDecision).where(LinkDecision.entity == entity).order_by(LinkDecision.id)
            ).all()
        return {((r.system_a, r.source_a), (r.system_b, r.source_b)): r for r in rows}

    def record_id_events(self, run_id: str, entity: str, events: list[tuple[str, str, list[str]]]) -> None:
        """(kind, canonical id, the other ids) for each merge or split a run made."""
        if not events:
            return
        with self.sessions() as s, s.begin():
            s.add_all(
                IdEvent(run_id=run_id, entity=entity, kind=k, canonical_id=c, others=o, at=datetime.now(UTC))
                for k, c, o in events
            )

    def id_events(self, entity: str | None = None) -> list[IdEvent]:
        with self.sessions() as s:
            query = select(IdEvent).order_by(IdEvent.id)
            if entity:
                query = query.where(IdEvent.entity == entity)
            return list(s.scalars(query))
