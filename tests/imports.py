"""What a run imports, seen from a fresh interpreter: the heavy libraries a step must not load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def loaded_by_run(root: Path, steps: list[str], modules: set[str]) -> tuple[str, list[str]]:
    """`pipeline.run` of `steps` on the workspace at `root` in a new Python: its outcome, and which
    of `modules` it imported."""
    code = (
        "import sys\nfrom trueup import pipeline\nfrom trueup.workspace import Workspace\n"
        f"outcome = pipeline.run(Workspace.open({str(root)!r}), only={steps!r})\n"
        f"print(outcome.outcome, *sorted({modules!r} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    outcome, *loaded = done.stdout.split()
    return outcome, loaded
