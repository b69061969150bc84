"""`/v1/customers/{id}` (the golden record, where each field came from, the linked records and why),
its timeline, and `/v1/search` across names, emails, phones and every system's ids."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from trueup import lookup
from trueup.api.errors import RESPONSES, ApiError
from trueup.api.masking import mask, mask_value
from trueup.api.records import RECORDS, rows
from trueup.api.security import Principal, Reader
from trueup.serving.customers import CustomerStore


class FieldSource(BaseModel):
    field: str
    value: Any = None
    system: str | None = None
    source_id: str | None = None
    loaded_at: datetime | None = None


class SourceRecord(BaseModel):
    system: str
    source_id: str
    name: str | None = None
    company: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    file: str | None = None
    line: int | None = None


class LinkEvidence(BaseModel):
    system_a: str
    source_a: str
    system_b: str
    source_b: str
    rule: str | None = None
    probability: float | None = None
    evidence: Any = None


CustomerRecord = RECORDS["customer"]


class CustomerDetail(BaseModel):
    customer: CustomerRecord  # type: ignore[valid-type]
    fields: list[FieldSource]
    records: list[SourceRecord]
    links: list[LinkEvidence]


class TimelineEvent(BaseModel):
    occurred_at: datetime
    kind: str | None = None
    summary: str | None = None
    entity: str
    canonical_id: str
    systems: list[str]


class Timeline(BaseModel):
    customer: str
    since: datetime | None
    total: int = Field(description="events in the span; `events` holds the newest `limit` of them")
    events: list[TimelineEvent]


class SearchHit(BaseModel):
    entity: str
    canonical_id: str
    label: str | None
    systems: list[str]


class SearchResult(BaseModel):
    query: str
    hits: list[SearchHit]


router = APIRouter(prefix="/v1", tags=["customers"])
TIMELINE_LIMIT, MAX_TIMELINE = 200, 5000


def _document(api: Any, canonical_id: str, principal: Principal) -> tuple[CustomerStore, dict[str, Any]]:
    store = api.customers()
    found = store.customer(canonical_id)
    if found is None or not principal.sees(found["systems"]):
        raise ApiError(404, f"no customer {canonical_id}")
    return store, found


def explain(api: Any, canonical_id: str, principal: Principal) -> dict[str, Any]:
    """The golden customer, each field's source, the linked records and why, as the key may see them."""
    _, found = _document(api, canonical_id, principal)
    reach = principal.sees
    fields = [
        {**f, "value": f["value"] if principal.pii else mask_value(f["field"], f["value"])}
        for f in found["fields"]
        if f["system"] is None or reach([f["system"]])
    ]
    records = [mask(r, principal.pii) for r in found["records"] if reach([r["system"]])]
    links = [link for link in found["links"] if reach([link["system_a"]]) and reach([link["system_b"]])]
    return {
        "customer": mask(found["customer"], principal.pii),
        "fields": fields,
        "records": records,
        "links": links,
    }


def timeline_of(
    api: Any, canonical_id: str, since: str | None, principal: Principal, limit: int = TIMELINE_LIMIT
) -> dict[str, Any]:
    """The newest `limit` events with a customer (oldest first), and how many there are in all."""
    moment = lookup.parse_since(since, api.as_of()) if since else None
    store, _ = _document(api, canonical_id, principal)
    events, total = store.timeline(canonical_id, moment, limit)
    return {
        "customer": canonical_id, "since": moment, "total": total,
        "events": [e for e in events if principal.sees(e["systems"])],
    }  # fmt: skip


def search_hits(api: Any, q: str, principal: Principal) -> dict[str, Any]:
    if not principal.pii and "@" in q:
        raise ApiError(403, "searching by email needs a key with personal data (`--pii`)")
    con = api.snapshot.cursor()
    try:
        customers = lookup.find_customers(con, q, api.region)
        others = rows(con.execute(
            "SELECT 'job' AS entity, canonical_id, number AS label, systems FROM job WHERE number = $1 OR canonical_id = $1"
            " UNION ALL SELECT 'invoice', canonical_id, number, systems FROM invoice WHERE number = $1 OR canonical_id = $1"
            " UNION ALL SELECT c.entity, c.canonical_id, c.source_id, [c.system] FROM clusters c"
            " WHERE c.source_id = $1 AND c.entity <> 'customer' LIMIT 50",
            [q.strip()],
        ))  # fmt: skip
    except Exception as exc:
        raise api.unpublished(exc) from None
    finally:
        con.close()
    hits = [{"entity": "customer", "canonical_id": c["canonical_id"], "label": c["name"], "systems": c["systems"]}
            for c in customers] + others  # fmt: skip
    seen: set[tuple[str, str]] = set()
    unique = []
    for hit in hits:
        key = (hit["entity"], hit["canonical_id"])
        if key not in seen and principal.sees(hit["systems"]):
            seen.add(key)
            unique.append(hit)
    return {"query": q, "hits": unique}


@router.get("/customers/{canonical_id}", response_model=CustomerDetail, responses=RESPONSES,
            summary="A customer: the golden record, each field's source, the linked records and why")  # fmt: skip
async def get_customer(request: Request, canonical_id: str, principal: Reader) -> dict[str, Any]:
    # In the event loop, not a worker thread: one SQLite B-tree read of a file that never changes
    # (well under a millisecond) costs less than the hop to a thread and back.
    detail = explain(request.app.state.api, canonical_id, principal)
    if principal.pii:
        request.state.pii_read = True
    return detail


@router.get("/customers/{canonical_id}/timeline", response_model=Timeline, responses=RESPONSES,
            summary="Every interaction with a customer across systems, oldest first")  # fmt: skip
async def get_timeline(
    request: Request,
    canonical_id: str,
    principal: Reader,
    since: Annotated[
        str | None, Query(description="a span (90d, 12w, 6m) before the workspace's as_of, or a date")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_TIMELINE, description="the newest this many events")
    ] = TIMELINE_LIMIT,
) -> dict[str, Any]:
    if limit <= TIMELINE_LIMIT:  # in the event loop, as above: an index range read of at most 200 rows
        return timeline_of(request.app.state.api, canonical_id, since, principal, limit)
    return await run_in_threadpool(timeline_of, request.app.state.api, canonical_id, since, principal, limit)


@router.get("/search", response_model=SearchResult, responses=RESPONSES,
            summary="Find customers, jobs and invoices by name, email, phone, number or any system's id")  # fmt: skip
def search(
    request: Request,
    q: Annotated[str, Query(min_length=2, max_length=200, description="a name, email, phone, number or id")],
    principal: Reader,
) -> dict[str, Any]:
    return search_hits(request.app.state.api, q, principal)
