"""A workspace's own checks: read from checks/*.sql, listed and shown, run like the built-in ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from trueup.checks.registry import all_checks
from trueup.cli.app import app
from trueup.errors import ConfigError

runner = CliRunner()

BIG_JOB = """\
-- name: big_job
-- category: lifecycle_mismatch
-- severity: critical
-- owner: ops
-- money: amount
-- entities: {job.dispatch: source_id}
-- description: >
--   Jobs above $400, so somebody looks at each one.
SELECT source_id, amount, 'Job ' || source_id || ' is big' AS title
FROM records_job WHERE system = 'dispatch' AND amount > 400
"""


def test_a_custom_check_runs_in_the_check_step(example: Path) -> None:
    (example / "checks").mkdir()
    (example / "checks" / "big_job.sql").write_text(BIG_JOB)
    listed = runner.invoke(app, ["checks", "-w", str(example), "--json"])
    mine = [c for c in json.loads(listed.output) if c["name"] == "big_job"]
    assert mine and not mine[0]["builtin"] and mine[0]["description"].startswith("Jobs above $400")
    shown = runner.invoke(app, ["checks", "show", "big_job", "-w", str(example)])
    assert "SELECT source_id, amount" in shown.output
    assert runner.invoke(app, ["run", "-w", str(example)]).exit_code == 0
    found = json.loads(
        runner.invoke(app, ["findings", "-w", str(example), "--json", "--check", "big_job"]).output
    )
    assert found and all(
        f["severity"] == "critical" and f["owner"] == "ops" and f["money"] > 400 for f in found
    )
    assert all(f["entities"][0]["entity"] == "job" and f["entities"][0]["canonical_id"] for f in found)
    assert found[0]["title"].endswith("is big")


def test_fail_on_exits_non_zero_when_new_findings_of_that_severity_appear(example: Path) -> None:
    (example / "checks").mkdir()
    (example / "checks" / "big_job.sql").write_text(BIG_JOB)
    first = runner.invoke(app, ["run", "-w", str(example), "--fail-on", "critical"])
    assert first.exit_code == 4, first.output
    again = runner.invoke(app, ["run", "-w", str(example), "--fail-on", "critical"])
    assert again.exit_code == 0, again.output  # nothing new the second time


def test_every_problem_in_custom_checks_is_reported_with_file_and_line(example: Path) -> None:
    (example / "checks").mkdir()
    (example / "checks" / "bad.sql").write_text(
        "-- name: Bad Name\n-- category: lifecycle\n-- severity: urgent\n-- colour: red\n-- about: rows\nSELECT 1\n"
    )
    (example / "checks" / "job_not_invoiced.sql").write_text(BIG_JOB.replace("big_job", "job_not_invoiced"))
    with pytest.raises(ConfigError) as caught:
        all_checks(example)
    text = str(caught.value)
    for expected in ("bad.sql:1", "bad.sql:2", "bad.sql:3", "bad.sql:4", "bad.sql:5", "is not a debt category",
                     "one of: critical, warning, info", "one of: records, setting",
                     "has the name of another check"):  # fmt: skip
        assert expected in text, (expected, text)


def test_a_check_whose_sql_fails_names_itself(example: Path) -> None:
    (example / "checks").mkdir()
    (example / "checks" / "broken.sql").write_text(
        "-- category: lifecycle_mismatch\n-- entities: {job.dispatch: id}\nSELECT id FROM no_such_table\n"
    )
    result = runner.invoke(app, ["run", "-w", str(example)])
    assert result.exit_code != 0
    message = result.output + str(result.exception)  # the entry point prints the error as one line
    assert "check broken" in message and "broken.sql" in message and "no_such_table" in message


def test_the_check_step_alone_on_a_new_workspace_says_what_to_run(example: Path) -> None:
    result = runner.invoke(app, ["run", "-w", str(example), "--step", "ingest", "--step", "check"])
    assert result.exit_code != 0
    assert "run `trueup run` with every step first" in result.output + str(result.exception)


SHARED_VALUES = """\
-- name: {name}
-- category: source_of_truth_conflict
-- severity: info
SELECT [{{'entity': v.entity, 'system': v.system, 'source_id': v.source_id, 'canonical_id': v.canonical_id}}]
    AS entities, v.field AS field
FROM field_values v
WHERE (SELECT count(DISTINCT c.system) FROM clusters c
       WHERE c.entity = v.entity AND c.canonical_id = v.canonical_id) {held}
"""


def test_field_values_hold_what_two_systems_can_disagree_on(example: Path) -> None:
    """`field_values` has the records of real things two or more systems hold, and none other; a
    check that gives each record's canonical id keeps it."""
    (example / "checks").mkdir()
    for name, held in (("held_by_one", "< 2"), ("held_by_two", ">= 2")):
        (example / "checks" / f"{name}.sql").write_text(SHARED_VALUES.format(name=name, held=held))
    assert runner.invoke(app, ["run", "-w", str(example)]).exit_code == 0

    def found(check: str) -> list[dict]:  # type: ignore[type-arg]
        return json.loads(runner.invoke(app, ["findings", "-w", str(example), "--json", "--check", check]).output)

    assert found("held_by_one") == []
    shared = found("held_by_two")
    assert shared and all(f["entities"][0]["canonical_id"] for f in shared)


ONE_KEEPER = """\
-- name: {name}
-- category: source_of_truth_conflict
-- severity: info
SELECT [{{'entity': v.entity, 'system': v.system, 'source_id': v.source_id}}] AS entities, v.field AS field
FROM field_values v
JOIN (SELECT entity, field, count(DISTINCT system) AS keepers FROM config.mappings GROUP BY ALL) m
  ON m.entity = v.entity AND m.field = v.field
WHERE m.keepers {kept}
"""


def test_field_values_hold_the_fields_two_systems_map(example: Path) -> None:
    """A field only one of an entity's systems maps has nothing to disagree with: `field_values`
    leaves it out (the example maps some such fields)."""
    assert runner.invoke(app, ["run", "-w", str(example)]).exit_code == 0
    with duckdb.connect(str(example / ".trueup" / "warehouse.duckdb"), read_only=True) as con:
        single = con.execute(
            "SELECT count(*) FROM (SELECT entity, field FROM config.mappings GROUP BY ALL HAVING count(*) = 1)"
        ).fetchone()
    assert single is not None and single[0] > 0
    (example / "checks").mkdir()
    for name, kept in (("one_keeper", "< 2"), ("two_keepers", ">= 2")):
        (example / "checks" / f"{name}.sql").write_text(ONE_KEEPER.format(name=name, kept=kept))
    assert runner.invoke(app, ["run", "-w", str(example), "--step", "check"]).exit_code == 0

    def found(check: str) -> list[dict]:  # type: ignore[type-arg]
        return json.loads(runner.invoke(app, ["findings", "-w", str(example), "--json", "--check", check]).output)

    assert found("one_keeper") == [] and found("two_keepers")


def test_listing_the_checks_does_not_import_the_findings_store(example: Path) -> None:
    # `trueup checks` reads the checks' files alone; the store's SQLAlchemy models took half a second.
    code = (
        "import sys\nfrom trueup.cli import main\n"
        "try:\n    main(['checks', '-w', sys.argv[1], '--json'])\nexcept SystemExit:\n    pass\n"
        "print('sqlalchemy' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(example)], capture_output=True, text=True, check=True)
    assert any(c["name"] == "job_not_invoiced" for c in json.loads(done.stdout))
    assert done.stderr.strip() == "False"
