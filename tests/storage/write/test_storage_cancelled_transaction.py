"""A durable transaction whose caller is cancelled while its BEGIN runs leaves nothing open:
the writer's next batch still commits (it failed with 'cannot start a transaction within a
transaction' when the BEGIN was outside the rollback's reach)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import timedelta

import pytest
from storage_helpers import NOW, MakeStorage, energy

from hub.storage import ReadingStatus
from hub.storage.write import transaction


async def test_cancelled_while_beginning_rolls_back(make_storage: MakeStorage,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    storage = await make_storage()
    began = threading.Event()
    real_begin = transaction.begin

    def slow_begin(conn: sqlite3.Connection, durable: bool) -> None:
        real_begin(conn, durable)
        began.set()
        time.sleep(0.3)  # the caller is cancelled while this runs in the writer's thread

    monkeypatch.setattr(transaction, "begin", slow_begin)

    async def write() -> None:
        async with storage.transaction(durable=True) as tx:
            await tx.execute("SELECT 1")

    async with asyncio.timeout(20):
        task = asyncio.create_task(write())
        while not began.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        monkeypatch.setattr(transaction, "begin", real_begin)
        outcome = await storage.add_reading(energy("m1", NOW - timedelta(hours=1), "10.00"))
        assert outcome.status is ReadingStatus.STORED, outcome
        assert storage.stats()["failed_batches"] == 0
