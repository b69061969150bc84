"""Shared fixtures: tiny workspaces in temporary folders, and the real PostgreSQL server."""

from __future__ import annotations

import contextlib
import os
import shutil
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "northwind"
PG_ADMIN_URL = os.environ.get("TRUEUP_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked slow first: with a worker per core (`make test`), they run beside the many
    quick ones instead of alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[..., Path]:
    """Write trueup.yaml and the given files into a temporary folder and return it."""

    def make(config: str, files: dict[str, str | bytes] | None = None) -> Path:
        for name, content in (files or {}).items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        (tmp_path / "trueup.yaml").write_text(textwrap.dedent(config).lstrip("\n"), encoding="utf-8")
        return tmp_path

    return make


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the committed example workspace."""
    target = tmp_path / "northwind"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".trueup"))
    return target


def _postgres_or_fail() -> None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)  # under CI a missing service is a failure, never a skip
        pytest.skip(message)


@contextlib.contextmanager
def _database() -> Iterator[str]:
    """A new database on the real server, dropped afterwards."""
    from sqlalchemy import create_engine, text

    _postgres_or_fail()
    name = f"trueup_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the real server for this test session, dropped afterwards."""
    with _database() as url:
        yield url


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """A database of the module's own, for tests that must not share state with others."""
    with _database() as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium (a Playwright Browser); without it, the reason: the tests skip, or fail under CI."""
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, why_no_browser

    missing = why_no_browser()
    if missing is not None:
        if os.environ.get("CI") != "true":
            pytest.skip(missing)
        yield missing
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
