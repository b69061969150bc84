"""Run history lands in the state store: SQLite by default, PostgreSQL when `state:` says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from trueup import pipeline
from trueup.state import StateStore
from trueup.state.store import _head_revision
from trueup.workspace import Workspace


def _history(url: str) -> list:
    store = StateStore(url)
    try:
        return store.runs()
    finally:
        store.close()


def test_runs_are_recorded_in_sqlite_by_default(example: Path) -> None:
    ws = Workspace.open(example)
    first = pipeline.run(ws)
    second = pipeline.run(ws, only=["map"])
    assert ws.state_url.startswith("sqlite:///") and (example / ".trueup" / "state.db").exists()
    runs = _history(ws.state_url)
    assert [r.id for r in runs] == [second.run_id, first.run_id]
    assert runs[1].outcome == "succeeded" and [s.name for s in runs[1].steps] == [
        "ingest",
        "map",
        "link",
        "resolve",
        "check",
        "report",
        "publish",
    ]
    assert runs[0].steps_requested == ["map"]
    assert runs[1].counts["ingest.rows.dispatch.jobs"] == 5
    assert all(s.seconds is not None and s.finished_at is not None for s in runs[1].steps)


def test_a_failed_step_fails_the_run_and_is_recorded(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trueup import mapping

    def boom(ctx):  # type: ignore[no-untyped-def]
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(mapping, "run", boom)  # the run imports a step's package when the step runs
    ws = Workspace.open(example)
    with pytest.raises(RuntimeError):
        pipeline.run(ws)
    run = _history(ws.state_url)[0]
    assert run.outcome == "failed" and "disk is full" in (run.error or "")
    assert [(s.name, s.outcome) for s in run.steps] == [("ingest", "succeeded"), ("map", "failed")]


def test_an_unfinished_run_is_marked_abandoned(example: Path) -> None:
    from datetime import UTC, datetime

    ws = Workspace.open(example)
    store = StateStore(ws.state_url)
    store.start_run("dead-run", datetime.now(UTC), ["ingest"])
    store.close()
    pipeline.run(ws)
    runs = {r.id: r for r in _history(ws.state_url)}
    assert runs["dead-run"].outcome == "abandoned"


@pytest.mark.postgres
def test_postgresql_state_store(example: Path, postgres_url: str) -> None:
    config = example / "trueup.yaml"
    config.write_text(config.read_text().replace("as_of:", f"state: {postgres_url}\nas_of:", 1))
    ws = Workspace.open(example)
    assert ws.state_url == postgres_url
    outcome = pipeline.run(ws)
    engine = create_engine(postgres_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"runs", "run_steps", "alembic_version"} <= tables
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head_revision()
            rows = conn.execute(text("SELECT id, outcome FROM runs")).fetchall()
    finally:
        engine.dispose()
    assert (outcome.run_id, "succeeded") in [tuple(r) for r in rows]
    assert not (example / ".trueup" / "state.db").exists()
    # Opening again (a second process, a later run) finds the schema current and migrates nothing.
    pipeline.run(ws)
    assert len(_history(postgres_url)) == 2
