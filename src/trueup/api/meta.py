"""Runs, handoffs, the ledger, Prometheus metrics, the OpenAPI document and a health check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from trueup.api.errors import RESPONSES, ApiError
from trueup.api.security import Anyone, Reader
from trueup.report.model import HandoffLedger, Ledger

router = APIRouter()


class StepInfo(BaseModel):
    name: str
    outcome: str
    seconds: float | None = None
    counts: dict[str, Any]


class RunInfo(BaseModel):
    id: str
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str
    steps: list[StepInfo]
    error: str | None = None


class Health(BaseModel):
    status: str
    published_run: str | None


@router.get("/v1/runs", response_model=list[RunInfo], responses=RESPONSES, tags=["runs"],
            summary="The run history, newest first")  # fmt: skip
def runs(request: Request, principal: Reader) -> list[dict[str, Any]]:
    history = request.app.state.api.state.runs(limit=50)
    return [
        {"id": r.id, "started_at": r.started_at, "finished_at": r.finished_at, "outcome": r.outcome, "error": r.error,
         "steps": [{"name": s.name, "outcome": s.outcome, "seconds": s.seconds, "counts": s.counts} for s in r.steps]}
        for r in history
    ]  # fmt: skip


def _ledger(request: Request) -> dict[str, Any]:
    ledger = request.app.state.api.ledger()
    if ledger is None:
        raise ApiError(503, "nothing is published yet: run `trueup run` first", "unpublished")
    return ledger


@router.get("/v1/ledger", response_model=Ledger, responses=RESPONSES, tags=["ledger"],
            summary="The debt ledger of the last run: the data of the report")  # fmt: skip
def ledger(request: Request, principal: Reader) -> dict[str, Any]:
    return _ledger(request)


@router.get("/v1/handoffs", response_model=list[HandoffLedger], responses=RESPONSES, tags=["ledger"],
            summary="Every handoff with its contract, gaps, findings, money and recommendation")  # fmt: skip
def handoffs(request: Request, principal: Reader) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = _ledger(request)["handoffs"]
    return [
        h for h in rows if principal.systems is None or principal.sees([h["from_system"], h["to_system"]])
    ]


@router.get("/v1/handoffs/{handoff_id}", response_model=HandoffLedger, responses=RESPONSES, tags=["ledger"],
            summary="One handoff")  # fmt: skip
def handoff(request: Request, handoff_id: str, principal: Reader) -> dict[str, Any]:
    for h in handoffs(request, principal):
        if h["id"] == handoff_id:
            return h
    raise ApiError(404, f"no handoff {handoff_id}")


@router.get(
    "/health", response_model=Health, tags=["meta"], summary="Whether the API answers, and what it serves"
)
def health(request: Request, principal: Anyone) -> dict[str, Any]:
    api = request.app.state.api
    return {"status": "ok", "published_run": api.published_run()}


@router.get("/metrics", tags=["meta"], summary="Prometheus metrics", response_class=Response)
def metrics(request: Request, principal: Anyone) -> Response:
    body, content_type = request.app.state.api.metrics.render()
    return Response(body, media_type=content_type)


@router.get("/openapi.json", tags=["meta"], summary="This API's OpenAPI document", include_in_schema=False)
def openapi(request: Request, principal: Anyone) -> JSONResponse:
    return JSONResponse(request.app.openapi())
