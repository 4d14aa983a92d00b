"""Events of storage: the consumption a stored reading counted, nightly backups."""

# No ``from __future__ import annotations`` in this module (nor in a plugin's events.py):
# on Python 3.11 a TypedDict with string annotations cannot see ``NotRequired[...]`` and
# reports every key as required.

from datetime import datetime
from decimal import Decimal
from typing import Final, TypedDict

from .catalog import EventType

__all__ = [
    "BACKUP_FAILED",
    "BACKUP_WRITTEN",
    "CONSUMPTION",
    "EVENT_BACKUP_FAILED",
    "EVENT_BACKUP_WRITTEN",
    "EVENT_CONSUMPTION",
    "EVENT_TYPES",
    "BackupFailedData",
    "BackupWrittenData",
    "ConsumptionData",
    "ConsumptionInterval",
]

EVENT_CONSUMPTION: Final = "consumption"
EVENT_BACKUP_FAILED: Final = "backup_failed"
EVENT_BACKUP_WRITTEN: Final = "backup_written"


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



class BackupFailedData(TypedDict):
    """``backup_failed``."""

    target: str  # the backup folder (storage.backup.to)
    error: str  # why no copy was written: folder missing (not mounted?), not writable, full...


class BackupWrittenData(TypedDict):
    """``backup_written``."""

    path: str  # the new backup file
    size: int  # bytes
    readings: int  # readings it holds
    removed: list[str]  # older backups deleted to keep storage.backup.keep


BACKUP_FAILED = EventType(EVENT_BACKUP_FAILED, BackupFailedData, "The nightly backup could not "
                          "be written (an alarm: the landlord is told)", "storage")
BACKUP_WRITTEN = EventType(EVENT_BACKUP_WRITTEN, BackupWrittenData, "The nightly backup was "
                           "written and checked, and old ones rotated out", "storage")

EVENT_TYPES: Final[tuple[EventType, ...]] = (CONSUMPTION, BACKUP_FAILED, BACKUP_WRITTEN)

