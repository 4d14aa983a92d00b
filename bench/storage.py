"""Storage benchmark: ingest with rollups, a two-year building query, bytes per meter-year.

Run: ``.venv/bin/python bench/storage.py`` (uses a temporary folder; about a minute).
Prints ``METRIC <name> <value> <unit>`` lines; the building query is timed five times and its
figure is the median (the best is printed beside it).
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.metering.reading import Reading
from hub.storage import Storage, StorageSettings

TZ = "Asia/Shanghai"
QUARTER = timedelta(minutes=15)
START = datetime(2023, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 1, 10, tzinfo=UTC)


def _storage(folder: Path, name: str) -> Storage:
    settings = StorageSettings(path=folder / name, retention_days=3650)
    return Storage(settings, time_zone=TZ, clock=NOW.timestamp)


def _reading(meter: str, when: datetime, total: Decimal) -> Reading:
    """A single-phase prepaid meter's scheduled read: total energy, V/I/P, relay status."""
    return Reading(
        meter, when, {"energy_import_total": total},
        {"voltage": Decimal("229.8"), "current": Decimal("4.31"), "power": Decimal("0.990")},
        {"relay": "closed"}, device=f"dev-{meter}", link_id="bus1",
        quality={"frames": 1, "errors": {}},
    )


async def _feed(storage: Storage, readings: Any) -> int:
    count = 0
    for reading in readings:
        storage.enqueue_reading(reading)
        count += 1
        if count % 1000 == 0:
            await asyncio.sleep(0)
            while storage.backlog > 40_000:  # back-pressure: the writer sets the pace
                await asyncio.sleep(0.005)
    await storage.flush()
    return count


async def bench_ingest(folder: Path) -> float:
    storage = _storage(folder, "ingest.db")
    await storage.start()
    meters = [f"m{i:04d}" for i in range(2000)]
    await storage.upsert_meters([
        {"id": m, "kind": "electricity", "device": f"dev-{m}",
         "tags": {"building": f"B{i % 10}", "floor": str(i // 10 % 20), "room": m}}
        for i, m in enumerate(meters)])
    rounds = 100

    def readings() -> Any:
        for r in range(rounds):
            when = START + QUARTER * r
            for i, meter in enumerate(meters):
                yield _reading(meter, when, Decimal(1000 + i) + Decimal(r) * Decimal("0.25"))

    started = time.perf_counter()
    count = await _feed(storage, readings())
    elapsed = time.perf_counter() - started
    stats = storage.stats()
    await storage.stop()
    rate = count / elapsed
    print(f"ingest: {count} readings in {elapsed:.2f} s, {stats['commits']} commits",
          file=sys.stderr)
    return rate


async def bench_query(folder: Path) -> tuple[float, float]:
    storage = _storage(folder, "query.db")
    await storage.start()
    meters = [f"b{i:03d}" for i in range(200)]
    await storage.upsert_meters([
        {"id": m, "kind": "electricity", "device": f"dev-{m}",
         "tags": {"building": "B", "floor": str(i // 20)}} for i, m in enumerate(meters)])
    first_day = datetime(2023, 1, 1, 2, tzinfo=UTC)

    def readings() -> Any:
        for day in range(731):
            when = first_day + timedelta(days=day)
            for i, meter in enumerate(meters):
                yield _reading(meter, when, Decimal(5000 + i) + Decimal(day) * Decimal("7.35"))

    started = time.perf_counter()
    count = await _feed(storage, readings())
    print(f"query data: {count} daily readings in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    local = ZoneInfo(TZ)
    start, end = datetime(2023, 1, 1, tzinfo=local), datetime(2025, 1, 1, tzinfo=local)
    await storage.consumption(tags={"building": "B"}, start=start, end=end)  # warm
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        rows = await storage.consumption(tags={"building": "B"}, start=start, end=end,
                                         resolution="day")
        timings.append(time.perf_counter() - started)
    total = sum(value for row in rows for value in row.values.values())
    median = statistics.median(timings) * 1000
    print(f"building query: {len(rows)} days, total {total} kWh, median of {len(timings)} "
          f"{median:.2f} ms (best {min(timings) * 1000:.2f} ms)", file=sys.stderr)
    started = time.perf_counter()
    per_meter = [await storage.consumption(m, start=start, end=end) for m in meters]
    each = time.perf_counter() - started
    print(f"per-meter daily rows for all 200 meters: {sum(map(len, per_meter))} rows in "
          f"{each * 1000:.0f} ms", file=sys.stderr)
    started = time.perf_counter()
    chart = await storage.series(meters[0], "energy_import_total", start, end, max_points=500)
    print(f"two-year chart of one meter: {len(chart)} points in "
          f"{(time.perf_counter() - started) * 1000:.1f} ms", file=sys.stderr)
    await storage.stop()
    return median, each * 1000


async def bench_bytes(folder: Path) -> float:
    storage = _storage(folder, "bytes.db")
    await storage.start()
    meters = [f"r{i}" for i in range(4)]
    await storage.upsert_meters([
        {"id": m, "kind": "electricity", "device": f"dev-{m}",
         "tags": {"building": "A", "floor": "1", "room": m}} for m in meters])
    await storage.stop()
    empty = (folder / "bytes.db").stat().st_size
    storage = _storage(folder, "bytes.db")
    await storage.start()
    year = 365 * 96

    def readings() -> Any:
        for q in range(year):
            when = START + QUARTER * q
            for i, meter in enumerate(meters):
                yield _reading(meter, when, Decimal(100 + i) + Decimal(q) * Decimal("0.07"))

    await _feed(storage, readings())
    await storage.stop()
    conn = sqlite3.connect(folder / "bytes.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages, free, size = (conn.execute(f"PRAGMA {p}").fetchone()[0]
                         for p in ("page_count", "freelist_count", "page_size"))
    count = year * len(meters)
    tables = conn.execute(
        "SELECT name, SUM(pgsize), SUM(payload), SUM(pgsize) - SUM(unused) FROM dbstat "
        "GROUP BY name HAVING COUNT(*) > 1 OR SUM(ncell) > 50 ORDER BY 2 DESC").fetchall()
    row = conn.execute("SELECT SUM(payload) * 1.0 / SUM(ncell) FROM dbstat "
                       "WHERE name = 'reading' AND pagetype = 'leaf'").fetchone()[0]
    conn.close()
    print(f"bytes per reading ({count} readings): " + ", ".join(
        f"{name} {total / count:.1f} (pages {used_bytes / total:.0%} used)"
        for name, total, _payload, used_bytes in tables)
          + f"; reading row payload {row:.1f}", file=sys.stderr)
    used = (pages - free) * size
    return (used - empty) / len(meters)


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="meterhub-bench-") as tmp:
        folder = Path(tmp)
        rate = await bench_ingest(folder)
        print(f"METRIC ingest_readings_per_s {rate:.0f} readings/s")
        query_ms, _per_meter_ms = await bench_query(folder)
        print(f"METRIC query_2y_building_ms {query_ms:.2f} ms")
        per_year = await bench_bytes(folder)
        print(f"METRIC bytes_per_meter_year {per_year:.0f} bytes")


if __name__ == "__main__":
    asyncio.run(main())
