"""Damaged databases moved aside, retention purge in chunks, nightly maintenance."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from storage_helpers import NOW, MakeStorage, energy

import hub.storage.storage as storage_module
from hub.core import Context, Event
from hub.storage.schema.migrations import latest_version


async def test_a_file_that_is_not_a_database_is_moved_aside(
        make_storage: MakeStorage, db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db_path.parent.mkdir(parents=True)
    junk = b"this is not an SQLite file " * 300
    db_path.write_bytes(junk)
    async with asyncio.timeout(10):
        storage = await make_storage()
        assert storage.status == "ok"
        assert (await storage.add_reading(energy("m1", NOW, "1"))).stored
    moved = list(db_path.parent.glob("meterhub.db.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_bytes() == junk  # kept, never overwritten
    assert any("is damaged" in r.message and "meterhub restore" in r.message
               for r in caplog.records if r.levelno == logging.ERROR)


async def test_damage_found_after_a_crash_is_moved_aside(make_storage: MakeStorage,
                                                         db_path: Path) -> None:
    async with asyncio.timeout(20):
        storage = await make_storage()
        for i in range(3000):
            storage.enqueue_reading(energy(f"m{i % 30}", NOW - timedelta(minutes=i), str(i)))
        await storage.flush()
        await storage.stop()
        data = bytearray(db_path.read_bytes())
        page = 4096
        for number in range(3, len(data) // page - 1, 3):  # scribble over every third page
            data[number * page + 8: number * page + 600] = b"\xa5" * 592
        db_path.write_bytes(bytes(data))
        db_path.with_name(db_path.name + ".running").touch()  # as after a power cut
        again = await make_storage()
        assert again.status == "ok"
        assert len(list(db_path.parent.glob("meterhub.db.corrupt-*"))) == 1
        assert await again.readings("m1", NOW - timedelta(days=9), NOW) == []  # fresh start
        assert (await again.add_reading(energy("m1", NOW, "1"))).stored


async def test_clean_stop_means_no_check_and_no_move(make_storage: MakeStorage,
                                                     db_path: Path) -> None:
    async with asyncio.timeout(10):
        storage = await make_storage()
        await storage.add_reading(energy("m1", NOW, "1"))
        await storage.stop()
        assert not db_path.with_name(db_path.name + ".running").exists()
        again = await make_storage()
        stored = await again.readings("m1", NOW - timedelta(days=1), NOW + timedelta(days=1))
        assert len(stored) == 1
        assert not list(db_path.parent.glob("*.corrupt-*"))


async def test_retention_purges_raw_rows_in_chunks_and_keeps_rollups(
        make_storage: MakeStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage_module, "PURGE_BATCH", 7)
    storage = await make_storage(retention_days=30, rollup_retention_days=20)
    async with asyncio.timeout(20):
        start = NOW - timedelta(days=25)
        # 3 meters, one reading every 6 hours for 20 days, 1 kWh each time
        await storage.add_readings(energy(f"m{m}", start + timedelta(hours=6 * i), str(i))
                                   for m in range(3) for i in range(80))
        for i in range(30):
            storage.record_event(Event("alarm", {"n": i},
                                       (start + timedelta(days=i)).timestamp(), Context()))
        await storage.flush()
        before = await storage.consumption("m0", start=start - timedelta(days=1), end=NOW)
        commits = storage.stats()["commits"]
        later = NOW + timedelta(days=10)  # cutoff for readings: 20 days before NOW
        removed = await storage.purge(now=later)
        # readings before NOW-20d: days 0..4 after start, 4 a day, 20 per meter
        assert removed["readings"] == 3 * 20
        assert storage.stats()["commits"] - commits >= 60 // 7  # small chunks, many commits
        kept = await storage.readings("m0", start, NOW)
        assert len(kept) == 60 and kept[0].time == start + timedelta(days=5)
        after = await storage.consumption("m0", start=start - timedelta(days=1), end=NOW)
        assert after == before  # daily rollups are kept forever
        assert sum(r.values["energy_import_total"] for r in after) == Decimal(79)
        # events: same 30-day retention, cutoff 20 days before NOW: 5 old alarms gone
        assert removed["events"] == 5
        hourly = await storage.consumption("m0", start=start - timedelta(days=1), end=NOW,
                                           resolution="hour")
        # hourly rollups kept 20 days back from `later`: those before NOW-10d are gone
        assert min(r.start for r in hourly) >= NOW - timedelta(days=10)
        assert removed["hourly_rollups"] > 0
        report = await storage.maintenance(now=later)
        assert report["readings"] == 0 and "checkpointed" in report


async def test_maintenance_time_is_local(make_storage: MakeStorage) -> None:
    storage = await make_storage()  # NOW is 08:00 in Shanghai; maintenance at 03:30
    assert storage._seconds_to_maintenance() == pytest.approx(19.5 * 3600)


def test_wal_and_normal_sync_are_used(tmp_path: Path) -> None:
    from hub.storage.database.opening import open_writer

    conn = open_writer(tmp_path / "x.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    finally:
        conn.close()
    assert sqlite3.connect(tmp_path / "x.db").execute(
        "SELECT MAX(version) FROM schema_version").fetchone()[0] == latest_version()
