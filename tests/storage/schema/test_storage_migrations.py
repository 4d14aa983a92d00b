"""Schema migrations: a real v1 database upgraded in place; a failed upgrade changes nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from storage_helpers import MakeStorage, energy

from hub.storage.schema.migrations import (
    MIGRATIONS,
    Migration,
    MigrationError,
    latest_version,
    migrate,
)

T0 = datetime(2024, 5, 20, 0, 0, tzinfo=UTC)
MS = int(T0.timestamp() * 1000)
HOUR_MS = 3_600_000


def make_v1(path: Path) -> None:
    """A database as MeterHub with schema v1 left it: device names inline in readings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, MIGRATIONS[:1]) == (0, 1)
    conn.execute("INSERT INTO meter (meter_key, meter_id, kind) VALUES (1, 'm1', 'electricity')")
    conn.execute("INSERT INTO point (point_key, name, unit) VALUES (1, 'energy_import_total', "
                 "'kWh'), (2, 'voltage', 'V')")
    rows = [
        (1, MS, "r1", "old-dev", "1:100.00b", "2:230.1", '{"relay":"closed"}', 0, "bus1"),
        (1, MS + HOUR_MS, "r2", "old-dev", "1:101.50", None, None, 0, "bus1"),
        (1, MS + 2 * HOUR_MS, "r3", "new-dev", "1:0.25b", None, None, 3, None),
        (1, MS + 3 * HOUR_MS, "r4", "new-dev", "1:1.00", None, None, 0, None),
    ]
    conn.executemany("INSERT INTO reading (meter_key, ts, rid, device, registers, vals, status, "
                     "source, link) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("INSERT INTO series (series_key, scope, point_key) VALUES (1, 'meter:m1', 1)")
    for table, start in (("rollup_hour", MS // 1000), ("rollup_day", MS // 1000 - 8 * 3600),
                         ("rollup_month", MS // 1000 - 8 * 3600 - 19 * 86400)):
        conn.execute(f"INSERT INTO {table} VALUES (1, ?, 1500000)", (start,))
        if table == "rollup_hour":
            conn.execute(f"INSERT INTO {table} VALUES (1, ?, 750000)",
                         (start + 3 * 3600 - 3600,))
    conn.execute("UPDATE rollup_day SET value = 2250000")
    conn.execute("UPDATE rollup_month SET value = 2250000")
    conn.execute("INSERT INTO event_type (type_key, name) VALUES (1, 'alarm')")
    conn.execute("INSERT INTO event (ts, type_key, data, context_id) VALUES (?, 1, ?, 'ctx1')",
                 (MS, '{"kind":"over_current"}'))
    conn.close()


def schema_of(path: Path) -> tuple[int, set[str], list[str]]:
    conn = sqlite3.connect(path)
    try:
        version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        columns = [r[1] for r in conn.execute("PRAGMA table_info(reading)")]
    finally:
        conn.close()
    return version, tables, columns


async def test_upgrade_from_v1_keeps_every_row(make_storage: MakeStorage, db_path: Path) -> None:
    make_v1(db_path)
    async with asyncio.timeout(10):
        storage = await make_storage()
        assert storage.status == "ok"
        version, tables, columns = schema_of(db_path)
        assert version == latest_version() and "meter_device" in tables
        assert "device_key" in columns and "device" not in columns
        readings = await storage.readings("m1", T0, T0 + timedelta(hours=4))
        assert [(r.id, r.device, r.registers["energy_import_total"]) for r in readings] == [
            ("r1", "old-dev", Decimal("100.00")), ("r2", "old-dev", Decimal("101.50")),
            ("r3", "new-dev", Decimal("0.25")), ("r4", "new-dev", Decimal("1.00"))]
        assert readings[0].values == {"voltage": Decimal("230.1")}
        assert readings[0].status == {"relay": "closed"}
        assert str(readings[2].source) == "uplink"
        days = await storage.consumption("m1", start=T0 - timedelta(days=1),
                                         end=T0 + timedelta(days=1))
        assert [row.values["energy_import_total"] for row in days] == [Decimal("2.25")]
        # counting goes on from the v1 baseline (1.00 on the new device)
        out = await storage.add_reading(energy("m1", T0 + timedelta(hours=4), "1.80",
                                               device="new-dev"))
        assert out.verdicts["energy_import_total"] == "counted"
        days = await storage.consumption("m1", start=T0 - timedelta(days=1),
                                         end=T0 + timedelta(days=1))
        assert sum(row.values["energy_import_total"] for row in days) == Decimal("3.05")
        events = await storage.events(context_id="ctx1")
        assert [(e.event_type, e.data) for e in events] == [("alarm", {"kind": "over_current"})]
    conn = sqlite3.connect(db_path)
    history = conn.execute("SELECT device, first_ts FROM meter_device ORDER BY first_ts").fetchall()
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    conn.close()
    assert history == [("old-dev", MS), ("new-dev", MS + 2 * HOUR_MS)]
    assert "event_context" in indexes


def _broken(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE half_done (x INTEGER)")
    conn.execute("ALTER TABLE reading ADD COLUMN extra TEXT")
    conn.execute("DELETE FROM reading")
    raise RuntimeError("disk on fire")


LATEST = latest_version()
BROKEN = (*MIGRATIONS, Migration(LATEST + 1, "a step that fails half-way", _broken))


async def test_failed_migration_leaves_the_database_untouched(make_storage: MakeStorage,
                                                              db_path: Path) -> None:
    storage = await make_storage()
    async with asyncio.timeout(10):
        await storage.add_readings([energy("m1", T0, "1"), energy("m1", T0 + timedelta(hours=1),
                                                                "2")])
        await storage.stop()
        before = db_path.read_bytes()
        broken = await make_storage(migrations=BROKEN)
        assert broken.status == "unavailable"
        assert f"v{LATEST + 1}" in (broken.problem or "")
        assert "disk on fire" in (broken.problem or "")
        assert f"left unchanged at v{LATEST}" in (broken.problem or "")
        await broken.stop()
    version, tables, columns = schema_of(db_path)
    assert version == LATEST and "half_done" not in tables and "extra" not in columns
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT COUNT(*) FROM reading").fetchone()[0] == 2
    conn.close()
    assert len(before) > 0
    assert not list(db_path.parent.glob("*.corrupt-*"))  # never moved aside for this


def test_failed_multi_step_upgrade_rolls_back_every_step(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    make_v1(path)
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(MigrationError, match=f"from schema v1 failed at v{LATEST + 1}"):
        migrate(conn, BROKEN)
    conn.close()
    version, tables, columns = schema_of(path)
    assert version == 1 and "meter_device" not in tables and "device" in columns


def test_newer_or_foreign_databases_are_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer, isolation_level=None)
    migrate(conn)
    conn.execute("INSERT INTO schema_version VALUES (99, 0, 'from the future')")
    with pytest.raises(MigrationError, match="v99, newer than this MeterHub"):
        migrate(conn)
    conn.close()
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign, isolation_level=None)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(MigrationError, match="not a MeterHub database"):
        migrate(conn)
    conn.close()
