"""Who is asking and what they may do, decided in one place.

Every route declares its scope with a :func:`requires` dependency (`public`, `read`, `operate`,
`admin`; each key scope includes the ones before it); a test walks the route table and fails on a
route without one. The dependency reads the key from `Authorization: Bearer <key>` (or
`X-API-Key`), refuses unknown and revoked keys (401) and keys without the scope (403), applies the
key's rate limit (429) and leaves the :class:`Principal` on the request for the audit log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from trueup.api.errors import ApiError
from trueup.state.keys import SCOPES
from trueup.state.models import ApiKey

RANK = {"public": -1, **{s: i for i, s in enumerate(SCOPES)}}
_bearer = HTTPBearer(auto_error=False, description="An API key from `trueup keys create`.")
_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="The same key, for clients that cannot send Bearer."
)


@dataclass(frozen=True)
class Principal:
    key_id: str
    name: str
    scope: str
    pii: bool
    systems: tuple[str, ...] | None  # None: every system
    rate_per_minute: int

    def may(self, scope: str) -> bool:
        return RANK[self.scope] >= RANK[scope]

    def sees(self, systems: Iterable[str | None] | None) -> bool:
        """Whether a record held by these systems is within the key's reach."""
        return self.systems is None or bool(set(systems or ()) & set(self.systems))

    def within(self, systems: tuple[str, ...]) -> tuple[str, ...] | None:
        """The systems a query may filter by: those asked for (all when none), within the key's
        reach; None when nothing asked for is within it."""
        if self.systems is None:
            return systems
        narrowed = tuple(s for s in systems if s in self.systems) if systems else self.systems
        return narrowed or None

    @classmethod
    def of(cls, key: ApiKey) -> Principal:
        return cls(key.id, key.name, key.scope, key.pii, tuple(key.systems) if key.systems else None,
                   key.rate_per_minute)  # fmt: skip


ANONYMOUS = Principal("", "anonymous", "public", False, None, 0)


class RateLimiter:
    """A token bucket per key: `rate_per_minute` tokens, refilled continuously."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key_id: str, per_minute: int) -> float | None:
        """None when the request may go; else the seconds to wait."""
        now = time.monotonic()
        rate = per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens < 1:
                self._buckets[key_id] = (tokens, now)
                return (1 - tokens) / rate
            self._buckets[key_id] = (tokens - 1, now)
            return None


def requires(scope: str) -> Callable[..., Awaitable[Principal]]:
    """The dependency a route declares: the key scope it needs (`public` needs no key)."""
    if scope not in RANK:
        raise ValueError(f"unknown scope {scope}")
    if scope == "public":

        async def anyone() -> Principal:
            return ANONYMOUS

        anyone.scope = scope  # type: ignore[attr-defined]
        return anyone

    async def dependency(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header: Annotated[str | None, Depends(_header)],
    ) -> Principal:
        token = (bearer.credentials if bearer else None) or header
        if not token:
            raise ApiError(401, "send an API key: `Authorization: Bearer <key>`", headers=CHALLENGE)
        api = request.app.state.api
        key = await api.authenticate(token)
        if key is None:
            raise ApiError(401, "this API key is unknown or revoked", headers=CHALLENGE)
        principal = Principal.of(key)
        request.state.principal = principal
        if not principal.may(scope):
            raise ApiError(403, f"this route needs a key with the {scope} scope; this key has {key.scope}")
        wait = api.limiter.take(key.id, key.rate_per_minute)
        if wait is not None:
            raise ApiError(429, f"rate limit of {key.rate_per_minute} requests a minute reached",
                           headers={"Retry-After": str(max(1, round(wait)))})  # fmt: skip
        return principal

    dependency.scope = scope  # type: ignore[attr-defined]
    return dependency


CHALLENGE = {"WWW-Authenticate": "Bearer"}
PUBLIC = requires("public")
READ = requires("read")
OPERATE = requires("operate")
ADMIN = requires("admin")


Anyone = Annotated[Principal, Depends(PUBLIC)]
Reader = Annotated[Principal, Depends(READ)]
Operator = Annotated[Principal, Depends(OPERATE)]
Admin = Annotated[Principal, Depends(ADMIN)]


def declared_scope(call: object) -> str | None:
    """The scope a dependency declares, if it is one of ours."""
    return getattr(call, "scope", None)
