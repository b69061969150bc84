"""The governed API: `/v1` over the published snapshot and the findings queue, with keys, scopes,
personal data masked unless allowed, an audit log, rate limits and Prometheus metrics."""

from trueup.api.app import create_app

__all__ = ["create_app"]
