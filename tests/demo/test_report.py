"""The debt ledger and the report on the demo company: every section, numbers that agree, the schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import jsonschema
import pytest
from typer.testing import CliRunner

from trueup.checks.definition import AT_STAKE, CATEGORIES
from trueup.cli.app import app
from trueup.report.model import Ledger, json_schema
from trueup.state import StateStore
from trueup.workspace import Workspace

runner = CliRunner()
DOCS = Path(__file__).parents[2] / "docs"
MD_SECTIONS = ("Summary", "System map", "Job to cash", "Findings by category", "Reported figures",
               "Spreadsheet corrections per column", "Inventory", "True cost per system", "Recommendations")  # fmt: skip


def _ledger(root: Path) -> Ledger:
    return Ledger.model_validate_json((root / "report" / "report.json").read_text())


def test_the_run_writes_the_report_in_three_forms(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    folder = demo / "report"
    assert {p.name for p in folder.iterdir()} == {"index.html", "report.md", "report.json"}
    text = (folder / "report.md").read_text()
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings == list(MD_SECTIONS)
    html = (folder / "index.html").read_text()
    assert _ledger(demo).summary.verdict in html.replace("&#39;", "'")


def test_the_json_validates_against_the_published_schema(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    published = json.loads((DOCS / "report.schema.json").read_text())
    assert published == json_schema(), "docs/report.schema.json is stale: `trueup report --schema > docs/report.schema.json`"
    data = json.loads((demo / "report" / "report.json").read_text())
    jsonschema.Draft202012Validator(published, format_checker=jsonschema.FormatChecker()).validate(data)


def test_the_ledger_adds_up(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    ledger = _ledger(demo)
    store = StateStore(Workspace.open(demo).state_url)
    try:
        active = store.active_rows()
    finally:
        store.close()
    totals = ledger.totals
    assert totals.findings == len(active) > 0 and totals.suppressed == 0
    assert [c.category for c in ledger.categories] == list(CATEGORIES)
    assert sum(c.tally.findings for c in ledger.categories) == totals.findings
    assert sum(c.tally.critical for c in ledger.categories) == totals.critical
    assert sum(c.tally.at_stake for c in ledger.categories) == pytest.approx(totals.at_stake, abs=0.05)
    assert totals.at_stake == pytest.approx(sum(getattr(totals.money, k) for k in AT_STAKE), abs=0.01)
    assert sum(sum(c.tally.checks.values()) for c in ledger.categories) == totals.findings
    assert totals.cost_per_month == pytest.approx(totals.hours_per_month * ledger.hourly_rate, rel=0.01)
    # handoffs and systems each hold a finding at most once
    assert sum(h.tally.findings for h in ledger.handoffs) <= totals.findings
    assert sum(s.tally.findings for s in ledger.systems) <= totals.findings
    # the funnel's leaks are the ledger's money of the same kind
    for stage in ledger.funnel:
        if stage.leak:
            assert stage.leak_money == pytest.approx(getattr(totals.money, stage.leak), abs=0.01)
    assert [s.stage for s in ledger.funnel] == ["won", "scheduled", "completed", "invoiced", "posted", "paid"]
    # the summary repeats the totals, and the costliest handoffs come from the handoff rows
    summary = ledger.summary
    assert (summary.findings, summary.at_stake, summary.hours_per_month) == (
        totals.findings, totals.at_stake, totals.hours_per_month)  # fmt: skip
    assert summary.costliest_handoffs and set(summary.costliest_handoffs) <= {h.id for h in ledger.handoffs}
    lost = sum(s.deals_lost_value for s in ledger.systems)
    assert lost == pytest.approx(totals.money.lost, abs=0.01)


def test_the_demo_debt_lands_on_the_handoffs_that_carry_it(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    handoffs = {h.id: h for h in _ledger(demo).handoffs}
    assert handoffs["job-to-invoice"].tally.money.unbilled > 0
    assert handoffs["invoice-to-ledger"].tally.money.unposted > 0
    assert handoffs["payment-sync"].tally.money.unpaid > 0
    assert handoffs["sheet-build"].recommendation.action == "modernisation"  # columns no system holds
    assert handoffs["legacy-invoice-zap"].recommendation.action == "map_ownership"  # retired, still moving
    assert "owner" in handoffs["invoice-to-ledger"].gaps
    assert any(not h.declared for h in handoffs.values())  # systems that disagree with no handoff declared
    for h in handoffs.values():
        assert h.recommendation.reasons


def test_reported_figures_are_explained_by_the_sheet(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    (figure,) = _ledger(demo).reported
    assert figure.source == "friday_sheet" and figure.finding is not None
    assert figure.difference == pytest.approx(figure.reported - figure.recomputed, abs=0.01)
    assert figure.explained is not None and figure.unexplained is not None
    assert figure.explained + figure.unexplained == pytest.approx(figure.difference, abs=0.01)


def test_corrections_count_the_sheet_findings(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    ledger = _ledger(demo)
    corrections = ledger.corrections
    assert sum(c.corrections for c in corrections) == ledger.totals.checks.get("sheet_correction", 0) > 0
    assert sum(c.without_upstream for c in corrections) == ledger.totals.checks.get("column_without_upstream", 0)


def test_audit_and_report_commands(demo: Path, demo_run: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "-w", str(demo)])
    assert result.exit_code == 0, result.output
    assert "Handoffs" in result.output and "True cost per system" in result.output
    as_json = runner.invoke(app, ["audit", "-w", str(demo), "--json"])
    assert Ledger.model_validate_json(as_json.output).totals.findings == _ledger(demo).totals.findings
    written = runner.invoke(app, ["report", "-w", str(demo), "-o", str(tmp_path / "out"), "--json"])
    assert written.exit_code == 0, written.output
    assert {Path(p).name for p in json.loads(written.output)["files"]} == {"index.html", "report.md", "report.json"}


def test_the_clean_company_has_nothing_to_fix(clean: Path) -> None:
    ledger = _ledger(clean)
    assert ledger.summary.verdict.startswith("Nothing to fix")
    assert ledger.summary.first_action is None and ledger.totals.findings == 0
    assert all(h.recommendation.action == "monitor" and h.health == "healthy" for h in ledger.handoffs if not h.retired)
    assert "Nothing to fix" in (clean / "report" / "report.md").read_text()


def test_each_run_adds_a_point_to_the_trend_and_suppressing_sets_findings_aside(
    demo: Path, demo_run: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    import shutil

    from trueup import pipeline

    copy = tmp_path / "again"
    shutil.copytree(demo, copy)  # the session's connection holds the original open for reading
    before = _ledger(copy)
    store = StateStore(Workspace.open(copy).state_url)
    try:
        worst = max(store.active_rows(), key=lambda r: r.money or 0)
        store.act([worst.id], "suppress", actor="test", reason="a known gap, fixed next week")
    finally:
        store.close()
    outcome = pipeline.run(Workspace.open(copy), only=["check", "report"])
    assert outcome.outcome == "succeeded"
    after = _ledger(copy)
    assert [p.run_id for p in after.trend] == [before.run_id, outcome.run_id]
    assert after.totals.findings == before.totals.findings - 1 and after.totals.suppressed == 1
    assert after.trend[-1].findings == after.totals.findings
