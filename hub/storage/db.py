"""SQLite connections, each owned by one thread, and opening a database safely.

Every connection lives in its own thread (as aiosqlite does), but storage hands that thread
whole functions (a batch with its counter rules, a query with its post-processing) instead
of one statement per hop, so the event loop never blocks and never waits on a round trip
per row. The writer's connection is the only one that writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar

from ..util.dt import utcnow

_LOGGER = logging.getLogger(__name__)

_T = TypeVar("_T")

BUSY_TIMEOUT_MS = 5000
CACHE_KIB = 16000
WAL_PAGES = 10000


class StorageError(Exception):
    """Storage could not do what was asked; the message says why."""


class StorageUnavailable(StorageError):
    """The database is not open (locked, failed migration...): nothing was stored."""


class StorageFull(StorageError):
    """The disk (or the database's size limit) is full: nothing was stored."""


class DatabaseLocked(StorageUnavailable):
    """Another process holds the database."""


class DbThread:
    """One SQLite connection and the single thread that uses it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection (only to be used from inside functions given to :meth:`run`)."""
        if self._conn is None:
            raise StorageUnavailable(f"{self.name}: the database is not open")
        return self._conn

    async def open(self, path: Path, *, readonly: bool = False) -> None:
        """Open the connection in the thread."""
        await self.call(self._open, path, readonly)

    def _open(self, path: Path, readonly: bool) -> None:
        self._conn = connect(path, readonly=readonly)

    async def open_with(self, opener: Callable[..., sqlite3.Connection], *args: Any) -> None:
        """Open the connection with ``opener(*args)``, called in the thread."""
        await self.call(self._open_with, opener, *args)

    def _open_with(self, opener: Callable[..., sqlite3.Connection], *args: Any) -> None:
        self._close()
        self._conn = opener(*args)

    @property
    def is_open(self) -> bool:
        """Whether the connection is open."""
        return self._conn is not None

    async def call(self, func: Callable[..., _T], *args: Any) -> _T:
        """Run ``func(*args)`` in the connection's thread and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, func, *args)

    async def run(self, func: Callable[..., _T], *args: Any) -> _T:
        """Run ``func(conn, *args)`` in the connection's thread and return its result."""
        return await self.call(self._with_conn, func, *args)

    def _with_conn(self, func: Callable[..., _T], *args: Any) -> _T:
        return func(self.conn, *args)

    async def close(self) -> None:
        """Close the connection and end the thread."""
        try:
            await self.call(self._close)
        finally:
            self._executor.shutdown(wait=False)

    def _close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.rollback()
            conn.close()


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open a connection in autocommit mode (transactions are explicit) with our pragmas."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=True)
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if readonly:
            conn.execute("PRAGMA query_only=1")
        else:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise StorageError(f"cannot switch {path} to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        conn.execute("PRAGMA temp_store=MEMORY")
    except BaseException:
        conn.close()
        raise
    return conn


def is_corruption(err: BaseException) -> bool:
    """Whether an SQLite error means the file is damaged or not a database at all."""
    if not isinstance(err, sqlite3.DatabaseError):
        return False
    if getattr(err, "sqlite_errorcode", None) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return True
    text = str(err).lower()
    return "malformed" in text or "not a database" in text


def is_disk_full(err: BaseException) -> bool:
    """Whether an SQLite error means the disk or the size limit is full."""
    return isinstance(err, sqlite3.Error) and (
        getattr(err, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        or "full" in str(err).lower()
    )


def is_locked(err: BaseException) -> bool:
    """Whether an SQLite error means another connection holds a lock."""
    return isinstance(err, sqlite3.OperationalError) and (
        "locked" in str(err).lower() or "busy" in str(err).lower()
    )


def check_integrity(path: Path) -> str | None:
    """Return why the database at ``path`` is damaged, or None if it looks sound."""
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
    except sqlite3.Error as err:
        return str(err)
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.DatabaseError as err:
        if is_locked(err):
            raise
        return str(err)
    finally:
        conn.close()
    problems = [str(row[0]) for row in rows if str(row[0]).lower() != "ok"]
    return "; ".join(problems) or None


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


class ProcessLock:
    """An advisory lock file beside the database: one MeterHub process per database."""

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise DatabaseLocked naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open while locked
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise DatabaseLocked(
                f"the database {self.path.with_suffix('')} is in use by another MeterHub "
                f"process (pid {holder}); stop it first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Release the lock."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
