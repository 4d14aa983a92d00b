"""Constants shared by the core and plugins: hub states, defaults (event types are in the
event catalog, hub.events)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = [
    "CLI_TOKEN_FILE",
    "DEFAULT_CURRENCY",
    "DEFAULT_HTTP_HOST",
    "DEFAULT_HTTP_PORT",
    "DEFAULT_LANGUAGE",
    "DEFAULT_TIME_ZONE",
    "ENTRY_POINT_GROUP",
    "MATCH_ALL",
    "PLUGIN_SETUP_TIMEOUT",
    "STAGE_START_TIMEOUT",
    "STAGE_STOP_TIMEOUT",
    "TASK_CANCEL_TIMEOUT",
    "HubState",
    "SupportsResponse",
]

MATCH_ALL: Final = "*"


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

CLI_TOKEN_FILE: Final = "cli-token"
"""The file in the data folder where the running hub keeps the CLI's token (mode 0600)."""


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
