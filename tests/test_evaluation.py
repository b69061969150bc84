"""Scoring against a ground truth: matches, and whether each match has the root cause expected."""

from __future__ import annotations

from trueup.evaluation import evaluate

ROW = [{"entity": "job", "system": "sheet", "source_id": "J1"}]


def _problem(field: str, cause: str) -> dict:
    return {"category": "spreadsheet_middleware", "kind": "sheet_correction", "field": field, "cause": cause,
            "entities": ROW}  # fmt: skip


def _finding(fid: int, field: str, cause: str) -> dict:
    return {"id": fid, "check": "sheet_correction", "category": "spreadsheet_middleware", "field": field,
            "cause": cause, "cause_reason": "why", "title": f"J1, {field}", "entities": ROW}  # fmt: skip


def test_two_problems_of_one_record_match_the_findings_of_their_fields() -> None:
    expected = [_problem("Completed", "configuration"), _problem("Technician", "design")]
    found = [_finding(1, "Completed", "configuration"), _finding(2, "Technician", "design")]
    scores = evaluate(expected, found).as_dict()
    assert scores["total"]["matched"] == 2 and scores["total"]["cause"] == 1.0 and scores["miscaused"] == []


def test_a_match_with_another_cause_is_counted_and_listed() -> None:
    expected = [_problem("Completed", "configuration"), _problem("Technician", "design")]
    found = [_finding(1, "Completed", "configuration"), _finding(2, "Technician", "configuration")]
    scores = evaluate(expected, found).as_dict()
    assert scores["total"]["precision"] == scores["total"]["recall"] == 1.0
    assert scores["kinds"]["sheet_correction"]["cause"] == 0.5
    (wrong,) = scores["miscaused"]
    assert (wrong["id"], wrong["cause"], wrong["expected"]) == (2, "configuration", "design")
