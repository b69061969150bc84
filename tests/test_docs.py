"""The docs cover what the code offers: every command, every config key, every canonical field."""

from __future__ import annotations

import typing
from pathlib import Path

from pydantic import BaseModel

from trueup.cli.app import app
from trueup.config.models import Workspace
from trueup.model import ENTITIES

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _keys(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        keys.add(info.alias or name)
        for inner in _models(info.annotation):
            keys |= _keys(inner, seen)
    return keys


def _models(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def test_every_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert names
    for name in names:
        assert f"## `trueup {name}" in text, f"docs/cli.md has no section for `trueup {name}`"


def test_every_config_key_is_documented() -> None:
    text = (DOCS / "workspace.md").read_text()
    missing = sorted(k for k in _keys(Workspace) if f"`{k}`" not in text and f"{k}:" not in text)
    assert not missing, f"docs/workspace.md does not mention: {missing}"


def test_every_canonical_field_and_state_is_documented() -> None:
    text = (DOCS / "workspace.md").read_text()
    for entity in ENTITIES.values():
        for field in entity.fields:
            assert field in text, f"{entity.name}.{field}"
        for state in entity.states:
            assert f"`{state}`" in text, f"{entity.name} state {state}"


def test_every_command_group_and_builtin_check_is_documented() -> None:
    from trueup.checks.registry import builtin_checks

    cli = (DOCS / "cli.md").read_text()
    for group in app.registered_groups:
        assert f"## `trueup {group.name}" in cli, f"docs/cli.md has no section for `trueup {group.name}`"
    checks = (DOCS / "checks.md").read_text()
    for check in builtin_checks():
        assert f"### `{check.name}`" in checks, f"docs/checks.md does not describe {check.name}"
