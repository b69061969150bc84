"""The API on the demo company, over a real server on 127.0.0.1: scopes on every route, personal
data, systems-limited keys, paging, the findings workflow with idempotency, limits and errors."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance, unsupported_method

from tests.demo.server import Server
from trueup.api import create_app
from trueup.api.app import KEY_TTL
from trueup.api.security import declared_scope
from trueup.state import StateStore
from trueup.state.findings import PREVIEW
from trueup.workspace import Workspace

DOCS = Path(__file__).parents[2] / "docs"


@pytest.fixture(scope="module")
def workspace(demo: Path, demo_run: duckdb.DuckDBPyConnection, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("api") / "cedar-valley"
    shutil.copytree(demo, copy)  # the API acts on findings: keep the session's company as it was
    return copy


@pytest.fixture(scope="module")
def keys(workspace: Path) -> dict[str, str]:
    store = StateStore(Workspace.open(workspace).state_url)
    try:
        made = {
            "read": store.create_key("reader", "read", "test").token,
            "pii": store.create_key("reader with pii", "read", "test", pii=True).token,
            "operate": store.create_key("operator", "operate", "test").token,
            "admin": store.create_key("admin", "admin", "test", pii=True).token,
            "billing": store.create_key("billing only", "read", "test", systems=["billing"]).token,
            "slow": store.create_key("slow", "read", "test", rate_per_minute=3).token,
        }
        revoked = store.create_key("gone", "admin", "test")
        store.revoke_key(revoked.key.id)
        made["revoked"] = revoked.token
    finally:
        store.close()
    return made


@pytest.fixture(scope="module")
def base(workspace: Path, keys: dict[str, str]) -> Iterator[str]:
    with Server(workspace) as url:
        yield url


def get(base: str, path: str, key: str | None = None, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(base + path, headers=headers, params=params, timeout=30)


def post(base: str, path: str, key: str, body: dict[str, Any] | None = None, idem: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} | ({"Idempotency-Key": idem} if idem else {})
    return httpx.post(base + path, headers=headers, json=body, timeout=30)


def _routes(app: Any) -> list[Any]:
    """Every route, through included routers."""
    out = []
    for route in app.routes:
        inner = getattr(route, "router", None) or getattr(route, "original_router", None)
        if inner is not None and hasattr(inner, "routes") and not hasattr(route, "endpoint"):
            out.extend(_routes(inner))
        else:
            out.append(route)
    return out


def _scopes(dependant: Any) -> list[str]:
    found = [declared_scope(d.call) for d in dependant.dependencies]
    return [s for s in found if s] + [s for d in dependant.dependencies for s in _scopes(d)]


def test_every_route_declares_a_scope(workspace: Path) -> None:
    app = create_app(Workspace.open(workspace))
    routes = [r for r in _routes(app) if hasattr(r, "dependant")]
    assert len(routes) >= 25
    for route in routes:
        assert len(set(_scopes(route.dependant))) == 1, f"{route.path} declares no scope (or several)"
    app.state.api.close()


def _ids(workspace: Path) -> dict[str, str]:
    con = duckdb.connect(str(Workspace.open(workspace).serving_path), read_only=True)
    try:
        ids = {entity: con.execute(f"SELECT min(canonical_id) FROM {entity}").fetchall()[0][0]
               for entity in ("customer", "location", "deal", "job", "invoice", "payment", "interaction")}  # fmt: skip
    finally:
        con.close()
    return ids


def test_the_authorisation_matrix(workspace: Path, base: str, keys: dict[str, str]) -> None:
    """Every route with no key, a revoked key and each scope: refused or served as its scope says."""
    app = create_app(Workspace.open(workspace))
    ids = _ids(workspace)
    fill = {"canonical_id": None, "finding_id": "2", "handoff_id": "job-to-invoice", "key_id": "nokey",
            "webhook_id": "999", "delivery_id": "999"}
    checked = 0
    for route in _routes(app):
        if not hasattr(route, "dependant") or not route.path.startswith(("/v1/", "/health", "/metrics", "/openapi")):
            continue  # the dashboard's pages sign in with a session, not a key: tests/demo/test_dashboard_browser.py
        (scope,) = set(_scopes(route.dependant))
        entity = next((e for e in ids if f"/{e}s/" in route.path or route.path.startswith(f"/v1/{e}s/")), None)
        path = route.path
        for name in re.findall(r"{(\w+)}", path):
            value = ids[entity] if name == "canonical_id" and entity else fill[name]
            path = path.replace("{" + name + "}", str(value))
        for method in route.methods:
            for who in (None, "revoked", "read", "operate", "admin"):
                headers = {"Authorization": f"Bearer {keys[who]}"} if who else {}
                body = {"reason": "matrix", "assignee": "dana"} if method == "POST" else None
                if path.endswith("/suppress"):
                    body = {"reason": "matrix"}
                if path == "/v1/keys":
                    body = {"name": "from the matrix"}
                if path == "/v1/webhooks":
                    body = {"url": "http://127.0.0.1:9/", "events": ["run.finished"], "allow_private": True}
                response = httpx.request(method, base + path, headers=headers, json=body,
                                         params={"q": "Smith"} if path.endswith("/search") else None, timeout=30)  # fmt: skip
                status = response.status_code
                if scope == "public":
                    expected_ok = True
                elif who in (None, "revoked"):
                    expected_ok = False
                    assert status == 401, (method, path, who, status)
                else:
                    rank = ["read", "operate", "admin"]
                    expected_ok = rank.index(who) >= rank.index(scope)
                    if not expected_ok:
                        assert status == 403, (method, path, who, status)
                if expected_ok:
                    assert status not in (401, 403) and status < 500, (method, path, who, status, response.text)
                assert "application/json" in response.headers["content-type"] or path == "/metrics"
                if status >= 400:
                    assert set(response.json()["error"]) >= {"status", "code", "message"}
                checked += 1
    app.state.api.close()
    assert checked > 100


def test_personal_data_is_masked_unless_the_key_may_see_it(workspace: Path, base: str, keys: dict[str, str]) -> None:
    masked = get(base, "/v1/customers", keys["read"], limit=20).json()["items"]
    shown = get(base, "/v1/customers", keys["pii"], limit=20).json()["items"]
    assert [c["canonical_id"] for c in masked] == [c["canonical_id"] for c in shown]
    with_email = [(m, s) for m, s in zip(masked, shown, strict=True) if s["email"]]
    assert with_email and all("•••" in m["email"] and "•••" not in s["email"] for m, s in with_email)
    assert all(m["name"] == s["name"] for m, s in with_email)  # a name is not personal data here
    one = shown[0]["canonical_id"]
    detail = get(base, f"/v1/customers/{one}", keys["read"]).json()
    assert all("•••" in (r["email"] or "•••") for r in detail["records"])
    assert get(base, "/v1/search", keys["read"], q=with_email[0][1]["email"]).status_code == 403
    hits = get(base, "/v1/search", keys["pii"], q=with_email[0][1]["email"]).json()["hits"]
    assert with_email[0][1]["canonical_id"] in [h["canonical_id"] for h in hits]
    pii_key, read_key = keys["pii"].split("_")[1], keys["read"].split("_")[1]
    audited = audit_rows(workspace, until=lambda rows: ("pii", "/v1/customers", pii_key) in rows)
    assert ("pii", "/v1/customers", pii_key) in audited
    assert not [row for row in audited if row[2] == read_key]  # nothing personal went to the masked key


def audit_rows(workspace: Path, until: Any) -> list[tuple[str, str, str]]:
    """The API's audit log as (kind, path, key id), once `until` holds of it: reads are written in
    batches, twice a second; 10 seconds at most."""
    store = StateStore(Workspace.open(workspace).state_url)
    try:
        deadline = time.monotonic() + 10
        while True:
            rows = [(a.kind, a.path, a.key_id) for a in store.audit_log(500)]
            if until(rows) or time.monotonic() > deadline:
                return rows
            time.sleep(0.1)
    finally:
        store.close()


def test_a_key_limited_to_a_system_sees_only_its_records(base: str, keys: dict[str, str]) -> None:
    assert get(base, "/v1/customers", keys["billing"]).json()["items"] == []  # no customer lives in billing
    invoices = get(base, "/v1/invoices", keys["billing"], limit=100).json()["items"]
    assert invoices and all("billing" in i["systems"] for i in invoices)
    findings = get(base, "/v1/findings", keys["billing"], limit=500).json()["items"]
    whole = [get(base, f"/v1/findings/{f['id']}", keys["billing"]).json() if f["entity_count"] > len(f["entities"])
             else f for f in findings]  # fmt: skip
    assert findings and all(any(e["system"] == "billing" for e in f["entities"]) for f in whole)


def test_a_page_shows_a_few_records_of_each_finding_and_one_finding_all(base: str, keys: dict[str, str]) -> None:
    items = get(base, "/v1/findings", keys["read"], limit=500).json()["items"]
    assert all(len(f["entities"]) == min(f["entity_count"], PREVIEW) for f in items)
    big = max(items, key=lambda f: f["entity_count"])
    assert big["entity_count"] > PREVIEW, "the demo has a finding about many records (a stalled handoff)"
    whole = get(base, f"/v1/findings/{big['id']}", keys["read"]).json()
    assert len(whole["entities"]) == whole["entity_count"] == big["entity_count"]
    assert whole["entities"][:PREVIEW] == big["entities"]


def test_cursor_paging_returns_every_record_once(workspace: Path, base: str, keys: dict[str, str]) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        page = get(base, "/v1/jobs", keys["read"], **params).json()
        seen += [j["canonical_id"] for j in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    con = duckdb.connect(str(Workspace.open(workspace).serving_path), read_only=True)
    total = con.execute("SELECT count(*) FROM job").fetchall()[0][0]
    con.close()
    assert len(seen) == len(set(seen)) == total
    assert get(base, "/v1/jobs", keys["read"], limit=501).status_code == 422
    assert get(base, "/v1/jobs", keys["read"], cursor="%%%").status_code == 422
    typo = get(base, "/v1/findings", keys["read"], category="lifecycle")  # not an empty page: a mistake
    assert typo.status_code == 422 and typo.json()["error"]["code"] == "invalid_filter"
    assert "did you mean lifecycle_mismatch?" in typo.json()["error"]["message"]
    done = get(base, "/v1/jobs", keys["read"], state="closed", limit=5).json()["items"]
    assert done and all(j["state"] == "closed" for j in done)


def test_the_timeline_of_a_busy_customer(base: str, keys: dict[str, str]) -> None:
    jobs = get(base, "/v1/jobs", keys["read"], limit=500).json()["items"]
    customer = max({j["customer"] for j in jobs if j["customer"]}, key=lambda c: sum(j["customer"] == c for j in jobs))
    events = get(base, f"/v1/customers/{customer}/timeline", keys["read"]).json()["events"]
    assert {"job"} <= {e["entity"] for e in events}
    assert [e["occurred_at"] for e in events] == sorted(e["occurred_at"] for e in events)
    recent = get(base, f"/v1/customers/{customer}/timeline", keys["read"], since="90d").json()
    assert len(recent["events"]) <= len(events) and recent["since"]
    assert get(base, "/v1/customers/cus_nobody/timeline", keys["read"]).status_code == 404


def test_acting_on_findings_with_idempotency(workspace: Path, base: str, keys: dict[str, str]) -> None:
    finding = get(base, "/v1/findings", keys["read"], check="job_not_invoiced", limit=1).json()["items"][0]
    path = f"/v1/findings/{finding['id']}/acknowledge"
    first = post(base, path, keys["operate"], {"reason": "on it"}, idem="ack-1")
    assert first.status_code == 200 and first.json()["state"] == "acknowledged"
    again = post(base, path, keys["operate"], {"reason": "on it"}, idem="ack-1")
    assert again.status_code == 200 and again.json() == first.json() and again.headers["idempotent-replay"] == "true"
    other = post(base, path, keys["operate"], {"reason": "something else"}, idem="ack-1")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_conflict"
    twice = post(base, path, keys["operate"], {"reason": "on it"})  # no key: a second acknowledge is refused
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "invalid_transition"
    history = get(base, f"/v1/findings/{finding['id']}", keys["read"]).json()["history"]
    assert [h["action"] for h in history] == ["opened", "acknowledge"]
    assert history[-1]["actor"] == "api:operator" and history[-1]["reason"] == "on it"
    suppressed = post(base, f"/v1/findings/{finding['id']}/suppress", keys["operate"], {"reason": "vendor ticket", "until": "30d"})
    assert suppressed.status_code == 200 and suppressed.json()["suppressed_until"]
    assert post(base, f"/v1/findings/{finding['id']}/suppress", keys["operate"], {"until": "30d"}).status_code == 422
    store = StateStore(Workspace.open(workspace).state_url)
    try:
        writes = [a for a in store.audit_log(500) if a.kind == "write"]
    finally:
        store.close()
    assert len(writes) >= 4 and all(a.method == "POST" for a in writes)


def test_concurrent_duplicates_act_once(base: str, keys: dict[str, str]) -> None:
    finding = get(base, "/v1/findings", keys["read"], check="invoice_not_posted", limit=1).json()["items"][0]
    path = f"/v1/findings/{finding['id']}/assign"
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post(base, path, keys["operate"], {"assignee": "dana"}, idem="assign-race"),
                                range(8)))  # fmt: skip
    assert {a.status_code for a in answers} <= {200, 409}
    ok = [a.json() for a in answers if a.status_code == 200]
    assert ok and all(o == ok[0] for o in ok)
    history = get(base, f"/v1/findings/{finding['id']}", keys["read"]).json()["history"]
    assert [h["action"] for h in history].count("assign") == 1


def test_rate_limits_and_the_error_shape(base: str, keys: dict[str, str]) -> None:
    statuses = [get(base, "/v1/runs", keys["slow"]).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
    limited = get(base, "/v1/runs", keys["slow"])
    assert int(limited.headers["retry-after"]) >= 1
    missing = get(base, "/v1/nowhere", keys["read"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert get(base, "/v1/jobs/job_nothing", keys["read"]).json()["error"]["status"] == 404


def test_ledger_runs_and_metrics(base: str, keys: dict[str, str]) -> None:
    ledger = get(base, "/v1/ledger", keys["read"]).json()
    assert ledger["summary"]["findings"] > 0
    handoffs = get(base, "/v1/handoffs", keys["read"]).json()
    assert get(base, f"/v1/handoffs/{handoffs[0]['id']}", keys["read"]).json() == handoffs[0]
    assert get(base, "/v1/runs", keys["read"]).json()[0]["outcome"] == "succeeded"
    metrics = get(base, "/metrics").text
    assert "trueup_api_requests_total" in metrics and "trueup_open_findings{" in metrics
    assert get(base, "/health").json()["published_run"]


def test_the_committed_openapi_document_is_current(base: str) -> None:
    served = httpx.get(base + "/openapi.json").json()
    committed = json.loads((DOCS / "openapi.json").read_text())
    assert served == committed, "docs/openapi.json is stale: `trueup serve --openapi > docs/openapi.json`"


def test_nothing_published_is_503(tmp_path: Path, demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(demo / "trueup.yaml", bare / "trueup.yaml")
    shutil.copytree(demo / "exports", bare / "exports")  # the sources, never run
    store = StateStore(Workspace.open(bare).state_url)
    token = store.create_key("r", "read", "test").token
    store.close()
    with Server(bare) as url:
        response = get(url, "/v1/customers", token)
    assert response.status_code == 503 and response.json()["error"]["code"] == "unpublished"


class Receiver:
    """A local endpoint that records what it is sent and answers with the statuses it is given."""

    def __init__(self, statuses: list[int]):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.statuses, self.received = list(statuses), []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 200)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_webhooks_are_signed_retried_logged_and_redelivered(workspace: Path, base: str, keys: dict[str, str]) -> None:
    from datetime import UTC, datetime, timedelta

    from trueup.webhooks import deliver_due, verify

    receiver = Receiver([500, 503])  # two failures, then success
    try:
        refused = post(base, "/v1/webhooks", keys["admin"], {"url": receiver.url, "events": ["finding.resolved"]})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "url_refused"
        metadata = post(base, "/v1/webhooks", keys["admin"], {"url": "http://169.254.169.254/latest", "events": ["run.finished"]})
        assert metadata.status_code == 422
        assert post(base, "/v1/webhooks", keys["operate"], {"url": receiver.url, "events": ["run.finished"]}).status_code == 403
        made = post(base, "/v1/webhooks", keys["admin"],
                    {"url": receiver.url, "events": ["finding.resolved"], "allow_private": True})  # fmt: skip
        assert made.status_code == 201
        hook = made.json()
        finding = get(base, "/v1/findings", keys["read"], check="sync_lag", limit=1).json()["items"][0]
        assert post(base, f"/v1/findings/{finding['id']}/resolve", keys["operate"], {"reason": "fixed"}).status_code == 200
        store = StateStore(Workspace.open(workspace).state_url)
        try:
            now = datetime.now(UTC)
            for later in (0, 2, 10):  # the first try, then after each backoff
                assert deliver_due(store, now=now + timedelta(seconds=later)) == 1
        finally:
            store.close()
        log = get(base, f"/v1/webhooks/{hook['id']}/deliveries", keys["admin"]).json()
        assert len(log) == 1 and log[0]["state"] == "delivered" and log[0]["attempts"] == 3
        assert log[0]["last_status"] == 200 and log[0]["event"] == "finding.resolved"
        assert len(receiver.received) == 3
        headers, body = receiver.received[-1]
        assert verify(hook["secret"], body, headers["Trueup-Signature"])
        assert not verify(hook["secret"], body + b" ", headers["Trueup-Signature"])  # the body is signed
        assert not verify("another secret", body, headers["Trueup-Signature"])
        event = json.loads(body)
        assert event["event"] == "finding.resolved" and event["data"]["id"] == finding["id"]
        assert {h["Trueup-Delivery"] for h, _ in receiver.received} == {str(log[0]["id"])}
        again = post(base, f"/v1/webhooks/deliveries/{log[0]['id']}/redeliver", keys["admin"])
        assert again.status_code == 200 and again.json()["state"] == "pending"
        store = StateStore(Workspace.open(workspace).state_url)
        try:
            assert deliver_due(store) == 1
        finally:
            store.close()
        assert len(receiver.received) == 4
    finally:
        receiver.close()


def test_a_run_announces_itself(demo: Path, demo_run: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    from trueup import pipeline

    copy = tmp_path / "again"
    shutil.copytree(demo, copy)
    store = StateStore(Workspace.open(copy).state_url)
    hook = store.create_webhook("http://127.0.0.1:9/", ["run.finished", "finding.opened"], "test", allow_private=True)
    store.close()
    outcome = pipeline.run(Workspace.open(copy), only=["check"])
    store = StateStore(Workspace.open(copy).state_url)
    try:
        queued = store.deliveries(hook.id)
    finally:
        store.close()
    assert [d.event for d in queued] == ["run.finished"]  # nothing new was found: no finding.opened
    assert queued[0].payload["data"]["run_id"] == outcome.run_id


SCHEMA = schemathesis.openapi.from_dict(json.loads((DOCS / "openapi.json").read_text())).exclude(
    path="/v1/webhooks", method="POST"  # would look up generated host names; its rules are tested above
)


@SCHEMA.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_keeps_to_its_openapi_document(case: Any, base: str, keys: dict[str, str]) -> None:
    """Generated requests for every operation: no server error, and every answer fits the document."""
    case.call_and_validate(
        base_url=base,
        headers={"Authorization": f"Bearer {keys['admin']}"},
        # A made-up cursor or a reused Idempotency-Key is well-formed and still refused, rightly; and a
        # method a path lacks is answered by the framework, whose Allow header names one route's methods.
        excluded_checks=[positive_data_acceptance, unsupported_method],
    )


def test_a_run_holding_the_warehouse_does_not_block_the_api(workspace: Path, base: str, keys: dict[str, str]) -> None:
    """A run holds the warehouse open for writing; the API reads the published snapshot meanwhile."""
    held = duckdb.connect(str(Workspace.open(workspace).warehouse_path))  # what a run does
    try:
        answer = get(base, "/v1/jobs", keys["read"], limit=5)
        assert answer.status_code == 200 and len(answer.json()["items"]) == 5
    finally:
        held.close()


def test_a_new_snapshot_is_picked_up_without_a_restart(workspace: Path, base: str, keys: dict[str, str]) -> None:
    from trueup import pipeline

    before = get(base, "/health").json()["published_run"]
    outcome = pipeline.run(Workspace.open(workspace), only=["publish"])
    assert outcome.outcome == "succeeded" and outcome.run_id != before
    assert get(base, "/health").json()["published_run"] == outcome.run_id
    one = get(base, "/v1/customers", keys["read"], limit=1).json()["items"][0]["canonical_id"]
    assert get(base, f"/v1/customers/{one}", keys["read"]).json()["customer"]["canonical_id"] == one
    assert get(base, f"/v1/customers/{one}/timeline", keys["read"]).status_code == 200


def test_a_revoked_key_is_refused(workspace: Path, base: str, keys: dict[str, str]) -> None:
    """At once when revoked through the API; within a second when revoked elsewhere (the CLI,
    another worker), since each process trusts a key it has checked for that long."""
    store = StateStore(Workspace.open(workspace).state_url)
    try:
        here, elsewhere = (store.create_key(name, "read", "test") for name in ("revoked here", "revoked elsewhere"))
    finally:
        store.close()
    for issued in (here, elsewhere):
        assert get(base, "/v1/runs", issued.token).status_code == 200  # checked, and now trusted a while
    assert post(base, f"/v1/keys/{here.key.id}/revoke", keys["admin"]).status_code == 200
    assert get(base, "/v1/runs", here.token).status_code == 401
    store = StateStore(Workspace.open(workspace).state_url)
    try:
        store.revoke_key(elsewhere.key.id)
    finally:
        store.close()
    deadline = time.monotonic() + KEY_TTL + 5
    while get(base, "/v1/runs", elsewhere.token).status_code == 200:
        assert time.monotonic() < deadline, "a key revoked elsewhere was still served"
        time.sleep(0.1)
