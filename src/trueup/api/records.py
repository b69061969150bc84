"""`/v1/<entity>`: the golden records, filtered and paged by cursor, as a key may see them.

(No `from __future__ import annotations` here: FastAPI reads the annotations of routes made in a
loop, whose filter models are local names.)
"""

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, create_model

from trueup.api.errors import RESPONSES, ApiError
from trueup.api.masking import PII_FIELDS, mask
from trueup.api.security import Principal, Reader
from trueup.model import ENTITIES, Kind

MAX_PAGE = 500
PLURAL = {"customer": "customers", "location": "locations", "deal": "deals", "job": "jobs", "invoice": "invoices",
          "payment": "payments", "interaction": "interactions"}  # fmt: skip
_TYPES: dict[Kind, Any] = {Kind.MONEY: float, Kind.TIMESTAMP: datetime}


def _record_model(entity: str) -> type[BaseModel]:
    spec = ENTITIES[entity]
    fields: dict[str, Any] = {"canonical_id": (str, ...)}
    for name, kind in spec.fields.items():
        fields[name] = (_TYPES.get(kind, str) | None, None)
    if spec.states:
        fields["state"] = (str | None, Field(None, description=f"one of: {', '.join(spec.states)}"))
    fields["systems"] = (list[str], Field(description="the systems holding a record of it"))
    fields["records"] = (int, Field(description="how many source records it was built from"))
    return create_model(entity.capitalize(), __config__=ConfigDict(extra="ignore"), **fields)


def _filter_model(entity: str) -> type[BaseModel]:
    spec = ENTITIES[entity]
    fields: dict[str, Any] = {
        "limit": (int, Field(50, ge=1, le=MAX_PAGE, description=f"records per page, at most {MAX_PAGE}")),
        "cursor": (str | None, Field(None, description="`next_cursor` of the previous page")),
        "system": (str | None, Field(None, description="only records this system holds")),
    }
    for name, kind in spec.fields.items():
        if kind == Kind.REFERENCE:
            fields[name] = (
                str | None,
                Field(None, description=f"only records of this {name} (canonical id)"),
            )
    if spec.states:
        fields["state"] = (str | None, Field(None, description=f"one of: {', '.join(spec.states)}"))
    return create_model(f"{entity.capitalize()}Filters", __config__=ConfigDict(extra="forbid"), **fields)


RECORDS = {e: _record_model(e) for e in ENTITIES}
PAGES = {
    e: create_model(f"{e.capitalize()}Page", items=(list[m], ...), next_cursor=(str | None, None))  # type: ignore[valid-type]
    for e, m in RECORDS.items()
}


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> str:
    try:
        value = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        value = ""
    if not value:
        raise ApiError(422, "this cursor is not one the API gave out", "invalid_cursor")
    return value


def rows(cursor: Any) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def visible(record: dict[str, Any], principal: Principal) -> dict[str, Any]:
    return mask(record, principal.pii)


def page(request: Request, entity: str, principal: Principal, filters: dict[str, Any]) -> dict[str, Any]:
    api = request.app.state.api
    repeated = sorted(
        {k for k, _ in request.query_params.multi_items() if len(request.query_params.getlist(k)) > 1}
    )
    if repeated:
        raise ApiError(422, f"give {', '.join(repeated)} once: these filters take one value")
    limit = filters.pop("limit")
    after = filters.pop("cursor")
    system = filters.pop("system")
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if after:
        where.append("canonical_id > ?")
        params.append(decode_cursor(after))
    for name, value in filters.items():
        if value is not None:
            where.append(f'"{name}" = ?')
            params.append(value)
    if system:
        where.append("list_contains(systems, ?)")
        params.append(system)
    if principal.systems is not None:
        where.append("list_has_any(systems, ?)")
        params.append(list(principal.systems))
    con = api.snapshot.cursor()
    try:
        found = rows(con.execute(
            f"SELECT * FROM {entity} WHERE {' AND '.join(where)} ORDER BY canonical_id LIMIT {limit + 1}", params
        ))  # fmt: skip
    except Exception as exc:  # a snapshot without the table: no run has published yet
        raise api.unpublished(exc) from None
    finally:
        con.close()
    more = len(found) > limit
    found = found[:limit]
    if principal.pii and found and any(f in PII_FIELDS for f in ENTITIES[entity].fields):
        request.state.pii_read = True
    return {
        "items": [visible(r, principal) for r in found],
        "next_cursor": encode_cursor(found[-1]["canonical_id"]) if more and found else None,
    }


def one(request: Request, entity: str, canonical_id: str, principal: Principal) -> dict[str, Any]:
    api = request.app.state.api
    con = api.snapshot.cursor()
    try:
        found = rows(con.execute(f"SELECT * FROM {entity} WHERE canonical_id = ?", [canonical_id]))
    except Exception as exc:
        raise api.unpublished(exc) from None
    finally:
        con.close()
    if not found or not principal.sees(found[0].get("systems")):
        raise ApiError(404, f"no {entity} {canonical_id}")
    if principal.pii and any(f in PII_FIELDS for f in ENTITIES[entity].fields):
        request.state.pii_read = True
    return visible(found[0], principal)


def _register(router: APIRouter, entity: str) -> None:
    plural = PLURAL[entity]
    Filters = _filter_model(entity)

    @router.get(f"/{plural}", response_model=PAGES[entity], name=f"list_{plural}", tags=["records"],
                summary=f"List {plural}", responses=RESPONSES)  # fmt: skip
    def list_records(
        request: Request,
        filters: Annotated[Filters, Query()],  # type: ignore[valid-type]
        principal: Reader,
    ) -> dict[str, Any]:
        return page(request, entity, principal, filters.model_dump())  # type: ignore[attr-defined]

    if entity == "customer":
        return  # /customers/{id} has its own route, with provenance and linked records

    @router.get(f"/{plural}/{{canonical_id}}", response_model=RECORDS[entity], name=f"get_{entity}",
                tags=["records"], summary=f"One {entity}", responses=RESPONSES)  # fmt: skip
    def get_record(request: Request, canonical_id: str, principal: Reader) -> dict[str, Any]:
        return one(request, entity, canonical_id, principal)


def router() -> APIRouter:
    r = APIRouter(prefix="/v1")
    for entity in ENTITIES:
        _register(r, entity)
    return r
