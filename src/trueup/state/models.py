"""The state store's tables: what people and runs change, kept in SQLite or PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A moment with its time zone on every database: stored in UTC (a naive value is taken as
    UTC), and read back as UTC where the database keeps no zone (SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(20), default="running")  # running, succeeded, failed, partial
    steps_requested: Mapped[list[str]] = mapped_column(JSON, default=list)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    steps: Mapped[list[RunStep]] = relationship(
        back_populates="run", order_by="RunStep.position", cascade="all, delete-orphan"
    )


class RunStep(Base):
    __tablename__ = "run_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    seconds: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(20), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    run: Mapped[Run] = relationship(back_populates="steps")


class LinkDecision(Base):
    """A person's word on a pair of records: `confirm` (must link) or `reject` (cannot link).
    The latest decision on a pair is the one every later run honours."""

    __tablename__ = "link_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(20))
    system_a: Mapped[str] = mapped_column(String(64))
    source_a: Mapped[str] = mapped_column(String(255))
    system_b: Mapped[str] = mapped_column(String(64))
    source_b: Mapped[str] = mapped_column(String(255))
    decision: Mapped[str] = mapped_column(String(10))  # confirm, reject
    actor: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())


class IdEvent(Base):
    """A canonical id merged into another or split off, and the run that did it."""

    __tablename__ = "id_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(40), index=True)
    entity: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))  # merge, split
    canonical_id: Mapped[str] = mapped_column(String(40))  # the id that survives (merge) or was split
    others: Mapped[list[str]] = mapped_column(JSON, default=list)  # absorbed ids, or the new ids split off
    at: Mapped[datetime] = mapped_column(UtcDateTime())


_SUPPRESSED = text("state = 'suppressed'")  # the findings a partial index holds


class Finding(Base):
    """One disagreement or gap, tracked from the run that first found it until it is gone.

    `fingerprint` (the check and the records it is about) is what makes it the same finding from
    run to run; `state` is its place in the workflow; people's changes live in `finding_events`."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(32), unique=True)
    check: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    severity_rank: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )  # info 0, warning 1, critical 2
    state: Mapped[str] = mapped_column(String(20), index=True)  # see FINDING_STATES
    title: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(255))
    assignee: Mapped[str | None] = mapped_column(String(255))
    handoff: Mapped[str | None] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(255))
    money: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    minutes: Mapped[float] = mapped_column(Float, default=0)
    cause: Mapped[str] = mapped_column(String(20))
    cause_reason: Mapped[str | None] = mapped_column(Text)
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # how many records it is about and the first few: what a page of the queue shows of them
    entity_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    entities_preview: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    values: Mapped[Any] = mapped_column(JSON, nullable=True)
    digest: Mapped[str] = mapped_column(String(32))  # of what the check said, to see it change
    suppressed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    first_run: Mapped[str] = mapped_column(String(40))
    last_run: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every change of state

    _QUEUE_ORDER = (first_seen.desc(), money.desc(), severity_rank.desc(), id, state)
    # The queue's order, overall and per category, so a page reads its rows in order instead of
    # sorting them all; the state last, so a page filters by it as it walks, without reading rows.
    __table_args__ = (
        Index("ix_findings_queue", *_QUEUE_ORDER),
        Index("ix_findings_category_queue", category, *_QUEUE_ORDER),
        # a check's findings, and its mark (count and sum of versions) read from the index alone
        Index("ix_findings_check_version", check, version),
        # the suppressions that have run out, found without reading the findings that are not suppressed
        Index(
            "ix_findings_suppressed", suppressed_until, sqlite_where=_SUPPRESSED, postgresql_where=_SUPPRESSED
        ),
    )


class CheckRun(Base):
    """The last run that ran each check. It saw again every finding of that check still open, so an
    open finding's `last_seen` and `last_run` are read from here: a run stamps one row per check, not
    every finding (a finding that goes away keeps its own, stamped then)."""

    __tablename__ = "check_runs"

    check: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(40))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # What the run found (`findings.summary`) and the mark its findings bore after (`findings._marks`):
    # while both hold, the next run has nothing to do for this check.
    summary: Mapped[str | None] = mapped_column(String(32))
    mark: Mapped[str | None] = mapped_column(String(40))


class FindingEvent(Base):
    """The audit trail: every change of a finding's state or assignee, by a person or a run.
    Rows are only ever added."""

    __tablename__ = "finding_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LedgerSnapshot(Base):
    """The debt ledger's totals as one run left them (open findings, money at stake, hours), overall
    and per handoff, system and category: the trend the report draws."""

    __tablename__ = "ledger_snapshots"

    run_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    totals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ApiKey(Base):
    """A key to the API. Only a hash of its secret is kept; the key itself is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public, the key's first part
    secret_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the secret part
    name: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(String(10))  # read, operate or admin; each includes the one before
    pii: Mapped[bool] = mapped_column(default=False)  # may read emails, phones and street addresses
    systems: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # None: every system
    rate_per_minute: Mapped[int] = mapped_column(Integer, default=6000)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(255))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ApiAudit(Base):
    """Every write through the API and every read that returned personal data: who, what, when."""

    __tablename__ = "api_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    key_id: Mapped[str] = mapped_column(String(16), index=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # write, pii


class IdempotentRequest(Base):
    """A write made with an `Idempotency-Key`: the same key and body replay the stored response."""

    __tablename__ = "idempotent_requests"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)  # the API key that made it
    idempotency_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)  # None while the first request is running
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Webhook(Base):
    """A subscription: events trueup sends to a URL, signed with the subscription's secret."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(64))  # signs every delivery; shown once at creation
    allow_private: Mapped[bool] = mapped_column(default=False)  # may point at private or loopback addresses
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(255))
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Delivery(Base):
    """One event for one subscription, written in the same transaction as the change it reports
    (an outbox), then sent, retried with backoff, and kept as the delivery log."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[Any] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), index=True)  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DashboardSession(Base):
    """A person signed in to the dashboard with an API key: the cookie holds a random token, of
    which only a hash is kept, and forms carry the session's CSRF token."""

    __tablename__ = "dashboard_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
