"""API keys, the API's audit log and idempotent writes; mixed into the state store.

A key reads `tu_<id>_<secret>`: the id is public (it names the key in lists and the audit log),
the secret is 32 random bytes of which only a SHA-256 hash is kept, compared in constant time.
A secret that random needs no slow hash: nothing can be guessed from the hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from trueup.errors import TrueupError
from trueup.state.models import ApiAudit, ApiKey, DashboardSession, IdempotentRequest

SCOPES = ("read", "operate", "admin")  # each includes the ones before it
PREFIX = "tu_"
KEYS = cast(Table, ApiKey.__table__)


class ApiKeyError(TrueupError):
    """A key that does not exist, or an option a key cannot have."""


@dataclass(frozen=True)
class Issued:
    key: ApiKey
    token: str  # shown once, never stored


@dataclass(frozen=True)
class Replay:
    """What an idempotent write finds: `new` (go ahead), `replay` (send `response` again),
    `conflict` (the key was used with another body) or `running` (the first is not finished)."""

    outcome: str
    status: int | None = None
    response: Any = None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Keys:
    engine: Engine
    sessions: sessionmaker[Session]

    def create_key(
        self,
        name: str,
        scope: str,
        created_by: str,
        pii: bool = False,
        systems: list[str] | None = None,
        rate_per_minute: int = 6000,
    ) -> Issued:
        if scope not in SCOPES:
            raise ApiKeyError(f"scope {scope!r}: write one of {', '.join(SCOPES)}")
        if rate_per_minute < 1:
            raise ApiKeyError("the rate limit is at least one request a minute")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        key = ApiKey(
            id=key_id, secret_hash=_hash(secret), name=name, scope=scope, pii=pii, systems=systems or None,
            rate_per_minute=rate_per_minute, created_at=datetime.now(UTC), created_by=created_by,
        )  # fmt: skip
        with self.sessions() as s, s.begin():
            s.add(key)
        return Issued(key, f"{PREFIX}{key_id}_{secret}")

    def api_keys(self) -> list[ApiKey]:
        with self.sessions() as s:
            return list(s.scalars(select(ApiKey).order_by(ApiKey.created_at)))

    def revoke_key(self, key_id: str) -> ApiKey:
        with self.sessions() as s, s.begin():
            key = s.get(ApiKey, key_id)
            if key is None:
                raise ApiKeyError(f"no key {key_id}; `trueup keys list` shows them")
            key.revoked_at = key.revoked_at or datetime.now(UTC)
            return key

    def authenticate(self, token: str) -> ApiKey | None:
        """The live key a token stands for, or None (unknown, malformed, wrong secret or revoked)."""
        if not token.startswith(PREFIX):
            return None
        key_id, _, secret = token[len(PREFIX) :].partition("_")
        if not key_id or not secret:
            return None
        with self.engine.connect() as conn:  # every request asks: a plain query, no ORM session
            row = conn.execute(select(KEYS).where(KEYS.c.id == key_id)).first()
        if row is None or row.revoked_at is not None:
            return None
        return ApiKey(**row._mapping) if hmac.compare_digest(row.secret_hash, _hash(secret)) else None

    # --- dashboard sessions ------------------------------------------------------------------

    def open_session(self, key_id: str, hours: float = 12) -> tuple[str, str]:
        """A new session for a key: (the cookie's token, the CSRF token its forms carry)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self.sessions() as s, s.begin():
            s.add(DashboardSession(token_hash=_hash(token), key_id=key_id, csrf=csrf, created_at=now,
                                   expires_at=now + timedelta(hours=hours)))  # fmt: skip
        return token, csrf

    def find_session(self, token: str) -> tuple[ApiKey, str] | None:
        """The live key and CSRF token of a session, or None (unknown, expired, or its key revoked)."""
        with self.sessions() as s:
            held = s.get(DashboardSession, _hash(token))
            if held is None or held.expires_at <= datetime.now(UTC):
                return None
            key = s.get(ApiKey, held.key_id)
        if key is None or key.revoked_at is not None:
            return None
        return key, held.csrf

    def close_session(self, token: str) -> None:
        with self.sessions() as s, s.begin():
            held = s.get(DashboardSession, _hash(token))
            if held is not None:
                s.delete(held)

    def audit(self, key_id: str, method: str, path: str, status: int, kind: str) -> None:
        self.audit_many(
            [{"at": datetime.now(UTC), "key_id": key_id, "method": method, "path": path, "status": status,
              "kind": kind}]
        )  # fmt: skip

    def audit_many(self, rows: list[dict[str, Any]]) -> None:
        """Audit rows (`at`, `key_id`, `method`, `path`, `status`, `kind`), in one transaction."""
        with self.sessions() as s, s.begin():
            s.execute(insert(ApiAudit), rows)

    def audit_log(self, limit: int = 100) -> list[ApiAudit]:
        with self.sessions() as s:
            return list(s.scalars(select(ApiAudit).order_by(ApiAudit.id.desc()).limit(limit)))

    # --- idempotent writes -----------------------------------------------------------------

    def begin_idempotent(self, key_id: str, idempotency_key: str, request_hash: str) -> Replay:
        """Claim an idempotency key for a request; two requests racing for it get one `new`."""
        try:
            with self.sessions() as s, s.begin():
                s.add(
                    IdempotentRequest(
                        key_id=key_id, idempotency_key=idempotency_key, request_hash=request_hash,
                        created_at=datetime.now(UTC),
                    )
                )  # fmt: skip
            return Replay("new")
        except IntegrityError:
            pass
        with self.sessions() as s:
            held = s.get(IdempotentRequest, (key_id, idempotency_key))
        if held is None:  # released by a failed first attempt in between
            return self.begin_idempotent(key_id, idempotency_key, request_hash)
        if held.request_hash != request_hash:
            return Replay("conflict")
        if held.status is None:
            return Replay("running")
        return Replay("replay", held.status, held.response)

    def finish_idempotent(self, key_id: str, idempotency_key: str, status: int, response: Any) -> None:
        with self.sessions() as s, s.begin():
            s.execute(
                update(IdempotentRequest)
                .where(
                    IdempotentRequest.key_id == key_id, IdempotentRequest.idempotency_key == idempotency_key
                )
                .values(status=status, response=response)
            )

    def release_idempotent(self, key_id: str, idempotency_key: str) -> None:
        """A first attempt that failed on the server: the key may be used again."""
        with self.sessions() as s, s.begin():
            held = s.get(IdempotentRequest, (key_id, idempotency_key))
            if held is not None and held.status is None:
                s.delete(held)
