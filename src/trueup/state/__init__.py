"""The state store: run history, link decisions, findings, API keys and the audit logs."""

from trueup.state.store import StateStore

__all__ = ["StateStore"]
