"""Signing in to the dashboard: an API key once, a session cookie afterwards, CSRF on every form.

The cookie (`trueup_session`) is HttpOnly and SameSite=Strict, and Secure when served over HTTPS;
the state store keeps only a hash of its token, with the key it stands for, so revoking the key
ends the session. Every form carries the session's CSRF token (a hidden `csrf` field, or the
`X-CSRF-Token` header for the page's own requests), compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from trueup.api.security import RANK, Principal

COOKIE = "trueup_session"


@dataclass(frozen=True)
class Visitor:
    principal: Principal
    csrf: str


class SignIn(Exception):
    """No session: the page answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str):
        self.next_path = next_path


class Refused(Exception):
    """A session without the scope a page or action needs."""

    def __init__(self, message: str):
        self.message = message


def signed_in(scope: str) -> Callable[..., Awaitable[Visitor]]:
    """The dependency every dashboard page declares: a session whose key has this scope."""

    async def dependency(request: Request) -> Visitor:
        token = request.cookies.get(COOKIE)
        api = request.app.state.api
        found = await run_in_threadpool(api.state.find_session, token) if token else None
        if found is None:
            raise SignIn(_back_to(request))
        key, csrf = found
        principal = Principal.of(key)
        request.state.principal = principal
        if RANK[principal.scope] < RANK[scope]:
            raise Refused(f"this needs a key with the {scope} scope; yours has {principal.scope}")
        return Visitor(principal, csrf)

    dependency.scope = scope  # type: ignore[attr-defined]
    return dependency


def _back_to(request: Request) -> str:
    """Where to return after signing in: this page, or for a form, the page it was posted from."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    same_site = referer.netloc == request.url.netloc and referer.path.startswith("/")
    return referer.path if same_site else "/"


def check_csrf(visitor: Visitor, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent, visitor.csrf):
        raise Refused(
            "this form has expired or did not come from this dashboard: reload the page and try again"
        )


Viewer = Annotated[Visitor, Depends(signed_in("read"))]
Operator = Annotated[Visitor, Depends(signed_in("operate"))]
