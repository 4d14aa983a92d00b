"""Opening the writer's database: damaged files moved aside, schema brought up to date.

A ``<db>.running`` marker exists while a hub has the database open. Found at start-up, it
means the last run did not stop cleanly, so the file gets a ``PRAGMA quick_check`` first
(as Home Assistant's recorder does). A file SQLite calls damaged or not a database is
renamed to ``<db>.corrupt-<time>`` (never deleted, never overwritten) and a fresh database
is created, with an error in the log that says so and how to restore a backup.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from ...util.dt import utcnow
from ..schema.migrations import MIGRATIONS, Migration, migrate
from .connection import check_integrity, connect, is_corruption

_LOGGER = logging.getLogger(__name__)


def running_marker(path: Path) -> Path:
    """The file that exists while a hub has the database open."""
    return path.with_name(path.name + ".running")


def open_writer(path: Path, migrations: Sequence[Migration] = MIGRATIONS) -> sqlite3.Connection:
    """Open (or create) the database for writing, checked and migrated."""
    path.parent.mkdir(parents=True, exist_ok=True)
    marker = running_marker(path)
    if path.exists() and marker.exists():
        _LOGGER.warning("MeterHub did not stop cleanly last time: checking %s", path)
        problem = check_integrity(path)
        if problem:
            move_aside(path, problem)
    try:
        conn = _open_migrated(path, migrations)
    except sqlite3.DatabaseError as err:
        if not is_corruption(err):
            raise
        move_aside(path, str(err))
        conn = _open_migrated(path, migrations)
    marker.touch()
    return conn


def _open_migrated(path: Path, migrations: Sequence[Migration]) -> sqlite3.Connection:
    conn = connect(path)
    try:
        migrate(conn, migrations, where=str(path))
    except BaseException:
        conn.close()
        raise
    return conn


def move_aside(path: Path, reason: str) -> Path:
    """Rename a damaged database (and its -wal/-shm) to a new, unused name; never overwrite."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
        counter += 1
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    _LOGGER.error(
        "The database %s is damaged (%s). It was moved to %s and a new, empty database is "
        "created in its place. Restore a backup with 'meterhub restore' if you have one.",
        path, reason, target,
    )
    return target


def closed_cleanly(path: Path) -> None:
    """Remove the running marker after the last connection closed."""
    running_marker(path).unlink(missing_ok=True)
