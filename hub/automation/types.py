"""What a trigger, condition or action type is: built-in ones and plugins' alike.

Plugins return these from ``register_automation_triggers``, ``register_automation_conditions``
and ``register_automation_actions``; the engine registers its own through the same hooks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..core import Context, Hub
    from ..events.catalog import EventCatalog
    from ..util.calendar import Calendar
    from .persist import Marks
    from .states import StateIndex
    from .timers import Timers

__all__ = [
    "ActionType",
    "AutomationEnv",
    "ConditionCheck",
    "ConditionType",
    "RunVariables",
    "TriggerAction",
    "TriggerType",
]

RunVariables = Mapping[str, Any]
ConditionCheck = Callable[[RunVariables], bool]


class TriggerAction(Protocol):
    """What a trigger calls when it fires: its variables (``trigger.*``) and the context
    of what caused it (the event's, the state change's), or None for the clock."""

    def __call__(self, variables: dict[str, Any], context: Context | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class AutomationEnv:
    """What triggers, conditions and actions may use: the hub and the engine's clock."""

    hub: Hub
    timers: Timers
    clock: Callable[[], datetime]
    zone: tzinfo
    calendar: Calendar
    catalog: EventCatalog
    template_globals: Mapping[str, Any]
    marks: Marks  # time triggers' last firings (catch_up)
    states: StateIndex  # state changes by entity

    def local_now(self) -> datetime:
        """The site's local time now."""
        return self.clock().astimezone(self.zone)


@dataclass(frozen=True, slots=True)
class TriggerType:
    """``trigger: <name>``: ``schema`` holds its own keys; ``attach(env, config, action, where)``
    starts watching and returns the function that stops it."""

    name: str
    schema: Mapping[Any, Any]
    attach: Callable[[AutomationEnv, Mapping[str, Any], TriggerAction, str], Callable[[], None]]
    description: str = ""


@dataclass(frozen=True, slots=True)
class ConditionType:
    """``condition: <name>``: ``build(env, config, where)`` returns the check of run variables."""

    name: str
    schema: Mapping[Any, Any]
    build: Callable[[AutomationEnv, Mapping[str, Any], str], ConditionCheck]
    description: str = ""


@dataclass(frozen=True, slots=True)
class ActionType:
    """A step marked by the key ``name`` (``delay:``, ``notify:``...): ``schema`` holds the
    step's keys; ``run(env, config, variables)`` does it and returns what the trace records."""

    name: str
    schema: Mapping[Any, Any]
    run: Callable[[AutomationEnv, Mapping[str, Any], RunVariables], Awaitable[Any]]
    description: str = ""
