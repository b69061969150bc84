"""`check_results` in the warehouse holds what the last check step found, whichever checks it ran,
and a run rewrites only the checks whose findings moved."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from tests.checks.company import files, write
from trueup.checks.execute import SUMMARIES
from trueup.cli.app import app

runner = CliRunner()
Row = tuple[object, ...]


def _check_step(root: Path, *argv: str) -> dict[str, int]:
    """Run the check step; its counts."""
    result = runner.invoke(app, ["run", "-w", str(root), "--step", "check", "--json", *argv])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["steps"][0]["counts"]


def _results(root: Path) -> set[Row]:
    with duckdb.connect(str(root / ".trueup" / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT check_name, fingerprint, title, cause, cause_reason, money, CAST(entities AS VARCHAR),"
            ' CAST("values" AS VARCHAR), digest FROM check_results'
        ).fetchall()
    return set(rows)


def _summaries_agree(root: Path) -> bool:
    """`check_summaries` says of each check what its rows in `check_results` say."""
    with duckdb.connect(str(root / ".trueup" / "warehouse.duckdb"), read_only=True) as con:
        kept = con.execute("SELECT * FROM check_summaries ORDER BY check_name").fetchall()
        computed = con.execute(f"{SUMMARIES.format(table='check_results')} ORDER BY check_name").fetchall()
    return kept == computed and len(kept) > 0


def test_check_results_follow_the_checks_that_ran(tmp_path: Path) -> None:
    write(tmp_path, files())
    assert runner.invoke(app, ["run", "-w", str(tmp_path)]).exit_code == 0
    every = _results(tmp_path)
    checks = {r[0] for r in every}
    assert "job_not_invoiced" in checks and "amount_mismatch" in checks

    counts = _check_step(tmp_path)  # the same data again: nothing to write
    assert counts["written"] == 0
    assert _results(tmp_path) == every and _summaries_agree(tmp_path)

    counts = _check_step(tmp_path, "--check", "job_not_invoiced")  # the others' rows stay, as their findings do
    assert counts["written"] == 0
    assert _results(tmp_path) == every

    config = tmp_path / "trueup.yaml"  # a finding of this check now costs more: its digest moves
    config.write_text(
        config.read_text(encoding="utf-8") + "costs:\n  minutes_per_finding: {default: 10, job_not_invoiced: 45}\n",
        encoding="utf-8",
    )
    counts = _check_step(tmp_path, "--check", "job_not_invoiced")
    moved = {r for r in _results(tmp_path) if r[0] == "job_not_invoiced"}
    assert counts["written"] == len(moved) > 0
    assert {r[:-1] for r in _results(tmp_path)} == {r[:-1] for r in every}
    assert {r[-1] for r in moved}.isdisjoint({r[-1] for r in every})
    assert _summaries_agree(tmp_path)

    custom = tmp_path / "checks" / "big_invoice.sql"  # a check that ran once and is gone: so are its rows
    custom.parent.mkdir()
    custom.write_text(
        "-- name: big_invoice\n-- category: lifecycle_mismatch\n-- severity: info\n-- owner: billing\n"
        "-- entities: {invoice.billing: source_id}\nSELECT source_id FROM records_invoice WHERE system = 'billing'\n",
        encoding="utf-8",
    )
    assert _check_step(tmp_path)["written"] > 0
    assert "big_invoice" in {r[0] for r in _results(tmp_path)}
    custom.unlink()
    assert _check_step(tmp_path)["written"] == 0
    assert "big_invoice" not in {r[0] for r in _results(tmp_path)} and _summaries_agree(tmp_path)

    for lose in ("DELETE FROM check_summaries WHERE check_name = 'sync_lag'", "DROP TABLE check_summaries"):
        with duckdb.connect(str(tmp_path / ".trueup" / "warehouse.duckdb")) as con:  # stale, or from before them
            con.execute(lose)
        assert _check_step(tmp_path)["written"] == 0 and _summaries_agree(tmp_path)


def test_check_results_of_an_older_shape_are_written_anew(tmp_path: Path) -> None:
    write(tmp_path, files())
    assert runner.invoke(app, ["run", "-w", str(tmp_path)]).exit_code == 0
    every = _results(tmp_path)
    with duckdb.connect(str(tmp_path / ".trueup" / "warehouse.duckdb")) as con:
        con.execute("ALTER TABLE check_results DROP COLUMN digest")  # as a version before digests left it
    counts = _check_step(tmp_path)
    assert counts["written"] == len(every)
    assert _results(tmp_path) == every and _summaries_agree(tmp_path)
