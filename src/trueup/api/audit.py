"""The audit log of personal-data reads, written in batches.

Every read that returns personal data to a `--pii` key is a row in `api_audit`. Writing each row
in its own transaction cost a fifth of such a read's time, and queued readers behind the store's
write lock, so reads are collected here and written together every `interval` seconds, and at
shutdown. Writes through the API are audited at once, in their own request (`StateStore.audit`).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from trueup.state import StateStore

log = logging.getLogger(__name__)


class AuditBuffer:
    def __init__(self, state: StateStore, interval: float = 0.5):
        self.state, self.interval = state, interval
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="trueup-audit", daemon=True)

    def record(self, key_id: str, method: str, path: str, status: int, kind: str) -> None:
        row = {"at": datetime.now(UTC), "key_id": key_id, "method": method, "path": path, "status": status,
               "kind": kind}  # fmt: skip
        with self._lock:
            self._rows.append(row)
            if not self._thread.is_alive() and not self._stop.is_set():
                self._thread.start()  # on the first row: a process that never reads personal data needs none

    def stop(self) -> None:
        """Stop the thread and write what is left."""
        with self._lock:
            self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self.flush()

    def flush(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        if rows:
            try:
                self.state.audit_many(rows)
            except Exception:  # a database blip: keep the rows for the next tick
                log.exception("could not write %d audit rows; will try again", len(rows))
                with self._lock:
                    self._rows[:0] = rows

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()
