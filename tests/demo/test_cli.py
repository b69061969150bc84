"""`trueup demo` as a person runs it after cloning the project."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_commands import trueup


def test_demo_writes_runs_and_prints_the_next_steps(tmp_path: Path) -> None:
    target = tmp_path / "company"
    shown = trueup("demo", str(target), "--size", "300", "--seed", "2")
    assert shown.returncode == 0, shown.stderr
    assert "Cedar Valley Home Services" in shown.stdout and "Next:" in shown.stdout
    assert "Traceback" not in shown.stderr

    again = trueup(
        "demo", str(target), "--size", "300", "--seed", "2", "--json"
    )  # an earlier demo is replaced
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["run"]["outcome"] == "succeeded"
    assert [s["name"] for s in report["run"]["steps"]][:2] == ["ingest", "map"]
    assert report["ground_truth"]["problems"] > 0
    assert (target / ".trueup" / "warehouse.duckdb").exists()


def test_demo_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    refused = trueup("demo", str(tmp_path), "--no-run")
    assert refused.returncode == 1
    assert "not empty" in refused.stderr and "Traceback" not in refused.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_demo_options_are_checked(tmp_path: Path) -> None:
    for args, message in (
        (["--size", "huge"], "write small, medium, large or a number"),
        (["--rate", "nonsense=1"], "unknown rate"),
        (["--rate", "job_not_invoiced"], "write name=number"),
        (["--clean", "--rate", "job_not_invoiced=0.1"], "contradict"),
    ):
        done = trueup("demo", str(tmp_path / "x"), "--no-run", *args)
        assert done.returncode != 0 and message in done.stderr, (args, done.stderr)


def test_clean_demo_reports_no_debt(tmp_path: Path) -> None:
    done = trueup("demo", str(tmp_path / "clean"), "--size", "300", "--clean", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["clean"] and report["ground_truth"]["problems"] == 0
    assert (tmp_path / "clean" / ".truth" / "expected_findings.jsonl").read_text() == ""
