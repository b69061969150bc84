"""The workspace format: models, loading with line numbers, and validation."""

from trueup.config.loader import read_workspace
from trueup.config.models import Workspace

__all__ = ["Workspace", "read_workspace"]
