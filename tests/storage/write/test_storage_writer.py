"""The writer: commits batched by count and time, acknowledgement after commit, explicit
durable transactions, command rows, and a full disk."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from storage_helpers import TZ, MakeStorage, energy

from hub.core import Context
from hub.storage import (
    CommandConflict,
    CommandNotFound,
    ReadingStatus,
    StorageFull,
    StorageUnavailable,
)

SH = ZoneInfo(TZ)
T0 = datetime(2024, 5, 1, tzinfo=SH)


def rows_on_disk(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM reading").fetchone()[0])
    finally:
        conn.close()


async def test_many_acknowledged_readings_share_few_commits(make_storage: MakeStorage,
                                                            db_path: Path) -> None:
    storage = await make_storage(commit_batch=500, commit_interval=0.05)
    async with asyncio.timeout(20):
        before = storage.stats()["commits"]
        readings = [energy(f"m{i % 50}", T0 + timedelta(minutes=15 * (i // 50)), str(i))
                    for i in range(3000)]
        outcomes = await asyncio.gather(*(storage.add_reading(r) for r in readings))
        assert all(o.status is ReadingStatus.STORED for o in outcomes)
        commits = storage.stats()["commits"] - before
        assert 1 <= commits <= 6, commits  # 3000 acknowledgements, a handful of commits
        # acknowledged means committed: another connection sees every row
        assert rows_on_disk(db_path) == 3000


async def test_commit_by_time_and_by_count(make_storage: MakeStorage) -> None:
    storage = await make_storage(commit_batch=100, commit_interval=0.3)
    async with asyncio.timeout(10):
        started = time.monotonic()
        await storage.add_reading(energy("m1", T0, "1"))
        waited = time.monotonic() - started
        assert 0.25 <= waited < 2, waited  # one reading waits for the commit interval
        slow = await make_storage(commit_batch=100, commit_interval=30,
                                  path=storage.path.with_name("other.db"))
        started = time.monotonic()
        await slow.add_readings(energy("m2", T0 + timedelta(minutes=i), str(i))
                                for i in range(100))
        assert time.monotonic() - started < 5  # a full batch does not wait 30 s


async def test_enqueue_and_flush(storage, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(10):
        for i in range(250):
            assert storage.enqueue_reading(energy("m1", T0 + timedelta(minutes=i), str(i)))
        await storage.flush()
        assert rows_on_disk(db_path) == 250
        assert storage.backlog == 0


async def test_flush_waits_for_the_batch_being_written(storage, db_path: Path,  # type: ignore[no-untyped-def]
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    write_batch = storage._ingest.write_batch

    def slow_write_batch(conn: sqlite3.Connection, batch: Any) -> None:
        time.sleep(0.3)  # in the writer's thread: the batch is off the queue, not committed
        write_batch(conn, batch)

    monkeypatch.setattr(storage._ingest, "write_batch", slow_write_batch)
    async with asyncio.timeout(10):
        assert storage.enqueue_reading(energy("m1", T0, "5"))
        while storage.backlog:  # the writer took it
            await asyncio.sleep(0.005)
        await storage.flush()
        assert rows_on_disk(db_path) == 1


async def test_durable_transaction_uses_full_sync_and_rolls_back(storage) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(10):
        storage.enqueue_reading(energy("m1", T0, "5"))
        async with storage.transaction(durable=True) as tx:
            rows = await tx.fetchall("PRAGMA synchronous")
            assert rows == [(2,)]  # FULL while money is written
            # queued readings were committed before the transaction began
            assert await tx.fetchall("SELECT COUNT(*) FROM reading") == [(1,)]
            await tx.execute("INSERT INTO event_type (name) VALUES (?)", ("ledger_test",))
        with pytest.raises(RuntimeError):
            async with storage.transaction() as tx:
                await tx.execute("INSERT INTO event_type (name) VALUES (?)", ("rolled_back",))
                raise RuntimeError("boom")
        async with storage.transaction(durable=False) as tx:
            assert await tx.fetchall("PRAGMA synchronous") == [(1,)]  # NORMAL again
            names = {r[0] for r in await tx.fetchall("SELECT name FROM event_type")}
        assert "ledger_test" in names and "rolled_back" not in names


async def test_exclusive_transaction_is_served_under_load(storage) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(15):
        stop = asyncio.Event()

        async def feeder() -> None:
            minute = 0
            while not stop.is_set():
                storage.enqueue_reading(energy("m1", T0 + timedelta(minutes=minute), str(minute)))
                minute += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(feeder())
        for _ in range(5):
            async with storage.transaction() as tx:
                await tx.fetchall("SELECT 1")
        stop.set()
        await task


async def test_command_rows_and_transitions(make_storage: MakeStorage) -> None:
    storage = await make_storage()
    async with asyncio.timeout(10):
        ctx = Context(user_id="landlord", origin="automation")
        await storage.create_command("c1", "m1", "trip", params={"reason": "arrears",
                                                               "amount": Decimal("-3.20")},
                                     context=ctx)
        with pytest.raises(CommandConflict):
            await storage.create_command("c1", "m1", "trip")
        assert await storage.transition_command("c1", "sent", expected="queued",
                                                attempt=True) == "queued"
        with pytest.raises(CommandConflict, match="is sent, not queued"):
            await storage.transition_command("c1", "confirmed", expected="queued")
        await storage.transition_command("c1", "confirmed", expected=("sent",),
                                         detail={"relay": "open"}, context=ctx.child())
        with pytest.raises(CommandNotFound):
            await storage.transition_command("nope", "sent")
        await storage.stop()
        again = await make_storage()
        record = await again.command("c1")
        assert record is not None
        assert (record.state, record.attempts, record.context_user_id) == (
            "confirmed", 1, "landlord")
        assert record.params == {"reason": "arrears", "amount": Decimal("-3.20")}
        assert [(t["from"], t["to"]) for t in record.transitions] == [
            (None, "queued"), ("queued", "sent"), ("sent", "confirmed")]
        assert record.transitions[2]["detail"] == {"relay": "open"}
        assert record.transitions[2]["context"]["parent_id"] == ctx.id
        assert [c.command_id for c in await again.commands(meter_id="m1",
                                                           states=["confirmed"])] == ["c1"]
        assert await again.commands(states=["queued"]) == []


async def test_full_disk_refuses_acknowledgements_and_keeps_the_rest(
        storage, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(20):
        await storage.add_reading(energy("m0", T0, "1"))

        def limit(conn: sqlite3.Connection, extra: int) -> None:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count={pages + extra}")

        await storage._wdb.run(limit, 0)
        many = [energy(f"m{i}", T0, "1") for i in range(1, 400)]
        with pytest.raises(StorageFull):
            await storage.add_readings(many)
        for i in range(400, 420):
            storage.enqueue_reading(energy(f"m{i}", T0, "1"))
        for _ in range(100):
            if storage.stats()["problem"] == "disk full":
                break
            await asyncio.sleep(0.02)
        assert storage.stats()["problem"] == "disk full"
        await storage._wdb.run(limit, 100_000)  # space freed
        await storage.flush()
        assert storage.stats()["problem"] is None
        assert rows_on_disk(db_path) == 1 + 20  # the queued ones were kept and written
        assert (await storage.add_reading(energy("m1", T0, "2"))).stored


async def test_unavailable_storage_refuses_acknowledgements(make_storage: MakeStorage,
                                                            db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.with_name(db_path.name + ".lock").touch()
    from hub.storage.database.lock import ProcessLock

    holder = ProcessLock(db_path)
    holder.acquire()  # another MeterHub has the database
    try:
        storage = await make_storage(reopen_delay=0.05)
        assert storage.status == "unavailable"
        assert "in use by another MeterHub" in (storage.problem or "")
        with pytest.raises(StorageUnavailable):
            await storage.add_reading(energy("m1", T0, "1"))
        assert storage.enqueue_reading(energy("m1", T0, "1"))  # buffered meanwhile
    finally:
        holder.release()
    async with asyncio.timeout(20):
        while storage.status != "ok":  # the background retry opens it once it is free
            await asyncio.sleep(0.02)
        await storage.flush()
        assert rows_on_disk(db_path) == 1
        assert (await storage.add_reading(energy("m1", T0 + timedelta(hours=1), "2"))).stored


async def test_a_lock_held_by_another_connection_is_waited_out(
        make_storage: MakeStorage, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hub.storage.database.connection as db_module

    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 100)
    storage = await make_storage()
    async with asyncio.timeout(20):
        await storage.add_reading(energy("m1", T0, "1"))
        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # e.g. a sqlite3 shell left open mid-transaction
        try:
            with pytest.raises(StorageUnavailable, match="locked"):
                await storage.add_reading(energy("m1", T0 + timedelta(hours=1), "2"))
            storage.enqueue_reading(energy("m1", T0 + timedelta(hours=2), "3"))
            while storage.stats()["problem"] != "database locked":
                await asyncio.sleep(0.02)
        finally:
            other.execute("ROLLBACK")
            other.close()
        await storage.flush()  # retried after the back-off, nothing lost, no crash
        assert storage.stats()["problem"] is None
        assert rows_on_disk(db_path) == 2
