"""The asyncio bridge: one SQLite connection in the thread aiosqlite gives it.

aiosqlite owns the thread and its queue; storage hands that thread whole functions (a batch
with its counter rules, a query with its post-processing, a migration) instead of one
statement per hop, so the event loop never blocks and never waits on a round trip per row.
aiosqlite's statement API cannot run a function on its connection, so this module is the one
place that uses its function queue (``Connection._execute``) and connection (``_conn``);
``tests/storage/database/test_storage_bridge.py`` pins that contract. The writer's connection
is the only one that writes.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from ..errors import StorageUnavailable
from .connection import connect

_T = TypeVar("_T")

_ITER_CHUNK = 64  # aiosqlite's default, for cursors (storage iterates inside its functions)

# aiosqlite's thread is not a daemon and only ends when its connection is closed, so a process
# that exits without stopping storage would wait for it forever. Like concurrent.futures'
# executors, connections still open when the interpreter shuts down are stopped from the hook
# that runs before non-daemon threads are joined: each thread finishes what it was given,
# closes its connection and ends.
_OPEN: weakref.WeakSet[aiosqlite.Connection] = weakref.WeakSet()


def _stop_open_connections() -> None:
    for db in list(_OPEN):
        db.stop()


threading._register_atexit(_stop_open_connections)  # type: ignore[attr-defined]


class DbThread:
    """One SQLite connection and the single thread that uses it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._db: aiosqlite.Connection | None = None

    @property
    def is_open(self) -> bool:
        """Whether the connection is open."""
        return self._db is not None

    async def open(self, path: Path, *, readonly: bool = False) -> None:
        """Open the connection (with storage's pragmas) in its thread."""
        await self.open_with(functools.partial(connect, readonly=readonly), path)

    async def open_with(self, opener: Callable[..., sqlite3.Connection], *args: Any) -> None:
        """Open the connection with ``opener(*args)``, called in the connection's thread."""
        await self.close()
        failed: list[Exception] = []

        def connector() -> sqlite3.Connection:
            # A failure is raised here on the loop, after the thread was closed and joined:
            # aiosqlite's own failure path stops the thread with nobody awaiting it.
            try:
                return opener(*args)
            except Exception as err:
                failed.append(err)
                return sqlite3.connect(":memory:")

        db = await aiosqlite.Connection(connector, _ITER_CHUNK)
        if failed:
            await db.close()
            raise failed[0]
        self._db = db
        _OPEN.add(db)

    async def run(self, func: Callable[..., _T], *args: Any) -> _T:
        """Run ``func(conn, *args)`` in the connection's thread and return its result."""
        db = self._db
        if db is None:
            raise StorageUnavailable(f"{self.name}: the database is not open")
        result: _T = await _in_thread(db, func, db._conn, *args)
        return result

    async def close(self) -> None:
        """Roll back what is open, close the connection and end its thread."""
        db, self._db = self._db, None
        if db is None:
            return
        _OPEN.discard(db)
        with contextlib.suppress(sqlite3.Error):
            await _in_thread(db, _rollback_open, db._conn)
        await db.close()


async def _in_thread(db: aiosqlite.Connection, func: Callable[..., Any], *args: Any) -> Any:
    """Queue ``func(*args)`` on the connection's thread (aiosqlite's own function queue)."""
    return await db._execute(func, *args)  # type: ignore[no-untyped-call]


def _rollback_open(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.rollback()
