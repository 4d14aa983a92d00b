"""Readings from the metering service flow into storage: consumption events and rollups."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from common import start_hub

from hub.core import Event, Hub
from hub.metering.service import MeteringService
from hub.storage.storage import Storage
from hub.util.dt import utcnow

CONFIG = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false}
storage: {commit_interval: 0.05, max_rate: {electricity: 100000}}  # the sim clock runs 3600x
links:
  - {id: sim1, type: sim, speed: 3600}
meters:
  - {id: r101_e, model: ddsy, link: sim1, address: "202400000101",
     tags: {building: A}, link_options: {load: {constant: 2}}}
  - {id: r102_e, model: ddsy, link: sim1, address: "202400000102",
     tags: {building: A}, link_options: {load: {constant: 1}}}
"""


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    async with start_hub(tmp_path, CONFIG) as instance:
        yield instance


async def test_consumption_event_follows_each_counted_reading(hub: Hub) -> None:
    service = hub.component("metering", MeteringService)
    seen: list[Event] = []
    hub.bus.listen("consumption", seen.append)
    async with asyncio.timeout(10):
        first = await service.read("r101_e")
        await asyncio.sleep(0.2)
        second = await service.read("r101_e")
        while not seen:
            await asyncio.sleep(0.02)
    event = seen[0]
    assert event.data["meter_id"] == "r101_e"
    assert event.data["reading_id"] == second.id
    by_register = {i["register"]: i for i in event.data["intervals"]}
    total = by_register["energy_import_total"]
    expected = (second.registers["energy_import_total"]
                - first.registers["energy_import_total"])
    assert total["quantity"] == expected > 0
    assert total["start"] == first.time.replace(microsecond=first.time.microsecond // 1000 * 1000)
    # the consumption event is caused by the reading: its context is a child of the reading's
    assert event.context.parent_id is not None


async def test_tag_rollups_sum_the_meters_of_a_building(hub: Hub) -> None:
    service = hub.component("metering", MeteringService)
    storage = hub.component("storage", Storage)
    async with asyncio.timeout(10):
        firsts = [await service.read(m) for m in ("r101_e", "r102_e")]
        await asyncio.sleep(0.2)
        seconds = [await service.read(m) for m in ("r101_e", "r102_e")]
        await storage.flush()
        now = utcnow()
        rows = await storage.consumption(tags={"building": "A"}, start=now - timedelta(days=2),
                                         end=now + timedelta(days=1), resolution="day")
    expected = sum((b.registers["energy_import_total"] - a.registers["energy_import_total"]
                    for a, b in zip(firsts, seconds, strict=True)), Decimal(0))
    total = sum((row.values.get("energy_import_total", Decimal(0)) for row in rows), Decimal(0))
    assert total == expected > 0
