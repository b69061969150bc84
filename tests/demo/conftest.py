"""One small demo company for the whole session, generated once and run through trueup once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from trueup.demo import generate


def _run(root: Path) -> duckdb.DuckDBPyConnection:
    from trueup import pipeline
    from trueup.workspace import Workspace

    outcome = pipeline.run(Workspace.open(root))
    assert outcome.outcome == "succeeded", outcome.steps
    con = duckdb.connect(str(root / ".trueup" / "warehouse.duckdb"), read_only=True)
    identities = str(root / ".truth" / "identities.csv")
    con.execute(f"CREATE TEMP TABLE truth_ids AS SELECT * FROM read_csv('{identities}', all_varchar=true)")
    return con


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("demo") / "cedar-valley", size="small", seed=7).root


@pytest.fixture(scope="session")
def demo_run(demo: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = _run(demo)
    yield con
    con.close()


@pytest.fixture(scope="session")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The company whose systems agree, run once."""
    from trueup import pipeline
    from trueup.workspace import Workspace

    root = generate(tmp_path_factory.mktemp("clean") / "clean", size="small", seed=7, clean=True).root
    assert pipeline.run(Workspace.open(root)).outcome == "succeeded"
    return root


@pytest.fixture
def run_workspace() -> Iterator[Callable[[Path], duckdb.DuckDBPyConnection]]:
    opened: list[duckdb.DuckDBPyConnection] = []

    def run(root: Path) -> duckdb.DuckDBPyConnection:
        opened.append(_run(root))
        return opened[-1]

    yield run
    for con in opened:
        con.close()
