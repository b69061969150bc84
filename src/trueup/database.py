"""SQLAlchemy database URLs, shared by SQL sources and the state store."""

from __future__ import annotations


def engine_url(url: str) -> str:
    """Use psycopg 3 for `postgresql://` URLs, the driver trueup installs."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url
