"""Counters as they really behave: rollover, replacement, spike, reset, jitter, duplicates,
late readings and bad input. Expected numbers are worked out by hand in each test."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from storage_helpers import NOW, TZ, MakeStorage, energy

from hub.metering.reading import Reading
from hub.storage import ReadingStatus, Storage

SH = ZoneInfo(TZ)
DAY = datetime(2024, 5, 20, tzinfo=SH)
E = "energy_import_total"


def at(hour: int, minute: int = 0) -> datetime:
    """A local time on the test day."""
    return DAY + timedelta(hours=hour, minutes=minute)


async def hourly(storage: Storage, meter: str) -> dict[str, Decimal]:
    rows = await storage.consumption(meter, start=DAY - timedelta(days=1),
                                     end=DAY + timedelta(days=2), resolution="hour")
    return {row.start.strftime("%H:%M"): row.values[E] for row in rows if row.values[E]}


async def daily_total(storage: Storage, meter: str) -> Decimal:
    rows = await storage.consumption(meter, start=DAY, end=DAY + timedelta(days=1))
    return sum((row.values.get(E, Decimal(0)) for row in rows), Decimal(0))


async def test_rollover_counts_across_the_wrap(storage: Storage) -> None:
    async with asyncio.timeout(10):
        outcomes = await storage.add_readings([
            energy("m1", at(0), "999999.50"),
            energy("m1", at(1), "0.70"),
            energy("m1", at(2), "1.90"),
        ])
        assert [o.verdicts[E] for o in outcomes] == ["baseline", "rollover", "counted"]
        # 1000000 - 999999.50 + 0.70 = 1.20, then 1.90 - 0.70 = 1.20
        assert await hourly(storage, "m1") == {"00:00": Decimal("1.2"), "01:00": Decimal("1.2")}
        assert await daily_total(storage, "m1") == Decimal("2.4")


async def test_meter_replacement_starts_a_new_baseline(storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.add_readings([
            energy("m1", at(0), "500.00", device="old"),
            energy("m1", at(1), "502.00", device="old"),
            energy("m1", at(2), "3.00", device="new"),
            energy("m1", at(3), "4.50", device="new"),
        ])
        # old device: 2.00 in hour 00; the change-over counts nothing; new device: 1.50
        assert await hourly(storage, "m1") == {"00:00": Decimal("2"), "02:00": Decimal("1.5")}
        assert await daily_total(storage, "m1") == Decimal("3.5")
        stored = await storage.readings("m1", at(0), at(4))
        assert [r.device for r in stored] == ["old", "old", "new", "new"]
        assert stored[2].quality["counter"] == {E: "baseline"}


async def test_replacement_registered_on_the_meter_when_readings_name_no_device(
        storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.upsert_meters([{"id": "m1", "kind": "electricity", "device": "A1"}])
        await storage.add_reading(energy("m1", at(0), "800.00", device=""))
        await storage.add_reading(energy("m1", at(1), "801.00", device=""))
        await storage.upsert_meters([{"id": "m1", "device": "B2"}])
        outcome = await storage.add_reading(energy("m1", at(2), "0.20", device=""))
        assert outcome.verdicts[E] == "baseline"
        await storage.add_reading(energy("m1", at(3), "0.80", device=""))
        assert await daily_total(storage, "m1") == Decimal("1.6")  # 1.00 + 0.60


async def test_spike_is_quarantined_and_does_not_poison_the_baseline(
        storage: Storage) -> None:
    async with asyncio.timeout(10):
        outcomes = await storage.add_readings([
            energy("m1", at(0), "100.00"),
            energy("m1", at(1), "90000.00"),  # 89900 kWh in an hour: impossible
            energy("m1", at(2), "102.00"),
        ])
        assert [o.verdicts[E] for o in outcomes] == ["baseline", "quarantined", "counted"]
        # 102 - 100 = 2 over two hours, spread 1 + 1; the spike counts nothing
        assert await hourly(storage, "m1") == {"00:00": Decimal("1"), "01:00": Decimal("1")}
        stored = await storage.readings("m1", at(0), at(3))
        assert stored[1].registers[E] == Decimal("90000.00")  # kept, flagged
        assert stored[1].quality["counter"] == {E: "quarantined"}


async def test_max_rate_is_per_meter(storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.upsert_meters([{"id": "w1", "kind": "water", "max_rate": "1"}])
        await storage.add_reading(Reading("w1", at(0), {"water_total": Decimal("10.000")}))
        out = await storage.add_reading(Reading("w1", at(1), {"water_total": Decimal("12.500")}))
        assert out.verdicts["water_total"] == "quarantined"  # 2.5 m3 in 1 h > 1 m3/h
        out = await storage.add_reading(Reading("w1", at(2), {"water_total": Decimal("10.800")}))
        assert out.verdicts["water_total"] == "counted"
        rows = await storage.consumption("w1", start=DAY, end=DAY + timedelta(days=1))
        assert rows[0].values == {"water_total": Decimal("0.8")}


async def test_reset_is_counted_only_once_confirmed(storage: Storage) -> None:
    async with asyncio.timeout(10):
        outcomes = await storage.add_readings([
            energy("m1", at(0), "100.00"),
            energy("m1", at(1), "0.50"),   # drop: quarantined, pending
            energy("m1", at(2), "1.00"),   # consistent with 0.50: still pending
            energy("m1", at(3), "1.60"),   # third in a row: the reset is real
        ])
        assert [o.verdicts[E] for o in outcomes] == [
            "baseline", "quarantined", "quarantined", "counted"]
        # the jump 100 -> 0.50 counts nothing; then 0.50 (hour 01) and 0.60 (hour 02)
        assert await hourly(storage, "m1") == {"01:00": Decimal("0.5"), "02:00": Decimal("0.6")}
        stored = await storage.readings("m1", at(0), at(4))
        assert stored[1].quality["counter"] == {E: "baseline"}
        assert "counter" not in stored[2].quality


async def test_a_single_bad_low_read_never_resets(storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.add_readings([
            energy("m1", at(0), "100.00"),
            energy("m1", at(1), "0.00"),     # a corrupted frame
            energy("m1", at(2), "101.00"),
            energy("m1", at(3), "102.00"),
        ])
        assert await daily_total(storage, "m1") == Decimal("2")


async def test_backward_jitter_is_ignored(storage: Storage) -> None:
    async with asyncio.timeout(10):
        outcomes = await storage.add_readings([
            energy("m1", at(0), "100.00"),
            energy("m1", at(1), "99.99"),
            energy("m1", at(2), "101.00"),
        ])
        assert [o.verdicts[E] for o in outcomes] == ["baseline", "jitter", "counted"]
        # counted from 100.00, not from 99.99: 1.00 over two hours, not 1.01
        assert await hourly(storage, "m1") == {"00:00": Decimal("0.5"), "01:00": Decimal("0.5")}


async def test_duplicates_are_counted_once(storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.add_readings([energy("m1", at(0), "10.00"), energy("m1", at(1), "12.00")])
        again = await storage.add_reading(energy("m1", at(1), "12.00"))
        different = await storage.add_reading(energy("m1", at(1), "15.00"))
        same_batch = await storage.add_readings([energy("m1", at(2), "13.00"),
                                                 energy("m1", at(2), "13.00")])
        assert again.status is ReadingStatus.DUPLICATE
        assert different.status is ReadingStatus.DUPLICATE
        assert [o.status for o in same_batch] == [ReadingStatus.STORED, ReadingStatus.DUPLICATE]
        assert await daily_total(storage, "m1") == Decimal("3")
        assert len(await storage.readings("m1", at(0), at(3))) == 3


async def test_late_readings_split_intervals_without_double_counting(storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.add_readings([energy("m1", at(0), "100"), energy("m1", at(3), "106")])
        # 6 over three hours: 2 + 2 + 2
        assert await hourly(storage, "m1") == {
            "00:00": Decimal("2"), "01:00": Decimal("2"), "02:00": Decimal("2")}
        out = await storage.add_reading(energy("m1", at(1), "101"))
        assert out.verdicts[E] == "counted"
        # 00->01: 1; 01->03: 5 over two hours, 2.5 + 2.5
        assert await hourly(storage, "m1") == {
            "00:00": Decimal("1"), "01:00": Decimal("2.5"), "02:00": Decimal("2.5")}
        await storage.add_reading(energy("m1", at(2, 30), "104"))
        # 01->02:30: 3 over 1.5 h: 2 in hour 01, 1 in hour 02; 02:30->03: 2 in hour 02
        assert await hourly(storage, "m1") == {
            "00:00": Decimal("1"), "01:00": Decimal("2"), "02:00": Decimal("3")}
        bad = await storage.add_reading(energy("m1", at(0, 30), "200"))
        assert bad.verdicts[E] == "quarantined"  # inconsistent with its neighbours
        assert await daily_total(storage, "m1") == Decimal("6")


async def test_nb_batch_of_late_readings_in_reverse_order(storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.add_readings([energy("m1", at(0), "50.0"), energy("m1", at(6), "56.0")])
        # an NB-IoT meter uploads its hourly log late, newest first
        await storage.add_readings([energy("m1", at(h), f"{50 + h}.0") for h in (5, 4, 3, 2, 1)])
        assert await hourly(storage, "m1") == {f"{h:02d}:00": Decimal("1") for h in range(6)}
        assert await daily_total(storage, "m1") == Decimal("6")


async def test_late_reading_before_the_first_one(storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.add_readings([energy("m1", at(2), "20.0"), energy("m1", at(3), "21.0")])
        out = await storage.add_reading(energy("m1", at(1), "19.5"))
        assert out.verdicts[E] == "baseline"
        # 19.5 -> 20.0 in hour 01 now counts, 20 -> 21 in hour 02 as before
        assert await hourly(storage, "m1") == {"01:00": Decimal("0.5"), "02:00": Decimal("1")}


async def test_late_reading_across_a_rollover(storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.add_readings([energy("m1", at(0), "999999.00"),
                                    energy("m1", at(2), "1.00")])
        assert await daily_total(storage, "m1") == Decimal("2")
        out = await storage.add_reading(energy("m1", at(1), "0.20"))
        assert out.verdicts[E] == "rollover"
        # 999999.00 -> 0.20 across the wrap: 1.20 in hour 00; then 0.80 in hour 01
        assert await hourly(storage, "m1") == {"00:00": Decimal("1.2"), "01:00": Decimal("0.8")}


async def test_registers_are_counted_separately(storage: Storage) -> None:
    async with asyncio.timeout(10):
        await storage.add_readings([
            energy("m1", at(0), "10.00", energy_import_t1="4.00", energy_import_t2="6.00"),
            energy("m1", at(1), "11.50", energy_import_t1="4.50", energy_import_t2="7.00"),
        ])
        rows = await storage.consumption("m1", start=DAY, end=DAY + timedelta(days=1))
        assert rows[0].values == {E: Decimal("1.5"), "energy_import_t1": Decimal("0.5"),
                                  "energy_import_t2": Decimal("1")}


async def test_bad_input_is_rejected_with_a_reason(storage: Storage) -> None:
    async with asyncio.timeout(10):
        cases = {
            "future": energy("m1", NOW + timedelta(hours=1), "1"),
            "older": energy("m1", NOW - timedelta(days=900), "1"),
            "not a number": Reading("m1", at(0), {E: "12.5"}),  # type: ignore[dict-item]
            "missing": Reading("m1", at(0), {E: None}),  # type: ignore[dict-item]
            "finite": Reading("m1", at(0), {E: Decimal("NaN")}),
            "negative": Reading("m1", at(0), {E: Decimal("-3")}),
            "nothing": Reading("m1", at(0)),
            "names no meter": Reading("", at(0), {E: Decimal(1)}),
        }
        for word, reading in cases.items():
            outcome = await storage.add_reading(reading)
            assert outcome.status is ReadingStatus.REJECTED, word
            assert word in outcome.reason, (word, outcome.reason)
        assert storage.enqueue_reading("not a reading") is False
        ok = await storage.add_reading(energy("m1", at(0), "1"))
        assert ok.status is ReadingStatus.STORED
        assert storage.stats()["rejected"] == len(cases) + 1
        assert len(await storage.readings("m1", at(0) - timedelta(days=1000), NOW)) == 1


async def test_baselines_survive_a_restart(make_storage: MakeStorage) -> None:
    async with asyncio.timeout(10):
        first = await make_storage()
        await first.add_readings([energy("m1", at(0), "10.0"), energy("m1", at(1), "90000.0")])
        await first.stop()
        second = await make_storage()
        out = await second.add_reading(energy("m1", at(2), "12.0"))
        assert out.verdicts[E] == "counted"  # from 10.0, the spike still ignored
        assert await daily_total(second, "m1") == Decimal("2")


def _through_moved_dtu(reading: Reading) -> Reading:
    """The reading as it comes through a DTU that re-registered from a new address."""
    return replace(reading, quality={"link_moved": "DTU d1 moved from 10.0.0.7 to 10.9.9.9"})


async def test_a_moved_dtu_never_confirms_a_forged_level(make_storage: MakeStorage) -> None:
    async with asyncio.timeout(10):
        storage = await make_storage()
        forged = [_through_moved_dtu(energy("m1", at(hour), f"{5000 + hour}.00"))
                  for hour in (1, 2, 3, 4)]
        outcomes = await storage.add_readings([energy("m1", at(0), "100.00"), *forged])
        # four consistent readings in a row would confirm a reset (rule 6): not these
        assert [o.verdicts[E] for o in outcomes] == ["baseline"] + ["suspect"] * 4
        assert await daily_total(storage, "m1") == Decimal(0)
        plausible = _through_moved_dtu(energy("m1", at(5), "101.00"))
        assert (await storage.add_reading(plausible)).verdicts[E] == "counted"
        await storage.stop()
        again = await make_storage()  # after a restart the suspects still confirm nothing
        out = await again.add_reading(energy("m1", at(6), "5007.00"))
        assert out.verdicts[E] == "quarantined"
        assert await daily_total(again, "m1") == Decimal(1)
        stored = await again.readings("m1", at(1), at(2))
        assert stored[0].quality["counter"] == {E: "suspect"}
        assert stored[0].quality["link_moved"].startswith("DTU d1 moved")
