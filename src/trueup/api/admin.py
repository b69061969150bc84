"""`/v1/keys` and `/v1/webhooks`: who may use the API and where trueup sends events (admin scope)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from trueup.api.errors import RESPONSES, ApiError
from trueup.api.security import Admin
from trueup.state.keys import ApiKeyError
from trueup.state.webhooks import EVENTS, WebhookError
from trueup.webhooks import UrlRefused, check_url

router = APIRouter(prefix="/v1", tags=["admin"])
Event = Literal["finding.opened", "finding.resolved", "run.finished"]
assert set(EVENTS) == set(Event.__args__)  # type: ignore[attr-defined]


class Stored(BaseModel):
    """Read from the state store's records as they are."""

    model_config = ConfigDict(from_attributes=True)


class KeyInfo(Stored):
    id: str
    name: str
    scope: str
    pii: bool
    systems: list[str] | None = None
    rate_per_minute: int
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(..., min_length=1, max_length=255)
    scope: Literal["read", "operate", "admin"] = "read"
    pii: bool = False
    systems: list[str] | None = None
    rate_per_minute: int = Field(6000, ge=1, le=1_000_000)


class IssuedKey(KeyInfo):
    key: str = Field(description="the key itself: shown this once, only its hash is kept")


class WebhookInfo(Stored):
    id: int
    url: str
    events: list[str]
    allow_private: bool
    created_at: datetime
    created_by: str
    disabled_at: datetime | None = None


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: str = Field(..., min_length=8, max_length=2000)
    events: list[Event] = Field(..., min_length=1)
    allow_private: bool = Field(False, description="may point at private, loopback or link-local addresses")


class IssuedWebhook(WebhookInfo):
    secret: str = Field(description="signs every delivery (HMAC-SHA256): shown this once")


class DeliveryInfo(Stored):
    id: int
    webhook_id: int
    event: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None = None
    last_error: str | None = None
    created_at: datetime
    delivered_at: datetime | None = None
    payload: Any = None


@router.get(
    "/keys", response_model=list[KeyInfo], responses=RESPONSES, summary="API keys (never their secrets)"
)
def list_keys(request: Request, principal: Admin) -> list[Any]:
    return [KeyInfo.model_validate(k) for k in request.app.state.api.state.api_keys()]


@router.post(
    "/keys", response_model=IssuedKey, status_code=201, responses=RESPONSES, summary="Make an API key"
)
def create_key(request: Request, body: NewKey, principal: Admin) -> BaseModel:
    api = request.app.state.api
    request.state.write = True
    unknown = [s for s in body.systems or [] if s not in api.workspace.config.systems]
    if unknown:
        raise ApiError(422, f"no system {', '.join(unknown)}")
    issued = api.state.create_key(body.name, body.scope, f"api:{principal.name}", pii=body.pii,
                                  systems=body.systems, rate_per_minute=body.rate_per_minute)  # fmt: skip
    return IssuedKey(**KeyInfo.model_validate(issued.key).model_dump(), key=issued.token)


@router.post(
    "/keys/{key_id}/revoke", response_model=KeyInfo, responses=RESPONSES, summary="Revoke an API key"
)
def revoke_key(request: Request, key_id: str, principal: Admin) -> BaseModel:
    request.state.write = True
    api = request.app.state.api
    try:
        revoked = KeyInfo.model_validate(api.state.revoke_key(key_id))
    except ApiKeyError as exc:
        raise ApiError(404, str(exc)) from None
    api.forget_keys()  # refused at once here; other processes within KEY_TTL
    return revoked


@router.get(
    "/webhooks", response_model=list[WebhookInfo], responses=RESPONSES, summary="Webhook subscriptions"
)
def list_webhooks(request: Request, principal: Admin) -> list[Any]:
    return [WebhookInfo.model_validate(h) for h in request.app.state.api.state.webhooks()]


@router.post("/webhooks", response_model=IssuedWebhook, status_code=201, responses=RESPONSES,
             summary="Subscribe a URL to events")  # fmt: skip
async def create_webhook(request: Request, body: NewWebhook, principal: Admin) -> BaseModel:
    api = request.app.state.api
    request.state.write = True
    try:
        await run_in_threadpool(check_url, body.url, body.allow_private)
    except UrlRefused as exc:
        raise ApiError(422, str(exc), "url_refused") from None
    hook = await run_in_threadpool(api.state.create_webhook, body.url, list(body.events), f"api:{principal.name}",
                                   body.allow_private)  # fmt: skip
    return IssuedWebhook(**WebhookInfo.model_validate(hook).model_dump(), secret=hook.secret)


@router.post("/webhooks/{webhook_id}/disable", response_model=WebhookInfo, responses=RESPONSES,
             summary="Stop sending to a subscription")  # fmt: skip
def disable_webhook(request: Request, webhook_id: int, principal: Admin) -> BaseModel:
    request.state.write = True
    try:
        return WebhookInfo.model_validate(request.app.state.api.state.disable_webhook(webhook_id))
    except WebhookError as exc:
        raise ApiError(404, str(exc)) from None


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryInfo], responses=RESPONSES,
            summary="The delivery log of a subscription, newest first")  # fmt: skip
def deliveries(
    request: Request, webhook_id: int, principal: Admin, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[Any]:
    rows = request.app.state.api.state.deliveries(webhook_id, limit)
    return [DeliveryInfo.model_validate(d) for d in rows]


@router.post("/webhooks/deliveries/{delivery_id}/redeliver", response_model=DeliveryInfo, responses=RESPONSES,
             summary="Send a delivery again")  # fmt: skip
def redeliver(request: Request, delivery_id: int, principal: Admin) -> BaseModel:
    request.state.write = True
    try:
        d = request.app.state.api.state.redeliver(delivery_id)
    except WebhookError as exc:
        raise ApiError(404, str(exc)) from None
    return DeliveryInfo.model_validate(d)
