"""Read `trueup.yaml` into a :class:`~trueup.config.models.Workspace`, keeping line numbers.

Every problem found (YAML syntax, shape, cross-references) is collected and raised together in one
:class:`~trueup.errors.ConfigError`, each with its file, line, YAML path, value and fix.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from trueup.config.models import Workspace
from trueup.errors import ConfigError, Problem

# PyYAML's safe loader with libyaml's parser where PyYAML was built with it (its wheels are):
# composing the demo's trueup.yaml took 52 ms in Python, 3.5 ms in C.
try:
    from yaml import CSafeLoader as SAFE_LOADER
except ImportError:  # pragma: no cover (PyYAML built without libyaml)
    from yaml import SafeLoader as SAFE_LOADER  # type: ignore[assignment]

Path_ = tuple[str | int, ...]
ENV_RE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


class Located:
    """The parsed YAML document with the line of every key and value."""

    def __init__(self, data: Any, lines: dict[Path_, int], file: str, declared: set[str] | None = None):
        self.data = data
        self.lines = lines
        self.file = file
        # Every system named in the file, including ones whose own definition has problems, so
        # that references to them are not reported a second time as "unknown system".
        systems = data.get("systems") if isinstance(data, dict) else None
        self.declared_systems = declared if declared is not None else set(systems or {})

    def line(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that exists."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def value(self, path: Path_) -> Any:
        return value_at(self.data, path)

    def problem(self, path: Path_, message: str, fix: str = "", value: Any = None) -> Problem:
        return Problem(
            path=dotted(path), message=message, fix=fix, value=value, file=self.file, line=self.line(path)
        )


class _Loader(SAFE_LOADER):
    """YAML 1.2 booleans: only true/false. `id: no` is the column `no`, not False."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def parse_yaml(text: str, file: str) -> tuple[Located | None, list[Problem]]:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [
            Problem(
                path="(syntax)",
                message=f"not valid YAML: {reason}",
                file=file,
                line=line,
                fix="check the indentation and quoting on this line; quote values that contain ': ' or '#'",
            )
        ]
    problems: list[Problem] = []
    lines: dict[Path_, int] = {}
    if node is None:
        return Located({}, lines, file), problems
    data = _build(node, (), lines, problems, file)
    return Located(data, lines, file), problems


def _build(node: yaml.Node, path: Path_, lines: dict[Path_, int], problems: list[Problem], file: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node)
            key = key if isinstance(key, str | int) else str(key)
            child = (*path, key)
            if key in out:
                problems.append(
                    Problem(
                        path=dotted(child),
                        message="this key appears twice; the second would win silently",
                        fix="keep one of the two",
                        file=file,
                        line=key_node.start_mark.line + 1,
                    )
                )
            lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, lines, problems, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, problems, file) for i, item in enumerate(node.value)]
    return _construct(node)


def _construct(node: yaml.Node) -> Any:
    return _Loader("").construct_object(node, deep=True)


def substitute_env(located: Located, environ: typing.Mapping[str, str]) -> list[Problem]:
    """Replace `${env:NAME}` references in place; a missing variable is a problem, not an empty string."""
    problems: list[Problem] = []

    def walk(node: Any, path: Path_) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, (*path, i)) for i, v in enumerate(node)]
        if isinstance(node, str) and "${" in node:

            def repl(match: re.Match[str]) -> str:
                name = match.group(1)
                if name not in environ:
                    problems.append(
                        located.problem(
                            path,
                            f"the environment variable {name} is not set",
                            fix=f"export {name}=... before running trueup",
                            value=match.group(0),
                        )
                    )
                    return ""
                return environ[name]

            return ENV_RE.sub(repl, node)
        return node

    located.data = walk(located.data, ())
    return problems


# What a value of the wrong type should have been, as a person writing YAML calls it.
TYPE_WORDS = {
    "string_type": "text", "int_type": "a whole number", "int_parsing": "a whole number", "float_type": "a number",
    "float_parsing": "a number", "bool_type": "true or false", "bool_parsing": "true or false",
    "list_type": "a list", "dict_type": "a mapping of keys to values", "model_type": "a mapping of keys to values",
}  # fmt: skip


def shape_problems(located: Located, error: ValidationError) -> list[Problem]:
    problems = []
    wrong_types: dict[Path_, list[str]] = {}  # a value of none of the types a union allows: one problem
    for item in error.errors():
        path = _data_path(located.data, item["loc"])
        kind = item["type"]
        value = located.value(path)
        message, fix = item["msg"], ""
        if kind in TYPE_WORDS:
            words = wrong_types.setdefault(path, [])
            if TYPE_WORDS[kind] not in words:
                words.append(TYPE_WORDS[kind])
            continue
        if kind == "extra_forbidden":
            allowed = _allowed_keys(Workspace, path[:-1])
            near = difflib.get_close_matches(str(path[-1]), allowed, n=1)
            message = "unknown key"
            fix = (f"did you mean `{near[0]}`? " if near else "") + (
                f"allowed here: {', '.join(allowed)}" if allowed else "remove it"
            )
            value = None
        elif kind == "missing":
            message = "this required key is missing"
            fix = f"add `{path[-1]}:`"
            value = None
        elif kind == "union_tag_invalid":
            ctx = item.get("ctx", {})
            path = (*path, ctx.get("discriminator", "'type'").strip("'"))
            value = ctx.get("tag")
            message = f"must be one of: {ctx.get('expected_tags', '')}".replace("'", "")
        elif kind == "literal_error":
            message = item["msg"].replace("Input should be", "must be")
        elif kind == "value_error":
            message = str(item.get("ctx", {}).get("error", item["msg"]))
        problems.append(located.problem(path, message.rstrip("."), fix=fix, value=value))
    for path, words in wrong_types.items():
        value = located.value(path)
        quote = "text" in words and isinstance(value, int | float | bool)  # YAML read `3` as a number
        fix = f"put it in quotes: '{value}'" if quote else ""
        problems.append(located.problem(path, "must be " + " or ".join(words), fix=fix, value=value))
    # A union reports each failed alternative; keep one problem per path and message.
    unique = {(p.path, p.message): p for p in problems}
    return list(unique.values())


def _data_path(data: Any, loc: tuple[Any, ...]) -> Path_:
    """Map a pydantic error location onto the YAML path, dropping union and tag markers."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        ):
            path.append(part)
            node = node[part]
        elif not isinstance(node, dict | list):
            break
        elif isinstance(node, dict) and isinstance(part, str) and part not in node and _is_field_name(part):
            path.append(part)  # a missing or unknown key: point at it by name
            break
    return tuple(path)


def _is_field_name(part: str) -> bool:
    return not part[:1].isupper() and part not in ("str", "int", "float", "bool", "list", "dict")


def _allowed_keys(model: type[BaseModel], path: Path_) -> list[str]:
    """The keys allowed at `path`, found by walking the model's type hints alongside the data."""
    current: Any = model
    for part in path:
        current = _descend(current, part)
        if current is None:
            return []
    models = [m for m in _models_in(current)]
    keys: list[str] = []
    for m in models:
        for name, info in m.model_fields.items():
            keys.append(info.alias or name)
    return sorted(set(keys))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out.extend(_models_in(arg))
    return out


def _descend(annotation: Any, part: str | int) -> Any:
    for model in _models_in(annotation):
        for name, info in model.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
    origin = typing.get_origin(annotation)
    if origin in (dict, list):
        return typing.get_args(annotation)[-1]
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _descend(arg, part)
            if found is not None:
                return found
    return None


def _validate_pruned(located: Located) -> tuple[Workspace | None, Located, list[Problem]]:
    """Validate the shape; where parts are wrong, drop them and validate the rest again.

    This way a misspelt key in one system does not hide a wrong table name in another: the
    cross-reference checks still run over everything that is well-formed. Problems are those of
    the first pass (later passes only find the holes the pruning made); the returned Located maps
    the pruned document back to the original lines.
    """
    import copy

    data = copy.deepcopy(located.data)
    problems: list[Problem] = []
    removed: list[Path_] = []
    for attempt in range(8):
        try:
            return Workspace.model_validate(data), _remap(located, data, removed), problems
        except ValidationError as error:
            if attempt == 0:
                problems = shape_problems(located, error)
            if not _prune(data, error, removed):
                return None, located, problems
    return None, located, problems


def _prune(data: Any, error: ValidationError, removed: list[Path_]) -> bool:
    """Remove the nodes an error points at (the parent, for a missing key); True if any went."""
    doomed: set[Path_] = set()
    for item in error.errors():
        path = _data_path(data, item["loc"])
        if item["type"] == "missing" or value_at(data, path) is None:
            path = path[:-1]
        if len(path) == 1 and isinstance(value_at(data, path), dict | list):
            continue  # never drop a whole section
        if path:
            doomed.add(path)
    # Deepest first, and list items from the end, so earlier removals do not shift later ones.
    for path in sorted(doomed, key=lambda p: (len(p), p[-1] if isinstance(p[-1], int) else -1), reverse=True):
        parent = value_at(data, path[:-1]) if len(path) > 1 else data
        if isinstance(parent, dict) and path[-1] in parent:
            del parent[path[-1]]
        elif isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent):
            del parent[path[-1]]
            removed.append(path)
    return bool(doomed)


def value_at(data: Any, path: Path_) -> Any:
    """The node at `path`, or None where the path does not exist."""
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _remap(located: Located, data: Any, removed: list[Path_]) -> Located:
    """Line numbers for the pruned document, whose list items may have moved up."""
    if not removed:
        return Located(data, located.lines, located.file, located.declared_systems)
    lines: dict[Path_, int] = {}
    for path, line in located.lines.items():
        new: list[str | int] | None = list(path)
        for gone in removed:  # removals were recorded deepest and last first
            if new is None or len(new) < len(gone) or tuple(new[: len(gone) - 1]) != gone[:-1]:
                continue
            index = new[len(gone) - 1]
            if index == gone[-1]:
                new = None
            elif isinstance(index, int) and isinstance(gone[-1], int) and index > gone[-1]:
                new[len(gone) - 1] = index - 1
        if new is not None:
            lines.setdefault(tuple(new), line)
    return Located(data, lines, located.file, located.declared_systems)


def load_workspace(
    path: Path, environ: typing.Mapping[str, str] | None = None
) -> tuple[Workspace | None, Located | None, list[Problem]]:
    """Load a workspace file and collect every problem; the workspace is None if the shape is wrong.

    When parts are malformed, the returned workspace is the well-formed rest (pruned), so later
    checks can still run over it.
    """
    from trueup.config.validate import cross_reference_problems

    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return (
            None,
            None,
            [
                Problem(
                    path="(file)",
                    message="no trueup.yaml here",
                    file=file,
                    fix="run `trueup init DIR` to write one from a folder of exports, or pass --workspace",
                )
            ],
        )
    located, problems = parse_yaml(text, file)
    if located is None:
        return None, None, problems
    if not isinstance(located.data, dict):
        return (
            None,
            located,
            [located.problem((), "the file must be a mapping of sections (name:, systems:, ...)")],
        )
    problems += substitute_env(located, os.environ if environ is None else environ)
    workspace, pruned, shape = _validate_pruned(located)
    problems += shape
    if workspace is not None:
        problems += cross_reference_problems(workspace, pruned, path.parent)
        located = pruned
    return workspace, located, problems


def read_workspace(path: Path, environ: typing.Mapping[str, str] | None = None) -> tuple[Workspace, Located]:
    """Load and validate a workspace file; raise ConfigError listing every problem."""
    workspace, located, problems = load_workspace(path, environ)
    if problems or workspace is None or located is None:
        raise ConfigError(problems)
    return workspace, located
