"""trueup: one source of truth across a company's CRM, dispatch, billing and accounting systems.

The library works without the CLI::

    from trueup import Workspace, pipeline
    outcome = pipeline.run(Workspace.open("path/to/workspace"))
"""

from trueup import pipeline
from trueup.errors import ConfigError, Problem, SourceError, TransientError, TrueupError
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
