"""The API application: one FastAPI app over a workspace's published snapshot and its state store."""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trueup import dashboard
from trueup.api import admin, customers, errors, findings, meta, records
from trueup.api.audit import AuditBuffer
from trueup.api.errors import ApiError
from trueup.api.metrics import Metrics
from trueup.api.security import RateLimiter
from trueup.serving import Snapshot
from trueup.serving.customers import CustomerStore
from trueup.state import StateStore
from trueup.state.models import ApiKey
from trueup.webhooks import Sender
from trueup.workspace import Workspace

VERSION = "1"
T = TypeVar("T")
# Seconds a checked key is trusted: one revoked elsewhere (`trueup keys revoke`, another worker)
# is refused within this.
KEY_TTL = 1.0


class Api:
    """What every request shares: the workspace, the snapshot, the state store, limits and metrics."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.region = workspace.config.country
        self.snapshot = Snapshot(workspace.serving_pointer)
        self.state = StateStore(workspace.state_url)
        self.limiter = RateLimiter()
        self.metrics = Metrics(self.state)
        self.audit = AuditBuffer(self.state)
        self._verified: dict[bytes, tuple[ApiKey, float]] = {}

    async def authenticate(self, token: str) -> ApiKey | None:
        """The live key a token stands for. A key found live is trusted for `KEY_TTL` seconds
        before the state store is asked again: every request asks, and a key changes rarely."""
        digest = hashlib.sha256(token.encode()).digest()
        now = time.monotonic()
        held = self._verified.get(digest)
        if held is not None and held[1] > now:
            return held[0]
        key = await self.read(self.state.authenticate, token)
        if key is None:
            self._verified.pop(digest, None)
        else:
            if len(self._verified) >= 10_000:  # many keys in turn: start again rather than grow
                self._verified.clear()
            self._verified[digest] = (key, now + KEY_TTL)
        return key

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a read of the state store: at once when it is an SQLite file on this machine (a read
        of a millisecond or less costs less than the hop to a worker thread and back, and a pool of
        threads taking turns at the interpreter stretched the slowest answers), in a worker thread
        when it is a database server, whose answer must not hold up the event loop."""
        if self.state.embedded:
            return fn(*args, **kwargs)
        return await run_in_threadpool(fn, *args, **kwargs)

    def forget_keys(self) -> None:
        """Ask the state store about every key again (after a key changes through this process)."""
        self._verified.clear()

    def as_of(self) -> datetime:
        return self.workspace.as_of()

    def ledger(self) -> dict[str, Any] | None:
        return self.snapshot.published()[1]

    def published_run(self) -> str | None:
        return self.snapshot.published()[0]

    def customers(self) -> CustomerStore:
        """The published customers' details and timelines, or why there are none (503)."""
        store = self.snapshot.customers()
        if store is None:
            older = ApiError(503, "this snapshot was published by an older trueup: run `trueup run` again",
                             "unpublished")  # fmt: skip
            raise self.unpublished(older)
        return store

    def unpublished(self, exc: Exception) -> Exception:
        """What a failed read of the snapshot means: nothing published yet (503), or the error itself."""
        if not self.snapshot.available:
            return ApiError(503, "nothing is published yet: run `trueup run` first", "unpublished")
        return exc

    def close(self) -> None:
        self.audit.stop()  # writes what it holds
        self.snapshot.close()
        self.state.close()


def create_app(workspace: Workspace) -> FastAPI:
    api = Api(workspace)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        sender = Sender(api.state)  # webhooks go out while the API serves
        sender.start()
        yield
        sender.stop()
        api.close()

    app = FastAPI(
        lifespan=lifespan,
        title="trueup",
        version=VERSION,
        summary="One governed API over a company's trusted data: customers, jobs, invoices, timelines, findings.",
        openapi_url=None,  # served by meta.openapi, under a declared scope like every route
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = api
    errors.install(app)
    app.include_router(records.router())
    app.include_router(customers.router)
    app.include_router(findings.router)
    app.include_router(admin.router)
    app.include_router(meta.router)
    dashboard.install(app)  # last: its error pages answer for everything outside the API

    app.add_middleware(Observe, api=api)
    return app


class Observe:
    """Every request's metrics, and its audit row when it wrote or returned personal data (a plain
    ASGI middleware: Starlette's `BaseHTTPMiddleware` costs a tenth of a small read)."""

    def __init__(self, app: ASGIApp, api: Api):
        self.app, self.api = app, api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            self.api.metrics.observe(scope["method"], path, status, time.perf_counter() - started)
        state = scope.get("state") or {}  # what the route left on `request.state`
        principal = state.get("principal")
        if principal is None:
            return
        if state.get("write"):
            await run_in_threadpool(self.api.state.audit, principal.key_id, scope["method"], scope["path"], status,
                                    "write")  # fmt: skip
        elif state.get("pii_read"):
            self.api.audit.record(principal.key_id, scope["method"], scope["path"], status, "pii")
