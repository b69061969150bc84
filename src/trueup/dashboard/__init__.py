"""The dashboard: the pages operators work the findings queue in and leaders read before Monday.

Served by `trueup serve` beside the API (:func:`install`), on the same keys and scopes."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from trueup.api.errors import ApiError, error_response, http_error
from trueup.dashboard.pages import render, router
from trueup.dashboard.session import Refused, SignIn

API_PATHS = ("/v1/", "/health", "/metrics", "/openapi.json")


def install(app: FastAPI) -> None:
    app.include_router(router)

    @app.exception_handler(SignIn)
    async def _sign_in(_: Request, exc: SignIn) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> HTMLResponse:
        return render(request, "error.html", None, 403, title="Not allowed", message=exc.message)

    @app.exception_handler(HTTPException)
    async def _missing(request: Request, exc: HTTPException) -> Response:  # no such page, a wrong method
        if request.url.path.startswith(API_PATHS):
            return http_error(request, exc)
        title = {404: "Not found", 405: "Not allowed"}.get(exc.status_code, "Something is wrong")
        return render(request, "error.html", None, exc.status_code, title=title, message=str(exc.detail))

    @app.exception_handler(ApiError)
    async def _error(request: Request, exc: ApiError) -> Response:  # JSON for the API, a page for people
        if request.url.path.startswith(API_PATHS):
            return error_response(exc.status, exc.message, exc.code, headers=exc.headers)
        title = {404: "Not found", 503: "Nothing published yet"}.get(exc.status, "Something is wrong")
        return render(request, "error.html", None, exc.status, title=title, message=exc.message)


__all__ = ["install"]
