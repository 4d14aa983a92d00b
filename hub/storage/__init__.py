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

from ..exceptions import StartupRefused
from ..hookspecs import hookimpl
from ..i18n import Text, text_of
from .codec import from_ms, to_ms
from .const import STORAGE_START_TIMEOUT, STORAGE_STOP_TIMEOUT
from .errors import DatabaseLocked, StorageError, StorageFull, StorageUnavailable
from .messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)
from .model import (
    CommandRecord,
    ConsumptionRow,
    MeterInfo,
    ReadingOutcome,
    ReadingStatus,
    SeriesPoint,
)
from .queries import automation as automation_queries
from .queries.alarms import AlarmAck
from .queries.auth import AuditFilter, AuthStore, SessionRow, TokenRow, UserRow
from .queries.automation import WaitRow
from .queries.commands import CommandConflict, CommandNotFound
from .queries.control import ControlCommand, ControlStore, HoldRow, ScheduleRow
from .queries.devices import DeviceStore, JobItem, JobRow, RatioRow
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
from .queries.notify import NotifyStore, OutboxRow
from .queries.payments import OrderRow, PaymentStore, RefundRow
from .queries.portal import AnnouncementRow, LinkRow, PortalStore
from .queries.replacements import ReplacementRow
from .settings import STORAGE_SCHEMA, StorageSettings
from .storage import Storage
from .tools.backup import BackupInfo
from .tools.export import ExportRequest
from .write.transaction import Transaction

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "STORAGE_SCHEMA",
    "AlarmAck",
    "AnnouncementRow",
    "AppliedValues",
    "AuditFilter",
    "AuditRow",
    "AuthStore",
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
    "DeviceStore",
    "EntryRow",
    "ExportRequest",
    "HoldRow",
    "JobItem",
    "JobRow",
    "LinkRow",
    "MeterInfo",
    "MoneyStore",
    "NotifyStore",
    "OrderRow",
    "OutboxRow",
    "PaymentStore",
    "PortalStore",
    "RatioRow",
    "ReadingOutcome",
    "ReadingStatus",
    "RefundRow",
    "ReplacementRow",
    "ScheduleRow",
    "SeriesPoint",
    "SessionRow",
    "Storage",
    "StorageError",
    "StorageFull",
    "StorageSettings",
    "StorageUnavailable",
    "TokenRow",
    "Transaction",
    "UserRow",
    "WaitRow",
    "audit_file",
    "automation_queries",
    "from_ms",
    "to_ms",
]


@hookimpl
def config_schema() -> dict[str, Any]:
    """Claim the ``storage:`` block."""
    return {"storage": STORAGE_SCHEMA}


@hookimpl
def setup(hub: Hub) -> None:
    """Create the Storage component and its stage: the first to bind (the database's process
    lock, before any port: a second hub on the same data is refused naming the first) and
    to start, and the last to stop."""
    settings = StorageSettings.from_block(hub.config.block("storage"), hub.config.data_dir)
    storage = Storage(settings, time_zone=hub.config.time_zone, hub=hub)
    hub.add_component("storage", storage)

    async def bind() -> None:
        try:
            storage.claim()
        except DatabaseLocked as err:
            raise StartupRefused(Text("storage.locked_hint", reason=text_of(err))) from None

    async def start() -> None:
        # every port is bound by now: a hub refused by the lock can name this one's web port
        storage.note_holder(web_port=hub.ports.get("web"))
        await storage.start(spawn=hub.create_background_task)
        storage.attach(hub)

    hub.add_stage("storage", bind=bind, start=start, stop=storage.stop,
                  start_timeout=STORAGE_START_TIMEOUT, stop_timeout=STORAGE_STOP_TIMEOUT)


@hookimpl
def register_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``meterhub backup``, ``meterhub restore`` and ``meterhub export``."""
    from .tools.cli import add_commands

    add_commands(subparsers)
