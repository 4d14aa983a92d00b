"""The catalog itself: what an event type is, and every event type by name."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, ForwardRef, is_typeddict

from ..i18n import Text, add_strings

__all__ = [
    "CORE_SOURCE",
    "EventCatalog",
    "EventType",
    "forward_text",
    "typeddict_annotations",
    "typeddict_keys",
]

add_strings({  # a plugin's event types refused at load
    "en": {
        "events.bad_name": "{source} defines an event type named {name}: use lower case "
                           "letters, digits and _",
        "events.taken": "event type '{name}' from {source} is already defined by {owner}",
        "events.meaning_line": "event type '{name}' from {source}: the meaning must be one line",
    },
    "zh-CN": {
        "events.bad_name": "{source} 定义的事件类型名 {name} 不合规：只能用小写字母、数字和 _",
        "events.taken": "{source} 的事件类型 '{name}' 已由 {owner} 定义",
        "events.meaning_line": "{source} 的事件类型 '{name}'：含义说明只能写一行",
    },
})

CORE_SOURCE: Final = "core"
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class EventType:
    """One event type: its name, the TypedDict of its data, what it means, who fires it."""

    name: str
    data: type  # a TypedDict class
    meaning: str  # one line, in the words of a landlord or an automation author
    fired_by: str  # the subsystem or plugin: "ledger", "prepaid control", "plugin notify"...


class EventCatalog:
    """Every event type by name: the core's, then those plugins add (each with its source)."""

    def __init__(self, core: tuple[EventType, ...] | None = None) -> None:
        if core is None:
            # The package builds CORE_EVENTS from the subsystem modules, which import this
            # one for EventType: read it when a catalog is made, not when this is imported.
            from . import CORE_EVENTS

            core = CORE_EVENTS
        self._types: dict[str, tuple[str, EventType]] = {}
        for event_type in core:
            self.add(event_type, CORE_SOURCE)

    def add(self, event_type: EventType, source: str) -> None:
        """Add an event type defined by ``source`` (a plugin's name, or "core").

        Raises ValueError naming both sources if the name is taken, TypeError or ValueError
        if the definition is malformed.
        """
        if not isinstance(event_type, EventType):
            raise TypeError(f"{source} defines an event type that is not an EventType: "
                            f"{event_type!r}")
        name = event_type.name
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError(Text("events.bad_name", source=source, name=repr(name)))
        if name in self._types:
            owner = self._types[name][0]
            raise ValueError(Text("events.taken", name=name, source=source, owner=owner))
        if not is_typeddict(event_type.data):
            raise TypeError(f"event type '{name}' from {source}: data must be a TypedDict "
                            f"class, got {event_type.data!r}")
        for key, annotation in typeddict_annotations(event_type.data).items():
            if isinstance(annotation, str | ForwardRef) and re.match(
                    r"^(typing\.)?(Not)?Required\[", forward_text(annotation)):
                raise TypeError(
                    f"event type '{name}' from {source}: key '{key}' of "
                    f"{event_type.data.__name__} is a string annotation, so Python 3.11 loses "
                    "its Required/NotRequired: define the TypedDict in a module without "
                    "'from __future__ import annotations'")
        meaning = event_type.meaning
        if not meaning.strip() or "\n" in meaning:
            raise ValueError(Text("events.meaning_line", name=name, source=source))
        self._types[name] = (source, event_type)

    def get(self, name: str) -> EventType | None:
        """The event type with this name, or None."""
        found = self._types.get(name)
        return found[1] if found else None

    def source(self, name: str) -> str | None:
        """Who defined an event type: "core" or a plugin's name (None: unknown)."""
        found = self._types.get(name)
        return found[0] if found else None

    def names(self) -> list[str]:
        """Every event type's name, sorted."""
        return sorted(self._types)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[EventType]:
        return iter([self._types[name][1] for name in sorted(self._types)])

    def __len__(self) -> int:
        return len(self._types)

    def keys(self, name: str) -> tuple[frozenset[str], frozenset[str]]:
        """The (required, optional) data keys of an event type; KeyError if it is unknown."""
        event_type = self.get(name)
        if event_type is None:
            raise KeyError(self._unknown(name))
        return typeddict_keys(event_type.data)

    def check_data(self, name: str, data: Mapping[str, Any]) -> list[str]:
        """Problems of an event's data against its type: unknown type, missing or undeclared
        keys (values are not checked). Empty when the data fits."""
        event_type = self.get(name)
        if event_type is None:
            return [self._unknown(name)]
        required, optional = typeddict_keys(event_type.data)
        declared = required | optional
        problems = [f"event '{name}': required key '{key}' is missing"
                    for key in sorted(required - data.keys())]
        known = ", ".join(sorted(declared)) or "none"
        problems += [f"event '{name}': key '{key}' is not declared (its keys: {known})"
                     for key in sorted(set(data) - declared, key=str)]
        return problems

    def _unknown(self, name: str) -> str:
        close = difflib.get_close_matches(name, self._types, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown event type '{name}'{hint}"


def typeddict_annotations(data: type) -> dict[str, Any]:
    """A TypedDict's keys and their annotations, inherited keys included."""
    found: dict[str, Any] = getattr(data, "__annotations__", {})
    return found


def typeddict_keys(data: type) -> tuple[frozenset[str], frozenset[str]]:
    """A TypedDict's (required, optional) keys."""
    required: frozenset[str] = getattr(data, "__required_keys__", frozenset())
    optional: frozenset[str] = getattr(data, "__optional_keys__", frozenset())
    return required, optional


def forward_text(annotation: str | ForwardRef) -> str:
    """The text of a string annotation."""
    return annotation.__forward_arg__ if isinstance(annotation, ForwardRef) else annotation
