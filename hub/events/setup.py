"""Events of set-up at runtime: meters added or changed, meters replaced."""

# No ``from __future__ import annotations`` in this module (nor in a plugin's events.py):
# on Python 3.11 a TypedDict with string annotations cannot see ``NotRequired[...]`` and
# reports every key as required.

from typing import Any, Final, TypedDict

from .catalog import EventType

__all__ = [
    "EVENT_METER_REPLACED",
    "EVENT_METER_UPDATED",
    "EVENT_TYPES",
    "METER_REPLACED",
    "METER_UPDATED",
    "MeterReplacedData",
    "MeterUpdatedData",
]

EVENT_METER_UPDATED: Final = "meter_updated"
EVENT_METER_REPLACED: Final = "meter_replaced"


class MeterUpdatedData(TypedDict):
    """``meter_updated``."""

    meter_id: str
    fields: list[str]  # the fields changed; ["*"]: the meter was created


class MeterReplacedData(TypedDict):
    """``meter_replaced``."""

    meter_id: str
    old_device: str  # the address of the device taken out
    new_device: str  # the address of the device put in
    at: str  # the swap time (ISO 8601)
    final: dict[str, Any]  # the old device's last registers, and whether read or typed
    initial: dict[str, Any]  # the new device's first registers, and whether read or typed
    cancelled: list[str]  # the old device's pending commands, cancelled


METER_UPDATED = EventType(EVENT_METER_UPDATED, MeterUpdatedData, "A meter was added or changed "
                          "at runtime (dashboard, API, CLI)", "ledger (meter book)")
METER_REPLACED = EventType(EVENT_METER_REPLACED, MeterReplacedData, "A meter's physical device "
                           "was replaced: the meter keeps its id, account, tariff and history",
                           "prepaid (meter replacement)")

EVENT_TYPES: Final[tuple[EventType, ...]] = (METER_UPDATED, METER_REPLACED)
