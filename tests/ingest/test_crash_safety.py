"""A run killed at any point and run again leaves exactly what one clean run leaves.

The process is killed for real (SIGKILL, no cleanup): at named failpoints inside the ingest step
(see trueup.failpoints), and at arbitrary moments while it loads a large file. After each kill the
published tables must still be whole, and a second run must give the same raw tables (without load
ids and times), quarantine, manifest and stored files as a clean run of a separate copy.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.ingest.helpers import query, run, snapshot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "northwind"
FAILPOINTS = [
    "ingest.file-loaded:1",
    "ingest.file-loaded:3",
    "ingest.before-publish:2",
    "ingest.in-publish:1",
    "ingest.in-publish:4",
]
EXTRA_SYSTEM = """\
  ledger_exports:
    source:
      type: files
      path: exports/ledger
      tables:
        entries: entries_*.csv
        notes: notes.jsonl
"""


def _extras(root: Path) -> None:
    """More files beside the example's: a glob of monthly exports, a bad row, a bad NDJSON line."""
    ledger = root / "exports" / "ledger"
    ledger.mkdir(parents=True, exist_ok=True)
    for month in (1, 2, 3):
        lines = ["entry,amount,memo"] + [f'E{month}-{i},{i}.50,"memo\n{i}"' for i in range(1, 40)]
        if month == 2:
            lines.insert(5, "E2-bad,1.00")  # too few columns: quarantined
        (ledger / f"entries_2026-0{month}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (ledger / "notes.jsonl").write_text('{"n": 1}\n{"n": \n{"n": 3}\n', encoding="utf-8")
    config = root / "trueup.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("systems:\n", "systems:\n" + EXTRA_SYSTEM, 1), encoding="utf-8")


def _copy(target: Path) -> Path:
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".trueup"))
    _extras(target)
    return target


def _ingest(ws: Path, failpoint: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TRUEUP_FAILPOINT"}
    if failpoint:
        env["TRUEUP_FAILPOINT"] = failpoint
    return subprocess.run(
        [sys.executable, "-m", "trueup", "run", "--step", "ingest", "-w", str(ws), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _rerun(ws: Path) -> None:
    """The run after the kill (and the clean runs): in this process, the way a scheduler would retry."""
    outcome = run(ws)
    assert outcome.outcome == "succeeded", outcome.steps[0].result.errors


def _assert_whole(ws: Path) -> None:
    """What a killed run left published is whole: every raw view holds exactly its manifest's rows."""
    if not (ws / ".trueup" / "warehouse.duckdb").exists():
        return
    tables = query(ws, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ingest_files'")[0][0]
    if not tables:
        return
    for system, tbl, rows, bad in query(
        ws, "SELECT system, tbl, sum(rows), sum(quarantined) FROM ingest_files GROUP BY ALL"
    ):
        assert query(ws, f'SELECT count(*) FROM raw."{system}__{tbl}"')[0][0] == rows, (system, tbl)
        assert (
            query(
                ws,
                "SELECT count(*) FROM quarantine WHERE stage = 'ingest' AND system = ? AND tbl = ?",
                [system, tbl],
            )[0][0]
            == bad
        ), (system, tbl)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict:
    ws = _copy(tmp_path_factory.mktemp("clean") / "northwind")
    _rerun(ws)
    state = snapshot(ws)
    assert len(state["tables"]) == 11 and len(state["quarantine"]) == 2
    return state


@pytest.mark.parametrize("failpoint", FAILPOINTS)
def test_a_run_killed_at_a_failpoint_then_rerun_equals_a_clean_run(
    failpoint: str, example: Path, clean: dict
) -> None:
    _extras(example)
    killed = _ingest(example, failpoint)
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stdout, killed.stderr)
    _assert_whole(example)
    _rerun(example)
    assert snapshot(example) == clean


def test_a_run_killed_while_replacing_changed_files_then_rerun_equals_a_clean_run(
    example: Path, tmp_path: Path
) -> None:
    _extras(example)
    _rerun(example)
    before = snapshot(example)
    ledger = example / "exports" / "ledger"
    (ledger / "entries_2026-04.csv").write_text("entry,amount,memo\nE4-1,4.00,new\n", encoding="utf-8")
    (ledger / "entries_2026-01.csv").unlink()
    (ledger / "notes.jsonl").write_text('{"n": 1}\n{"n": 2}\n', encoding="utf-8")
    killed = _ingest(example, "ingest.in-publish:1")  # the first table published is the changed glob
    assert killed.returncode == -signal.SIGKILL
    after = snapshot(example)
    # the interrupted switch left the last published state untouched (the new file's table, loaded
    # but never published, stays behind until the next run drops it)
    assert {k: v for k, v in after.items() if k != "stored"} == {
        k: v for k, v in before.items() if k != "stored"
    }
    assert set(after["stored"]) > set(before["stored"])
    _rerun(example)

    reference = tmp_path / "reference"
    shutil.copytree(example, reference, ignore=shutil.ignore_patterns(".trueup"))
    _rerun(reference)
    assert snapshot(example) == snapshot(reference)


# --- kills at arbitrary moments while a large file loads -----------------------------------------------


def _large_csv(rows: int = 300_000) -> bytes:
    out = ["id,name,amount,note"]
    for i in range(1, rows + 1):
        if i % 60_000 == 0:
            out.append(f"{i},only two")  # quarantined
        elif i % 5_000 == 0:
            out.append(f'{i},"two\nlines",{i}.00,x')
        else:
            out.append(f"{i},name {i * 7919 % 100_003},{i}.25,note {i % 97}")
    return ("\n".join(out) + "\n").encode()


def _start(ws: Path) -> tuple[subprocess.Popen[bytes], float]:
    """Start an ingest run; return it once it has opened the warehouse, with the time it did."""
    process = subprocess.Popen(
        [sys.executable, "-m", "trueup", "run", "--step", "ingest", "-w", str(ws)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    warehouse = ws / ".trueup" / "warehouse.duckdb"
    deadline = time.monotonic() + 60
    while not warehouse.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    return process, time.monotonic()


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, float]:
    """A workspace with a ~300k-row CSV beside the example's files, the snapshot of a clean run, and
    how long that run worked after opening the warehouse (the window the kills are aimed at)."""
    ws = _copy(tmp_path_factory.mktemp("large") / "northwind")
    (ws / "exports" / "ledger" / "entries_2026-05.csv").write_bytes(
        _large_csv().replace(b"id,name,amount,note", b"entry,amount,memo,note", 1)
    )
    process, began = _start(ws)
    assert process.wait(timeout=300) == 0
    window = time.monotonic() - began
    state = snapshot(ws)
    assert query(ws, 'SELECT count(*) FROM raw."ledger_exports__entries"')[0][0] == 3 * 39 + 300_000 - 5
    return ws, state, window


@pytest.mark.parametrize("fraction", [0.1, 0.4, 0.7])
def test_a_run_killed_at_an_arbitrary_moment_then_rerun_equals_a_clean_run(
    fraction: float, large: tuple[Path, dict, float], tmp_path: Path
) -> None:
    source, clean_state, window = large
    delay = window * fraction
    for attempt in range(6):
        # A busy machine can finish the run before the kill lands: aim earlier and try again.
        ws = tmp_path / f"northwind-{attempt}"
        shutil.copytree(source, ws, ignore=shutil.ignore_patterns(".trueup"))
        process, _ = _start(ws)
        try:
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=60)
        if process.returncode == -signal.SIGKILL:
            break
        delay /= 2
    assert process.returncode == -signal.SIGKILL  # killed mid-run, not after it finished
    _assert_whole(ws)
    _rerun(ws)
    assert snapshot(ws) == clean_state
