"""The checks on the demo's medium company (100,000 jobs): at least 0.95 precision and recall in
every debt category. The small company is scored in test_findings.py; this one takes minutes."""

from __future__ import annotations

from pathlib import Path

import pytest

from trueup import findings as queue
from trueup.checks.definition import CATEGORIES
from trueup.demo import generate
from trueup.evaluation import evaluate, read_truth
from trueup.state import StateStore
from trueup.state.findings import ACTIVE


@pytest.mark.slow
def test_the_medium_company_scores_095_in_every_category(tmp_path: Path) -> None:
    from trueup import pipeline
    from trueup.workspace import Workspace

    root = generate(tmp_path / "medium", size="medium", seed=7).root
    ws = Workspace.open(root)
    assert pipeline.run(ws).outcome == "succeeded"
    store = StateStore(ws.state_url)
    try:
        found = [queue.public(f) for f in store.findings(ACTIVE)]
    finally:
        store.close()
    scores = evaluate(read_truth(root), found).as_dict()
    assert set(scores["categories"]) == set(CATEGORIES)
    for category, score in scores["categories"].items():
        assert score["precision"] >= 0.95 and score["recall"] >= 0.95, (category, score)
        assert score["cause"] >= 0.99, (category, score, scores["miscaused"])  # the root cause, of those found
