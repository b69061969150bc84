"""The customer commands: `explain`, `timeline` and `links` (review, confirm, reject)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trueup.cli.options import ActorOption, JsonOption, ReasonOption, WorkspaceOption, actor_name
from trueup.cli.output import out, print_json, print_rows


def _lookup(workspace: Path) -> Any:
    """The workspace and a read-only warehouse connection for the customer commands."""
    from trueup.errors import TrueupError
    from trueup.warehouse import connect
    from trueup.workspace import Workspace

    ws = Workspace.open(workspace)
    if not ws.warehouse_path.exists():
        raise TrueupError("the warehouse is empty: run `trueup run` first")
    return ws, connect(ws.warehouse_path, read_only=True, timezone=ws.config.timezone)


def _shown(value: Any) -> Any:
    """Times as people read them, in the workspace's zone (the connection's)."""
    from datetime import datetime

    return f"{value:%Y-%m-%d %H:%M}" if isinstance(value, datetime) else value


def _ambiguous(exc: Any) -> None:
    if exc.candidates:
        print_rows(
            ["canonical_id", "name", "email", "phone", "systems"],
            [
                [c["canonical_id"], c["name"], c["email"], c["phone"], ", ".join(c["systems"])]
                for c in exc.candidates
            ],
            title="Customers that match",
        )


def explain(
    entity: Annotated[str, typer.Argument(help="customer")],
    query: Annotated[
        str, typer.Argument(help="A canonical id, any system's id, an email, a phone or a name.")
    ],
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Show a golden record, where each field came from, every linked record and why it was linked."""
    from trueup.errors import TrueupError
    from trueup.lookup import NotFound, explain_customer, one_customer

    if entity != "customer":
        raise TrueupError(f"explain {entity!r}: only `customer` can be explained so far")
    ws, opened = _lookup(workspace)
    with opened as con:
        try:
            found = explain_customer(con, one_customer(con, query, ws.config.country))
        except NotFound as exc:
            if not as_json:
                _ambiguous(exc)
            raise
    if as_json:
        print_json(found.as_dict())
        return
    print_rows(
        ["field", "value", "from", "record", "loaded"],
        [
            [f["field"], _shown(f["value"]), f["system"], f["source_id"], _shown(f["loaded_at"])]
            for f in found.fields
        ],
        title=f"Customer {found.canonical_id}",
    )
    print_rows(
        ["system", "id", "name", "email", "phone", "address", "file:line"],
        [
            [
                r["system"],
                r["source_id"],
                r["name"],
                r["email"],
                r["phone"],
                r["address"],
                f"{r['file']}:{r['line']}",
            ]
            for r in found.records
        ],
        title="Linked records",
    )
    if found.links:
        print_rows(
            ["record", "linked to", "rule", "evidence"],
            [
                [
                    f"{k['system_a']}:{k['source_a']}",
                    f"{k['system_b']}:{k['source_b']}",
                    k["rule"],
                    k["evidence"],
                ]
                for k in found.links
            ],
            title="Why they are one customer",
        )


def timeline(
    query: Annotated[
        str, typer.Argument(help="A customer: canonical id, any system's id, email, phone or name.")
    ],
    since: Annotated[
        str | None, typer.Option("--since", help="Only what happened since: 90d, 12w, 6m or a date.")
    ] = None,
    workspace: WorkspaceOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Every interaction with a customer across systems, in time order: calls, emails, jobs, invoices, payments."""
    from trueup.lookup import NotFound, one_customer, parse_since
    from trueup.lookup import timeline as events_of

    ws, opened = _lookup(workspace)
    start = parse_since(since, ws.as_of()) if since else None
    with opened as con:
        try:
            customer = one_customer(con, query, ws.config.country)
        except NotFound as exc:
            if not as_json:
                _ambiguous(exc)
            raise
        events = events_of(con, customer, start)
        name = con.execute("SELECT name FROM customer WHERE canonical_id = ?", [customer]).fetchone()
    if as_json:
        print_json({"customer": customer, "since": start, "events": events})
        return
    title = f"{name[0] if name else customer} ({customer})" + (f" since {start:%Y-%m-%d}" if start else "")
    if not events:
        out.print(f"Nothing happened with {title}.")
        return
    print_rows(
        ["when", "what", "detail", "systems"],
        [[_shown(e["occurred_at"]), e["kind"], e["summary"], ", ".join(e["systems"])] for e in events],
        title=title,
    )


RecordArg = Annotated[str, typer.Argument(help="A record as system:source_id, e.g. crm:1051000.")]


def links_review(
    workspace: WorkspaceOption = Path("."),
    entity: Annotated[str, typer.Option(help="Which entity's pairs.")] = "customer",
    limit: Annotated[int, typer.Option(help="How many pairs, most likely first.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Pairs in the uncertainty band, side by side with their evidence, most likely first."""
    from trueup.lookup import link_candidates

    _, opened = _lookup(workspace)
    with opened as con:
        pairs = link_candidates(con, entity, limit)
    if as_json:
        print_json(pairs)
        return
    if not pairs:
        out.print(f"No {entity} pairs wait for review.")
        return
    for p in pairs:
        print_rows(
            ["", f"{p['a']['system']}:{p['a']['source_id']}", f"{p['b']['system']}:{p['b']['source_id']}"],
            [[k, p["a"].get(k), p["b"].get(k)] for k in ("name", "email", "phone", "address", "postal_code")],
            title=f"match probability {p['probability']:.3f}  evidence {p['evidence']}",
        )
    out.print(
        "Decide with [bold]trueup links confirm A B[/] or [bold]trueup links reject A B[/]"
        " (A and B as system:source_id); the next run honours it."
    )


def _decide(
    workspace: Path, entity: str, a: str, b: str, decision: str, actor: str | None, reason: str | None
) -> None:
    from trueup.errors import TrueupError
    from trueup.state import StateStore
    from trueup.workspace import Workspace

    records = []
    for text in (a, b):
        system, _, source_id = text.partition(":")
        if not system or not source_id:
            raise TrueupError(f"{text!r}: write a record as system:source_id, e.g. crm:1051000")
        records.append((system, source_id))
    ws = Workspace.open(workspace)
    unknown = [s for s, _ in records if s not in ws.config.systems]
    if unknown:
        raise TrueupError(f"unknown system {unknown[0]!r}; the systems are: {', '.join(ws.config.systems)}")
    with StateStore(ws.state_url) as store:
        who = actor_name(actor)
        store.decide(entity, records[0], records[1], decision, who, reason)
    out.print(f"{decision.capitalize()}ed {a} and {b} as one {entity} by {who}; the next run honours it.")


def _decision(decision: str, summary: str) -> Any:
    """The `links confirm` or `links reject` command: the same options, one decision."""

    def command(
        a: RecordArg,
        b: RecordArg,
        workspace: WorkspaceOption = Path("."),
        entity: Annotated[str, typer.Option(help="The entity both records are.")] = "customer",
        reason: ReasonOption = None,
        actor: ActorOption = None,
    ) -> None:
        _decide(workspace, entity, a, b, decision, actor, reason)

    command.__doc__ = summary
    return command


def busy_customer(root: Path) -> str | None:
    """The email of a busy customer known to every system, to show `explain` and `timeline` on."""
    from trueup.lookup import busy_customer as email_of_busy_customer
    from trueup.warehouse import connect

    with connect(root / ".trueup" / "warehouse.duckdb", read_only=True) as con:
        return email_of_busy_customer(con)


def register(app: typer.Typer) -> None:
    app.command()(explain)
    app.command()(timeline)
    links = typer.Typer(
        help="Review the pairs trueup was unsure of; confirm or reject links.", no_args_is_help=True
    )
    links.command("review")(links_review)
    links.command("confirm")(
        _decision("confirm", "Two records are the same real thing: link them on every run from now on.")
    )
    links.command("reject")(
        _decision("reject", "Two records are different things: never link them directly again.")
    )
    app.add_typer(links, name="links")
