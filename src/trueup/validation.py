"""Validate a workspace completely: the configuration, then every mapping against its sources."""

from __future__ import annotations

from pathlib import Path

from trueup.config.loader import load_workspace
from trueup.errors import ConfigError, Problem
from trueup.mapping.check import mapping_problems
from trueup.workspace import CONFIG_FILE, Workspace


def _check(root: Path) -> tuple[Workspace | None, list[Problem]]:
    config, located, found = load_workspace(root / CONFIG_FILE)
    if config is None or located is None:
        return None, found
    found += mapping_problems(config, located, root)
    return Workspace(root=root, config=config, located=located), found


def problems(root: Path | str) -> list[Problem]:
    """Every problem in the workspace at `root`, all at once."""
    found = _check(Path(root).resolve())[1]
    return sorted(found, key=lambda p: (p.file, p.line or 0, p.path))


def open_checked(root: Path | str) -> Workspace:
    """Open a workspace that passes every check, or raise ConfigError listing all problems."""
    workspace, found = _check(Path(root).resolve())
    if found or workspace is None:
        raise ConfigError(found)  # sorted by file and line there
    return workspace
