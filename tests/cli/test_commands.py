"""The commands as a user runs them: exit codes, JSON for scripts, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def trueup(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trueup", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_run_json_and_sql_formats(example: Path) -> None:
    ran = trueup("run", "-w", str(example), "--json")
    assert ran.returncode == 0, ran.stderr
    outcome = json.loads(ran.stdout)
    assert outcome["outcome"] == "succeeded"
    assert [s["name"] for s in outcome["steps"]] == ["ingest", "map", "link", "resolve", "check", "report", "publish"]
    assert outcome["steps"][0]["counts"]["rows.crm.contacts"] == 5

    as_json = trueup(
        "sql",
        "-w",
        str(example),
        "--format",
        "json",
        "SELECT source_id, state FROM staged_job ORDER BY source_id",
    )
    assert json.loads(as_json.stdout)[0] == {"source_id": "J-1001", "state": "closed"}
    as_csv = trueup("sql", "-w", str(example), "-f", "csv", "SELECT count(*) AS n FROM staged_customer")
    assert as_csv.stdout.splitlines() == ["n", "12"]
    table = trueup("sql", "-w", str(example), "SELECT 1 AS one")
    assert "one" in table.stdout and table.returncode == 0


def test_sql_is_read_only(example: Path) -> None:
    trueup("run", "-w", str(example))
    for statement in (
        "DROP TABLE staged_job",
        "CREATE TABLE x AS SELECT 1",
        "COPY staged_job TO '/tmp/trueup-leak.csv'",
    ):
        refused = trueup("sql", "-w", str(example), statement)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert trueup("sql", "-w", str(example), "SELECT count(*) FROM staged_job").returncode == 0


def test_run_one_step(example: Path) -> None:
    ran = trueup("run", "-w", str(example), "--step", "ingest", "--json")
    assert [s["name"] for s in json.loads(ran.stdout)["steps"]] == ["ingest"]
    unknown = trueup("run", "-w", str(example), "--step", "nope")
    assert unknown.returncode == 1 and "the steps are: ingest, map" in unknown.stderr


def test_invalid_config_exits_2_without_traceback(example: Path) -> None:
    config = example / "trueup.yaml"
    config.write_text(config.read_text().replace("from: jobs", "from: job"))
    for command in ("validate", "run"):
        result = trueup(command, "-w", str(example))
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert "`entities.job.dispatch.from`: no table `job` in system `dispatch`" in result.stderr
        assert "did you mean `jobs`?" in result.stderr
    as_json = trueup("validate", "-w", str(example), "--json")
    report = json.loads(as_json.stdout)
    assert as_json.returncode == 2 and report["valid"] is False and report["problems"][0]["line"] > 0


def test_no_workspace_is_a_clear_error(tmp_path: Path) -> None:
    result = trueup("run", "-w", str(tmp_path))
    assert (
        result.returncode == 2 and "no trueup.yaml here" in result.stderr and "trueup init" in result.stderr
    )


def test_quarantine_lists_rows_with_file_and_line(example: Path) -> None:
    jobs = example / "exports" / "jobber" / "jobs.csv"
    jobs.write_text(jobs.read_text() + "J-1006,C-2,Broken row\n")
    result = trueup("run", "-w", str(example))
    assert result.returncode == 0, result.stderr
    listed = trueup("quarantine", "-w", str(example), "--stage", "ingest", "--json")
    rows = json.loads(listed.stdout)
    assert rows == [
        {
            "stage": "ingest",
            "system": "dispatch",
            "table": "jobs",
            "file": "exports/jobber/jobs.csv",
            "line": 7,
            "column": rows[0]["column"],
            "reason": rows[0]["reason"],
            "raw": "J-1006,C-2,Broken row",
        }
    ]
    assert "fewer columns" in rows[0]["reason"]
    assert "2 rows quarantined" in result.stdout  # this one, and the example's deal amount of "TBD"


def test_unreadable_file_is_named_and_others_load(example: Path) -> None:
    (example / "exports" / "qbo" / "payments.json").write_text("{ this is not json")
    result = trueup("run", "-w", str(example), "--json")
    assert result.returncode == 3  # partial: the run went on without that file
    outcome = json.loads(result.stdout)
    assert outcome["outcome"] == "partial"
    errors = outcome["steps"][0]["errors"]
    assert len(errors) == 1 and "exports/qbo/payments.json" in errors[0] and "not valid JSON" in errors[0]
    assert outcome["steps"][0]["counts"]["rows.dispatch.jobs"] == 5


def test_runs_and_steps_commands(example: Path) -> None:
    trueup("run", "-w", str(example))
    history = json.loads(trueup("runs", "-w", str(example), "--json").stdout)
    assert history[0]["outcome"] == "succeeded"
    steps = json.loads(trueup("steps", "--json").stdout)
    assert [s["name"] for s in steps] == ["ingest", "map", "link", "resolve", "check", "report", "publish"]


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = trueup("--debug", "run", "-w", str(tmp_path))
    assert "Traceback" in result.stderr


def test_a_misspelt_column_stops_the_run_at_map_with_its_line(example: Path) -> None:
    config = example / "trueup.yaml"
    config.write_text(config.read_text().replace("technician: assigned_to", "technician: asigned_to"))
    line = next(i for i, text in enumerate(config.read_text().splitlines(), 1) if "asigned_to" in text)
    result = trueup("run", "-w", str(example))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"trueup.yaml:{line}: `entities.job.dispatch.fields.technician`" in result.stderr
    assert "did you mean `assigned_to`?" in result.stderr
    # The sources were read once, by ingest; fixing the line makes the next run map without reloading.
    history = json.loads(trueup("runs", "-w", str(example), "--json").stdout)
    assert history[0]["outcome"] == "failed" and history[0]["steps"][0]["outcome"] == "succeeded"
    config.write_text(config.read_text().replace("asigned_to", "assigned_to"))
    fixed = json.loads(trueup("run", "-w", str(example), "--json").stdout)
    assert fixed["outcome"] == "succeeded"
    assert fixed["steps"][0]["counts"]["rows.dispatch.jobs"] == 5
