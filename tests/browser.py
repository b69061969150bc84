"""Headless Chromium for the browser tests: Debian's build, driven by Playwright, never downloaded.

The `browser` fixture (in tests/conftest.py) yields it, or, when it is missing, skips the test, or
under CI=true hands the reason to the test, which fails with it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def why_no_browser() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright; never `playwright install`)"
    if not CHROMIUM.exists():
        return f"Chromium is not at {CHROMIUM} (apt-get install -y chromium)"
    return None
