"""Events of device maintenance: parameter writes, bulk jobs, the meters' own event records."""

# No ``from __future__ import annotations`` here (see hub/events/__init__.py).

from typing import Final, NotRequired, TypedDict

from .catalog import EventType

__all__ = [
    "DEVICE_COMMAND",
    "DEVICE_JOB",
    "EVENT_DEVICE_COMMAND",
    "EVENT_DEVICE_JOB",
    "EVENT_TYPES",
    "DeviceCommandData",
    "DeviceJobData",
]

EVENT_DEVICE_COMMAND: Final = "device_command"
EVENT_DEVICE_JOB: Final = "device_job"


class DeviceCommandData(TypedDict):
    """``device_command``."""

    command_id: str
    meter_id: str
    command: str  # write:<param> or firmware
    state: str  # queued | sent | confirmed | failed | cancelled
    attempts: int
    error: NotRequired[str]  # why an attempt or the command failed, in words
    job_id: NotRequired[str]  # the bulk job it belongs to
    retry_at: NotRequired[str]  # ISO time of the next attempt


class DeviceJobData(TypedDict):
    """``device_job``."""

    job_id: str
    kind: str  # write | firmware
    state: str  # running | done | cancelled
    progress: dict[str, int]  # items per state and the total


DEVICE_COMMAND = EventType(EVENT_DEVICE_COMMAND, DeviceCommandData, "A parameter write (or a "
                           "firmware update) of a meter changed state: queued, sent, confirmed "
                           "by reading back, or failed", "devices")
DEVICE_JOB = EventType(EVENT_DEVICE_JOB, DeviceJobData, "A bulk device job made progress or "
                       "ended", "devices")
EVENT_TYPES: Final[tuple[EventType, ...]] = (DEVICE_COMMAND, DEVICE_JOB)
