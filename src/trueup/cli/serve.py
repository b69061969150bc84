"""`trueup serve` (the API) and `trueup keys` (who may use it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trueup.cli.options import ActorOption, JsonOption, WorkspaceOption, actor_name
from trueup.cli.output import err, out, print_json, print_rows


def serve(
    workspace: WorkspaceOption = Path("."),
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8484,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    openapi: Annotated[bool, typer.Option("--openapi", help="Print the OpenAPI document and stop.")] = False,
) -> None:
    """Serve the API (and later the dashboard) over the last published run."""
    import os

    import uvicorn

    from trueup.api import create_app
    from trueup.workspace import Workspace

    ws = Workspace.open(workspace)
    if openapi:
        app = create_app(ws)
        print_json(app.openapi())
        app.state.api.close()
        return
    if not ws.serving_path.exists():
        err.print(
            "[yellow]Nothing is published yet:[/] run [bold]trueup run[/] first; the API answers 503 until then."
        )
    err.print(
        f"trueup API on http://{host}:{port}/v1 (OpenAPI: /openapi.json). Keys: [bold]trueup keys create[/]."
    )
    os.environ["TRUEUP_WORKSPACE"] = str(ws.root)
    uvicorn.run("trueup.api.server:app", host=host, port=port, workers=workers, log_level="warning",
                access_log=False)  # fmt: skip


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
    store = StateStore(ws.state_url)
    try:
        issued = store.create_key(name or f"{scope} key", scope, actor_name(actor), pii=pii, systems=chosen or None,
                                  rate_per_minute=rate)  # fmt: skip
    finally:
        store.close()
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
    from trueup.state import StateStore
    from trueup.workspace import Workspace

    store = StateStore(Workspace.open(workspace).state_url)
    try:
        keys = store.keys()
    finally:
        store.close()
    rows = [[k.id, k.name, k.scope, k.pii, ", ".join(k.systems or []) or "all", k.rate_per_minute,
             k.created_at, k.created_by, k.revoked_at] for k in keys]  # fmt: skip
    columns = ["id", "name", "scope", "pii", "systems", "rate/min", "created", "by", "revoked"]
    print_rows(columns, rows, fmt="json" if as_json else "table", title="API keys")


def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `trueup keys list` shows it.")],
    workspace: WorkspaceOption = Path("."),
) -> None:
    """Revoke a key: every request with it is refused from now on."""
    from trueup.state import StateStore
    from trueup.workspace import Workspace

    store = StateStore(Workspace.open(workspace).state_url)
    try:
        key = store.revoke_key(key_id)
    finally:
        store.close()
    out.print(f"Revoked key {key.id} ({key.name}).")


def register(app: typer.Typer) -> None:
    app.command(name="serve")(serve)
    keys = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
    keys.command("create")(keys_create)
    keys.command("list")(keys_list)
    keys.command("revoke")(keys_revoke)
    app.add_typer(keys, name="keys")
