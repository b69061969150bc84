"""The dashboard in a real headless Chromium, served by uvicorn on 127.0.0.1 over a copy of the demo
company: signing in and out, the findings queue, acting on a finding in place, the customer 360,
who may do what, CSRF, the keyboard, and every page at 1280 and 1024 px.

Every test listens to the page for the whole of its visit: a console error or an uncaught page
error anywhere fails it. Full-page screenshots land in tests/artifacts/dashboard-<page>.png (and
dashboard-<page>-1024.png) to look at. Without Chromium or playwright the tests skip, except under
CI (CI=true), where they fail (as tests/report/test_html.py does).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import duckdb
import pytest

from tests.browser import ARTIFACTS
from tests.demo.server import Server
from trueup.state import StateStore
from trueup.workspace import Workspace

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

pytestmark = pytest.mark.slow

NAV = ["Overview", "Findings", "Customers", "Systems & handoffs", "Runs", "Report"]
MONEY = re.compile(r"^-?\$[\d,]+$")


@pytest.fixture(scope="module")
def workspace(
    demo: Path, demo_run: duckdb.DuckDBPyConnection, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    copy = tmp_path_factory.mktemp("dashboard") / "cedar-valley"
    shutil.copytree(demo, copy)  # the tests act on findings: keep the session's company as it was
    return copy


@pytest.fixture(scope="module")
def keys(workspace: Path) -> dict[str, str]:
    store = StateStore(Workspace.open(workspace).state_url)
    try:
        return {
            "operate": store.create_key("operator", "operate", "test", pii=True).token,
            "read": store.create_key("reader", "read", "test").token,
        }
    finally:
        store.close()


@pytest.fixture(scope="module")
def base(workspace: Path, keys: dict[str, str]) -> Iterator[str]:
    with Server(workspace) as url:
        yield url


@pytest.fixture(scope="module")
def customer(demo_run: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """A golden customer held by three systems or more, with a name to search for."""
    found = demo_run.execute(
        "SELECT canonical_id, name FROM customer WHERE name IS NOT NULL AND len(systems) >= 3"
        " ORDER BY records DESC, canonical_id LIMIT 1"
    ).fetchone()
    assert found is not None
    return found[0], found[1]


class Visit:
    """A browser context of its own (its own cookies) and a page in it that notes, for the whole
    visit, every console error and uncaught page error; nothing is fetched from outside the server."""

    def __init__(self, browser: Browser | str, base: str, width: int = 1280, script: bool = True) -> None:
        if isinstance(browser, str):
            pytest.fail(f"no browser to test the dashboard in under CI: {browser}")
        self.base = base
        self.problems: list[str] = []
        self.context: BrowserContext = browser.new_context(
            viewport={"width": width, "height": 900}, base_url=base, java_script_enabled=script
        )
        self.page: Page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on(
            "pageerror", lambda error: self.problems.append(f"page error on {self.page.url}: {error}")
        )
        self.context.route(lambda url: not url.startswith(base), lambda route: route.abort())

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error on {self.page.url}: {message.text} {message.location}")

    def sign_in(self, key: str, then: str = "/") -> None:
        page = self.page
        page.goto(then)
        assert page.url == f"{self.base}/login?next={quote(then)}", page.url
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(self.base + then)

    def go(self, path: str) -> Page:
        response = self.page.goto(path, wait_until="load")
        assert response is not None and response.status == 200, (path, response and response.status)
        return self.page

    def csrf(self) -> str:
        value = self.page.locator("form.who input[name=csrf]").get_attribute("value")
        assert value
        return value

    def post(self, path: str, form: dict[str, str | float | bool]) -> Any:
        """A POST straight to the server with this session's cookie, from no page, form or script."""
        return self.context.request.post(self.base + path, form=form, max_redirects=0)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Browser | str, base: str) -> Iterator[Callable[..., Visit]]:
    opened: list[Visit] = []

    def open_one(width: int = 1280, script: bool = True) -> Visit:
        opened.append(Visit(browser, base, width, script))
        return opened[-1]

    yield open_one
    for one in opened:
        one.close()


def _an_open_finding(page: Page, n: int) -> int:
    """The id of the n-th finding, oldest first, still in the open state (each test takes its own)."""
    page.goto("/findings?state=open&sort=age")
    ids = [int(i) for i in page.locator("table.queue tbody tr td:first-child a").all_inner_texts()]
    assert len(ids) > n
    return ids[n]


def _state(page: Page, finding_id: int) -> str:
    page.goto(f"/findings/{finding_id}")
    return page.locator("#finding-state .state").get_attribute("data-state") or ""


def test_an_operator_signs_in_and_sees_the_money_and_the_categories(
    visit: Callable[..., Visit], keys: dict[str, str], workspace: Path
) -> None:
    v = visit()
    v.sign_in(keys["operate"])
    page = v.page
    assert page.locator("h1").inner_text() == "Overview"
    ledger = json.loads((workspace / "report" / "report.json").read_text())
    money = page.locator(".tile", has_text="Money at stake").locator("strong").inner_text()
    assert MONEY.match(money)
    assert money == f"${ledger['totals']['at_stake']:,.0f}"
    assert page.locator(".tile", has_text="Open findings").locator("strong").inner_text() == (
        f"{ledger['totals']['findings']:,}"
    )
    table = page.locator("section", has=page.get_by_role("heading", name="Open findings by category"))
    labels = table.locator("tbody tr td:first-child a").all_inner_texts()
    assert labels == [c["label"] for c in ledger["categories"]]
    assert all(MONEY.match(m) for m in table.locator("tbody tr td:nth-child(3)").all_inner_texts())
    nav = page.get_by_role("navigation", name="Sections")
    assert nav.get_by_role("link").all_inner_texts() == NAV
    assert nav.locator("[aria-current=page]").inner_text() == "Overview"
    assert v.problems == []


def _money(text: str) -> float | None:
    return float(text.replace("$", "").replace(",", "")) if text.strip() else None


def test_the_queue_filters_and_sorts(visit: Callable[..., Visit], keys: dict[str, str]) -> None:
    v = visit()
    v.sign_in(keys["operate"], "/findings")
    page = v.page
    everything = page.locator("table.queue tbody tr").count()
    form = page.get_by_role("form", name="Filter the findings")
    form.get_by_label("Category").select_option("silent_sync_failure")
    form.get_by_label("Severity").select_option("critical")
    form.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"category=silent_sync_failure"))
    assert "severity=critical" in page.url
    rows = page.locator("table.queue tbody tr")
    assert 0 < rows.count() < everything
    assert set(rows.locator(".sev").all_inner_texts()) == {"critical"}
    for detail in rows.locator("td:nth-child(3) small").all_inner_texts():
        assert detail.startswith("silent sync failure · "), detail
    assert form.get_by_label("Category").input_value() == "silent_sync_failure"  # the form keeps the choice

    page.goto("/findings")
    form.get_by_label("Sort").select_option("money")
    form.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"sort=money"))
    amounts = [_money(t) for t in page.locator("table.queue tbody tr td.num").all_inner_texts()]
    priced = [a for a in amounts if a is not None]
    assert len(priced) > 1
    assert priced == sorted(priced, reverse=True)
    assert amounts[: len(priced)] == priced  # findings without money come last
    assert v.problems == []


def test_an_operator_acknowledges_a_finding_in_place(
    visit: Callable[..., Visit], keys: dict[str, str]
) -> None:
    v = visit()
    v.sign_in(keys["operate"])
    page = v.page
    finding = _an_open_finding(page, 0)
    v.go(f"/findings/{finding}")
    panel = page.locator("#finding-state")
    assert panel.locator(".state").get_attribute("data-state") == "open"
    page.evaluate("window.__stillTheSamePage = true")
    acknowledge = panel.locator("form[action$='/acknowledge']")
    acknowledge.get_by_label("Reason").fill("looking into it with billing")
    acknowledge.get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector("#finding-state .state[data-state=acknowledged]")
    assert page.evaluate("window.__stillTheSamePage") is True  # no reload: the panel changed in place
    assert page.evaluate("document.activeElement.id") == "finding-state"
    panel = page.locator("#finding-state")
    assert panel.locator(".state").inner_text() == "acknowledged"
    history = panel.locator("ol.history li").all_inner_texts()
    assert any(
        "acknowledge" in h and "operator" in h and "looking into it with billing" in h for h in history
    ), history
    buttons = panel.get_by_role("button").all_inner_texts()
    assert "Acknowledge" not in buttons and "Reopen" in buttons
    assert _state(page, finding) == "acknowledged"  # and it was kept
    assert v.problems == []


def test_without_javascript_the_form_posts_and_the_page_comes_back(
    visit: Callable[..., Visit], keys: dict[str, str]
) -> None:
    v = visit(script=False)
    v.sign_in(keys["operate"])
    page = v.page
    finding = _an_open_finding(page, 4)
    v.go(f"/findings/{finding}")
    resolve = page.locator("#finding-state form[action$='/resolve']")
    resolve.get_by_label("Reason").fill("fixed in billing by hand")
    with page.expect_navigation():
        resolve.get_by_role("button", name="Resolve").click()
    assert page.url == f"{v.base}/findings/{finding}"
    assert page.locator("#finding-state .state").get_attribute("data-state") == "resolved"
    assert "fixed in billing by hand" in page.locator("#finding-state ol.history").inner_text()
    assert v.problems == []


def test_a_refused_action_says_why_in_place(visit: Callable[..., Visit], keys: dict[str, str]) -> None:
    """A form whose token no longer holds: the panel says so, the page stays, the finding is unchanged."""
    v = visit()
    v.sign_in(keys["operate"])
    page = v.page
    finding = _an_open_finding(page, 3)
    v.go(f"/findings/{finding}")
    page.evaluate("window.__stillTheSamePage = true")
    resolve = page.locator("#finding-state form[action$='/resolve']")
    resolve.locator("input[name=csrf]").evaluate("input => { input.value = 'expired' }")
    resolve.get_by_role("button", name="Resolve").click()
    alert = page.locator("#finding-state .alert")
    alert.wait_for()
    assert "expired" in alert.inner_text()
    assert page.evaluate("window.__stillTheSamePage") is True
    assert page.locator("#finding-state .state").get_attribute("data-state") == "open"
    assert resolve.get_by_role("button", name="Resolve").is_enabled()  # free to try again
    assert _state(page, finding) == "open"
    assert len(v.problems) == 1 and "status of 403" in v.problems[0], v.problems  # the browser notes the 403


def test_an_action_after_the_session_ended_signs_in_and_comes_back_to_the_finding(
    visit: Callable[..., Visit], keys: dict[str, str]
) -> None:
    v = visit()
    v.sign_in(keys["operate"])
    page = v.page
    finding = _an_open_finding(page, 5)
    v.go(f"/findings/{finding}")
    v.context.clear_cookies()  # the session is gone (expired, or signed out in another tab)
    page.locator("#finding-state form[action$='/acknowledge']").get_by_role(
        "button", name="Acknowledge"
    ).click()
    page.wait_for_url(f"{v.base}/login?next=%2Ffindings%2F{finding}")
    page.get_by_label("API key").fill(keys["operate"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{v.base}/findings/{finding}")  # the finding's page, not the action's address
    assert page.locator("#finding-state .state").get_attribute("data-state") == "open"
    assert v.problems == []


def test_a_customer_is_found_by_name_and_shows_its_golden_record_and_timeline(
    visit: Callable[..., Visit], keys: dict[str, str], customer: tuple[str, str]
) -> None:
    canonical_id, name = customer
    v = visit()
    v.sign_in(keys["operate"], "/customers")
    page = v.page
    search = page.get_by_role("search")
    search.get_by_label("Name, email, phone or any system's id").fill(name)
    search.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/customers\?q="))
    page.locator(f"a[href='/customers/{canonical_id}']").click()
    page.wait_for_url(f"{v.base}/customers/{canonical_id}")
    assert page.locator("h1").inner_text() == name
    golden = (
        page.locator("section", has=page.get_by_role("heading", name="Golden record")).locator("table").first
    )
    fields = dict(
        zip(
            golden.locator("tbody th").all_inner_texts(),
            golden.locator("tbody td:nth-child(2)").all_inner_texts(),
            strict=True,
        )
    )
    assert fields["name"] == name
    assert len(fields) > 3
    linked = page.locator("table", has=page.locator("th", has_text="Email"))
    assert linked.locator("tbody tr").count() >= 3
    events = page.locator("ol.timeline li")
    assert events.count() > 0
    assert events.first.locator("time").inner_text()
    assert v.problems == []


def test_a_read_only_key_sees_no_actions_and_its_posts_are_refused(
    visit: Callable[..., Visit], keys: dict[str, str]
) -> None:
    v = visit()
    v.sign_in(keys["read"])
    page = v.page
    finding = _an_open_finding(page, 1)
    v.go(f"/findings/{finding}")
    assert page.locator("#finding-state .state").get_attribute("data-state") == "open"
    assert page.locator("#finding-state form").count() == 0
    assert page.locator("main").get_by_role("button").count() == 0
    answer = v.post(f"/findings/{finding}/acknowledge", {"csrf": v.csrf(), "reason": "not mine to do"})
    assert answer.status == 403
    assert "operate" in answer.text()
    assert _state(page, finding) == "open"
    assert v.problems == []


def test_a_post_without_the_csrf_field_is_refused_even_for_an_operator(
    visit: Callable[..., Visit], keys: dict[str, str]
) -> None:
    v = visit()
    v.sign_in(keys["operate"])
    page = v.page
    finding = _an_open_finding(page, 2)
    v.go(f"/findings/{finding}")
    assert v.post(f"/findings/{finding}/acknowledge", {"reason": "no token"}).status == 403
    assert v.post(f"/findings/{finding}/acknowledge", {"csrf": "forged", "reason": "bad token"}).status == 403
    assert _state(page, finding) == "open"
    assert v.problems == []


def test_signing_out_ends_the_session(visit: Callable[..., Visit], keys: dict[str, str], base: str) -> None:
    v = visit()
    v.sign_in(keys["read"], "/runs")
    page = v.page
    [cookie] = [c for c in v.context.cookies() if c["name"] == "trueup_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")
    assert [c for c in v.context.cookies() if c["name"] == "trueup_session"] == []
    page.goto("/findings")
    assert page.url == f"{base}/login?next=/findings"
    v.context.add_cookies([{"name": "trueup_session", "value": cookie["value"], "url": base}])
    page.goto("/findings")  # the old cookie, kept by someone: the session is over on the server too
    assert page.url == f"{base}/login?next=/findings"
    assert v.problems == []


def test_the_keyboard_reaches_the_skip_link_then_the_navigation(
    visit: Callable[..., Visit], keys: dict[str, str]
) -> None:
    v = visit()
    v.sign_in(keys["read"])
    page = v.page
    page.goto("/")
    reached = []
    for _ in range(9):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim().replace(/\\s+/g, ' ')"))
        if len(reached) == 1:
            skip = page.locator("a.skip")
            assert page.evaluate("document.activeElement.classList.contains('skip')")
            box = skip.bounding_box()
            assert box is not None and box["x"] >= 0 and box["y"] >= 0  # on screen when focused
    assert reached[0] == "Skip to the content"
    assert reached[1].startswith("trueup")  # the home link
    assert reached[2:8] == NAV
    assert reached[8] == "Sign out"
    page.evaluate("document.querySelector('a.skip').focus()")
    page.keyboard.press("Enter")
    page.wait_for_url("**#main")  # following the link is a navigation of its own
    assert v.problems == []


PAGES = ["overview", "findings", "finding", "customers", "customer", "handoffs", "runs", "report"]


@pytest.mark.parametrize("width", [1280, 1024])
def test_every_page_fits_and_is_photographed(
    visit: Callable[..., Visit], keys: dict[str, str], customer: tuple[str, str], width: int
) -> None:
    canonical_id, customer_name = customer
    v = visit(width)
    suffix = "" if width == 1280 else f"-{width}"
    ARTIFACTS.mkdir(exist_ok=True)
    v.go("/login")
    v.page.screenshot(path=str(ARTIFACTS / f"dashboard-login{suffix}.png"), full_page=True)
    v.sign_in(keys["operate"])
    page = v.page
    finding = _an_open_finding(page, 0)
    paths = dict(zip(PAGES, ["/", "/findings", f"/findings/{finding}", f"/customers?q={quote(customer_name)}",
                             f"/customers/{canonical_id}", "/handoffs", "/runs", "/report"], strict=True))  # fmt: skip
    for name, path in paths.items():
        v.go(path)
        if name == "report":
            frame = page.frame_locator("iframe.report")
            frame.locator("h1").wait_for()
        assert page.locator("h1").count() == 1, name
        assert page.title().endswith(" · trueup"), name
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        sticking_out = page.evaluate(
            """() => [...document.querySelectorAll('main table')].filter(t => !t.closest('.scroll'))
                 .filter(t => t.getBoundingClientRect().right > t.parentElement.getBoundingClientRect().right + 1)
                 .map(t => (t.querySelector('th') || t).textContent.trim())"""
        )
        assert sticking_out == [], f"on {name} at {width}px, tables wider than their column: {sticking_out}"
        unnamed = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
                 .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
                 .map(e => e.outerHTML)"""
        )
        assert unnamed == [], f"on {name}, form controls without a name: {unnamed}"
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}{suffix}.png"), full_page=True)
    assert v.problems == []
