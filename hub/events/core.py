"""Events of the core: the hub's life-cycle, states, services and plugins."""

# No ``from __future__ import annotations`` in this module (nor in a plugin's events.py):
# on Python 3.11 a TypedDict with string annotations cannot see ``NotRequired[...]`` and
# reports every key as required.

from collections.abc import Mapping
from typing import Annotated, Any, Final, TypeAlias, TypedDict

from .catalog import EventType

__all__ = [
    "CALL_SERVICE",
    "EVENT_CALL_SERVICE",
    "EVENT_HUB_FINAL_WRITE",
    "EVENT_HUB_START",
    "EVENT_HUB_STARTED",
    "EVENT_HUB_STOP",
    "EVENT_PLUGIN_FAILED",
    "EVENT_SERVICE_REGISTERED",
    "EVENT_SERVICE_REMOVED",
    "EVENT_STATE_CHANGED",
    "EVENT_TYPES",
    "HUB_FINAL_WRITE",
    "HUB_START",
    "HUB_STARTED",
    "HUB_STOP",
    "PLUGIN_FAILED",
    "SERVICE_REGISTERED",
    "SERVICE_REMOVED",
    "STATE_CHANGED",
    "CallServiceData",
    "NoData",
    "PluginFailedData",
    "ServiceData",
    "StateChangedData",
    "StateObject",
]

# An object of a higher layer: Any to the type checker, named in the docs.
StateObject: TypeAlias = Annotated[Any, "State"]  # hub.core.State


EVENT_HUB_START: Final = "hub_start"
EVENT_HUB_STARTED: Final = "hub_started"
EVENT_HUB_STOP: Final = "hub_stop"
EVENT_HUB_FINAL_WRITE: Final = "hub_final_write"
EVENT_STATE_CHANGED: Final = "state_changed"
EVENT_CALL_SERVICE: Final = "call_service"
EVENT_SERVICE_REGISTERED: Final = "service_registered"
EVENT_SERVICE_REMOVED: Final = "service_removed"
EVENT_PLUGIN_FAILED: Final = "plugin_failed"


class NoData(TypedDict):
    """The event carries no data."""


class StateChangedData(TypedDict):
    """``state_changed``."""

    entity_id: str
    old_state: StateObject | None  # None: the entity is new
    new_state: StateObject | None  # None: the entity was removed


class CallServiceData(TypedDict):
    """``call_service``."""

    domain: str
    service: str
    service_data: Mapping[str, Any]  # as validated by the service's schema


class ServiceData(TypedDict):
    """``service_registered``, ``service_removed``."""

    domain: str
    service: str


class PluginFailedData(TypedDict):
    """``plugin_failed``."""

    plugin: str
    error: str


HUB_START = EventType(EVENT_HUB_START, NoData, "The hub began starting, before plugins are set "
                      "up (only listeners added before start-up see it)", "core")
HUB_STARTED = EventType(EVENT_HUB_STARTED, NoData, "The hub finished starting: every plugin "
                        "is set up and every stage runs", "core")
HUB_STOP = EventType(EVENT_HUB_STOP, NoData, "The hub began stopping", "core")
HUB_FINAL_WRITE = EventType(EVENT_HUB_FINAL_WRITE, NoData, "Last call before the hub stops: "
                            "write what is still held in memory", "core")
STATE_CHANGED = EventType(EVENT_STATE_CHANGED, StateChangedData, "An entity's state or "
                          "attributes changed, or the entity appeared or was removed", "core")
CALL_SERVICE = EventType(EVENT_CALL_SERVICE, CallServiceData, "A service was called (after its "
                         "data passed the service's schema)", "core")
SERVICE_REGISTERED = EventType(EVENT_SERVICE_REGISTERED, ServiceData, "A service became "
                               "available", "core")
SERVICE_REMOVED = EventType(EVENT_SERVICE_REMOVED, ServiceData, "A service was removed",
                            "core")
PLUGIN_FAILED = EventType(EVENT_PLUGIN_FAILED, PluginFailedData, "A plugin failed while the hub "
                          "was starting and is left out", "core")

EVENT_TYPES: Final[tuple[EventType, ...]] = (
    HUB_START, HUB_STARTED, HUB_STOP, HUB_FINAL_WRITE, STATE_CHANGED, CALL_SERVICE,
    SERVICE_REGISTERED, SERVICE_REMOVED, PLUGIN_FAILED,
)

