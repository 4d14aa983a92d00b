"""Events of the ``nbiot`` link: its downlink queue and the platforms' device reports.

Every event carries ``link`` and ``meter_id``.
"""

# No ``from __future__ import annotations``: see hub.events (NotRequired on Python 3.11).

from typing import Final, NotRequired, TypedDict

from hub.events import EventType

__all__ = [
    "EVENT_COMMAND",
    "EVENT_DEVICE_EVENT",
    "EVENT_DEVICE_OFFLINE",
    "EVENT_DEVICE_ONLINE",
    "EVENT_TYPES",
]

EVENT_COMMAND: Final = "nbiot_command"
EVENT_DEVICE_ONLINE: Final = "nbiot_device_online"
EVENT_DEVICE_OFFLINE: Final = "nbiot_device_offline"
EVENT_DEVICE_EVENT: Final = "nbiot_device_event"


class NbiotCommandData(TypedDict):
    """``nbiot_command``: a command in the link's downlink queue changed state."""

    link: str
    meter_id: str
    command_id: str  # the link's id (nb-...), not the control command's
    command: str  # trip | close | valve_close | valve_open | time_sync...
    state: str  # queued | sent | done | failed | expired | cancelled
    previous: str | None  # the state it left; None: just queued
    attempts: int
    expires: str  # ISO 8601 (UTC)
    error: NotRequired[str]
    reason: NotRequired[str]  # cancelled: why (superseded by..., cancelled)
    path: NotRequired[str]  # how it went out: udp | ctwing | onenet
    retry: NotRequired[bool]  # queued again after a failed attempt
    platform_id: NotRequired[str | None]  # sent: the platform's command id
    frame: NotRequired[str]  # sent: the frame, hex
    detail: NotRequired[str]  # done over UDP: the meter's answer
    by: NotRequired[str]  # done/failed: platform | meter acknowledgement | report
    result: NotRequired[str]  # the platform's result code
    status: NotRequired[dict[str, str | int | bool | float]]  # done: the status read
    platform_status: NotRequired[str]  # the platform's interim status code
    expired_at: NotRequired[str]  # expired: ISO 8601 (UTC)


class NbiotDeviceData(TypedDict):
    """``nbiot_device_online``, ``nbiot_device_offline``: a platform's device report."""

    link: str
    meter_id: str
    platform: str  # ctwing | onenet
    message_type: NotRequired[str]  # the platform's message type
    imei: NotRequired[str]
    device_id: NotRequired[str]
    product_id: NotRequired[str]
    protocol: NotRequired[str]  # CTWing: the device's protocol
    platform_time: NotRequired[str]  # ISO 8601 (UTC)
    ds_id: NotRequired[str]  # OneNET: the datastream


class NbiotDeviceEventData(TypedDict):
    """``nbiot_device_event``: a CTWing eventReport."""

    link: str
    meter_id: str
    platform: str  # ctwing
    message_type: str  # eventReport
    imei: NotRequired[str]
    device_id: NotRequired[str]
    product_id: NotRequired[str]
    protocol: NotRequired[str]
    platform_time: NotRequired[str]  # ISO 8601 (UTC)
    event_type: NotRequired[str]  # the platform's eventType
    service_id: NotRequired[str]  # the platform's serviceId


COMMAND = EventType(EVENT_COMMAND, NbiotCommandData, "A command waiting for a sleeping NB-IoT "
                    "meter changed state (queued, sent, done, failed, expired, cancelled)",
                    "plugin nbiot")
DEVICE_ONLINE = EventType(EVENT_DEVICE_ONLINE, NbiotDeviceData, "The NB-IoT platform says a "
                          "meter's module attached to the network", "plugin nbiot")
DEVICE_OFFLINE = EventType(EVENT_DEVICE_OFFLINE, NbiotDeviceData, "The NB-IoT platform says a "
                           "meter's module detached from the network", "plugin nbiot")
DEVICE_EVENT = EventType(EVENT_DEVICE_EVENT, NbiotDeviceEventData, "The NB-IoT platform passed "
                         "on an event a meter reported (an alarm, tampering...)", "plugin nbiot")

EVENT_TYPES: Final[tuple[EventType, ...]] = (COMMAND, DEVICE_ONLINE, DEVICE_OFFLINE, DEVICE_EVENT)
