"""The checks on the demo company: what they find against the ground truth, and the public JSON."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from trueup.checks import all_checks
from trueup.checks.definition import AT_STAKE, CATEGORIES
from trueup.cli.app import app
from trueup.evaluation import evaluate, read_truth
from trueup.state import StateStore

runner = CliRunner()


def _findings(root: Path, *args: str) -> list[dict]:
    result = runner.invoke(app, ["findings", "-w", str(root), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _refs(entities: list[dict]) -> tuple[tuple[str, str, str], ...]:
    return tuple(sorted((e["entity"], e["system"], e["source_id"]) for e in entities))


def test_every_category_is_found_with_precision_and_recall_of_095(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    scores = evaluate(read_truth(demo), _findings(demo)).as_dict()
    assert set(scores["categories"]) == set(CATEGORIES)
    for category, score in scores["categories"].items():
        assert score["precision"] >= 0.95 and score["recall"] >= 0.95, (category, score, scores["missed"],
                                                                          scores["unexpected"])  # fmt: skip


def test_the_root_cause_agrees_with_the_truth(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    scores = evaluate(read_truth(demo), _findings(demo)).as_dict()
    assert {"amount_mismatch", "sync_lag", "unmapped_status"} <= set(scores["kinds"])
    assert scores["total"]["cause"] == 1.0, scores["miscaused"]


def test_the_json_is_the_public_contract(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    findings = _findings(demo)
    assert findings
    for f in findings:
        for key in ("id", "check", "category", "severity", "state", "title", "owner", "money", "cause", "entities"):
            assert key in f, key
        assert f["category"] in CATEGORIES
        assert f["severity"] in ("critical", "warning", "info")
        assert f["cause"] in ("configuration", "design") and f["cause_reason"]
        for e in f["entities"]:
            assert set(e) == {"entity", "system", "source_id", "canonical_id"}
    unbilled = [f for f in findings if f["check"] == "job_not_invoiced"]
    assert unbilled and all(f["money"] > 0 and f["owner"] == "billing@cedarvalley.example" for f in unbilled)
    assert "no invoice after" in unbilled[0]["title"] and "(SLA 3 days)" in unbilled[0]["title"]


def test_filters_and_csv(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    lifecycle = _findings(demo, "--category", "lifecycle_mismatch")
    assert lifecycle and {f["category"] for f in lifecycle} == {"lifecycle_mismatch"}
    by_handoff = _findings(demo, "--handoff", "invoice-to-ledger", "--check", "invoice_not_posted")
    assert by_handoff and all(f["handoff"] == "invoice-to-ledger" for f in by_handoff)
    assert len(_findings(demo, "--limit", "3")) == 3
    assert _findings(demo, "--state", "resolved") == []
    # a system's findings are those naming one of its records (the records stored as the check step's
    # DuckDB wrote their JSON)
    every = _findings(demo, "--limit", "100000")
    sheet = _findings(demo, "--system", "friday_sheet", "--limit", "100000")
    assert sheet and {f["id"] for f in sheet} == {
        f["id"] for f in every if any(e["system"] == "friday_sheet" for e in f["entities"])
    }
    csv = runner.invoke(app, ["findings", "-w", str(demo), "--csv", "--system", "friday_sheet"])
    assert csv.exit_code == 0 and csv.output.startswith("id,severity,state,category,check,title,money")
    # a value no finding can have is a mistake, not an empty queue
    typo = runner.invoke(app, ["findings", "-w", str(demo), "--category", "lifecycle"])
    assert "no category 'lifecycle' (did you mean lifecycle_mismatch?)" in str(typo.exception)
    wrong = runner.invoke(app, ["findings", "-w", str(demo), "--state", "closed", "--json"])
    assert "the state values are open, acknowledged" in str(wrong.exception)



def test_the_table_shows_a_page_and_counts_the_whole_queue(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    from trueup.cli.findings import PAGE

    queue = _findings(demo)
    assert len(queue) > PAGE  # the small company has a few hundred
    stakes = {c.name: c.stake for c in all_checks(demo)}
    at_stake = sum(f["money"] or 0 for f in queue if stakes[f["check"]] in AT_STAKE)
    at_stake = f"Money at stake: {at_stake:,.2f} (unbilled "  # as the debt ledger counts it
    page = runner.invoke(app, ["findings", "-w", str(demo)])
    assert page.exit_code == 0, page.output
    assert f"{PAGE} of {len(queue):,} findings" in page.output
    assert f"{len(queue) - PAGE:,} more: --limit N" in page.output and at_stake in page.output
    ids = re.findall(r"^│ +(\d+) │", page.output, re.MULTILINE)  # a title wraps; its first line has the id
    assert ids == [str(f["id"]) for f in queue[:PAGE]]
    every = runner.invoke(app, ["findings", "-w", str(demo), "--limit", "0"])
    assert f"{len(queue):,} findings" in every.output and "more:" not in every.output and at_stake in every.output
    assert len(re.findall(r"^│ +(\d+) │", every.output, re.MULTILINE)) == len(queue)

def test_a_second_run_on_the_same_data_changes_nothing(
    demo: Path, demo_run: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    from trueup import pipeline
    from trueup.workspace import Workspace

    copy = tmp_path / "again"
    shutil.copytree(demo, copy)  # the session's connection holds the original open for reading
    before = _findings(copy)
    counts = pipeline.run(Workspace.open(copy), only=["check"]).counts
    assert counts["check.findings.opened"] == 0 and counts["check.findings.reopened"] == 0
    assert counts["check.findings.auto_resolved"] == 0 and counts["check.findings.changed"] == 0
    after = _findings(copy)
    def strip(found: list[dict]) -> list[str]:
        return sorted(json.dumps({k: v for k, v in f.items() if k not in ("last_seen", "last_run")}, sort_keys=True)
                      for f in found)  # fmt: skip

    assert strip(before) == strip(after)


def test_a_run_of_some_checks_leaves_the_others_findings_alone(demo: Path, demo_run: duckdb.DuckDBPyConnection,
                                                              tmp_path: Path) -> None:  # fmt: skip
    copy = tmp_path / "some"
    shutil.copytree(demo, copy)
    before = {f["id"]: f for f in _findings(copy)}
    result = runner.invoke(app, ["run", "-w", str(copy), "--step", "check", "--check", "job_not_invoiced",
                                 "--check", "sync_lag", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)["steps"][0]["counts"]
    vendor = {c.name: c.about for c in all_checks(copy) if c.category == "vendor_setting"}
    asked = {"job_not_invoiced", "sync_lag"} | {name for name, about in vendor.items() if about == "records"}
    assert {"always_empty_column", "field_never_agrees"} == {name for name, about in vendor.items() if about == "setting"}
    assert {k.removeprefix("found.") for k in counts if k.startswith("found.")} == asked
    assert counts["findings.auto_resolved"] == 0 and counts["findings.opened"] == 0
    assert counts["findings.changed"] == 0  # the same findings, causes included, as the run of every check
    after = {f["id"]: f for f in _findings(copy)}
    assert after.keys() == before.keys()  # nobody else's finding was resolved
    ran = {f["last_run"] for f in after.values() if f["check"] in asked}
    others = {f["last_run"] for f in after.values() if f["check"] not in asked}
    assert len(ran) == 1 and ran.isdisjoint(others)  # seen again by this run, and only they
    wrong = runner.invoke(app, ["run", "-w", str(copy), "--step", "check", "--check", "no_such_check"])
    assert wrong.exit_code != 0 and "no check no_such_check" in str(wrong.exception)
    assert "job_not_invoiced" in str(wrong.exception)


def test_eval_prints_precision_and_recall(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    result = runner.invoke(app, ["eval", str(demo), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"]["recall"] >= 0.95 and "job_not_invoiced" in data["kinds"]
    table = runner.invoke(app, ["eval", str(demo)])
    assert "By category" in table.output and "lifecycle_mismatch" in table.output


def test_show_puts_the_values_the_rule_and_the_history_together(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    conflict = _findings(demo, "--check", "field_conflict", "--limit", "1")[0]
    result = runner.invoke(app, ["findings", "show", str(conflict["id"]), "-w", str(demo), "--json"])
    data = json.loads(result.output)
    assert data["rule"] and data["history"][0]["action"] == "opened"
    assert len(data["values"]) == 2  # the owner's value and the other system's


def test_show_lists_the_first_records_of_a_finding_about_many(demo: Path, demo_run: duckdb.DuckDBPyConnection) -> None:
    many = max(_findings(demo), key=lambda f: len(f["entities"]))
    assert len(many["entities"]) > 21
    result = runner.invoke(app, ["findings", "show", str(many["id"]), "-w", str(demo)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    shown, hidden = many["entities"][19]["source_id"], many["entities"][20]["source_id"]
    assert f" {shown} " in result.output and f" {hidden} " not in result.output
    assert f"and {len(many['entities']) - 20} more records; `trueup findings show {many['id']} --json`" in result.output


def test_the_clean_company_has_no_findings(clean: Path) -> None:
    assert _findings(clean) == []


def _sources(finding: dict) -> set[str]:
    return {e["source_id"] for e in finding["entities"]}


def _drop_sheet_row(path: Path, drop: Callable[[str], bool]) -> None:
    """Empty the first row of a spreadsheet whose job number `drop` picks (the rows below keep their
    numbers, which findings about them name)."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheet = book.active
    top = next(r for r in range(1, sheet.max_row + 1) if "Job #" in [c.value for c in sheet[r]])  # (a title above)
    at = [c.value for c in sheet[top]].index("Job #") + 1
    row = next(r for r in range(top + 1, sheet.max_row + 1) if drop(str(sheet.cell(r, at).value)))
    for cell in sheet[row]:
        cell.value = None
    book.save(path)


def test_sheet_times_pasted_in_utc_are_one_finding_and_its_fix_resolves_what_they_caused(tmp_path: Path) -> None:
    from trueup import pipeline
    from trueup.demo import Rates, generate
    from trueup.workspace import Workspace

    root = generate(tmp_path / "utc", rates=Rates(sheet_times_in_utc=1.0)).root  # the small company
    steps = ["ingest", "map", "link", "resolve", "check"]
    assert pipeline.run(Workspace.open(root), only=steps).outcome == "succeeded"
    scores = evaluate(read_truth(root), _findings(root)).as_dict()
    for kind in ("timezone_shift", "sheet_correction"):
        assert scores["kinds"][kind]["precision"] == scores["kinds"][kind]["recall"] == 1.0, scores["kinds"][kind]
    (shift,) = _findings(root, "--check", "timezone_shift")
    assert shift["owner"] == "friday_sheet" and shift["field"] == "completed_at"
    corrections = _findings(root, "--check", "sheet_correction")
    moved = [f for f in corrections if f["field"] == "Completed"]
    assert moved and all(f["cause"] == "configuration" and f["cause_reason"] == shift["cause_reason"] for f in moved)
    # The time zone explains the corrections of the column it shifted, not hand edits of the same rows.
    truth = {(_refs(t["entities"]), t["field"]): t["cause"] for t in read_truth(root) if t["kind"] == "sheet_correction"}
    assert {(_refs(f["entities"]), f["field"]): f["cause"] for f in corrections} == truth
    assert {f["cause"] for f in corrections if f["field"] != "Completed"} == {"design"}
    # A count that moves rewrites the vendor-setting finding alone: with a row fewer on the sheet its
    # title changes, the reason the corrections inherit does not, and they stay as they were.
    named = set().union(*(_sources(f) for f in _findings(root) if f["id"] != shift["id"]))
    _drop_sheet_row(root / "exports" / "friday.xlsx", lambda job: job in _sources(shift) and job not in named)
    assert pipeline.run(Workspace.open(root), only=steps).outcome == "succeeded"
    (again,) = _findings(root, "--check", "timezone_shift")
    assert again["title"] != shift["title"] and again["cause_reason"] == shift["cause_reason"]
    store = StateStore(Workspace.open(root).state_url)
    try:
        assert {f.id: f.version for f in store.findings_by_id([f["id"] for f in moved])} == {f["id"]: 1 for f in moved}
    finally:
        store.close()
    shift = again
    # The detail names the fix, as the field's own zone (the sheet's invoice dates are read right).
    fix = shift["detail"].split("`")[1]
    assert fix == "completed_at: {expr: 'Completed', timezone: UTC}", shift["detail"]
    config = root / "trueup.yaml"
    config.write_text(config.read_text().replace("completed_at: Completed", fix))
    assert pipeline.run(Workspace.open(root), only=steps).outcome == "succeeded"
    resolved = _findings(root, "--state", "auto_resolved")
    assert sorted(f["id"] for f in resolved) == sorted(f["id"] for f in [shift, *moved])
    assert not _findings(root, "--state", "open", "--check", "timezone_shift")
