"""The error types trueup raises, in the user's terms.

Every error a user can cause derives from :class:`TrueupError`. Terminal errors (bad config, a file
that cannot be read) are not worth retrying; :class:`TransientError` (a lock held by another
process, a database that is restarting) is.
"""

from __future__ import annotations

from dataclasses import dataclass


class TrueupError(Exception):
    """The root of every error trueup reports to a user."""

    exit_code = 1


class TransientError(TrueupError):
    """Worth retrying: the cause is outside trueup and may pass (a lock, a network blip)."""


class TerminalError(TrueupError):
    """Retrying will not help until somebody changes something."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a workspace's configuration, located precisely enough to fix."""

    path: str  # YAML path, e.g. "entities.job.dispatch.from"
    message: str
    fix: str = ""
    value: object = None
    file: str = ""
    line: int | None = None

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        shown = "" if self.value is None else f" (value: {self.value!r})"
        fix = f" Fix: {self.fix}" if self.fix else ""
        prefix = f"{where}: " if where else ""
        return f"{prefix}`{self.path}`: {self.message}{shown}.{fix}"


class ConfigError(TerminalError):
    """The workspace configuration has one or more problems; all of them are listed."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.path))
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the workspace configuration"
        super().__init__(head + ":\n" + "\n".join("  " + p.render() for p in self.problems))


class SourceError(TerminalError):
    """A source (file, database) could not be read at all."""


class WarehouseBusy(TransientError):
    """Another trueup process holds the warehouse."""
