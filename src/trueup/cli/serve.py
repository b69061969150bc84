"""`trueup serve` (the API), `trueup keys` (who may use it) and `trueup webhooks` (where events go)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trueup.cli.options import ActorOption, JsonOption, WorkspaceOption, actor_name, state_store
from trueup.cli.output import err, out, print_json, print_rows


def serve(
    workspace: WorkspaceOption = Path("."),
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8484,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    openapi: Annotated[bool, typer.Option("--openapi", help="Print the OpenAPI document and stop.")] = False,
) -> None:
    """Serve the dashboard (at /) and the API (under /v1) over the last published run."""
    import os

    from trueup.api import create_app, listen
    from trueup.workspace import Workspace

    ws = Workspace.open(workspace)
    if openapi:
        app = create_app(ws)
        print_json(app.openapi())
        app.state.api.close()
        return
    if not ws.serving_pointer.exists():
        err.print(
            "[yellow]Nothing is published yet:[/] run [bold]trueup run[/] first; the API answers 503 until then."
        )
    err.print(
        f"trueup on http://{host}:{port}/ (the dashboard; the API under /v1, OpenAPI at /openapi.json)."
        " Sign in with a key from [bold]trueup keys create[/]."
    )
    os.environ["TRUEUP_WORKSPACE"] = str(ws.root)
    listen.run(host, port, workers)


def keys_create(
    workspace: WorkspaceOption = Path("."),
    scope: Annotated[
        str, typer.Option(help="read, operate (act on findings) or admin (keys and webhooks).")
    ] = "read",
    pii: Annotated[
        bool, typer.Option("--pii", help="May read emails, phone numbers and street addresses.")
    ] = False,
    systems: Annotated[
        list[str] | None, typer.Option("--systems", help="Only these systems' records (repeatable).")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="What the key is for, shown in lists and the audit log.")
    ] = None,
    rate: Annotated[int, typer.Option(help="Requests a minute this key may make.")] = 6000,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make an API key; it is shown once, and only its hash is kept."""
    from trueup.errors import TrueupError
    from trueup.state import StateStore
    from trueup.workspace import Workspace

    ws = Workspace.open(workspace)
    chosen = [s for item in systems or [] for s in item.split(",") if s]
    unknown = [s for s in chosen if s not in ws.config.systems]
    if unknown:
        raise TrueupError(
            f"--systems: no system {', '.join(unknown)}; the systems are: {', '.join(ws.config.systems)}"
        )
    with StateStore(ws.state_url) as store:
        issued = store.create_key(name or f"{scope} key", scope, actor_name(actor), pii=pii, systems=chosen or None,
                                  rate_per_minute=rate)  # fmt: skip
    if as_json:
        print_json(
            {"id": issued.key.id, "key": issued.token, "scope": scope, "pii": pii, "systems": chosen or None}
        )
        return
    out.print(f"[green]Created key {issued.key.id}[/] ({scope}{', pii' if pii else ''}"
              f"{', systems: ' + ', '.join(chosen) if chosen else ''}). Copy it now; it is not shown again:")  # fmt: skip
    out.print(issued.token, markup=False)


def keys_list(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """The API keys: id, name, scope, personal data, systems, created and revoked."""
    with state_store(workspace) as store:
        keys = store.api_keys()
    rows = [[k.id, k.name, k.scope, k.pii, ", ".join(k.systems or []) or "all", k.rate_per_minute,
             k.created_at, k.created_by, k.revoked_at] for k in keys]  # fmt: skip
    columns = ["id", "name", "scope", "pii", "systems", "rate/min", "created", "by", "revoked"]
    print_rows(columns, rows, fmt="json" if as_json else "table", title="API keys")


def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `trueup keys list` shows it.")],
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Revoke a key: every request with it is refused from now on."""
    with state_store(workspace) as store:
        key = store.revoke_key(key_id)
    out.print(f"Revoked key {key.id} ({key.name}).")


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve)
    keys = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
    keys.command("create")(keys_create)
    keys.command("list")(keys_list)
    keys.command("revoke")(keys_revoke)
    app.add_typer(keys, name="keys")
    register_webhooks(app)


def webhooks_add(
    url: Annotated[str, typer.Argument(help="Where to POST events (https://...).")],
    workspace: WorkspaceOption = Path("."),
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event", help="finding.opened, finding.resolved or run.finished (repeatable; default all)."
        ),
    ] = None,
    allow_private: Annotated[
        bool, typer.Option("--allow-private", help="Allow a private, loopback or link-local address.")
    ] = False,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Subscribe a URL to events; prints the signing secret once."""
    from trueup.state.webhooks import EVENTS
    from trueup.webhooks import check_url

    check_url(url, allow_private)
    with state_store(workspace) as store:
        hook = store.create_webhook(url, list(event or EVENTS), actor_name(actor), allow_private)
    if as_json:
        print_json({"id": hook.id, "url": hook.url, "events": hook.events, "secret": hook.secret})
        return
    out.print(f"[green]Webhook {hook.id}[/] sends {', '.join(hook.events)} to {hook.url}.")
    out.print("Its signing secret (shown once; see docs/api.md#webhooks to verify signatures):")
    out.print(hook.secret, markup=False)


def webhooks_list(workspace: WorkspaceOption = Path("."), as_json: JsonOption = False) -> None:
    """Subscriptions, with their last deliveries."""
    with state_store(workspace) as store:
        rows = [[h.id, h.url, ", ".join(h.events), h.allow_private, h.created_at, h.disabled_at]
                for h in store.webhooks()]  # fmt: skip
    print_rows(["id", "url", "events", "private ok", "created", "disabled"], rows,
               fmt="json" if as_json else "table", title="Webhooks")  # fmt: skip


def webhooks_deliveries(
    workspace: WorkspaceOption = Path("."),
    webhook: Annotated[int | None, typer.Option(help="Only this subscription.")] = None,
    limit: int = 50,
    as_json: JsonOption = False,
) -> None:
    """The delivery log: each event, its state, attempts and the last answer."""
    with state_store(workspace) as store:
        rows = [[d.id, d.webhook_id, d.event, d.state, d.attempts, d.last_status, d.last_error, d.created_at,
                 d.delivered_at] for d in store.deliveries(webhook, limit)]  # fmt: skip
    print_rows(["id", "webhook", "event", "state", "attempts", "status", "error", "created", "delivered"], rows,
               fmt="json" if as_json else "table", title="Deliveries")  # fmt: skip


def webhooks_redeliver(
    delivery_id: Annotated[int, typer.Argument(help="The delivery's id, from `trueup webhooks deliveries`.")],
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Send a delivery again (now, or when `trueup serve` next works the outbox)."""
    from trueup.webhooks import deliver_due

    with state_store(workspace) as store:
        store.redeliver(delivery_id)
        deliver_due(store)
    out.print(f"Delivery {delivery_id} sent again; `trueup webhooks deliveries` shows the answer.")


def webhooks_send(workspace: WorkspaceOption = Path(".")) -> None:
    """Send every delivery that is due now (for cron, when `trueup serve` is not running)."""
    from trueup.webhooks import deliver_due

    total = 0
    with state_store(workspace) as store:
        while (sent := deliver_due(store)) > 0:
            total += sent
    out.print(f"{total:,} deliveries attempted.")


def register_webhooks(app: typer.Typer) -> None:
    hooks = typer.Typer(
        help="Webhooks: subscribe URLs to events and see what was delivered.", no_args_is_help=True
    )
    hooks.command("add")(webhooks_add)
    hooks.command("list")(webhooks_list)
    hooks.command("deliveries")(webhooks_deliveries)
    hooks.command("redeliver")(webhooks_redeliver)
    hooks.command("send")(webhooks_send)
    app.add_typer(hooks, name="webhooks")
