"""Online, consistent backups through SQLite's backup API, and restoring one.

A backup copies one snapshot of the database in a single step: in WAL mode the hub keeps
writing meanwhile (readers never block the writer), and the copy is exactly the database as
of one commit. Restore refuses to run while a hub holds the database, checks the backup
first, and moves the current database aside instead of overwriting it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ...i18n import Text, text_of
from ...util.dt import utcnow
from ...util.output import OutputError, output_folder
from ..database.connection import BUSY_TIMEOUT_MS, check_integrity
from ..database.lock import ProcessLock
from ..errors import StorageError
from ..messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)
from ..schema.migrations import current_version, latest_version

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackupInfo:
    """What a backup holds."""

    path: Path
    size: int
    schema_version: int
    readings: int
    events: int


def backup(source: Path, target: Path) -> BackupInfo:
    """Copy the database at ``source`` to ``target`` (a new file) consistently, online."""
    if not source.exists():
        raise StorageError(Text("storage.no_database", path=str(source)))
    if target.exists():
        raise StorageError(Text("storage.backup_exists", path=str(target)))
    try:
        output_folder(target)
    except OutputError as err:
        raise StorageError(text_of(err)) from None
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(str(source), isolation_level=None)
    try:
        src.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        src.execute("PRAGMA query_only=1")
        dst = sqlite3.connect(str(partial), isolation_level=None)
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    problem = check_integrity(partial)
    if problem:
        partial.unlink(missing_ok=True)
        raise StorageError(Text("storage.backup_check", path=str(source), problem=problem))
    os.replace(partial, target)
    info = describe(target)
    _LOGGER.info("Backup of %s written to %s (%d bytes, %d readings)", source, target,
                 info.size, info.readings)
    return info


def describe(path: Path) -> BackupInfo:
    """Read what a backup (or any MeterHub database) holds."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        version = current_version(conn)
        readings = conn.execute("SELECT COUNT(*) FROM reading").fetchone()[0] if version else 0
        events = conn.execute("SELECT COUNT(*) FROM event").fetchone()[0] if version else 0
    except sqlite3.DatabaseError as err:
        raise StorageError(Text("storage.not_database", path=str(path), reason=str(err))
                           ) from None
    finally:
        conn.close()
    return BackupInfo(path, path.stat().st_size, version, readings, events)


def restore(backup_path: Path, target: Path) -> Path | None:
    """Put a backup in place of the database at ``target``; return where the old one went.

    Refuses while a MeterHub process holds the database, or when the backup is damaged or
    newer than this MeterHub. The current database is renamed, never overwritten.
    """
    if not backup_path.is_file():
        raise StorageError(Text("storage.no_backup", path=str(backup_path)))
    problem = check_integrity(backup_path)
    if problem:
        raise StorageError(Text("storage.backup_damaged", path=str(backup_path), problem=problem))
    info = describe(backup_path)
    if info.schema_version == 0:
        raise StorageError(Text("storage.backup_foreign", path=str(backup_path)))
    if info.schema_version > latest_version():
        raise StorageError(Text("storage.backup_newer", backup=info.schema_version,
                                latest=latest_version()))
    lock = ProcessLock(target)
    lock.acquire()
    try:
        moved: Path | None = None
        if target.exists():
            stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
            moved = target.with_name(f"{target.name}.before-restore-{stamp}")
            counter = 1
            while moved.exists():
                moved = target.with_name(f"{target.name}.before-restore-{stamp}-{counter}")
                counter += 1
            _checkpoint(target)
            target.rename(moved)
            for suffix in ("-wal", "-shm"):
                side = target.with_name(target.name + suffix)
                if side.exists():
                    side.rename(moved.with_name(moved.name + suffix))
        partial = target.with_name(target.name + ".restoring")
        partial.unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True, isolation_level=None)
        try:
            dst = sqlite3.connect(str(partial), isolation_level=None)
            try:
                src.backup(dst, pages=-1)
            finally:
                dst.close()
        finally:
            src.close()
        os.replace(partial, target)
    finally:
        lock.release()
    _LOGGER.info("Restored %s from %s (schema v%d, %d readings); the previous database is %s",
                 target, backup_path, info.schema_version, info.readings, moved)
    return moved


def _checkpoint(path: Path) -> None:
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    except sqlite3.Error as err:
        _LOGGER.warning("Could not checkpoint %s before moving it: %s", path, err)
