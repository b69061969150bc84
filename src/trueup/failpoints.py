"""Named points where a test can kill the process, to prove a crash leaves the stores consistent.

Set TRUEUP_FAILPOINT=<name> (optionally <name>:<n> for the n-th hit) and the process kills itself
with SIGKILL when it reaches that point. Unset, a failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_hits: dict[str, int] = {}


def hit(name: str) -> None:
    wanted = os.environ.get("TRUEUP_FAILPOINT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
