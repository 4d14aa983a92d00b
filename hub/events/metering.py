"""Events of metering: readings, failed reads, meters on and off line, alarms."""

# No ``from __future__ import annotations`` in this module (nor in a plugin's events.py):
# on Python 3.11 a TypedDict with string annotations cannot see ``NotRequired[...]`` and
# reports every key as required.

from decimal import Decimal
from typing import Annotated, Any, Final, NotRequired, TypeAlias, TypedDict

from .catalog import EventType

__all__ = [
    "ALARM",
    "ALARM_CLEARED",
    "DTU_OFFLINE",
    "DTU_ONLINE",
    "EVENT_ALARM",
    "EVENT_ALARM_CLEARED",
    "EVENT_DTU_OFFLINE",
    "EVENT_DTU_ONLINE",
    "EVENT_LINK_ALARM",
    "EVENT_METER_OFFLINE",
    "EVENT_METER_ONLINE",
    "EVENT_READING",
    "EVENT_READ_FAILED",
    "EVENT_TYPES",
    "LINK_ALARM",
    "METER_OFFLINE",
    "METER_ONLINE",
    "READING",
    "READ_FAILED",
    "AlarmData",
    "DtuOfflineData",
    "DtuOnlineData",
    "LinkAlarmData",
    "MeterOfflineData",
    "MeterOnlineData",
    "ReadFailedData",
    "ReadingData",
    "ReadingObject",
]

# An object of a higher layer: Any to the type checker, named in the docs.
ReadingObject: TypeAlias = Annotated[Any, "Reading"]  # hub.metering.reading.Reading


EVENT_READING: Final = "reading"
EVENT_DTU_ONLINE: Final = "dtu_online"
EVENT_DTU_OFFLINE: Final = "dtu_offline"
EVENT_READ_FAILED: Final = "read_failed"
EVENT_METER_ONLINE: Final = "meter_online"
EVENT_METER_OFFLINE: Final = "meter_offline"
EVENT_ALARM: Final = "alarm"
EVENT_ALARM_CLEARED: Final = "alarm_cleared"
EVENT_LINK_ALARM: Final = "link_alarm"


class ReadingData(TypedDict):
    """``reading``."""

    meter_id: str
    reading: ReadingObject  # registers, values and status bits, with time and source


class ReadFailedData(TypedDict):
    """``read_failed``."""

    meter_id: str
    error: str
    attempts: int  # tries of this read
    misses: int  # reads failed in a row
    source: str  # scheduled | on_demand | reread | uplink | manual | confirm


class MeterOnlineData(TypedDict):
    """``meter_online``."""

    meter_id: str


class MeterOfflineData(TypedDict):
    """``meter_offline``."""

    meter_id: str
    error: str  # the last read's error
    misses: int  # reads failed in a row


class AlarmData(TypedDict):
    """``alarm``, ``alarm_cleared``: from a reading (metering) or from loss analysis
    (billing, kind ``loss`` / ``loss_negative``, with the loss row's keys)."""

    meter_id: str
    kind: str  # over_voltage, phase_loss, battery_low, clock_drift, loss, loss_negative...
    phase: str | None  # a, b, c on three-phase meters; else None
    value: Any  # Decimal (V, A, kWh, loss %), int seconds (clock_drift), raw status value
    threshold: Decimal | int | bool  # True for status flags, int seconds for clock_drift
    reading_id: NotRequired[str]  # alarms from a reading: the reading
    value_unit: NotRequired[str]  # unit of value and threshold: V, A, kWh, s, %; "" for flags
    message: NotRequired[str]  # one line with units: "clock off by 28821 s (threshold 300 s)"
    unit: NotRequired[str]  # loss: the parent meter's unit
    tags: NotRequired[dict[str, str]]  # loss: the parent meter's tags
    period: NotRequired[str]  # loss: 2026-05 (month) or 2026-05-14 (day)
    resolution: NotRequired[str]  # loss: day | month
    parent_quantity: NotRequired[Decimal]  # loss
    children_quantity: NotRequired[Decimal]  # loss
    loss_quantity: NotRequired[Decimal]  # loss: parent minus children
    loss_percent: NotRequired[Decimal | None]  # loss: None when the parent used nothing
    status: NotRequired[str]  # loss: high | negative | ok | small | no_usage
    negative_threshold: NotRequired[Decimal]  # loss: percent
    children: NotRequired[list[str]]  # loss: the child meters
    missing: NotRequired[list[str]]  # loss: meters without complete data


READING = EventType(EVENT_READING, ReadingData, "A meter was read (or reported by itself)",
                    "metering")
READ_FAILED = EventType(EVENT_READ_FAILED, ReadFailedData, "A read of a meter failed after its "
                        "retries", "metering")
METER_ONLINE = EventType(EVENT_METER_ONLINE, MeterOnlineData, "A meter answered again (or for "
                         "the first time since start-up)", "metering")
METER_OFFLINE = EventType(EVENT_METER_OFFLINE, MeterOfflineData, "A meter missed too many reads "
                          "in a row and is now offline", "metering")
ALARM = EventType(EVENT_ALARM, AlarmData, "A meter's value passed an alarm threshold (voltage, "
                  "current, valve, battery, clock; or a parent meter's loss)",
                  "metering; billing (loss analysis)")
ALARM_CLEARED = EventType(EVENT_ALARM_CLEARED, AlarmData, "A raised alarm is over: the value is "
                          "back inside its clear threshold", "metering; billing (loss analysis)")



class DtuOnlineData(TypedDict):
    """``dtu_online``."""

    link: str
    dtu: str  # the DTU's id (IMEI, ICCID or configured id)
    peer: str  # the address it connected from


class DtuOfflineData(TypedDict):
    """``dtu_offline``."""

    link: str
    dtu: str  # the DTU's id (IMEI, ICCID or configured id)
    reason: str  # why the connection ended


DTU_ONLINE = EventType(EVENT_DTU_ONLINE, DtuOnlineData, "A DTU (4G/Wi-Fi modem with meters "
                       "behind it) connected and registered", "metering (DTU links)")
DTU_OFFLINE = EventType(EVENT_DTU_OFFLINE, DtuOfflineData, "A DTU's connection was lost or "
                        "closed: its meters cannot be read", "metering (DTU links)")



class LinkAlarmData(TypedDict):
    """``link_alarm``."""

    link: str
    kind: str  # dtu_conflict, registration_refused, source_refused, connection_flood, push_refused
    peer: str  # the address the attempt came from (host:port)
    message: str  # one line saying what was refused and why
    dtu: NotRequired[str]  # the DTU (or NB-IoT device) the attempt claimed to be
    live_peer: NotRequired[str]  # dtu_conflict: the address of the live DTU that was kept


LINK_ALARM = EventType(EVENT_LINK_ALARM, LinkAlarmData, "Something tried to take over or "
                       "flood a link and was refused: a second DTU claiming a live DTU's id, "
                       "a wrong registration secret, a source outside the allowed networks, "
                       "a flood of idle connections, a forged platform push",
                       "metering (DTU links, NB-IoT pushes)")

EVENT_TYPES: Final[tuple[EventType, ...]] = (
    READING, READ_FAILED, METER_ONLINE, METER_OFFLINE, ALARM, ALARM_CLEARED, DTU_ONLINE,
    DTU_OFFLINE, LINK_ALARM,
)

