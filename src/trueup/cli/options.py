"""Options every command spells the same way."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from trueup.state import StateStore

WorkspaceOption = Annotated[
    Path, typer.Option("--workspace", "-w", help="The workspace folder (holds trueup.yaml).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why, for the record.")]
ActorOption = Annotated[str | None, typer.Option("--actor", help="Who decides (default: your login name).")]


def actor_name(actor: str | None) -> str:
    """Who acts: `--actor`, else the login name (the USER variable, else the password database)."""
    import getpass

    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def state_store(workspace: Path) -> StateStore:
    """The workspace's state store, for `with state_store(workspace) as store:`."""
    from trueup.state import StateStore
    from trueup.workspace import Workspace

    return StateStore(Workspace.open(workspace).state_url)
