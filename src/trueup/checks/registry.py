"""Where checks come from: the built-in detectors shipped in `checks/builtin/`, and a workspace's
own `checks/*.sql`. Both are read by one parser (:mod:`trueup.checks.definition`)."""

from __future__ import annotations

import functools
from pathlib import Path

from trueup.checks.definition import Check, parse
from trueup.errors import ConfigError, Problem

BUILTIN = Path(__file__).parent / "builtin"
CUSTOM_DIR = "checks"


def builtin_checks() -> list[Check]:
    return list(_builtin())


@functools.cache
def _builtin() -> tuple[Check, ...]:
    """Read once per process: the built-in files are part of the installed package."""
    checks, problems = _read(sorted(BUILTIN.glob("*.sql")), builtin=True)
    if problems:  # a broken built-in is a bug in trueup, not the user's to fix
        raise RuntimeError("\n".join(p.render() for p in problems))
    return tuple(checks)


def custom_checks(root: Path) -> tuple[list[Check], list[Problem]]:
    return _read(sorted((root / CUSTOM_DIR).glob("*.sql")), builtin=False)


def all_checks(root: Path) -> list[Check]:
    """Built-in checks, then the workspace's; every problem with a custom check is reported at once."""
    builtin = builtin_checks()
    custom, problems = custom_checks(root)
    taken = {c.name: c for c in builtin}
    for check in custom:
        clash = taken.get(check.name)
        if clash:
            problems.append(
                Problem(f"checks.{check.name}", "has the name of another check", "give the check its own `name:`",
                        check.name, str(check.path), 1)
            )  # fmt: skip
        taken[check.name] = check
    if problems:
        raise ConfigError(problems)
    return [*builtin, *custom]


def find(root: Path, name: str) -> Check | None:
    """A check by name: the workspace's own when it has one by that name, else the built-in."""
    custom, _ = custom_checks(root)
    return next((c for c in (*custom, *_builtin()) if c.name == name), None)


def _read(paths: list[Path], builtin: bool) -> tuple[list[Check], list[Problem]]:
    checks: list[Check] = []
    problems: list[Problem] = []
    for path in paths:
        check, found = parse(path.read_text(encoding="utf-8"), path, builtin)
        problems += found
        if check:
            checks.append(check)
    return checks, problems
