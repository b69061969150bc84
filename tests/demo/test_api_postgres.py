"""The API with its state store on the real PostgreSQL server: operators acting on the same
findings at the same moment get a consistent result, and every action is in the audit trail."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.demo.server import Server
from trueup import pipeline
from trueup.state import StateStore
from trueup.workspace import Workspace

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def on_postgres(demo: Path, demo_run: duckdb.DuckDBPyConnection, postgres_database: str,
                tmp_path_factory: pytest.TempPathFactory) -> Path:  # fmt: skip
    copy = tmp_path_factory.mktemp("pg") / "cedar-valley"
    shutil.copytree(demo, copy)
    config = copy / "trueup.yaml"
    config.write_text(config.read_text() + f"\nstate: {postgres_database}\n")
    assert pipeline.run(Workspace.open(copy), only=["check", "report", "publish"]).outcome == "succeeded"
    return copy


def test_two_operators_at_once(on_postgres: Path) -> None:
    store = StateStore(Workspace.open(on_postgres).state_url)
    try:
        assert store.engine.dialect.name == "postgresql"
        alice = store.create_key("alice", "operate", "test").token
        bob = store.create_key("bob", "operate", "test").token
        targets = [f.id for f in store.findings(["open"], order="queue", limit=40)]
    finally:
        store.close()

    def act(job: tuple[str, str, int]) -> httpx.Response:
        token, action, fid = job
        body = {"assignee": "dana", "reason": "bob"} if action == "assign" else {"reason": "alice"}
        return httpx.post(f"{url}/v1/findings/{fid}/{action}", json=body,
                          headers={"Authorization": f"Bearer {token}"}, timeout=60)  # fmt: skip

    with Server(on_postgres) as url, ThreadPoolExecutor(16) as pool:
        # 20 findings: alice acknowledges while bob assigns (both valid in either order)
        mixed = [(alice, "acknowledge", f) for f in targets[:20]] + [(bob, "assign", f) for f in targets[:20]]
        both = list(pool.map(act, mixed))
        # 20 findings: both acknowledge (only one can)
        raced = [(t, "acknowledge", f) for f in targets[20:40] for t in (alice, bob)]
        once = list(pool.map(act, raced))
    assert all(r.status_code == 200 for r in both), [r.text for r in both if r.status_code != 200]
    assert sorted(r.status_code for r in once) == [200] * 20 + [409] * 20
    store = StateStore(Workspace.open(on_postgres).state_url)
    try:
        for fid in targets[:20]:
            (finding,) = store.findings_by_id([fid])
            assert (finding.state, finding.assignee, finding.version) == ("acknowledged", "dana", 3)
            actions = sorted(e.action for e in store.finding_events(fid))
            assert actions == ["acknowledge", "assign", "opened"]
            assert {e.actor for e in store.finding_events(fid) if e.action != "opened"} == {"api:alice", "api:bob"}
        for fid in targets[20:40]:
            assert [e.action for e in store.finding_events(fid)].count("acknowledge") == 1
        writes = [a for a in store.audit_log(500) if a.kind == "write"]
        assert len(writes) == 80  # every action, the refused ones too
    finally:
        store.close()
