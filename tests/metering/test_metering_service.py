"""The metering service end to end on the in-process sim link: real frames, real models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from common import collect, start_hub

from hub.core import Hub
from hub.metering.model import Command
from hub.metering.reading import ReadingSource
from hub.metering.service import MeteringService, ReadFailed

CONFIG = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {retries: 1, retry_delay: 0, timeout: 0.2, offline_after: 2, read_on_start: false,
           reread: {first_delay: 0.05, max_delay: 0.1}}
links:
  - {id: sim1, type: sim, speed: 3600}
meters:
  - {id: r101_e, model: ddsy, link: sim1, address: "202400000101",
     tags: {building: A, floor: "1"}, link_options: {load: {constant: 1.2}}}
  - {id: r102_e, model: ddsy, link: sim1, address: "202400000102", tags: {building: A}}
  - {id: main_a, model: dtsy, link: sim1, address: "202400000900", tags: {building: A}}
  - {id: r101_w, model: cjt188_water, link: sim1, address: "00000000000101",
     tags: {building: B}}
  - {id: dead_e, model: ddsy, link: sim1, address: "202400000999", tags: {building: B},
     link_options: {faults: {silent: true}}}
"""


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    async with start_hub(tmp_path, CONFIG) as instance:
        yield instance


def service_of(hub: Hub) -> MeteringService:
    return hub.component("metering", MeteringService)


async def test_read_service_returns_a_reading_with_registers_and_status(hub: Hub) -> None:
    events = collect(hub, "reading", "meter_online")
    async with asyncio.timeout(10):
        result = await hub.services.call("meter", "read", {"meter_id": "r101_e"},
                                         return_response=True)
    assert result["read"] == ["r101_e"]
    reading = result["readings"][0]
    assert reading.registers["energy_import_total"] >= 0
    assert reading.status["relay"] in ("open", "closed")
    assert "voltage" in reading.values
    assert [e.event_type for e in events] == ["meter_online", "reading"]
    state = hub.states.get("meter.r101_e")
    assert state is not None
    assert state.state == reading.registers["energy_import_total"]
    assert state.attributes["online"] is True
    assert state.attributes["unit"] == "kWh"


async def test_a_partial_read_updates_what_it_read_and_keeps_the_rest(hub: Hub) -> None:
    """A command's read-back reads the relay alone: the meter's state shows the relay read
    back at once and keeps its energy (it showed 'unknown' until the next full read)."""
    async with asyncio.timeout(10):
        full = await service_of(hub).read("r101_e")
        await service_of(hub).command("r101_e", Command.TRIP)
        back = await service_of(hub).read("r101_e", points=["relay"],
                                          source=ReadingSource.CONFIRM)
    assert back.registers == {} and back.status["relay"] == "open"
    state = hub.states.get("meter.r101_e")
    assert state is not None
    assert state.state == full.registers["energy_import_total"]
    assert state.attributes["status"]["relay"] == "open"
    assert state.attributes["values"]["voltage"] == full.values["voltage"]


async def test_energy_rises_between_reads_with_a_fast_clock(hub: Hub) -> None:
    service = service_of(hub)
    async with asyncio.timeout(10):
        first = await service.read("r101_e")
        await asyncio.sleep(0.3)  # 0.3 s x 3600 = 18 simulated minutes at 1.2 kW
        second = await service.read("r101_e")
    rise = second.registers["energy_import_total"] - first.registers["energy_import_total"]
    assert Decimal("0.2") <= rise <= Decimal("0.6")


async def test_water_and_three_phase_meters_read_in_their_own_protocols(hub: Hub) -> None:
    service = service_of(hub)
    async with asyncio.timeout(10):
        water = await service.read("r101_w")
        main = await service.read("main_a")
    assert "water_total" in water.registers
    assert water.status["valve"] == "open"
    assert {"voltage_a", "voltage_b", "voltage_c"} <= set(main.values)
    assert hub.states.get("meter.r101_w").attributes["unit"] == "m3"  # type: ignore[union-attr]


async def test_silent_meter_fails_and_goes_offline_after_misses(hub: Hub) -> None:
    events = collect(hub, "read_failed", "meter_offline")
    service = service_of(hub)
    async with asyncio.timeout(10):
        with pytest.raises(ReadFailed):
            await service.read("dead_e")
        assert [e.event_type for e in events] == ["read_failed"]
        with pytest.raises(ReadFailed):
            await service.read("dead_e")
    assert [e.event_type for e in events] == ["read_failed", "read_failed", "meter_offline"]
    assert events[0].data["attempts"] == 2  # one try and one retry
    assert hub.states.get("meter.dead_e").attributes["online"] is False  # type: ignore[union-attr]


async def test_batch_read_by_tag_reads_only_matching_meters(hub: Hub) -> None:
    async with asyncio.timeout(10):
        result = await hub.services.call("meter", "read", {"tags": {"building": "A"}},
                                         return_response=True)
    assert sorted(result["read"]) == ["main_a", "r101_e", "r102_e"]
    assert result["failed"] == []


async def test_unknown_meter_is_a_validation_error(hub: Hub) -> None:
    from hub.exceptions import ServiceValidationError

    with pytest.raises(ServiceValidationError, match="unknown meter 'nope'"):
        await hub.services.call("meter", "read", {"meter_id": "nope"})


async def test_plan_run_rereads_a_meter_that_recovers(hub: Hub) -> None:
    from hub.metering.scheduler import Scheduler

    service = service_of(hub)
    scheduler = hub.component("metering.scheduler", Scheduler)
    sim = service.meters["r102_e"].link.simulators["r102_e"]  # type: ignore[attr-defined]
    sim.faults.silent = True
    events = collect(hub, "reading")
    plan: dict[str, Any] = {"plan": "every", "minutes": 60, "meters": ["r102_e"]}
    async with asyncio.timeout(10):
        ok, failed = await scheduler.run_plan(0, plan)
        assert (ok, failed) == ([], ["r102_e"])
        assert scheduler.pending_rereads() == ["r102_e"]
        sim.faults.silent = False
        while not events:
            await asyncio.sleep(0.02)
    assert events[0].data["reading"].source == "reread"
    assert scheduler.pending_rereads() == []
    rate = hub.states.get("sensor.collection_link_sim1")
    assert rate is not None and rate.state == Decimal("100.0")


async def test_over_voltage_raises_an_alarm_and_clears_with_hysteresis(hub: Hub) -> None:
    service = service_of(hub)
    sim = service.meters["r101_e"].link.simulators["r101_e"]  # type: ignore[attr-defined]
    events = collect(hub, "alarm", "alarm_cleared")
    async with asyncio.timeout(10):
        sim.set_voltage("240.0")
        await service.read("r101_e")
        sim.set_voltage("235.0")  # below the 235.4 threshold but inside the 2 % band
        await service.read("r101_e")
        sim.set_voltage("220.0")
        await service.read("r101_e")
    kinds = [(e.event_type, e.data["kind"]) for e in events]
    assert kinds == [("alarm", "over_voltage"), ("alarm_cleared", "over_voltage")]
    assert events[0].data["value"] == Decimal("240.0")
    assert events[0].data["threshold"] == Decimal("235.4")
