"""The event catalog as Markdown: what ``python -m hub.events`` writes to docs/events.md."""

from __future__ import annotations

import ast
import functools
import inspect
import io
import re
import sys
import tokenize
import types
from typing import (
    Annotated,
    Any,
    Final,
    ForwardRef,
    NotRequired,
    Required,
    Union,
    get_args,
    get_origin,
    is_typeddict,
)

from .catalog import CORE_SOURCE, EventCatalog, forward_text, typeddict_annotations, typeddict_keys

__all__ = ["catalog_markdown"]

_DOC_HEAD: Final = """\
# Events

Every event type the hub and its built-in plugins fire, with its data: what automations'
`event` triggers and `meterhub check-config` check against. Money is in yuan, exact decimals
with 2 places, unless a key says otherwise.

Generated from the event catalog (`hub/events/` and each built-in plugin's `events.py`) by
`python -m hub.events > docs/events.md`: edit those, not this file.
"""

def catalog_markdown(catalog: EventCatalog) -> str:
    """The catalog as Markdown: a summary table, then each event's data keys."""
    lines = [_DOC_HEAD, "| Event | Fired by | Meaning |", "| --- | --- | --- |"]
    lines += [f"| [`{et.name}`](#{et.name}) | {_cell(et.fired_by)} | {_cell(et.meaning)} |"
              for et in catalog]
    for et in catalog:
        source = catalog.source(et.name)
        where = "the core" if source == CORE_SOURCE else f"plugin `{source}`"
        lines += ["", f"## `{et.name}`", "", f"{et.meaning}.", "",
                  f"Fired by: {et.fired_by}. Defined by {where}. Data: `{et.data.__name__}`.",
                  ""]
        lines += _keys_table(et.data)
        for nested in _nested_typeddicts(et.data):
            lines += ["", f"`{nested.__name__}`: {_first_line(nested)}", ""]
            lines += _keys_table(nested)
    return "\n".join(lines) + "\n"


def _keys_table(data: type) -> list[str]:
    annotations = typeddict_annotations(data)
    if not annotations:
        return ["No data."]
    required, _optional = typeddict_keys(data)
    notes = _key_notes(data)
    rows = ["| Key | Type | Required | Note |", "| --- | --- | --- | --- |"]
    rows += [f"| `{key}` | `{_cell(_type_text(tp))}` | {'yes' if key in required else 'no'} "
             f"| {_cell(notes.get(key, ''))} |" for key, tp in annotations.items()]
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _first_line(data: type) -> str:
    return (inspect.getdoc(data) or data.__name__).splitlines()[0]


def _key_notes(data: type) -> dict[str, str]:
    """The trailing comments of a TypedDict's keys (``key: int  # note``), base classes'
    keys included, read from its module's source (TypedDict forgets its bases)."""
    classes = _module_classes(data.__module__)
    notes: dict[str, str] = {}

    def collect(name: str, seen: set[str]) -> None:
        if name in seen or name not in classes:
            return
        seen.add(name)
        bases, own = classes[name]
        for base in bases:
            collect(base, seen)
        notes.update(own)

    collect(data.__qualname__, set())
    return notes


@functools.cache
def _module_classes(module_name: str) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Each class of a module: its base class names and its annotated names' comments."""
    module = sys.modules.get(module_name)
    try:
        source = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        source = ""
    comments = {token.start[0]: token.string.lstrip("#").strip()
                for token in tokenize.generate_tokens(io.StringIO(source).readline)
                if token.type == tokenize.COMMENT}
    classes: dict[str, tuple[list[str], dict[str, str]]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            bases = [base.id for base in node.bases if isinstance(base, ast.Name)]
            own = {stmt.target.id: comments[stmt.end_lineno or stmt.lineno]
                   for stmt in node.body
                   if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                   and (stmt.end_lineno or stmt.lineno) in comments}
            classes[node.name] = (bases, own)
    return classes


def _type_text(tp: Any) -> str:
    """A type as people write it: ``Decimal | None``, ``list[str]``, ``Reading``."""
    if isinstance(tp, str | ForwardRef):
        text = forward_text(tp)
        found = re.match(r"^(?:typing\.)?(?:Not)?Required\[(.*)\]$", text)
        return found.group(1) if found else text
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (NotRequired, Required):
        return _type_text(args[0])
    if origin is Annotated:
        label = next((meta for meta in tp.__metadata__ if isinstance(meta, str)), None)
        return label if label is not None else _type_text(args[0])
    if origin in (Union, types.UnionType):
        return " | ".join(_type_text(arg) for arg in args)
    if tp is type(None):
        return "None"
    if tp is Any:
        return "Any"
    if tp is Ellipsis:
        return "..."
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[" + ", ".join(
            _type_text(arg) for arg in args) + "]"
    return getattr(tp, "__name__", str(tp))


def _nested_typeddicts(data: type) -> list[type]:
    """TypedDicts used inside another one's keys (list[ShareLineData]...), in order, once."""
    found: list[type] = []

    def visit(tp: Any) -> None:
        if is_typeddict(tp):
            if tp not in found:
                found.append(tp)
                for inner in typeddict_annotations(tp).values():
                    visit(inner)
            return
        for arg in get_args(tp):
            visit(arg)

    for annotation in typeddict_annotations(data).values():
        visit(annotation)
    return found
