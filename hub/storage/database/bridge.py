"""The asyncio bridge: one SQLite connection and the single thread that uses it.

Every connection lives in its own thread, and storage hands that thread whole functions (a
batch with its counter rules, a query with its post-processing) instead of one statement per
hop, so the event loop never blocks and never waits on a round trip per row. The writer's
connection is the only one that writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ..errors import StorageUnavailable
from .connection import connect

_T = TypeVar("_T")


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
