"""Open the state store, migrate it to the newest schema, and record runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from trueup.database import engine_url
from trueup.errors import TransientError
from trueup.state.findings import Findings, json_text
from trueup.state.keys import Keys
from trueup.state.links import LinkDecisions
from trueup.state.models import Base, LedgerSnapshot, Run, RunStep
from trueup.state.webhooks import Webhooks, emit

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL's recommended pairing: no fsync per commit, and a crash still never corrupts the store
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


POOL_SIZE = 40


class StateStore(LinkDecisions, Findings, Keys, Webhooks):
    """Run history, link decisions, the findings workflow, API keys and the API's audit log."""

    def __init__(self, url: str):
        self.url = engine_url(url)
        # As many pooled connections as the API's worker threads (anyio's 40): past the pool's
        # size each request opened a new connection, a tenth of a small read's time on SQLite.
        self.engine: Engine = create_engine(
            self.url, pool_size=POOL_SIZE, max_overflow=10, json_serializer=json_text
        )
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.embedded = self.engine.dialect.name == "sqlite"  # a file on this machine, not a server
        self.migrate()

    def migrate(self) -> None:
        """Bring the schema to the newest revision; cheap when it is already there.

        An empty database gets the models' tables and is stamped at the newest revision, as
        Alembic's own recipe for a new database does, without importing Alembic (a fifth of a
        second on every new workspace); `tests/state/test_schema.py` proves the models and the
        migrations build the same schema. A database at an older revision is upgraded by Alembic.
        """
        current, head = self._current_revision(), _head_revision()
        if current == head:
            return
        if current is None and head and self._is_empty():
            self._create(head)
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except OperationalError as exc:
            raise TransientError(
                f"cannot open the state store: {str(exc.orig).strip().splitlines()[0]}"
            ) from None

    def _is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return not inspect(conn).get_table_names()

    def _create(self, head: str) -> None:
        try:
            with self.engine.begin() as conn:
                Base.metadata.create_all(conn)
                conn.execute(
                    text(
                        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,"
                        " CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
                    )
                )
                conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": head})
        except OperationalError as exc:
            raise TransientError(
                f"cannot open the state store: {str(exc.orig).strip().splitlines()[0]}"
            ) from None

    def _current_revision(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                if not inspect(conn).has_table("alembic_version"):
                    return None
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OperationalError as exc:
            raise TransientError(
                f"cannot open the state store: {str(exc.orig).strip().splitlines()[0]}"
            ) from None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def session(self) -> Session:
        return self.sessions()

    # --- runs ------------------------------------------------------------------------------

    def start_run(self, run_id: str, started_at: datetime, steps: list[str]) -> None:
        with self.session() as s, s.begin():
            s.add(Run(id=run_id, started_at=started_at, steps_requested=steps, counts={}, outcome="running"))

    def start_step(self, run_id: str, position: int, name: str) -> int:
        with self.session() as s, s.begin():
            step = RunStep(
                run_id=run_id,
                position=position,
                name=name,
                started_at=_now(),
                outcome="running",
                counts={},
                notes=[],
                errors=[],
            )
            s.add(step)
            s.flush()
            return step.id

    def finish_step(
        self,
        step_id: int,
        outcome: str,
        seconds: float,
        counts: dict[str, Any],
        notes: list[str],
        errors: list[str],
    ) -> None:
        with self.session() as s, s.begin():
            step = s.get_one(RunStep, step_id)
            step.finished_at, step.outcome, step.seconds = _now(), outcome, seconds
            step.counts, step.notes, step.errors = counts, notes, errors

    def finish_run(self, run_id: str, outcome: str, counts: dict[str, Any], error: str | None = None) -> None:
        with self.session() as s, s.begin():
            run = s.get_one(Run, run_id)
            run.finished_at, run.outcome, run.counts, run.error = _now(), outcome, counts, error
            emit(s, "run.finished", [{"run_id": run_id, "outcome": outcome, "error": error,
                                      "started_at": run.started_at.isoformat(), "finished_at": run.finished_at.isoformat(),
                                      "counts": counts}])  # fmt: skip

    def runs(self, limit: int = 20) -> list[Run]:
        with self.session() as s:
            query = select(Run).options(selectinload(Run.steps)).order_by(Run.started_at.desc()).limit(limit)
            return list(s.scalars(query))

    # --- the ledger's trend ----------------------------------------------------------------

    def save_snapshot(self, run_id: str, at: datetime, totals: dict[str, Any]) -> None:
        """Keep what the ledger added up to after a run; a second report on the same run replaces it."""
        with self.session() as s, s.begin():
            s.merge(LedgerSnapshot(run_id=run_id, at=at, totals=totals))

    def snapshots(self, limit: int) -> list[LedgerSnapshot]:
        """The newest snapshots, oldest first."""
        with self.session() as s:
            query = select(LedgerSnapshot).order_by(LedgerSnapshot.at.desc()).limit(limit)
            return list(reversed(list(s.scalars(query))))

    def abandon_unfinished(self) -> int:
        """Runs still marked running belong to a process that died; say so."""
        with self.session() as s, s.begin():
            stale = list(s.scalars(select(Run).where(Run.outcome == "running")))
            for run in stale:
                run.outcome, run.finished_at = "abandoned", _now()
                run.error = run.error or "the process stopped before the run finished"
            return len(stale)


def _head_revision() -> str:
    """The newest migration, read from the files (importing Alembic costs more than a run's setup)."""
    revisions: dict[str, str | None] = {}
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(
            re.findall(r"^(revision|down_revision) = (?:['\"]([^'\"]*)['\"]|None)", path.read_text(), re.M)
        )
        revisions[found["revision"]] = found.get("down_revision") or None
    parents = {parent for parent in revisions.values() if parent}
    heads = [rev for rev in revisions if rev not in parents]
    return heads[0] if len(heads) == 1 else ""


def _now() -> datetime:
    return datetime.now(UTC)
