"""What a step is given and what it gives back. Steps depend on this module, never on the runner."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import duckdb

from trueup.workspace import Workspace

if TYPE_CHECKING:
    from trueup.state import StateStore

T = TypeVar("T")


class Progress(Protocol):
    def track(self, items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]: ...


class QuietProgress:
    def track(self, items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
        yield from items


@dataclass
class StepContext:
    workspace: Workspace
    con: duckdb.DuckDBPyConnection
    run_id: str
    started_at: datetime
    progress: Progress = field(default_factory=QuietProgress)
    state: StateStore | None = None  # what people decided (link decisions, later findings)
    checks: tuple[str, ...] | None = None  # the check step runs only these (None: every check)

    def new_load_id(self) -> str:
        return uuid.uuid4().hex[:12]


@dataclass
class StepResult:
    """Counts for the summary (`rows.crm.contacts`, `quarantined`...), notes and file-level errors."""

    counts: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, key: str, value: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + value


StepFunction = Callable[[StepContext], StepResult]
