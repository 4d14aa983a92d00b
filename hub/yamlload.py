"""YAML loading with file:line positions, includes, secrets and environment variables.

Tags: ``!include file.yaml``, ``!include_dir_list dir``, ``!include_dir_merge_list dir``,
``!include_dir_named dir``, ``!include_dir_merge_named dir``, ``!secret name`` (looked up in
``secrets.yaml`` beside the file, then in each parent folder up to the config folder) and
``!env_var NAME [default]``. Numbers with a fraction load as exact ``Decimal``.

Every mapping and list remembers where it and each of its keys and items came from, so a
validation error deep inside an included file can still say ``config/meters.yaml:42``.
Problems do not stop the load: each one is collected, so all are reported at once.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from .i18n import FALLBACK_LANGUAGE, Text, localize
from .validation import SecretStr

__all__ = [
    "Position", "load_yaml", "position_of",
]

_LOGGER = logging.getLogger(__name__)

SECRETS_FILE = "secrets.yaml"


@dataclass(frozen=True, slots=True)
class Position:
    """Where a piece of configuration was written."""

    file: str
    line: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


_NO_POSITIONS: dict[Any, Any] = {}  # never written: the loader gives each mapping its own


class NodeDict(dict[Any, Any]):
    """A mapping that remembers its own position and that of each key and value."""

    __slots__ = ("key_pos", "pos", "value_pos")

    def __init__(self, pos: Position | None = None, *, positioned: bool = False) -> None:
        super().__init__()
        self.pos = pos
        # one made elsewhere (voluptuous copies a mapping as ``data.__class__()``) records
        # no positions: it shares one empty table instead of holding two of its own
        self.key_pos: dict[Any, Position] = {} if positioned else _NO_POSITIONS
        self.value_pos: dict[Any, Position] = {} if positioned else _NO_POSITIONS


class NodeList(list[Any]):
    """A list that remembers its own position and that of each item."""

    __slots__ = ("item_pos", "pos")

    def __init__(self, pos: Position | None = None) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos: list[Position | None] = []

    def add(self, value: Any, pos: Position | None) -> None:
        """Append an item with its position."""
        self.append(value)
        self.item_pos.append(pos)


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found while loading or validating configuration."""

    position: Position | None
    path: str
    message: str

    def __str__(self) -> str:
        return self.text()

    def text(self, language: str = FALLBACK_LANGUAGE) -> str:
        """The problem in ``language`` (its file:line and key path as they are)."""
        where = f"{self.position} " if self.position else ""
        if not isinstance(self.message, Text):  # no key yet: the English line, not a mix
            language = FALLBACK_LANGUAGE
        message = localize(self.message, language)
        return where + (localize(Text("validation.at", path=self.path, reason=self.message),
                                 language) if self.path else message)


@dataclass
class LoadContext:
    """State shared while loading one configuration tree."""

    root: Path
    problems: list[Problem] = field(default_factory=list)
    secrets_cache: dict[Path, dict[str, Any] | None] = field(default_factory=dict)
    loading: list[Path] = field(default_factory=list)
    secret_texts: set[str] = field(default_factory=set)
    # one str object per distinct text: 10,000 meters repeat the same keys and values
    strings: dict[str, str] = field(default_factory=dict)

    def display(self, path: Path) -> str:
        """Return a path as shown in messages: relative to the config folder if inside it."""
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def problem(self, pos: Position | None, message: str, path: str = "") -> None:
        """Record a problem."""
        self.problems.append(Problem(pos, path, message))


# libyaml's parser when PyYAML was built with it (ten times faster on a big meters list)
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that builds NodeDict/NodeList with positions and handles our tags."""

    ctx: LoadContext
    file: Path
    shown: str  # the file as messages show it

    lines: dict[int, Position]  # one Position a line (a meter on one line has many nodes)

    def pos(self, node: yaml.Node) -> Position:
        line = node.start_mark.line + 1
        found = self.lines.get(line)
        if found is None:
            found = self.lines[line] = Position(self.shown, line)
        return found


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> NodeDict:
    loader.flatten_mapping(node)
    result = NodeDict(loader.pos(node), positioned=True)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list | dict):
            loader.ctx.problem(loader.pos(key_node), "a mapping key must be a plain value")
            continue
        if key in result:
            first = result.key_pos[key]
            loader.ctx.problem(
                loader.pos(key_node),
                f"duplicate key '{key}' (first written at line {first.line})",
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_pos[key] = loader.pos(key_node)
        result.value_pos[key] = loader.pos(value_node)
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> NodeList:
    result = NodeList(loader.pos(node))
    for item in node.value:
        result.add(loader.construct_object(item, deep=True), loader.pos(item))
    return result


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    text = str(loader.construct_scalar(node))
    return loader.ctx.strings.setdefault(text, text)


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> Decimal | float:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        # .inf / .nan: keep YAML's float, validators reject non-finite numbers
        return float(loader.construct_yaml_float(node))
    return value if value.is_finite() else float(value)


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int | str:
    text = str(loader.construct_scalar(node))
    # YAML 1.1 reads 000000001234 as an octal number and 10:00 as the base-60 number 600:
    # keep zero-padded digit strings (meter addresses) and times of day as text, as a
    # YAML 1.2 reader would.
    if (len(text) > 1 and text[0] == "0" and text.isdigit()) or ":" in text:
        return text
    return int(loader.construct_yaml_int(node))


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError as err:
        loader.ctx.problem(loader.pos(node), f"invalid date {node.value!r}: {err}")
        return str(node.value)


def _scalar_arg(loader: _Loader, node: yaml.Node, tag: str) -> str | None:
    if not isinstance(node, yaml.ScalarNode):
        loader.ctx.problem(loader.pos(node), f"{tag} expects one value after it")
        return None
    value = str(loader.construct_scalar(node)).strip()
    if not value:
        loader.ctx.problem(loader.pos(node), f"{tag} expects a name after it")
        return None
    return value


def _resolve(loader: _Loader, name: str) -> Path:
    path = Path(os.path.expanduser(name))
    return path if path.is_absolute() else loader.file.parent / path


def _include(loader: _Loader, node: yaml.Node) -> Any:
    name = _scalar_arg(loader, node, "!include")
    if name is None:
        return None
    path = _resolve(loader, name)
    if not path.is_file():
        loader.ctx.problem(loader.pos(node), f"!include: file not found: {name}")
        return None
    return load_file(path, loader.ctx, included_at=loader.pos(node))


def _yaml_files(loader: _Loader, node: yaml.Node, tag: str) -> list[Path] | None:
    name = _scalar_arg(loader, node, tag)
    if name is None:
        return None
    folder = _resolve(loader, name)
    if not folder.is_dir():
        loader.ctx.problem(loader.pos(node), f"{tag}: folder not found: {name}")
        return None
    return sorted(
        path
        for path in folder.rglob("*.yaml")
        if path.is_file()
        and path.name != SECRETS_FILE
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def _include_dir_list(loader: _Loader, node: yaml.Node) -> NodeList | None:
    files = _yaml_files(loader, node, "!include_dir_list")
    if files is None:
        return None
    result = NodeList(loader.pos(node))
    for path in files:
        result.add(load_file(path, loader.ctx, included_at=loader.pos(node)),
                   Position(loader.ctx.display(path), 1))
    return result


def _include_dir_merge_list(loader: _Loader, node: yaml.Node) -> NodeList | None:
    files = _yaml_files(loader, node, "!include_dir_merge_list")
    if files is None:
        return None
    result = NodeList(loader.pos(node))
    for path in files:
        content = load_file(path, loader.ctx, included_at=loader.pos(node))
        if content is None:
            continue
        where = Position(loader.ctx.display(path), 1)
        if not isinstance(content, list):
            loader.ctx.problem(where, "!include_dir_merge_list: this file must hold a list")
            continue
        positions = content.item_pos if isinstance(content, NodeList) else [None] * len(content)
        for item, pos in zip(content, positions, strict=True):
            result.add(item, pos)
    return result


def _include_dir_named(loader: _Loader, node: yaml.Node) -> NodeDict | None:
    files = _yaml_files(loader, node, "!include_dir_named")
    if files is None:
        return None
    result = NodeDict(loader.pos(node), positioned=True)
    for path in files:
        key = path.stem
        where = Position(loader.ctx.display(path), 1)
        if key in result:
            loader.ctx.problem(where, f"!include_dir_named: two files are named '{key}'")
            continue
        result[key] = load_file(path, loader.ctx, included_at=loader.pos(node))
        result.key_pos[key] = where
        result.value_pos[key] = where
    return result


def _include_dir_merge_named(loader: _Loader, node: yaml.Node) -> NodeDict | None:
    files = _yaml_files(loader, node, "!include_dir_merge_named")
    if files is None:
        return None
    result = NodeDict(loader.pos(node), positioned=True)
    for path in files:
        content = load_file(path, loader.ctx, included_at=loader.pos(node))
        if content is None:
            continue
        if not isinstance(content, NodeDict):
            loader.ctx.problem(
                Position(loader.ctx.display(path), 1),
                "!include_dir_merge_named: this file must hold a mapping",
            )
            continue
        for key, value in content.items():
            if key in result:
                loader.ctx.problem(
                    content.key_pos.get(key),
                    f"duplicate key '{key}' (also in {result.key_pos[key]})",
                )
                continue
            result[key] = value
            result.key_pos[key] = content.key_pos[key]
            result.value_pos[key] = content.value_pos[key]
    return result


def _secrets_for(ctx: LoadContext, folder: Path) -> dict[str, Any] | None:
    if folder not in ctx.secrets_cache:
        path = folder / SECRETS_FILE
        secrets: dict[str, Any] | None = None
        if path.is_file():
            content = load_file(path, ctx, allow_secrets=False)
            if isinstance(content, dict):
                secrets = content
            elif content is not None:
                ctx.problem(Position(ctx.display(path), 1), "secrets file must hold a mapping")
        ctx.secrets_cache[folder] = secrets
    return ctx.secrets_cache[folder]


def _secret(loader: _Loader, node: yaml.Node) -> Any:
    name = _scalar_arg(loader, node, "!secret")
    if name is None:
        return None
    root = loader.ctx.root.resolve()
    folder = loader.file.parent.resolve()
    while True:
        secrets = _secrets_for(loader.ctx, folder)
        if secrets is not None and name in secrets:
            value = secrets[name]
            if not isinstance(value, dict | list) and value is not None:
                loader.ctx.secret_texts.add(str(value))
            return SecretStr(value) if isinstance(value, str) else value
        if folder == root or folder.parent == folder or root not in folder.parents:
            break
        folder = folder.parent
    loader.ctx.problem(loader.pos(node), f"!secret: '{name}' is not defined in {SECRETS_FILE}")
    return None


def _no_secret(loader: _Loader, node: yaml.Node) -> None:
    loader.ctx.problem(loader.pos(node), "!secret cannot be used inside secrets.yaml")


def _env_var(loader: _Loader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        args = [str(loader.construct_scalar(item)) for item in node.value
                if isinstance(item, yaml.ScalarNode)]
    elif isinstance(node, yaml.ScalarNode):
        args = str(loader.construct_scalar(node)).split(None, 1)
    else:
        args = []
    if not args:
        loader.ctx.problem(loader.pos(node), "!env_var expects a variable name")
        return None
    value = os.environ.get(args[0])
    if value is not None:
        return value
    if len(args) > 1:
        return args[1]
    loader.ctx.problem(
        loader.pos(node), f"!env_var: environment variable {args[0]} is not set (and no default)"
    )
    return None


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor("!include", _include)
_Loader.add_constructor("!include_dir_list", _include_dir_list)
_Loader.add_constructor("!include_dir_merge_list", _include_dir_merge_list)
_Loader.add_constructor("!include_dir_named", _include_dir_named)
_Loader.add_constructor("!include_dir_merge_named", _include_dir_merge_named)
_Loader.add_constructor("!secret", _secret)
_Loader.add_constructor("!env_var", _env_var)


class _SecretsLoader(_Loader):
    """Loader for secrets.yaml, in which !secret itself is refused."""


_SecretsLoader.add_constructor("!secret", _no_secret)


def _unknown_tag(loader: _Loader, suffix: str, node: yaml.Node) -> None:
    loader.ctx.problem(loader.pos(node), f"unknown tag !{suffix.lstrip('!')}")


_Loader.add_multi_constructor("!", _unknown_tag)


def load_file(path: Path, ctx: LoadContext, *, allow_secrets: bool = True,
              included_at: Position | None = None) -> Any:
    """Load one YAML file into positioned nodes; problems go to ``ctx.problems``.

    ``included_at``: the ``!include`` that asked for it (where an include loop is reported:
    at the include that closes the loop, not at line 1 of a file)."""
    resolved = path.resolve()
    shown = ctx.display(path)
    if resolved in ctx.loading:
        chain = " -> ".join(ctx.display(item) for item in
                            [*ctx.loading[ctx.loading.index(resolved):], resolved])
        ctx.problem(included_at or Position(shown, 1),
                    f"!include loop: {chain} (a file cannot include itself)")
        return None
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        start = err.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
        line = raw[:start].count(b"\n") + 1
        ctx.problem(Position(shown, line), f"not UTF-8 text: {err.reason} at byte {start} "
                    "(save the file as UTF-8)")
        return None
    except OSError as err:
        ctx.problem(Position(shown, 1), f"cannot read file: {err.strerror or err}")
        return None
    loader_cls = _Loader if allow_secrets else _SecretsLoader
    loader = loader_cls(text)
    loader.ctx = ctx
    loader.file = path
    loader.shown = shown
    loader.lines = {}
    ctx.loading.append(resolved)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = err.problem or err.context or "invalid YAML"
        ctx.problem(Position(shown, line), f"YAML syntax error: {reason}")
        return None
    except yaml.YAMLError as err:
        ctx.problem(Position(shown, 1), f"YAML error: {err}")
        return None
    finally:
        ctx.loading.pop()
        loader.dispose()


def load_yaml(path: str | Path, root: str | Path | None = None) -> tuple[Any, LoadContext]:
    """Load a configuration file and everything it includes.

    Returns the positioned data and the load context holding any problems found.
    """
    path = Path(path)
    ctx = LoadContext(root=Path(root) if root is not None else path.parent)
    if not path.is_file():
        ctx.problem(None, f"configuration file not found: {path}")
        return None, ctx
    return load_file(path, ctx), ctx


def position_of(data: Any, path: list[Any]) -> Position | None:
    """Return where the value at ``path`` (or the nearest enclosing thing) was written.

    For a missing key the mapping that should hold it is named; for an unknown key, the key.
    """
    best: Position | None = getattr(data, "pos", None)
    current = data
    for part in path:
        if isinstance(current, NodeDict):
            if part not in current:
                return best
            best = current.key_pos.get(part) or best
            if not isinstance(current[part], NodeDict | NodeList):
                best = current.value_pos.get(part) or best
            current = current[part]
        elif isinstance(current, NodeList):
            if not isinstance(part, int) or not 0 <= part < len(current):
                return best
            best = current.item_pos[part] or best
            current = current[part]
        else:
            return best
        inner = getattr(current, "pos", None)
        if inner is not None and inner.file != (best.file if best else None):
            best = inner  # the value came from an included file: point into it
    return best
