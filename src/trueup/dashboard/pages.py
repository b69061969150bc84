"""The dashboard's pages: overview, findings queue and finding, customer 360, handoffs, runs, report.

Server-rendered from the same functions the API answers with, under the same keys, scopes,
masking and system limits. Without JavaScript every action is a form that posts and comes back;
with it (`static/dashboard.js`), the finding's state changes in place.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from trueup import findings as queue
from trueup.api import customers
from trueup.api.errors import ApiError
from trueup.api.findings import finding_for
from trueup.api.records import rows
from trueup.api.security import Anyone
from trueup.checks import CATEGORIES, currency_sign
from trueup.dashboard.session import COOKIE, Operator, Refused, Viewer, Visitor, check_csrf
from trueup.errors import TrueupError
from trueup.report import charts, formats
from trueup.report.ledger import CATEGORY_LABELS
from trueup.report.model import Ledger
from trueup.state.findings import ACTIONS, ACTIVE, STATES

STATIC = Path(__file__).parent / "static"
ASSETS = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}
PAGE = 50

router = APIRouter(include_in_schema=False)
_env = Environment(
    loader=PackageLoader("trueup.dashboard", "templates"), autoescape=select_autoescape(default=True)
)
_env.filters.update(formats.FILTERS)


def _when(value: datetime | str | None) -> str:
    """A moment as people read it; ISO text (a customer's field, from the customers file) too."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


_env.filters["when"] = _when


def render(
    request: Request, template: str, visitor: Visitor | None, status: int = 200, **context: Any
) -> HTMLResponse:
    api = request.app.state.api
    sign = currency_sign(api.workspace.config.currency)
    html = _env.get_template(template).render(
        request=request, visitor=visitor, company=api.workspace.config.name, sign=sign, path=request.url.path,
        may_operate=bool(visitor and visitor.principal.may("operate")), **context,
    )  # fmt: skip
    return HTMLResponse(html, status_code=status)


def _ledger(request: Request) -> Ledger | None:
    data = request.app.state.api.ledger()
    return Ledger.model_validate(data) if data else None


# --- signing in --------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, principal: Anyone, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", None, next=_local(next), error=None)


@router.post("/login")
async def login(
    request: Request, principal: Anyone, key: Annotated[str, Form()], next: Annotated[str, Form()] = "/"
) -> Response:
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.url.netloc:  # a sign-in form posted from elsewhere
        return render(
            request, "login.html", None, 403, next="/", error="sign in from this dashboard's own page"
        )
    api = request.app.state.api
    found = await api.authenticate(key.strip())
    if found is None:
        return render(
            request, "login.html", None, 401, next=_local(next), error="this key is unknown or revoked"
        )
    token, _ = await run_in_threadpool(api.state.open_session, found.id)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=12 * 3600, path="/")  # fmt: skip
    return response


@router.post("/logout")
async def logout(request: Request, visitor: Viewer, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(visitor, csrf)
    await run_in_threadpool(request.app.state.api.state.close_session, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _local(target: str) -> str:
    """Only a path on this site to go back to after signing in."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


# --- overview ----------------------------------------------------------------------------------


@router.get("/")
def overview(request: Request, visitor: Viewer) -> HTMLResponse:
    api = request.app.state.api
    ledger = _ledger(request)
    runs = api.state.runs(limit=1)
    sign = currency_sign(api.workspace.config.currency)
    drawn = charts.all_charts(ledger, sign) if ledger else {}
    return render(request, "overview.html", visitor, ledger=ledger, run=runs[0] if runs else None,
                  trend=drawn.get("trend"), categories_chart=drawn.get("categories"))  # fmt: skip


# --- findings ----------------------------------------------------------------------------------


@router.get("/findings")
def findings_page(
    request: Request,
    visitor: Viewer,
    category: str = "",
    severity: str = "",
    system: str = "",
    handoff: str = "",
    owner: str = "",
    state: str = "",
    sort: str = "queue",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    api = request.app.state.api
    principal = visitor.principal
    systems = principal.within((system,) if system else ())
    filters = queue.Filters(
        category=(category,) if category else (), severity=(severity,) if severity else (),
        system=systems or (),
        handoff=(handoff,) if handoff else (), owner=(owner,) if owner else (),
        state=(state,) if state else ACTIVE,
    )  # fmt: skip
    order = sort if sort in ("queue", "money", "age") else "queue"
    found = (
        [] if systems is None  # nothing asked for is within the key's reach
        else queue.select(api.state, filters, limit=PAGE + 1, offset=(page - 1) * PAGE, order=order,
                          preview=True)
    )  # fmt: skip
    chosen = {"category": category, "severity": severity, "system": system, "handoff": handoff, "owner": owner,
              "state": state, "sort": order}  # fmt: skip
    ledger = _ledger(request)
    return render(
        request, "findings.html", visitor, findings=found[:PAGE], page=page, more=len(found) > PAGE,
        chosen=chosen, query=lambda **change: "?" + urlencode({k: v for k, v in {**chosen, **change}.items() if v}),
        categories=[(c, CATEGORY_LABELS[c]) for c in CATEGORIES], states=STATES,
        systems=list(api.workspace.config.systems), handoffs=[h.id for h in ledger.handoffs] if ledger else [],
    )  # fmt: skip


def _finding(request: Request, finding_id: int, visitor: Visitor) -> dict[str, Any]:
    return finding_for(request.app.state.api, finding_id, visitor.principal)


@router.get("/findings/{finding_id}")
def finding_page(request: Request, finding_id: int, visitor: Viewer) -> HTMLResponse:
    return render(request, "finding.html", visitor, f=_finding(request, finding_id, visitor), actions=_actions,
                  message=None)  # fmt: skip


def _actions(state: str) -> list[str]:
    """The actions a finding in this state allows, in the order a person thinks of them."""
    return [a for a in ("acknowledge", "assign", "resolve", "suppress", "reopen") if state in ACTIONS[a][0]]


@router.post("/findings/{finding_id}/{action}")
async def act(
    request: Request,
    finding_id: int,
    action: str,
    visitor: Operator,
    csrf: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    assignee: Annotated[str, Form()] = "",
    until: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(visitor, csrf or request.headers.get("x-csrf-token"))
    request.state.write = True
    api = request.app.state.api
    if action not in ACTIONS:
        raise ApiError(404, f"no action {action}")
    message = None
    await run_in_threadpool(_finding, request, finding_id, visitor)  # 404 when out of the key's reach
    try:
        options: dict[str, Any] = {}
        if action == "assign":
            options["assignee"] = assignee.strip() or None
        if action == "suppress":
            options["until"] = queue.parse_until(until.strip() or None)
        await run_in_threadpool(api.state.act, [finding_id], action, f"dashboard:{visitor.principal.name}",
                                reason.strip() or None, **options)  # fmt: skip
    except TrueupError as exc:  # a move the finding cannot make, a missing reason, an unreadable date
        message = str(exc)
    if request.headers.get("x-requested-with") == "fetch":  # the page's own request: the new panel only
        f = await run_in_threadpool(_finding, request, finding_id, visitor)
        html = _env.get_template("_finding_state.html").render(
            f=f, actions=_actions, visitor=visitor, may_operate=True, message=message,
            sign=currency_sign(api.workspace.config.currency),
        )  # fmt: skip
        return HTMLResponse(html, status_code=200 if message is None else 409)
    if message is not None:
        f = await run_in_threadpool(_finding, request, finding_id, visitor)
        return render(request, "finding.html", visitor, 409, f=f, actions=_actions, message=message)
    return RedirectResponse(f"/findings/{finding_id}", status_code=303)


# --- customers ---------------------------------------------------------------------------------


@router.get("/customers")
def customers_page(request: Request, visitor: Viewer, q: str = "") -> HTMLResponse:
    hits, error = [], None
    if len(q.strip()) >= 2:
        try:
            hits = customers.search_hits(request.app.state.api, q.strip(), visitor.principal)["hits"]
        except ApiError as exc:
            error = exc.message
    return render(request, "customers.html", visitor, q=q, hits=hits, error=error)


@router.get("/customers/{canonical_id}")
def customer_page(request: Request, canonical_id: str, visitor: Viewer, since: str = "") -> HTMLResponse:
    api = request.app.state.api
    detail = customers.explain(api, canonical_id, visitor.principal)
    timeline = customers.timeline_of(api, canonical_id, since or None, visitor.principal)
    if visitor.principal.pii:
        request.state.pii_read = True
    return render(request, "customer.html", visitor, d=detail, timeline=timeline, since=since)


# --- systems and handoffs, runs, report ----------------------------------------------------------


@router.get("/handoffs")
def handoffs_page(request: Request, visitor: Viewer) -> HTMLResponse:
    ledger = _ledger(request)
    sign = currency_sign(request.app.state.api.workspace.config.currency)
    drawn = charts.all_charts(ledger, sign) if ledger else {}
    handoffs = (
        [h for h in ledger.handoffs if visitor.principal.sees([h.from_system, h.to_system])] if ledger else []
    )
    return render(request, "handoffs.html", visitor, ledger=ledger, handoffs=handoffs,
                  system_map=drawn.get("system_map", Markup("")))  # fmt: skip


@router.get("/runs")
def runs_page(request: Request, visitor: Viewer) -> HTMLResponse:
    api = request.app.state.api
    history = api.state.runs(limit=20)
    con = api.snapshot.cursor()
    try:
        quarantined = rows(con.execute(
            "SELECT stage, system, tbl AS source_table, source AS file, line, column_name, reason FROM quarantine"
            " ORDER BY system, tbl, source, line LIMIT 200"
        ))  # fmt: skip
    except Exception:  # nothing published yet, or a snapshot from before quarantine was published
        quarantined = []
    finally:
        con.close()
    quarantined = [q for q in quarantined if visitor.principal.sees([q["system"]])]
    return render(request, "runs.html", visitor, runs=history, quarantined=quarantined)


@router.get("/report")
def report_page(request: Request, visitor: Viewer) -> HTMLResponse:
    return render(request, "report.html", visitor, ledger=_ledger(request))


@router.get("/report/{name}")
def report_file(request: Request, name: str, visitor: Viewer) -> Response:
    if name not in ("index.html", "report.json", "report.md"):
        raise ApiError(404, f"no report file {name}")
    if visitor.principal.systems is not None:
        raise Refused("the whole report covers every system; this key is limited to some")
    folder = request.app.state.api.workspace.root / request.app.state.api.workspace.config.report.output
    path = folder / name
    if not path.exists():
        raise ApiError(404, "no report yet: run `trueup run`")
    download = name != "index.html" or "download" in request.query_params
    return FileResponse(path, filename=f"trueup-{name}" if download else None)


@router.get("/static/{name}")
def static(name: str, principal: Anyone) -> Response:
    if name not in ASSETS:
        raise ApiError(404, f"no asset {name}")
    return FileResponse(
        STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=3600"}
    )
