"""trueup: one source of truth across a company's CRM, dispatch, billing and accounting systems.

The library works without the CLI::

    from trueup import Workspace, pipeline
    outcome = pipeline.run(Workspace.open("path/to/workspace"))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from trueup.errors import ConfigError, Problem, SourceError, TransientError, TrueupError

if TYPE_CHECKING:
    from trueup import pipeline
    from trueup.workspace import Workspace

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "Problem",
    "SourceError",
    "TransientError",
    "TrueupError",
    "Workspace",
    "__version__",
    "pipeline",
]

_LAZY = {"pipeline": ("trueup.pipeline", None), "Workspace": ("trueup.workspace", "Workspace")}


def __getattr__(name: str) -> Any:
    """Import the heavy parts (DuckDB, SQLAlchemy, pyarrow) only when they are used."""
    if name not in _LAZY:
        raise AttributeError(f"module 'trueup' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attribute is None else getattr(module, attribute)
