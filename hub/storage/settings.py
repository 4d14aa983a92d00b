"""The ``storage:`` block of hub.yaml and the settings object built from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time as dt_time
from decimal import Decimal
from pathlib import Path
from typing import Any

import voluptuous as vol

from .. import validation as cv
from ..i18n import Text
from .const import (
    DEFAULT_COMMIT_BATCH,
    DEFAULT_COMMIT_INTERVAL,
    DEFAULT_CONFIRM_READINGS,
    DEFAULT_DB_NAME,
    DEFAULT_EXCLUDE_EVENTS,
    DEFAULT_FUTURE_TOLERANCE_S,
    DEFAULT_MAINTENANCE_AT,
    DEFAULT_MAX_BUFFER,
    DEFAULT_MAX_RATE,
    DEFAULT_RETENTION_DAYS,
)
from .messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)
from .tools.nightly import BackupPlan


def _positive_number(value: Any) -> float:
    number = cv.decimal(value)
    if number <= 0:
        raise vol.Invalid(Text("storage.above_zero", value=cv.show_value(value)))
    return float(number)


def _optional_days(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("forever", "")):
        return None
    return cv.positive_int(value)


BACKUP_SCHEMA = cv.Strict(
    {
        vol.Required("to"): cv.string,
        vol.Optional("at", default="04:00"): cv.time_of_day,
        vol.Optional("keep", default=14): cv.positive_int,
    }
)

STORAGE_SCHEMA = cv.Strict(
    {
        vol.Optional("path", default=DEFAULT_DB_NAME): cv.string,
        vol.Optional("retention_days", default=DEFAULT_RETENTION_DAYS): cv.positive_int,
        vol.Optional("event_retention_days", default=None): _optional_days,
        vol.Optional("rollup_retention_days", default=None): _optional_days,
        vol.Optional("commit_interval", default=DEFAULT_COMMIT_INTERVAL): _positive_number,
        vol.Optional("commit_batch", default=DEFAULT_COMMIT_BATCH): cv.positive_int,
        vol.Optional("max_buffer", default=DEFAULT_MAX_BUFFER): cv.positive_int,
        vol.Optional("synchronous", default="normal"): cv.one_of("normal", "full"),
        vol.Optional("exclude_events", default=[]): cv.ListOf(cv.string, allow_single=True),
        vol.Optional("record_readings", default=True): cv.boolean,
        vol.Optional("restore_states", default=True): cv.boolean,
        vol.Optional("max_rate", default={}): {
            cv.string: cv.non_negative_decimal,
        },
        vol.Optional("confirm_readings", default=DEFAULT_CONFIRM_READINGS): cv.positive_int,
        vol.Optional("future_tolerance", default=DEFAULT_FUTURE_TOLERANCE_S): cv.duration,
        vol.Optional("maintenance_at", default=DEFAULT_MAINTENANCE_AT): cv.time_of_day,
        vol.Optional("backup"): BACKUP_SCHEMA,
    }
)


@dataclass
class StorageSettings:
    """Validated storage settings (defaults everywhere, so tests can build one directly)."""

    path: Path = field(default_factory=lambda: Path(DEFAULT_DB_NAME))
    retention_days: int = DEFAULT_RETENTION_DAYS
    event_retention_days: int | None = None
    rollup_retention_days: int | None = None
    commit_interval: float = DEFAULT_COMMIT_INTERVAL
    commit_batch: int = DEFAULT_COMMIT_BATCH
    max_buffer: int = DEFAULT_MAX_BUFFER
    synchronous: str = "normal"
    exclude_events: frozenset[str] = frozenset(DEFAULT_EXCLUDE_EVENTS)
    record_readings: bool = True
    restore_states: bool = True
    max_rate: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_MAX_RATE))
    confirm_readings: int = DEFAULT_CONFIRM_READINGS
    future_tolerance_s: float = DEFAULT_FUTURE_TOLERANCE_S
    maintenance_at: dt_time = field(default_factory=lambda: dt_time(3, 30))
    backup: BackupPlan | None = None
    """Nightly backups (``storage.backup``), or None."""
    readers: int = 2
    reopen_delay: float = 5.0

    @property
    def events_kept_days(self) -> int:
        """How long events are kept: their own setting, else the readings' retention."""
        return self.event_retention_days or self.retention_days

    @classmethod
    def from_block(cls, block: Mapping[str, Any] | None, data_dir: Path) -> StorageSettings:
        """Build settings from a validated ``storage:`` block; the path is relative to data_dir."""
        conf = STORAGE_SCHEMA(dict(block or {}))
        path = Path(conf["path"]).expanduser()
        rates = dict(DEFAULT_MAX_RATE)
        rates.update(conf["max_rate"])
        return cls(
            path=path if path.is_absolute() else data_dir / path,
            retention_days=conf["retention_days"],
            event_retention_days=conf["event_retention_days"],
            rollup_retention_days=conf["rollup_retention_days"],
            commit_interval=conf["commit_interval"],
            commit_batch=conf["commit_batch"],
            max_buffer=conf["max_buffer"],
            synchronous=conf["synchronous"],
            exclude_events=frozenset(DEFAULT_EXCLUDE_EVENTS) | frozenset(conf["exclude_events"]),
            record_readings=conf["record_readings"],
            restore_states=conf["restore_states"],
            max_rate=rates,
            confirm_readings=conf["confirm_readings"],
            future_tolerance_s=conf["future_tolerance"].total_seconds(),
            maintenance_at=conf["maintenance_at"],
            backup=_backup_plan(conf.get("backup"), data_dir),
        )


def _backup_plan(block: Mapping[str, Any] | None, data_dir: Path) -> BackupPlan | None:
    """The ``backup:`` block as a plan; a relative ``to`` is relative to the data folder."""
    if block is None:
        return None
    folder = Path(block["to"]).expanduser()
    return BackupPlan(folder if folder.is_absolute() else data_dir / folder, block["at"],
                      block["keep"])
