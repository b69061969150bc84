"""The HTML report in a real headless Chromium: it opens without errors, has its sections in order,
loads nothing from outside the file, fits a laptop screen, and a clean company reads "Nothing to fix".

A full-page screenshot and a PDF print land in tests/artifacts/ to look at. Without Chromium or
playwright the tests skip, except under CI (CI=true), where they fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser import ARTIFACTS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

pytestmark = pytest.mark.slow


SECTIONS = [
    "summary",
    "system-map",
    "funnel",
    "categories",
    "reported",
    "corrections",
    "inventory",
    "costs",
    "recommendations",
]
CHARTS = {"system-map", "funnel", "trend", "categories", "heat", "costs"}


def _report(root: Path, clean: bool) -> Path:
    from trueup import pipeline
    from trueup.demo import generate
    from trueup.workspace import Workspace

    generate(root, size="small", seed=7, clean=clean)
    outcome = pipeline.run(Workspace.open(root))
    assert outcome.outcome == "succeeded", outcome.steps
    return root / "report" / "index.html"


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _report(tmp_path_factory.mktemp("html") / "cv", clean=False)


@pytest.fixture(scope="module")
def clean_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _report(tmp_path_factory.mktemp("html") / "cv-clean", clean=True)


class Opened:
    """A report open in a page, with what the page said and asked for on the way."""

    def __init__(self, browser: Browser | str, report: Path, width: int = 1280) -> None:
        if isinstance(browser, str):
            pytest.fail(f"no browser to test the HTML report in under CI: {browser}")
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page: Page = browser.new_page(viewport={"width": width, "height": 900})
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.route("http*://**", lambda route: route.abort())  # nothing leaves the machine
        self.page.goto(report.as_uri(), wait_until="load")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def overflows(self) -> bool:
        return bool(self.page.evaluate("document.documentElement.scrollWidth > window.innerWidth"))

    def close(self) -> None:
        self.page.close()


def test_the_report_opens_cleanly_with_every_section_in_order(
    browser: Browser | str, demo_report: Path
) -> None:
    opened = Opened(browser, demo_report)
    try:
        page = opened.page
        assert opened.problems == []
        assert page.eval_on_selector_all("main > section", "sections => sections.map(s => s.id)") == SECTIONS
        for section in SECTIONS:
            assert page.locator(f"section#{section} > h2").count() == 1, section
            assert page.locator(f'nav a[href="#{section}"]').count() == 1, section
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator('meta[name="viewport"]').count() == 1
        _assert_charts_are_accessible(page)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        page.emulate_media(media="print")
        page.pdf(path=str(ARTIFACTS / "report.pdf"), format="A4", print_background=True)
    finally:
        opened.close()


def _assert_charts_are_accessible(page: Page) -> None:
    charts = page.locator("svg.chart")
    names = set()
    for i in range(charts.count()):
        chart = charts.nth(i)
        classes = (chart.get_attribute("class") or "").split()
        names.add(classes[-1].removeprefix("chart-"))
        assert chart.get_attribute("role") == "img"
        assert chart.get_attribute("aria-label")
        assert chart.get_attribute("viewBox")
        assert chart.locator("title").count() == 1
        box = chart.bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 20
    assert names == CHARTS


def test_the_report_loads_nothing_from_outside_the_file(browser: Browser | str, demo_report: Path) -> None:
    opened = Opened(browser, demo_report)
    try:
        page = opened.page
        assert [url for url in opened.requests if not url.startswith(("file:", "data:"))] == []
        references = page.eval_on_selector_all(
            "[src], [href], [srcset], [data], [poster]",
            """elements => elements.flatMap(e => ['src', 'href', 'srcset', 'data', 'poster']
                .map(name => e.getAttribute(name)).filter(Boolean))""",
        )
        assert [r for r in references if r.startswith(("http://", "https://", "//"))] == []
        assert page.locator("script, link[rel=stylesheet], iframe, object, embed").count() == 0
        html = demo_report.read_text(encoding="utf-8")
        assert "@import" not in html and "url(http" not in html and "url(//" not in html
    finally:
        opened.close()


@pytest.mark.parametrize("width", [1280, 1024])
def test_the_page_fits_a_laptop_screen(browser: Browser | str, demo_report: Path, width: int) -> None:
    opened = Opened(browser, demo_report, width=width)
    try:
        assert not opened.overflows(), f"the page scrolls sideways at {width}px"
    finally:
        opened.close()


def test_a_clean_company_reads_nothing_to_fix(browser: Browser | str, clean_report: Path) -> None:
    opened = Opened(browser, clean_report)
    try:
        page = opened.page
        assert opened.problems == []
        verdict = page.locator("#summary .verdict")
        assert verdict.is_visible()
        assert verdict.inner_text().startswith("Nothing to fix")
        assert page.eval_on_selector_all("main > section", "sections => sections.map(s => s.id)") == SECTIONS
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-clean.png"), full_page=True)
    finally:
        opened.close()
