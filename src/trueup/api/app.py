"""The API application: one FastAPI app over a workspace's published snapshot and its state store."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from trueup import dashboard
from trueup.api import admin, customers, errors, findings, meta, records
from trueup.api.errors import ApiError
from trueup.api.metrics import Metrics
from trueup.api.security import RateLimiter
from trueup.serving import Snapshot
from trueup.state import StateStore
from trueup.state.models import ApiKey
from trueup.webhooks import Sender
from trueup.workspace import Workspace

VERSION = "1"


class Api:
    """What every request shares: the workspace, the snapshot, the state store, limits and metrics."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.region = workspace.config.country
        self.snapshot = Snapshot(workspace.serving_pointer)
        self.state = StateStore(workspace.state_url)
        self.limiter = RateLimiter()
        self.metrics = Metrics(self.state)

    async def authenticate(self, token: str) -> ApiKey | None:
        return await run_in_threadpool(self.state.authenticate, token)

    def as_of(self) -> datetime:
        return self.workspace.as_of()

    def ledger(self) -> dict[str, Any] | None:
        return self.snapshot.published()[1]

    def published_run(self) -> str | None:
        return self.snapshot.published()[0]

    def unpublished(self, exc: Exception) -> Exception:
        """What a failed read of the snapshot means: nothing published yet (503), or the error itself."""
        if not self.snapshot.available:
            return ApiError(503, "nothing is published yet: run `trueup run` first", "unpublished")
        return exc

    def close(self) -> None:
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

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        api.metrics.observe(request.method, path, response.status_code, time.perf_counter() - started)
        principal = getattr(request.state, "principal", None)
        kind = (
            "write"
            if getattr(request.state, "write", False)
            else "pii"
            if getattr(request.state, "pii_read", False)
            else None
        )
        if principal is not None and kind is not None:
            await run_in_threadpool(api.state.audit, principal.key_id, request.method, str(request.url.path),
                                    response.status_code, kind)  # fmt: skip
        return response

    return app
