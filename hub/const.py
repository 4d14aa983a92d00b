"""Constants shared by the core and plugins: event types, hub states, defaults."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = [
    "DEFAULT_CURRENCY",
    "DEFAULT_HTTP_HOST",
    "DEFAULT_HTTP_PORT",
    "DEFAULT_LANGUAGE",
    "DEFAULT_TIME_ZONE",
    "ENTRY_POINT_GROUP",
    "EVENT_CALL_SERVICE",
    "EVENT_HUB_FINAL_WRITE",
    "EVENT_HUB_START",
    "EVENT_HUB_STARTED",
    "EVENT_HUB_STOP",
    "EVENT_PLUGIN_FAILED",
    "EVENT_SERVICE_REGISTERED",
    "EVENT_SERVICE_REMOVED",
    "EVENT_STATE_CHANGED",
    "MATCH_ALL",
    "PLUGIN_SETUP_TIMEOUT",
    "STAGE_START_TIMEOUT",
    "STAGE_STOP_TIMEOUT",
    "TASK_CANCEL_TIMEOUT",
    "HubState",
    "SupportsResponse",
]

MATCH_ALL: Final = "*"

# Core event types. Subsystems add their own (reading, alarm, command_*, balance_*...)
# in their const modules; these are the ones the core itself fires.
EVENT_HUB_START: Final = "hub_start"
EVENT_HUB_STARTED: Final = "hub_started"
EVENT_HUB_STOP: Final = "hub_stop"
EVENT_HUB_FINAL_WRITE: Final = "hub_final_write"
EVENT_STATE_CHANGED: Final = "state_changed"
EVENT_CALL_SERVICE: Final = "call_service"
EVENT_SERVICE_REGISTERED: Final = "service_registered"
EVENT_SERVICE_REMOVED: Final = "service_removed"
EVENT_PLUGIN_FAILED: Final = "plugin_failed"

# How long one start-up stage, one plugin setup() or one shutdown stage may take.
STAGE_START_TIMEOUT: Final = 60.0
STAGE_STOP_TIMEOUT: Final = 10.0
PLUGIN_SETUP_TIMEOUT: Final = 30.0
TASK_CANCEL_TIMEOUT: Final = 5.0

DEFAULT_HTTP_HOST: Final = "0.0.0.0"
DEFAULT_HTTP_PORT: Final = 8123
DEFAULT_TIME_ZONE: Final = "Asia/Shanghai"
DEFAULT_LANGUAGE: Final = "zh-CN"
DEFAULT_CURRENCY: Final = "CNY"

ENTRY_POINT_GROUP: Final = "meterhub"


class HubState(StrEnum):
    """Life-cycle of a Hub."""

    NOT_RUNNING = "not_running"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


class SupportsResponse(StrEnum):
    """Whether a service returns data to its caller."""

    NONE = "none"
    OPTIONAL = "optional"
    ONLY = "only"
