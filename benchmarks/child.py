"""What every benchmark does with a contender: run it in a fresh Python process and read the
process's own wall time and peak memory, so no contender is charged for another's."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import time
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
    """The code that runs the `trueup` command line with these arguments."""
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
