"""Scheduled backups: ``storage.backup: {to: DIR, at: "04:00", keep: 14}``.

Each night at ``at`` (site time) the database is copied with the online backup of
``tools/backup.py`` (one consistent snapshot, the hub keeps writing) to
``DIR/meterhub-YYYYMMDD-HHMMSS.db``, then all but the newest ``keep`` such files in ``DIR``
are deleted. ``DIR`` is never created: it is meant to be a USB stick or a network share, and
a folder made on the SD card where the stick should be mounted would look like a backup
while dying with the card. A missing, unwritable or full target, or a copy that fails its
check, is a failure: the caller raises an alarm (``backup_failed``) and the next night
tries again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from datetime import time as dt_time
from pathlib import Path

from ...i18n import Text, text_of
from ..errors import StorageError
from ..messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)
from .backup import BackupInfo, backup

_LOGGER = logging.getLogger(__name__)

PREFIX = "meterhub-"
SUFFIX = ".db"
POLL_SECONDS = 60.0  # how often the clock is looked at while waiting for the night


@dataclass(frozen=True)
class BackupPlan:
    """Where, when and how many nightly backups are kept."""

    folder: Path
    at: dt_time
    keep: int


def check_target(folder: Path) -> None:
    """Raise StorageError when ``folder`` cannot take a backup (missing, not a folder,
    read-only), naming it."""
    if not folder.exists():
        raise StorageError(Text("storage.backup_folder_missing", folder=str(folder)))
    if not folder.is_dir():
        raise StorageError(Text("storage.backup_not_folder", folder=str(folder)))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(Text("storage.backup_read_only", folder=str(folder)))


def backups_in(folder: Path) -> list[Path]:
    """The nightly backups in ``folder``, oldest first (their names sort by time)."""
    return sorted(path for path in folder.glob(f"{PREFIX}*{SUFFIX}") if path.is_file())


def write_nightly(source: Path, plan: BackupPlan, when: datetime) -> tuple[BackupInfo,
                                                                           list[Path]]:
    """Write the backup of ``when`` (site time) and rotate; return it and the files removed.

    Raises StorageError (or OSError) for anything that kept a good copy from being written.
    """
    check_target(plan.folder)
    target = plan.folder / f"{PREFIX}{when:%Y%m%d-%H%M%S}{SUFFIX}"
    try:
        info = backup(source, target)
    except (OSError, sqlite3.Error) as err:  # a read-only or full target, a vanished stick
        target.with_name(target.name + ".partial").unlink(missing_ok=True)
        raise StorageError(Text("storage.cannot_write", path=str(target), reason=str(err))
                           ) from None
    removed = []
    for old in backups_in(plan.folder)[:-plan.keep]:
        old.unlink(missing_ok=True)
        removed.append(old)
    return info, removed


class BackupSchedule:
    """Runs :func:`write_nightly` each night at the plan's time and reports each outcome."""

    def __init__(self, source: Path, plan: BackupPlan, tz: tzinfo,
                 clock: Callable[[], float],
                 on_failure: Callable[[Path, str], None],
                 on_success: Callable[[BackupInfo, list[Path]], None] | None = None,
                 poll: float = POLL_SECONDS) -> None:
        self.source = source
        self.plan = plan
        self.tz = tz
        self.clock = clock
        self.on_failure = on_failure
        self.on_success = on_success
        self.poll = poll

    def now(self) -> datetime:
        """The site time by the storage clock."""
        return datetime.fromtimestamp(self.clock(), self.tz)

    def next_due(self, after: datetime) -> datetime:
        """The first backup time strictly after ``after``."""
        at = self.plan.at
        due = after.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
        return due if due > after else due + timedelta(days=1)

    async def run_once(self) -> bool:
        """Back up now (in a thread); report the outcome; True when a copy was written."""
        try:
            info, removed = await asyncio.to_thread(write_nightly, self.source, self.plan,
                                                    self.now())
        except (StorageError, OSError) as err:
            _LOGGER.error("Nightly backup to %s failed: %s", self.plan.folder, err)
            self.on_failure(self.plan.folder, text_of(err))
            return False
        if self.on_success is not None:
            self.on_success(info, removed)
        return True

    async def run(self) -> None:
        """Wait for each night's time (looking at the clock every ``poll`` s) and back up."""
        due = self.next_due(self.now())
        while True:
            now = self.now()
            if now < due:
                await asyncio.sleep(min(self.poll, (due - now).total_seconds()))
                continue
            await self.run_once()
            due = self.next_due(max(self.now(), due))
