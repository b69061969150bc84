"""Options every command spells the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

WorkspaceOption = Annotated[
    Path, typer.Option("--workspace", "-w", help="The workspace folder (holds trueup.yaml).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why, for the record.")]
ActorOption = Annotated[
    str | None, typer.Option("--actor", help="Who decides (default: the USER environment variable).")
]


def actor_name(actor: str | None) -> str:
    import os

    return actor or os.environ.get("USER") or "unknown"
