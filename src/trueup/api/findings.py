"""`/v1/findings`: the queue, one finding, and people's actions on them.

Every action takes an optional `Idempotency-Key` header: the same key with the same body replays
the stored response, the same key with another body is refused (422), and a duplicate arriving
while the first is still running is told so (409). Actions are recorded in the finding's audit
trail under the key's name.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from trueup import findings as queue
from trueup.api.errors import RESPONSES, ApiError
from trueup.api.records import MAX_PAGE, decode_cursor, encode_cursor
from trueup.api.security import Operator, Principal, Reader
from trueup.checks import CATEGORIES
from trueup.state.findings import ACTIVE, STATES, FindingError

router = APIRouter(prefix="/v1", tags=["findings"])
Many = Annotated[list[str] | None, Query(description="keep only these (repeatable)")]


class EntityRef(BaseModel):
    entity: str
    system: str | None = None
    source_id: str | None = None
    canonical_id: str | None = None


class Finding(BaseModel):
    """The public shape of a finding, the same as `trueup findings --json`."""

    id: int
    check: str
    category: str
    severity: Literal["critical", "warning", "info"]
    state: str
    title: str
    detail: str | None = None
    owner: str | None = None
    assignee: str | None = None
    handoff: str | None = None
    field: str | None = None
    money: float | None = None
    minutes: float
    cause: str
    cause_reason: str | None = None
    entities: list[EntityRef] = Field(
        description="the records it is about; in a page of the queue only the first few (`entity_count` says "
        "how many there are, `GET /v1/findings/{id}` lists them all)"
    )
    entity_count: int = Field(description="how many records it is about")
    values: Any = None
    first_seen: datetime
    last_seen: datetime
    first_run: str
    last_run: str
    suppressed_until: datetime | None = None
    fingerprint: str


class Event(BaseModel):
    at: datetime
    actor: str
    action: str
    from_state: str | None = None
    to_state: str
    reason: str | None = None
    run_id: str | None = None
    detail: Any = None


class FindingDetail(Finding):
    rule: str | None = None
    history: list[Event]


class FindingPage(BaseModel):
    items: list[Finding]
    next_cursor: str | None = None


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    reason: str | None = Field(None, max_length=2000, description="why, for the record")


class Assign(Action):
    assignee: str = Field(..., min_length=1, max_length=255)


class Suppress(Action):
    reason: str = Field(..., min_length=1, max_length=2000)
    until: str | None = Field(
        None, description="a date (2026-12-31) or a duration (30d, 2w); none: until lifted"
    )


@router.get("/findings", response_model=FindingPage, responses=RESPONSES, summary="The findings queue")
async def list_findings(
    request: Request,
    principal: Reader,
    category: Annotated[list[str] | None, Query(description=f"any of: {', '.join(CATEGORIES)}")] = None,
    check: Many = None,
    system: Many = None,
    handoff: Many = None,
    owner: Many = None,
    severity: Many = None,
    state: Annotated[
        list[str] | None,
        Query(description=f"default: still open ({', '.join(ACTIVE)}); any of {', '.join(STATES)}"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    systems = principal.within(tuple(system or ()))
    if systems is None:
        return {"items": [], "next_cursor": None}
    filters = queue.Filters(category=tuple(category or ()), check=tuple(check or ()), system=systems,
                            handoff=tuple(handoff or ()), owner=tuple(owner or ()), severity=tuple(severity or ()),
                            state=tuple(state or ()) or ACTIVE)  # fmt: skip
    if mistake := filters.mistake():  # a typo is not a clean queue
        raise ApiError(422, mistake, "invalid_filter")
    start = _offset(cursor)
    api = request.app.state.api
    found = await api.read(queue.select, api.state, filters, limit=limit + 1, offset=start, preview=True)
    more = len(found) > limit
    items = queue.publics(found[:limit], preview=True)
    return {"items": items, "next_cursor": encode_cursor(str(start + limit)) if more else None}


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    text = decode_cursor(cursor)
    if not text.isdigit():
        raise ApiError(422, "this cursor is not one the API gave out", "invalid_cursor")
    return int(text)


@router.get("/findings/{finding_id}", response_model=FindingDetail, responses=RESPONSES,
            summary="One finding: the values in each system, the rule, the cause and the history")  # fmt: skip
async def get_finding(request: Request, finding_id: int, principal: Reader) -> dict[str, Any]:
    api = request.app.state.api
    return await api.read(finding_for, api, finding_id, principal)


def finding_for(api: Any, finding_id: int, principal: Principal) -> dict[str, Any]:
    """One finding with its rule and history, if it exists and is within the key's reach (else 404)."""
    try:
        data = queue.detail(api.state, api.workspace.root, finding_id)
    except FindingError:
        raise ApiError(404, f"no finding {finding_id}") from None
    if not principal.sees(e.get("system") for e in data["entities"]):
        raise ApiError(404, f"no finding {finding_id}")
    return data


async def _act(request: Request, finding_id: int, action: str, body: Action, principal: Principal,
               idempotency_key: str | None, **options: Any) -> JSONResponse:  # fmt: skip
    api = request.app.state.api
    request.state.write = True
    digest = hashlib.sha256(
        json.dumps([finding_id, action, body.model_dump()], sort_keys=True).encode()
    ).hexdigest()
    if idempotency_key:
        held = await run_in_threadpool(api.state.begin_idempotent, principal.key_id, idempotency_key, digest)
        if held.outcome == "conflict":
            raise ApiError(422, "this Idempotency-Key was used with another request", "idempotency_conflict")
        if held.outcome == "running":
            raise ApiError(409, "a request with this Idempotency-Key is still running", "idempotency_running")
        if held.outcome == "replay":
            return JSONResponse(
                held.response, status_code=held.status or 200, headers={"Idempotent-Replay": "true"}
            )
    try:
        data = await run_in_threadpool(_apply, request, finding_id, action, body, principal, options)
        status, payload = 200, data
    except ApiError as exc:
        status, payload = exc.status, {"error": {"status": exc.status, "code": exc.code, "message": exc.message,
                                                 "detail": None}}  # fmt: skip
    except BaseException:
        if idempotency_key:
            await run_in_threadpool(api.state.release_idempotent, principal.key_id, idempotency_key)
        raise
    payload = json.loads(json.dumps(payload, default=str))
    if idempotency_key:
        await run_in_threadpool(
            api.state.finish_idempotent, principal.key_id, idempotency_key, status, payload
        )
    return JSONResponse(payload, status_code=status)


def _apply(request: Request, finding_id: int, action: str, body: Action, principal: Principal,
           options: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    api = request.app.state.api
    finding_for(api, finding_id, principal)  # 404 when it does not exist or is out of the key's reach
    try:
        api.state.act([finding_id], action, actor=f"api:{principal.name}", reason=body.reason, **options)
    except FindingError as exc:
        raise ApiError(409, str(exc), "invalid_transition") from None
    return FindingDetail.model_validate(finding_for(api, finding_id, principal)).model_dump(mode="json")


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=255,
           description="repeat a write safely: the same key and body replay the first response"),
]  # fmt: skip
WRITE_RESPONSES = {
    **RESPONSES,
    409: RESPONSES[422] | {"description": "the finding cannot move that way, or a duplicate is running"},
}


@router.post("/findings/{finding_id}/acknowledge", response_model=FindingDetail, responses=WRITE_RESPONSES,
             summary="Acknowledge a finding: somebody is on it")  # fmt: skip
async def acknowledge(request: Request, finding_id: int, principal: Operator, body: Action | None = None,
                      idempotency_key: IdempotencyKey = None) -> JSONResponse:  # fmt: skip
    return await _act(
        request, finding_id, "acknowledge", body or Action(reason=None), principal, idempotency_key
    )


@router.post("/findings/{finding_id}/assign", response_model=FindingDetail, responses=WRITE_RESPONSES,
             summary="Assign a finding to a person")  # fmt: skip
async def assign(request: Request, finding_id: int, body: Assign,
                 principal: Operator, idempotency_key: IdempotencyKey = None) -> JSONResponse:  # fmt: skip
    return await _act(request, finding_id, "assign", body, principal, idempotency_key, assignee=body.assignee)


@router.post("/findings/{finding_id}/resolve", response_model=FindingDetail, responses=WRITE_RESPONSES,
             summary="Resolve a finding: it was fixed")  # fmt: skip
async def resolve(request: Request, finding_id: int, principal: Operator, body: Action | None = None,
                  idempotency_key: IdempotencyKey = None) -> JSONResponse:  # fmt: skip
    return await _act(request, finding_id, "resolve", body or Action(reason=None), principal, idempotency_key)


@router.post("/findings/{finding_id}/suppress", response_model=FindingDetail, responses=WRITE_RESPONSES,
             summary="Suppress a finding, with a reason and optionally until when")  # fmt: skip
async def suppress(request: Request, finding_id: int, body: Suppress,
                   principal: Operator, idempotency_key: IdempotencyKey = None) -> JSONResponse:  # fmt: skip
    try:
        until = queue.parse_until(body.until)
    except Exception as exc:
        raise ApiError(422, str(exc)) from None
    return await _act(request, finding_id, "suppress", body, principal, idempotency_key, until=until)
