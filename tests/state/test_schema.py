"""The models and the migrations describe one schema, so a new store can be built from either."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from trueup.state.models import Base
from trueup.state.store import StateStore, _head_revision


def _by_alembic(url: str, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    from trueup.state.store import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def _schema(url: str) -> dict:
    engine = create_engine(url)
    with engine.connect() as conn:
        seen = inspect(conn)
        schema = {
            table: (
                sorted((c["name"], str(c["type"]), c["nullable"]) for c in seen.get_columns(table)),
                sorted(tuple(i["column_names"]) for i in seen.get_indexes(table)),
                sorted(tuple(f["constrained_columns"]) for f in seen.get_foreign_keys(table)),
                seen.get_pk_constraint(table)["constrained_columns"],
            )
            for table in seen.get_table_names()
        }
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    return {"tables": schema, "version": version}


def test_the_models_match_the_migrations(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    _by_alembic(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert differences == []


def test_a_new_store_built_from_the_models_equals_a_migrated_one(tmp_path: Path) -> None:
    migrated, created = f"sqlite:///{tmp_path / 'migrated.db'}", f"sqlite:///{tmp_path / 'created.db'}"
    _by_alembic(migrated)
    StateStore(created).close()
    assert _schema(created) == _schema(migrated)
    assert _schema(created)["version"] == _head_revision()


def test_a_store_at_an_older_revision_is_upgraded_by_alembic(tmp_path: Path) -> None:
    old, fresh = f"sqlite:///{tmp_path / 'old.db'}", f"sqlite:///{tmp_path / 'fresh.db'}"
    _by_alembic(old, "0001")
    assert _schema(old)["version"] == "0001"
    StateStore(old).close()
    StateStore(fresh).close()
    assert _schema(old) == _schema(fresh)


def test_upgrading_counts_the_records_of_findings_already_stored(tmp_path: Path) -> None:
    """0009 adds `entity_count` and `entities_preview` and fills them in for the findings there."""
    import json

    from trueup.state.findings import PREVIEW

    url = f"sqlite:///{tmp_path / 'old.db'}"
    _by_alembic(url, "0008")
    entities = [{"entity": "job", "system": "fsm", "source_id": f"J-{n}", "canonical_id": None} for n in range(25)]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO findings (fingerprint, \"check\", category, severity, state, title, minutes, cause,"
                " entities, digest, first_seen, last_seen, first_run, last_run, version) VALUES"
                " ('f1', 'handoff_stalled', 'silent_sync_failure', 'critical', 'open', 't', 0, 'design', :e,"
                " 'd', '2026-11-01 00:00:00', '2026-11-01 00:00:00', 'r1', 'r1', 1)"
            ),
            {"e": json.dumps(entities)},
        )
    engine.dispose()
    store = StateStore(url)
    try:
        (finding,) = store.findings(preview=True)  # the first records, not all
        assert finding.entity_count == 25
        assert finding.entities_preview == entities[:PREVIEW]
        assert finding.severity_rank == 2  # critical
        assert finding.last_run == "r1"  # 0010: the run that last saw each check's open findings
    finally:
        store.close()


@pytest.fixture
def new_pg_database() -> Iterator[Callable[[], str]]:
    """Empty databases on the real PostgreSQL server, dropped afterwards."""
    from tests.conftest import PG_ADMIN_URL, _postgres_or_fail

    _postgres_or_fail()
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def new() -> str:
        name = f"trueup_schema_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    yield new
    with admin.connect() as conn:
        for name in made:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_the_same_on_postgresql(new_pg_database: Callable[[], str]) -> None:
    migrated, created = new_pg_database(), new_pg_database()
    _by_alembic(migrated)
    StateStore(created).close()
    assert _schema(created) == _schema(migrated)
