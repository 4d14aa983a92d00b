"""History that lasts: readings, rollups, events, states and commands in SQLite.

A core plugin: it claims the ``storage:`` block, starts before the parts that require it and
stops after them, records the bus, restores entity states after a restart, and adds the
``meterhub backup | restore | export`` commands. Other parts of the hub use the :class:`Storage`
component (``hub.component("storage", Storage)``), never SQL: code outside
hub/storage imports only the names in ``__all__`` below, from this package.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from .codec import from_ms, to_ms
from .const import STORAGE_START_TIMEOUT, STORAGE_STOP_TIMEOUT
from .errors import StorageError, StorageFull, StorageUnavailable
from .model import (
    CommandRecord,
    ConsumptionRow,
    MeterInfo,
    ReadingOutcome,
    ReadingStatus,
    SeriesPoint,
)
from .queries.commands import CommandConflict, CommandNotFound
from .queries.control import ControlCommand, ControlStore, HoldRow, ScheduleRow
from .queries.money import (
    AppliedValues,
    AuditRow,
    BillRow,
    ChargeStateRow,
    ChargeStateValues,
    EntryRow,
    MoneyStore,
    audit_file,
)
from .settings import STORAGE_SCHEMA, StorageSettings
from .storage import Storage
from .tools.backup import BackupInfo
from .tools.export import ExportRequest
from .write.transaction import Transaction

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "STORAGE_SCHEMA",
    "AppliedValues",
    "AuditRow",
    "BackupInfo",
    "BillRow",
    "ChargeStateRow",
    "ChargeStateValues",
    "CommandConflict",
    "CommandNotFound",
    "CommandRecord",
    "ConsumptionRow",
    "ControlCommand",
    "ControlStore",
    "EntryRow",
    "ExportRequest",
    "HoldRow",
    "MeterInfo",
    "MoneyStore",
    "ReadingOutcome",
    "ReadingStatus",
    "ScheduleRow",
    "SeriesPoint",
    "Storage",
    "StorageError",
    "StorageFull",
    "StorageSettings",
    "StorageUnavailable",
    "Transaction",
    "audit_file",
    "from_ms",
    "to_ms",
]


@hookimpl
def config_schema() -> dict[str, Any]:
    """Claim the ``storage:`` block."""
    return {"storage": STORAGE_SCHEMA}


@hookimpl
def setup(hub: Hub) -> None:
    """Create the Storage component and its stage (first to start, last to stop)."""
    settings = StorageSettings.from_block(hub.config.block("storage"), hub.config.data_dir)
    storage = Storage(settings, time_zone=hub.config.time_zone, hub=hub)
    hub.add_component("storage", storage)

    async def start() -> None:
        await storage.start(spawn=hub.create_background_task)
        storage.attach(hub)

    hub.add_stage("storage", start=start, stop=storage.stop,
                  start_timeout=STORAGE_START_TIMEOUT, stop_timeout=STORAGE_STOP_TIMEOUT)


@hookimpl
def register_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``meterhub backup``, ``meterhub restore`` and ``meterhub export``."""
    from .tools.cli import add_commands

    add_commands(subparsers)
