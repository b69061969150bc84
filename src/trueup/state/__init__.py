"""The state store: run history (and, later, findings, keys and the audit log)."""

from trueup.state.store import StateStore

__all__ = ["StateStore"]
