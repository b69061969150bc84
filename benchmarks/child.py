"""What every benchmark does with a contender: run it in a fresh Python process and read the
process's own wall time and peak memory, so no contender is charged for another's."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Peak memory is read from the child's own /proc/self/status (VmHWM): getrusage's maxrss of a
# child starts from the parent's size at fork, which would charge every contender for this script.
PEAK = (
    "\nimport atexit, sys\n"
    "def _peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            sys.stderr.write('PEAK ' + line.split()[1] + '\\n')\n"
    "atexit.register(_peak)\n"
)


class ChildFailed(SystemExit):
    """A contender's process failed; uncaught, it ends the benchmark with the child's last words."""


def run_python(code: str) -> tuple[float, int, bytes]:
    """Seconds, peak RSS (bytes) and stdout of `code` run by a fresh interpreter."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK + code], capture_output=True)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        tail = [line for line in done.stderr.decode().splitlines() if line.strip()][-3:]
        raise ChildFailed(f"exit {done.returncode} after {seconds:.0f} s: " + " / ".join(tail)[-600:])
    peaks = [int(line.split()[1]) for line in done.stderr.decode().splitlines() if line.startswith("PEAK ")]
    return seconds, peaks[-1] * 1024, done.stdout


def trueup_code(*argv: str) -> str:
    """The code that runs the `trueup` command line with these arguments.

    trueup's modules are byte-compiled first, as an installed package's are: trueup is installed
    here in editable mode, which compiles nothing, and where PYTHONDONTWRITEBYTECODE is set (this
    machine sets it) every run would compile them again (0.07 s) where its peers' are compiled."""
    import compileall

    import trueup

    compileall.compile_dir(Path(trueup.__file__).parent, quiet=1)
    return f"import sys\nsys.argv = ['trueup', *{list(argv)!r}]\nfrom trueup.cli import main\nmain()\n"


def trueup_ingest(system: str, folder: Path, table: str) -> tuple[float, int, dict[str, Any]]:
    """`trueup run --step ingest --json` of a workspace of one system reading one table from `folder`
    (`table`: a file name, or its YAML mapping such as `{file: a.xlsx, sheet: Jobs}`): seconds, peak
    RSS and the step's report (its `counts`, and its own `seconds` without start-up and imports)."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "trueup.yaml").write_text(
            textwrap.dedent(f"""\
            name: bench
            systems:
              {system}: {{source: {{type: files, path: {folder}, tables: {{jobs: {table}}}}}}}
            """)
        )
        seconds, peak, out = run_python(trueup_code("run", "--step", "ingest", "--json", "-w", str(root)))
    return seconds, peak, json.loads(out)["steps"][0]


def run_with_database(code: str) -> tuple[float, int]:
    """Seconds and peak RSS of `code` run by a fresh interpreter, with `DB` the path of a database
    file of its own (a peer stores what it read, as trueup does)."""
    with tempfile.TemporaryDirectory() as scratch:
        seconds, peak, _ = run_python(f"DB = {str(Path(scratch) / 'peer.duckdb')!r}\n" + code)
    return seconds, peak


def best_trueup_ingest(
    system: str, folder: Path, table: str, repeat: int, rows: int | None = None
) -> tuple[float, int, float]:
    """The best of `repeat` runs of `trueup_ingest`: the fastest run's seconds and peak RSS, and the
    step's fastest own seconds. Every run must load `rows` rows (when given) and quarantine none."""
    runs, steps = [], []
    for _ in range(repeat):
        seconds, peak, step = trueup_ingest(system, folder, table)
        counts = step["counts"]
        assert counts["quarantined"] == 0 and rows in (None, counts[f"rows.{system}.jobs"]), counts
        runs.append((seconds, peak))
        steps.append(step["seconds"])
    seconds, peak = min(runs)
    return seconds, peak, min(steps)


@dataclass(frozen=True)
class Reading:
    """One row of a reading benchmark's table."""

    contender: str
    seconds: float
    peak: int  # bytes; 0: the process of the row above (a step's own seconds)
    baseline: float  # the seconds the ratio compares with: the peer's on the same file


def print_readings(readings: list[Reading], count: int, unit: str, versus: str) -> None:
    """The table the reading benchmarks print: each contender's seconds, `unit`s a second, the ratio
    to its baseline (`versus`: baseline seconds / the contender's, above 1 faster) and peak memory."""
    heads = ("contender", "seconds", f"{unit}/s", versus, "peak MB")
    widths = [
        max(len("contender"), *(len(r.contender) for r in readings)),
        *(max(len(h), 8) for h in heads[1:]),
    ]

    def line(cells: Iterable[str]) -> str:
        text = [
            f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(text) + " |"

    print("\n" + line(heads))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in readings:
        peak = f"{r.peak / 1e6:.0f}" if r.peak else "(same)"
        print(
            line(
                (
                    r.contender,
                    f"{r.seconds:.2f}",
                    f"{count / r.seconds:,.0f}",
                    f"{r.baseline / r.seconds:.2f}x",
                    peak,
                )
            )
        )
