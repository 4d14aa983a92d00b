"""Events of storage: the consumption a stored reading counted."""

# No ``from __future__ import annotations`` in this module (nor in a plugin's events.py):
# on Python 3.11 a TypedDict with string annotations cannot see ``NotRequired[...]`` and
# reports every key as required.

from datetime import datetime
from decimal import Decimal
from typing import Final, TypedDict

from .catalog import EventType

__all__ = [
    "CONSUMPTION",
    "EVENT_CONSUMPTION",
    "EVENT_TYPES",
    "ConsumptionData",
    "ConsumptionInterval",
]

EVENT_CONSUMPTION: Final = "consumption"


class ConsumptionInterval(TypedDict):
    """What one reading counted on one register."""

    register: str  # energy_import_total, water_total...
    start: datetime
    end: datetime
    quantity: Decimal  # in the register's unit; negative: a late reading withdrew it


class ConsumptionData(TypedDict):
    """``consumption``."""

    meter_id: str
    reading_id: str
    intervals: tuple[ConsumptionInterval, ...]


CONSUMPTION = EventType(EVENT_CONSUMPTION, ConsumptionData, "A stored reading counted "
                        "consumption (fired after it is committed; billing charges it)",
                        "storage")

EVENT_TYPES: Final[tuple[EventType, ...]] = (CONSUMPTION,)

