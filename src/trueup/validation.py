"""Validate a workspace completely: the configuration, then every mapping against its sources."""

from __future__ import annotations

from pathlib import Path

from trueup.config.loader import load_workspace
from trueup.errors import ConfigError, Problem
from trueup.mapping.check import mapping_problems
from trueup.workspace import CONFIG_FILE, Workspace


def problems(root: Path | str) -> list[Problem]:
    """Every problem in the workspace at `root`, all at once."""
    root = Path(root).resolve()
    config, located, found = load_workspace(root / CONFIG_FILE)
    if config is not None and located is not None:
        found += mapping_problems(config, located, root)
    return sorted(found, key=lambda p: (p.file, p.line or 0, p.path))


def open_checked(root: Path | str) -> Workspace:
    """Open a workspace that passes every check, or raise ConfigError listing all problems."""
    found = problems(root)
    if found:
        raise ConfigError(found)
    return Workspace.open(root)
