"""Re-running ingest: unchanged files are not read again, changed ones replace their rows, globs stack."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ingest.helpers import files_workspace, manifest, quarantined, query, raw_rows, run, snapshot
from trueup.errors import ConfigError


def _month(month: int, jobs: int, bad: bool = False) -> bytes:
    lines = ["job_number,total,month"]
    lines += [f"J-{month:02d}-{i},{i * 10}.00,2026-{month:02d}" for i in range(1, jobs + 1)]
    if bad:
        lines.append(f"J-{month:02d}-bad")
    return ("\n".join(lines) + "\n").encode()


def _stored(ws: Path) -> list[str]:
    return sorted(
        r[0] for r in query(ws, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw_files'")
    )


def test_unchanged_files_are_a_no_op(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(
        make_workspace,
        {"jobs.csv": _month(1, 3, bad=True), "notes.jsonl": b'{"a": 1}\nnope\n'},
        {"jobs": "jobs.csv", "notes": "notes.jsonl"},
    )
    first = run(ws)
    before, files = snapshot(ws), manifest(ws)
    loads = query(ws, 'SELECT DISTINCT _load_id FROM raw."src__jobs"')
    second = run(ws)
    assert first.outcome == second.outcome == "succeeded"
    assert manifest(ws) == files  # the same keys and load ids: nothing was read again
    assert query(ws, 'SELECT DISTINCT _load_id FROM raw."src__jobs"') == loads
    assert snapshot(ws) == before
    assert second.steps[0].result.counts == first.steps[0].result.counts


def test_touching_a_file_without_changing_it_reuses_the_load(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(make_workspace, {"jobs.csv": _month(1, 3)}, {"jobs": "jobs.csv"})
    run(ws)
    files = manifest(ws)
    path = ws / "data" / "jobs.csv"
    path.write_bytes(path.read_bytes())
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    run(ws)
    assert manifest(ws) == files  # a new mtime is checked by content, and the content is the same


def test_a_changed_file_replaces_its_rows(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(make_workspace, {"jobs.csv": _month(1, 3, bad=True)}, {"jobs": "jobs.csv"})
    run(ws)
    (old,) = manifest(ws)
    (ws / "data" / "jobs.csv").write_bytes(_month(1, 5))
    run(ws)
    (new,) = manifest(ws)
    assert new[3] != old[3] and new[4] != old[4]
    rows = raw_rows(ws, "jobs")
    assert [r["job_number"] for r in rows] == [
        f"J-01-{i}" for i in range(1, 6)
    ]  # no duplicates, no leftovers
    assert {r["_row"] for r in rows} == {2, 3, 4, 5, 6}
    assert query(ws, 'SELECT DISTINCT _load_id FROM raw."src__jobs"') == [(new[4],)]
    assert quarantined(ws) == []  # the old file's bad row went with it
    assert _stored(ws) == [f"f_{new[3]}"]  # the old file's table is gone


def test_a_changed_file_with_the_same_size_is_reloaded(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(make_workspace, {"jobs.csv": b"id,total\nJ-1,100\n"}, {"jobs": "jobs.csv"})
    run(ws)
    path = ws / "data" / "jobs.csv"
    stat = path.stat()
    path.write_bytes(b"id,total\nJ-1,900\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    run(ws)
    assert [r["total"] for r in raw_rows(ws, "jobs")] == ["900"]


def test_glob_patterns_stack_monthly_exports(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(
        make_workspace,
        {
            "jobs_2026-01.csv": _month(1, 2),
            "jobs_2026-02.csv": _month(2, 3, bad=True),
            "jobs_2026-03.csv": _month(3, 1),
        },
        {"jobs": "jobs_*.csv"},
    )
    outcome = run(ws)
    assert outcome.outcome == "succeeded"
    rows = raw_rows(ws, "jobs")
    assert [(r["_source"], r["_row"], r["job_number"]) for r in rows] == [
        ("data/jobs_2026-01.csv", 2, "J-01-1"),
        ("data/jobs_2026-01.csv", 3, "J-01-2"),
        ("data/jobs_2026-02.csv", 2, "J-02-1"),
        ("data/jobs_2026-02.csv", 3, "J-02-2"),
        ("data/jobs_2026-02.csv", 4, "J-02-3"),
        ("data/jobs_2026-03.csv", 2, "J-03-1"),
    ]
    assert [(q["source"], q["line"]) for q in quarantined(ws)] == [("data/jobs_2026-02.csv", 5)]
    assert [(m[2], m[5], m[6]) for m in manifest(ws)] == [
        ("data/jobs_2026-01.csv", 2, 0),
        ("data/jobs_2026-02.csv", 3, 1),
        ("data/jobs_2026-03.csv", 1, 0),
    ]
    assert outcome.steps[0].result.counts["rows.src.jobs"] == 6

    # a fourth month arrives: only it is read; the others keep their loads
    before = {m[2]: m[4] for m in manifest(ws)}
    (ws / "data" / "jobs_2026-04.csv").write_bytes(_month(4, 2))
    run(ws)
    after = {m[2]: m[4] for m in manifest(ws)}
    assert {k: v for k, v in after.items() if k in before} == before
    assert len(raw_rows(ws, "jobs")) == 8

    # February is withdrawn: its rows and its quarantined row go, the rest stays
    (ws / "data" / "jobs_2026-02.csv").unlink()
    run(ws)
    rows = raw_rows(ws, "jobs")
    assert sorted({r["_source"] for r in rows}) == [
        "data/jobs_2026-01.csv",
        "data/jobs_2026-03.csv",
        "data/jobs_2026-04.csv",
    ]
    assert len(rows) == 5
    assert quarantined(ws) == []
    assert len(_stored(ws)) == 3
    assert {m[2]: m[4] for m in manifest(ws)} == {k: v for k, v in after.items() if "2026-02" not in k}


def test_removing_every_file_is_a_config_error_not_an_empty_table(
    make_workspace: Callable[..., Path],
) -> None:
    ws = files_workspace(make_workspace, {"jobs_1.csv": _month(1, 2)}, {"jobs": "jobs_*.csv"})
    run(ws)
    files = manifest(ws)
    (ws / "data" / "jobs_1.csv").unlink()
    with pytest.raises(ConfigError, match="no file matches"):
        run(ws)
    assert manifest(ws) == files and len(raw_rows(ws, "jobs")) == 2


def test_a_file_that_turns_bad_keeps_its_last_good_load(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(make_workspace, {"t.json": b'[{"a": 1}, {"a": 2}]'}, {"t": "t.json"})
    run(ws)
    files = manifest(ws)
    (ws / "data" / "t.json").write_bytes(b'[{"a": 1}, {"a": ')
    outcome = run(ws)
    assert outcome.outcome == "partial" and outcome.steps[0].result.errors[0].startswith(
        "data/t.json: not valid JSON"
    )
    assert [r["a"] for r in raw_rows(ws, "t")] == [1, 2]
    assert manifest(ws) == files
    (ws / "data" / "t.json").write_bytes(b'[{"a": 3}]')
    assert run(ws).outcome == "succeeded"
    assert [r["a"] for r in raw_rows(ws, "t")] == [3]


def test_changing_how_a_file_is_read_reloads_it(make_workspace: Callable[..., Path]) -> None:
    ws = files_workspace(make_workspace, {"t.csv": b"a;b\n1;2\n"}, {"t": "t.csv"})
    run(ws)
    assert raw_rows(ws, "t")[0]["a"] == "1"
    config = ws / "trueup.yaml"
    config.write_text(config.read_text().replace("t: t.csv", "t: {file: t.csv, header: false}"))
    run(ws)
    assert [(r["column_1"], r["_row"]) for r in raw_rows(ws, "t")] == [("a", 1), ("1", 2)]


def test_a_copy_that_keeps_the_old_size_and_mtime_is_still_read(make_workspace: Callable[..., Path]) -> None:
    """`cp -p` or `rsync -t` can give new content the old modification time; it must not hide."""
    ws = files_workspace(make_workspace, {"jobs.csv": b"job_number,total\nJ-1,10.00\n"}, {"jobs": "jobs.csv"})
    run(ws)
    path = ws / "data" / "jobs.csv"
    stat = path.stat()
    replacement = ws / "replacement.csv"
    replacement.write_bytes(b"job_number,total\nJ-2,20.00\n")  # same size
    os.replace(replacement, path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    run(ws)
    assert [r["job_number"] for r in raw_rows(ws, "jobs")] == ["J-2"]
