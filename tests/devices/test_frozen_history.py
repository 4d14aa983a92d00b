"""Daily frozen data (日冻结) fills a link outage: after the outage the hub reads the freezes
the meter made meanwhile and stores them at their frozen times, so daily consumption and the
charges of each bill period equal an uninterrupted run's; an impossible date is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import settle, t, wait_for
from money_support import config, running_hub

from hub.core import Context, Hub
from hub.devices import DeviceService
from hub.events import EVENT_READING
from hub.ledger.ledger import Ledger
from hub.metering.model import ReadResult
from hub.metering.reading import Reading, ReadingSource
from hub.metering.service import MeteringService

CFG = config("""
    meters:
      - {id: m1, model: ddsy, link: sim1, address: "202400000101", account: a1,
         tariff: tou, link_options: {load: {random_walk: {start: 2, low: 0.2, high: 6,
                                                        seed: 11}}}}
    accounts:
      - {id: a1, name: 张三, trip_policy: {mode: never}}
    tariffs:
      - id: tou
        type: tou
        prices: {peak: 0.617, valley: 0.307}
        schedules: {day: [{start: "00:00", band: valley}, {start: "06:00", band: peak},
                          {start: "22:00", band: valley}]}
    """)
START = t("2026-11-28T00:30")
DAYS = 5  # to 2026-12-03T00:30: across a month end
LATE_AT = t("2026-11-30T00:00")
POINTS = ["energy_import_total", "energy_import_t1", "energy_import_t2", "energy_import_t3",
          "energy_import_t4"]


async def _read_at(hub: Hub, when: datetime, *, fire: bool = True) -> Reading:
    """Move the meter's clock to ``when``, read it and record the reading at that time
    (``fire=False``: only read, for a reading that arrives late)."""
    service = hub.component("metering", MeteringService)
    link = service.links["sim1"]
    clock = link.clock  # type: ignore[attr-defined]
    clock.advance(when - clock.now())
    meter = service.meters["m1"]

    async def read(current: Any, transport: Any) -> ReadResult:
        return await current.model.read(transport, current.ref, POINTS)

    result = await service.exchange("m1", read)
    reading = Reading.from_result("m1", result, when, device=meter.ref.address,
                                  link_id="sim1", source=ReadingSource.SCHEDULED)
    if fire:
        hub.bus.fire(EVENT_READING, {"meter_id": "m1", "reading": reading}, context=Context())
    return reading


@dataclass(frozen=True)
class Plan:
    """A run: the hub, when it starts, how long, how often an uninterrupted run reads."""

    config: str
    start: datetime
    days: int
    step: timedelta  # the uninterrupted run reads at every step from midnight


FROZEN = Plan(CFG, START, DAYS, timedelta(days=1))
# a three-phase meter keeping 15-minute load records (负荷记录), across a month end
PROFILE = Plan(CFG.replace("model: ddsy", "model: dtsy"), t("2026-11-30T00:30"), 2,
               timedelta(minutes=15))


async def _run(tmp_path: Path, name: str, *, outage: bool, corrupt: bool = False,
               late: bool = False, plan: Plan = FROZEN) -> dict[str, Any]:
    start, end = plan.start, plan.start + timedelta(days=plan.days)
    async with running_hub(tmp_path, plan.config, data=name) as hub:
        link: Any = hub.component("metering", MeteringService).links["sim1"]
        sim = link.simulators["m1"]
        devices = hub.component("devices", DeviceService)
        await _read_at(hub, start)
        await settle(hub)
        if late:  # read at midnight on 11-30; it reaches the hub after the outage
            delayed = await _read_at(hub, LATE_AT, fire=False)
            devices.history.fill_after = timedelta(days=30)  # the outage is not filled now
        if not outage:
            when = start.replace(hour=0, minute=0) + plan.step
            while when < end:  # a read at every step (midnight, quarter-hour)
                if when > start:
                    await _read_at(hub, when)
                    await settle(hub)
                when += plan.step
        else:
            link.clock.advance(end - timedelta(minutes=1) - link.clock.now())
            assert sim.registers[0] > 0  # the meter runs on, freezing its days, link down
            if corrupt:
                sim.daily_frozen[2] = ("2611310000", sim.daily_frozen[2][1])  # 31 November
        await _read_at(hub, end)
        if late:
            await settle(hub)
            assert devices.history.report("m1")["m1"]["filled"] == []
            devices.history.fill_after = timedelta(hours=26)
            hub.bus.fire(EVENT_READING, {"meter_id": "m1", "reading": delayed},
                         context=Context())
        if outage:
            await wait_for(lambda: any(devices.history.report("m1")["m1"].values()))
        await settle(hub)
        storage = hub.component("storage", object)
        days = await storage.consumption(  # type: ignore[attr-defined]
            "m1", start=start - timedelta(hours=1), end=end + timedelta(days=1),
            resolution="day")
        ledger = hub.component("ledger", Ledger)
        entries = await ledger.entries("a1", kinds=["charge"], limit=None)
        by_period: dict[str, Decimal] = {}
        for entry in entries:
            period = entry.key.rsplit(":", 1)[-1][:7]
            by_period[period] = by_period.get(period, Decimal(0)) + entry.amount
        return {"days": {row.start.isoformat()[:10]: row.values.get("energy_import_total")
                         for row in days},
                "periods": by_period, "balance": ledger.balance("a1"),
                "report": devices.history.report("m1")["m1"]}


async def test_frozen_days_fill_an_outage_and_bills_match_an_uninterrupted_run(
        tmp_path: Path) -> None:
    steady = await _run(tmp_path, "steady", outage=False)
    filled = await _run(tmp_path, "outage", outage=True)
    assert filled["report"]["filled"] == [
        f"2026-{d}T00:00:00+08:00" for d in ("11-29", "11-30", "12-01", "12-02", "12-03")]
    assert filled["report"]["refused"] == []
    assert len(steady["days"]) == DAYS + 1
    assert filled["days"] == steady["days"]  # each day its true share, not a linear spread
    assert len(set(steady["days"].values())) > 2  # the load really varies day to day
    assert set(steady["periods"]) == {"2026-11", "2026-12"}
    assert filled["periods"] == steady["periods"]
    assert filled["balance"] == steady["balance"] < 0


async def test_load_records_fill_an_outage_and_bills_match_a_quarter_hourly_run(
        tmp_path: Path) -> None:
    steady = await _run(tmp_path, "steady", outage=False, plan=PROFILE)
    filled = await _run(tmp_path, "outage", outage=True, plan=PROFILE)
    # every quarter-hour of the outage filled from the meter's load records, none refused
    assert filled["report"]["intervals"] == [
        "2026-11-30T00:45:00+08:00 .. 2026-12-02T00:15:00+08:00: 191 load records"]
    assert filled["report"]["filled"] == filled["report"]["refused"] == []
    assert len(steady["days"]) == PROFILE.days + 1
    assert filled["days"] == steady["days"]
    assert set(steady["periods"]) == {"2026-11", "2026-12"}
    assert filled["periods"] == steady["periods"]
    assert filled["balance"] == steady["balance"] < 0


async def test_a_late_reading_finds_the_gaps_around_it_and_they_are_filled(
        tmp_path: Path) -> None:
    steady = await _run(tmp_path, "steady", outage=False)
    filled = await _run(tmp_path, "late", outage=True, late=True)
    # the late reading (11-30 00:00) split the outage in two: both sides were filled
    assert sorted(filled["report"]["filled"]) == [
        f"2026-{d}T00:00:00+08:00" for d in ("11-29", "12-01", "12-02", "12-03")]
    assert filled["days"] == steady["days"]
    assert filled["periods"] == steady["periods"]
    assert filled["balance"] == steady["balance"]


async def test_a_frozen_record_with_an_impossible_date_is_refused(tmp_path: Path) -> None:
    result = await _run(tmp_path, "corrupt", outage=True, corrupt=True)
    assert result["report"]["refused"] == [
        "daily freeze 3 back: impossible date 2611310000 (YYMMDDhhmm), not taken"]
    assert result["report"]["filled"] == [
        f"2026-{d}T00:00:00+08:00" for d in ("11-29", "11-30", "12-02", "12-03")]


async def test_the_first_reading_after_a_restart_fills_the_gap_since_the_stored_one(
        tmp_path: Path) -> None:
    """The previous reading of a meter's first one since start-up is the stored one (asked
    for many meters in one query): a gap since it is filled from the meter's memory."""
    async with running_hub(tmp_path, CFG, data="restart") as hub:
        await _read_at(hub, START)
        await settle(hub)
    async with running_hub(tmp_path, CFG, data="restart") as hub:
        service = hub.component("metering", MeteringService)
        clock: Any = service.links["sim1"].clock
        clock.advance(START - clock.now())
        await service.exchange("m1", lambda current, transport: current.model.read(
            transport, current.ref, POINTS))  # the simulated meter runs from START, unrecorded
        clock.advance(timedelta(days=DAYS) - timedelta(minutes=1))  # the hub was off
        await _read_at(hub, START + timedelta(days=DAYS))
        devices = hub.component("devices", DeviceService)
        await wait_for(lambda: devices.history.report("m1")["m1"]["filled"], timeout=60)
        assert devices.history.report("m1")["m1"]["filled"] == [
            f"2026-{d}T00:00:00+08:00" for d in ("11-29", "11-30", "12-01", "12-02", "12-03")]


async def test_the_filled_days_report_survives_a_restart(tmp_path: Path) -> None:
    before = await _run(tmp_path, "restart", outage=True, corrupt=True)
    assert before["report"]["filled"] and before["report"]["refused"]
    # a new hub on the same data folder: the report is the one the first hub answered
    async with running_hub(tmp_path, CFG, data="restart") as hub:
        answer = await hub.services.call("device", "history", {"meter_id": "m1"},
                                         context=Context(), return_response=True)
    assert answer["meters"]["m1"] == before["report"]
