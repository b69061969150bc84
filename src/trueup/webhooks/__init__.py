"""Sending webhook deliveries: signed, retried with backoff from the outbox, refused for private
addresses unless a subscription allows them.

Each POST carries the JSON event and these headers:

- `Trueup-Event`: `finding.opened`, `finding.resolved` or `run.finished`;
- `Trueup-Delivery`: the delivery's id (the same on every retry: receivers drop duplicates by it);
- `Trueup-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`.

A receiver recomputes the HMAC over the timestamp and the raw body, compares in constant time, and
refuses a timestamp more than five minutes old (:func:`verify` does exactly that). A 2xx answer is
delivered; anything else, or no answer within ten seconds, is retried 1 s, 2 s, 4 s ... later,
eight tries in all. The schedule lives in the state store, so it survives restarts and more than
one sender can work the same outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import threading
import time
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from trueup.errors import TrueupError
from trueup.state import StateStore
from trueup.state.models import Delivery, Webhook

TIMEOUT = 10.0
TOLERANCE = 300  # seconds a signature's timestamp may be old


class UrlRefused(TrueupError):
    """A URL that is not http(s) or points at an address webhooks may not reach."""


def check_url(url: str, allow_private: bool = False) -> None:
    """Refuse URLs that are not http(s), and those whose host resolves to a private, loopback,
    link-local or otherwise internal address, unless the subscription allows it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused(f"{url!r}: a webhook URL starts with https:// (or http://) and names a host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror:
        raise UrlRefused(f"{parts.hostname}: the host does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise UrlRefused(
                f"{parts.hostname} resolves to {address}, a private or internal address; create the webhook"
                " with allow_private to send there on purpose"
            )


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str, now: float | None = None) -> bool:
    """What a receiver does: the signature matches the body and is recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > TOLERANCE:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


def send(delivery: Delivery, hook: Webhook, client: httpx.Client) -> tuple[int | None, str | None, bool]:
    """One attempt: (status, error, delivered)."""
    try:
        check_url(hook.url, hook.allow_private)  # again at sending: DNS may have changed
    except UrlRefused as exc:
        return None, str(exc), False
    body = json.dumps(delivery.payload, sort_keys=True, default=str).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "trueup-webhooks/1",
        "Trueup-Event": delivery.event,
        "Trueup-Delivery": str(delivery.id),
        "Trueup-Signature": sign(hook.secret, body, int(time.time())),
    }
    try:
        response = client.post(hook.url, content=body, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}", False
    return response.status_code, None if response.is_success else response.text[:500], response.is_success


def deliver_due(
    state: StateStore, client: httpx.Client | None = None, limit: int = 50, now: datetime | None = None
) -> int:
    """Send every delivery that is due (now, or at `now`); returns how many were attempted."""
    own = client is None
    client = client or httpx.Client(follow_redirects=False)
    try:
        claimed = state.claim_deliveries(limit, now)
        for delivery, hook in claimed:
            status, error, delivered = send(delivery, hook, client)
            state.record_attempt(delivery.id, status, error, delivered)
        return len(claimed)
    finally:
        if own:
            client.close()


class Sender:
    """Works the outbox in a background thread while the API serves."""

    def __init__(self, state: StateStore, interval: float = 1.0):
        self.state, self.interval = state, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="trueup-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=TIMEOUT + 5)

    def _loop(self) -> None:
        with httpx.Client(follow_redirects=False) as client:
            while not self._stop.is_set():
                try:
                    busy = deliver_due(self.state, client)
                except Exception:  # a database blip: try again on the next tick
                    busy = 0
                if not busy:
                    self._stop.wait(self.interval)
