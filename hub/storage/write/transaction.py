"""Explicit write transactions and the durability rule of their commits.

Readings are committed with the configured ``synchronous`` level (NORMAL by default: a commit
survives a crash of the process, not necessarily a power cut). A *durable* transaction (money:
ledger entries, charges, bills; commands, holds, scheduled trips; runtime settings) raises the
writer's connection to ``synchronous=FULL`` before ``BEGIN`` and puts the configured level back
after its COMMIT or ROLLBACK, so it is acknowledged only once it is on the disk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from ..database.bridge import DbThread

_T = TypeVar("_T")

FULL = "FULL"


def set_synchronous(conn: sqlite3.Connection, synchronous: str) -> None:
    """Set the connection's ``synchronous`` level (``normal`` or ``full``)."""
    conn.execute(f"PRAGMA synchronous={synchronous.upper()}")


def begin(conn: sqlite3.Connection, durable: bool) -> None:
    """Begin a write transaction; a durable one commits with ``synchronous=FULL``."""
    if durable:
        set_synchronous(conn, FULL)
    conn.execute("BEGIN IMMEDIATE")


def commit(conn: sqlite3.Connection, synchronous: str) -> None:
    """Commit, then put the configured ``synchronous`` level back."""
    conn.execute("COMMIT")
    set_synchronous(conn, synchronous)


def rollback(conn: sqlite3.Connection, synchronous: str) -> None:
    """Roll back (if a transaction is open), then put the configured level back."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    set_synchronous(conn, synchronous)


class Transaction:
    """An open write transaction; every call runs in the writer's thread, in order."""

    def __init__(self, db: DbThread) -> None:
        self._db = db

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the rows it changed."""
        return await self._db.run(lambda conn: int(conn.execute(sql, params).rowcount))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one statement for many rows; return the rows changed."""
        data = list(rows)
        return await self._db.run(lambda conn: int(conn.executemany(sql, data).rowcount))

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query inside the transaction; return every row."""
        return await self._db.run(lambda conn: list(conn.execute(sql, params).fetchall()))

    async def run(self, func: Callable[..., _T], *args: Any) -> _T:
        """Run ``func(connection, *args)`` inside the transaction (for multi-step logic)."""
        return await self._db.run(func, *args)
