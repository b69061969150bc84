"""One shape for every error the API returns: `{"error": {"status", "code", "message"}}`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from trueup.errors import TrueupError

log = logging.getLogger("trueup.api")

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 422: "invalid", 429: "rate_limited", 500: "internal", 503: "unavailable"}  # fmt: skip


class ErrorBody(BaseModel):
    status: int
    code: str
    message: str
    detail: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code or CODES.get(status, "error")
        self.headers = headers or {}


def error_response(status: int, message: str, code: str | None = None, detail: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:  # fmt: skip
    body = {
        "error": {
            "status": status,
            "code": code or CODES.get(status, "error"),
            "message": message,
            "detail": detail,
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.code, headers=exc.headers)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        return http_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        message = "; ".join(f"{p['where']}: {p['message']}" for p in problems) or "the request is not valid"
        return error_response(422, message, detail=problems)

    @app.exception_handler(TrueupError)
    async def _trueup(_: Request, exc: TrueupError) -> JSONResponse:  # a value trueup cannot read
        return error_response(422, str(exc))

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error")
        return error_response(500, "internal error; the server log has the details")


def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """A framework error (no such path, a method the path lacks) in the one shape."""
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:  # every method the path has, not only the first matching route's
        path = request.url.path
        methods = {m for r in routes(request.app) if r.path_regex.match(path) for m in r.methods or ()}
        headers["Allow"] = ", ".join(sorted(methods))
    return error_response(exc.status_code, str(exc.detail), headers=headers)


RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": CODES[status].replace("_", " ")}
    for status in (400, 401, 403, 404, 422, 429)
}


def routes(app: Any) -> list[Any]:
    """Every route with an endpoint, through included routers."""
    found = []
    for route in app.routes:
        inner = getattr(route, "router", None)
        if inner is not None and not hasattr(route, "endpoint"):
            found.extend(routes(inner))
        elif hasattr(route, "path_regex"):
            found.append(route)
    return found
