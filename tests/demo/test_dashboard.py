"""The dashboard over HTTP (no browser): signing in, the session cookie, scopes and CSRF on forms.
What a person sees and does in a real browser is tests/demo/test_dashboard_browser.py."""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.demo.server import Server
from trueup.state import StateStore
from trueup.workspace import Workspace

PAGES = ("/", "/findings", "/findings?sort=money&severity=critical", "/customers?q=Smith", "/handoffs", "/runs",
         "/report")  # fmt: skip


@pytest.fixture(scope="module")
def site(demo: Path, demo_run: duckdb.DuckDBPyConnection, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:  # fmt: skip
    copy = tmp_path_factory.mktemp("dashboard") / "cedar-valley"
    shutil.copytree(demo, copy)
    store = StateStore(Workspace.open(copy).state_url)
    keys = {scope: store.create_key(scope, scope, "test").token for scope in ("read", "operate")}
    keys["gone"] = store.create_key("gone", "operate", "test").token
    store.close()
    with Server(copy) as url:
        yield url, keys, copy


@contextlib.contextmanager
def signed_in(url: str, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as client:
        answer = client.post("/login", data={"key": key, "next": "/findings"})
        assert answer.status_code == 303 and answer.headers["location"] == "/findings"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        yield client


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def test_every_page_needs_a_session(site: tuple[str, dict[str, str], Path]) -> None:
    url, _, _ = site
    for path in PAGES:
        answer = httpx.get(url + path, timeout=30)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    assert httpx.get(url + "/static/dashboard.css").status_code == 200
    wrong = httpx.post(url + "/login", data={"key": "tu_nope_nope"})
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.text


def test_every_page_renders_for_a_reader(site: tuple[str, dict[str, str], Path]) -> None:
    url, keys, _ = site
    with signed_in(url, keys["read"]) as client:
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.text[:500])
            assert "<main" in answer.text and "Sign out" in answer.text
        finding = client.get("/findings/1")
        assert finding.status_code == 200 and "Acknowledge</button>" not in finding.text  # no action for a reader
        token = csrf(finding.text)  # the sign-out form's
        refused = client.post("/findings/1/acknowledge", data={"csrf": token, "reason": "x"})
        assert refused.status_code == 403
        assert client.get("/findings/999999").status_code == 404
        hits = re.findall(r'href="/customers/(cus_[0-9a-f]+)"', client.get("/customers?q=Smith").text)
        created = [re.search(r">created at</th><td>([^<]*)</td>", client.get(f"/customers/{h}").text) for h in hits]
        shown = [m.group(1) for m in created if m]
        assert shown and all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", s) for s in shown), shown  # as people read it


def test_an_operator_acts_and_forms_need_their_csrf_token(site: tuple[str, dict[str, str], Path]) -> None:
    url, keys, root = site
    with signed_in(url, keys["operate"]) as client:
        page = client.get("/findings/3")
        assert "Acknowledge</button>" in page.text
        assert client.post("/findings/3/acknowledge", data={"reason": "x"}).status_code == 403
        assert client.post("/findings/3/acknowledge", data={"reason": "x", "csrf": "forged"}).status_code == 403
        done = client.post("/findings/3/acknowledge", data={"reason": "on it", "csrf": csrf(page.text)})
        assert done.status_code == 303
        after = client.get("/findings/3").text
        assert 'data-state="acknowledged"' in after and "dashboard:operate" in after
        again = client.post("/findings/3/acknowledge", data={"reason": "twice", "csrf": csrf(after)},
                            headers={"X-Requested-With": "fetch"})  # fmt: skip
        assert again.status_code == 409 and 'id="finding-state"' in again.text  # the panel, with why
    store = StateStore(Workspace.open(root).state_url)
    try:
        assert [e.actor for e in store.finding_events(3)][-1] == "dashboard:operate"
    finally:
        store.close()


def test_signing_out_and_revoking_end_the_session(site: tuple[str, dict[str, str], Path]) -> None:
    url, keys, root = site
    with signed_in(url, keys["operate"]) as client:
        page = client.get("/")
        assert client.post("/logout", data={"csrf": csrf(page.text)}).status_code == 303
        assert client.get("/").status_code == 303
    with signed_in(url, keys["gone"]) as client:
        assert client.get("/").status_code == 200
        store = StateStore(Workspace.open(root).state_url)
        store.revoke_key(keys["gone"].split("_")[1])
        store.close()
        assert client.get("/").status_code == 303


def test_people_get_pages_not_json(site: tuple[str, dict[str, str], Path]) -> None:
    url, _, _ = site
    missing = httpx.get(url + "/nope", timeout=30)
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    assert httpx.get(url + "/v1/nope", timeout=30).json()["error"]["code"] == "not_found"  # the API keeps JSON
    # a form posted after the session ended comes back, once signed in, to the page it was posted from
    expired = httpx.post(url + "/findings/3/acknowledge", data={"csrf": "x"},
                         headers={"Referer": url + "/findings/3"}, timeout=30)  # fmt: skip
    assert expired.status_code == 303 and expired.headers["location"] == "/login?next=/findings/3"
