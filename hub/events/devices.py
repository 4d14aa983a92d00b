"""Events of device maintenance: parameter writes, bulk jobs, the meters' own event records."""

# No ``from __future__ import annotations`` here (see hub/events/__init__.py).

from typing import Any, Final, NotRequired, TypedDict

from .catalog import EventType

__all__ = [
    "DEVICE_COMMAND",
    "DEVICE_JOB",
    "EVENT_DEVICE_COMMAND",
    "EVENT_DEVICE_JOB",
    "EVENT_METER_EVENT",
    "EVENT_TYPES",
    "METER_EVENT",
    "DeviceCommandData",
    "DeviceJobData",
    "MeterEventData",
]

EVENT_DEVICE_COMMAND: Final = "device_command"
EVENT_DEVICE_JOB: Final = "device_job"
EVENT_METER_EVENT: Final = "meter_event"


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


class MeterEventData(TypedDict):
    """``meter_event``."""

    meter_id: str
    kind: str  # cover_open, terminal_cover_open, power_down, programming, clock_change...
    started: str  # ISO time the meter recorded (its own clock, site-local)
    ended: NotRequired[str]  # ISO end time, when the meter records one
    count: int  # the meter's total count of such events when read
    tamper: bool  # raised as an alarm too
    detail: NotRequired[dict[str, Any]]


DEVICE_COMMAND = EventType(EVENT_DEVICE_COMMAND, DeviceCommandData, "A parameter write (or a "
                           "firmware update) of a meter changed state: queued, sent, confirmed "
                           "by reading back, or failed", "devices")
DEVICE_JOB = EventType(EVENT_DEVICE_JOB, DeviceJobData, "A bulk device job made progress or "
                       "ended", "devices")
METER_EVENT = EventType(EVENT_METER_EVENT, MeterEventData, "A new record from a meter's own "
                        "event log (cover opened, power down, programming, clock change...)",
                        "devices")

EVENT_TYPES: Final[tuple[EventType, ...]] = (DEVICE_COMMAND, DEVICE_JOB, METER_EVENT)
