"""Rollups in the site's time zone (Asia/Shanghai), tag rollups and chart downsampling."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st
from storage_helpers import TZ, energy

from hub.metering.reading import Reading
from hub.storage import Storage
from hub.storage.write.rollups import Calendar

SH = ZoneInfo(TZ)
E = "energy_import_total"


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def table(rows: list, fmt: str = "%Y-%m-%d %H:%M") -> dict[str, Decimal]:  # type: ignore[type-arg]
    return {row.start.strftime(fmt): row.values[E] for row in rows}


def test_apportion_is_linear_and_exact() -> None:
    cal = Calendar(TZ)
    start = int(datetime(2024, 1, 1, 0, 30, tzinfo=UTC).timestamp() * 1000)
    end = start + 2 * 3_600_000  # 00:30 -> 02:30 UTC = 08:30 -> 10:30 local
    pieces = cal.apportion(start, end, 3_000_000)
    hours = [datetime.fromtimestamp(s, SH).strftime("%H:%M") for s, _ in pieces]
    assert hours == ["08:00", "09:00", "10:00"]
    assert [p for _, p in pieces] == [750_000, 1_500_000, 750_000]
    # 1 unit over three hours cannot be split evenly: the parts still add up exactly
    odd = cal.apportion(start, start + 3 * 3_600_000, 1)
    assert sum(p for _, p in odd) == 1
    assert cal.apportion(start, start + 10, 5) == [(pieces[0][0], 5)]


def reference_pieces(zone: str, t0: int, t1: int, amount: int) -> list[tuple[int, int]]:
    """Local hours found by walking the zone's clock every 15 minutes; cumulative flooring."""
    tz = ZoneInfo(zone)
    found = []
    t = t0 - t0 % 900_000 - 7_200_000
    while t < t1:
        if datetime.fromtimestamp(t / 1000, tz).minute == 0:
            found.append(t)
        t += 900_000
    starts = [s for i, s in enumerate(found) if i + 1 == len(found) or found[i + 1] > t0]
    pieces, given = [], 0
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else t1
        share = amount * (min(end, t1) - t0) // (t1 - t0)
        if share != given:
            pieces.append((start // 1000, share - given))
            given = share
    return pieces


def test_apportion_matches_the_zone_clock_across_offset_changes() -> None:
    """Steady stretches (priced hour by hour arithmetically) and offset changes (looked up)
    give the pieces a walk along the zone's own clock gives."""
    cases = [
        ("Asia/Shanghai", datetime(2025, 7, 1, 0, 0, tzinfo=UTC), 24),
        ("Asia/Shanghai", datetime(2025, 7, 1, 3, 17, tzinfo=UTC), 26),
        ("Asia/Kolkata", datetime(2025, 7, 1, 0, 10, tzinfo=UTC), 25),
        ("Europe/Berlin", datetime(2025, 3, 29, 20, 0, tzinfo=UTC), 24),  # spring forward
        ("Europe/Berlin", datetime(2025, 10, 25, 21, 45, tzinfo=UTC), 24),  # fall back
        ("Europe/Berlin", datetime(2025, 10, 26, 0, 30, tzinfo=UTC), 3),
        ("America/New_York", datetime(2025, 3, 8, 12, 0, tzinfo=UTC), 48),
    ]
    for zone, begin, hours in cases:
        cal = Calendar(zone)
        t0 = int(begin.timestamp() * 1000)
        for extra in (0, 1_234_567, 3_600_000 * hours):
            t1 = t0 + 3_600_000 * hours + extra
            for amount in (1, 7, 24_000_001, 987_654_321):
                got = cal.apportion(t0, t1, amount)
                assert got == reference_pieces(zone, t0, t1, amount), (zone, begin, extra)
                assert sum(part for _, part in got) == amount


def test_calendar_boundaries_are_local() -> None:
    cal = Calendar(TZ)
    hour = int(sh(2024, 2, 1, 0, 0).timestamp())
    day, month = cal.periods(hour)
    assert datetime.fromtimestamp(day, SH) == sh(2024, 2, 1)
    assert datetime.fromtimestamp(month, SH) == sh(2024, 2, 1)
    day, month = cal.periods(hour - 3600)  # 23:00 on 31 January, local
    assert datetime.fromtimestamp(day, SH) == sh(2024, 1, 31)
    assert datetime.fromtimestamp(month, SH) == sh(2024, 1, 1)
    india = Calendar("Asia/Kolkata")  # +05:30: local hours start at :30 UTC
    ts = int(datetime(2024, 1, 1, 0, 45, tzinfo=UTC).timestamp() * 1000)
    assert datetime.fromtimestamp(india.hour_start_ms(ts) / 1000, UTC).minute == 30


async def test_midnight_and_month_boundaries_in_shanghai(storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.add_readings([
            energy("m1", sh(2024, 1, 31, 23, 30), "100"),
            energy("m1", sh(2024, 2, 1, 0, 30), "102"),   # 2 over 23:30-00:30: 1 + 1
            energy("m1", sh(2024, 2, 1, 12, 0), "102"),
            energy("m1", sh(2024, 2, 3, 12, 0), "150"),   # 48 over 48 hours: 1 per hour
        ])
        start, end = sh(2024, 1, 1), sh(2024, 3, 1)
        hours = table(await storage.consumption("m1", start=start, end=end, resolution="hour"))
        assert hours["2024-01-31 23:00"] == Decimal("1")
        assert hours["2024-02-01 00:00"] == Decimal("1")
        assert hours["2024-02-01 12:00"] == Decimal("1")
        assert hours["2024-02-03 11:00"] == Decimal("1")
        assert len([v for v in hours.values() if v]) == 2 + 48
        days = table(await storage.consumption("m1", start=start, end=end, resolution="day"),
                     "%m-%d")
        # Feb 1: 1 (00:00) + 12 (12:00-24:00); Feb 2: 24; Feb 3: 12
        assert days == {"01-31": Decimal("1"), "02-01": Decimal("13"),
                        "02-02": Decimal("24"), "02-03": Decimal("12")}
        months = await storage.consumption("m1", start=start, end=end, resolution="month")
        assert [(r.start, r.values[E]) for r in months] == [
            (sh(2024, 1, 1), Decimal("1")), (sh(2024, 2, 1), Decimal("49"))]
        assert months[0].start.utcoffset() == timedelta(hours=8)
        # periods are selected by their local start: only February
        feb = await storage.consumption("m1", start=sh(2024, 2, 1), end=sh(2024, 3, 1),
                                        resolution="month")
        assert [r.values[E] for r in feb] == [Decimal("49")]


async def test_tag_rollups_and_a_tag_change(storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.upsert_meters([
            {"id": "a1", "kind": "electricity", "tags": {"building": "A", "floor": "1"}},
            {"id": "a2", "kind": "electricity", "tags": {"building": "A", "floor": "2"}},
            {"id": "b1", "kind": "electricity", "tags": {"building": "B", "floor": "1"}},
        ])
        day = sh(2024, 5, 20)
        for meter, used in (("a1", "1.5"), ("a2", "2.25"), ("b1", "4")):
            await storage.add_readings([
                energy(meter, day + timedelta(hours=1), "10"),
                energy(meter, day + timedelta(hours=2), str(10 + Decimal(used))),
            ])
        end = day + timedelta(days=1)

        async def total(**tags: str) -> Decimal:
            rows = await storage.consumption(tags=tags, start=day, end=end)
            return sum((r.values[E] for r in rows), Decimal(0))

        assert await total(building="A") == Decimal("3.75")
        assert await total(building="B") == Decimal("4")
        assert await total(floor="1") == Decimal("5.5")
        assert await total(building="A", floor="2") == Decimal("2.25")  # summed at query time
        # a2 moves to building B: both buildings' history is rebuilt from the meters
        await storage.upsert_meters([{"id": "a2", "tags": {"building": "B", "floor": "2"}}])
        assert await total(building="A") == Decimal("1.5")
        assert await total(building="B") == Decimal("6.25")
        await storage.add_readings([energy("a2", day + timedelta(hours=3), "13.25")])
        assert await total(building="B") == Decimal("7.25")
        assert await total(building="A") == Decimal("1.5")
        assert [m.meter_id for m in await storage.meters({"building": "B"})] == ["a2", "b1"]


async def test_two_year_chart_is_downsampled_from_rollups(storage: Storage) -> None:
    async with asyncio.timeout(20):
        start = sh(2022, 6, 1)
        await storage.upsert_meters([{"id": "m1", "kind": "electricity"}])
        # one reading a day at local noon for two years, 2.5 kWh a day
        readings = [energy("m1", start + timedelta(days=d, hours=12), str(Decimal("2.5") * d))
                    for d in range(731)]
        for reading in readings:
            storage.enqueue_reading(reading)
        await storage.flush()
        end = start + timedelta(days=730)
        points = await storage.series("m1", E, start, end, max_points=500)
        # 730 days in at most 500 points: two days per point
        assert 300 <= len(points) <= 500
        assert points[1].start - points[0].start == timedelta(days=2)
        assert points[1].value == Decimal("5")  # two whole days of 2.5
        assert sum((p.value for p in points), Decimal(0)) == Decimal("2.5") * 729 + Decimal(
            "1.25")  # all but the half day after the last reading
        monthly = await storage.series("m1", E, start, end, max_points=30)
        assert len(monthly) <= 30
        hourly = await storage.series("m1", E, start, start + timedelta(days=2), max_points=500)
        # the first interval (noon to noon) spread over 24 hours; 36 hours have data
        assert len(hourly) == 36
        assert hourly[0].start == start + timedelta(hours=12)
        assert sum((p.value for p in hourly[:24]), Decimal(0)) == Decimal("2.5")


async def test_instant_values_are_bucketed(storage: Storage) -> None:
    async with asyncio.timeout(10):
        start = sh(2024, 5, 1)
        for q in range(96 * 4):  # four days every 15 minutes
            storage.enqueue_reading(Reading(
                "m1", start + timedelta(minutes=15 * q), {E: Decimal(q)},
                {"voltage": Decimal(220 + q % 4)}))
        await storage.flush()
        points = await storage.series("m1", "voltage", start, start + timedelta(days=4),
                                      max_points=48)
        assert len(points) == 48  # 2-hour buckets of 8 readings: 220..223 twice
        assert {(p.min, p.max, p.count) for p in points} == {
            (Decimal(220), Decimal(223), 8)}
        assert points[0].value == Decimal("221.5")
        assert points[0].start == start


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(["Australia/Lord_Howe", "Europe/Berlin", "America/St_Johns",
                             "Asia/Kolkata", "Asia/Shanghai"]),
       month=st.sampled_from([3, 4, 10, 11]), day=st.integers(1, 28),
       offset=st.integers(0, 86_400_000), length=st.integers(1, 5 * 86_400_000),
       amount=st.integers(1, 10**12))
# the hour before Lord Howe's clock moves on by half an hour ends before an interval starting
# in it: that hour took a negative piece
@example(zone="Australia/Lord_Howe", month=10, day=4, offset=54_807_630, length=176_798_080,
         amount=947_552_427)
def test_apportion_never_loses_splits_negatively_or_repeats_an_hour(
        zone: str, month: int, day: int, offset: int, length: int, amount: int) -> None:
    """Whatever the zone's offset changes (half-hour ones on Lord Howe Island included)."""
    t0 = int(datetime(2025, month, day, tzinfo=UTC).timestamp() * 1000) + offset
    pieces = Calendar(zone).apportion(t0, t0 + length, amount)
    starts = [start for start, _part in pieces]
    assert sum(part for _start, part in pieces) == amount
    assert all(part > 0 for _start, part in pieces)
    assert starts == sorted(set(starts))
