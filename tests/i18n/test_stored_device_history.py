"""A meter's daily freeze with an impossible date, refused when the hub fills a gap from the
meter's memory: the refusal is kept in device_history and shown later in each reader's
language (the API's caller, after a restart too); an old English row still shows."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from common import bounded, start_hub, t, wait_for, web_client
from test_stored_read_failures import assert_chinese

from hub.core import Context, Hub
from hub.devices import DeviceService
from hub.events import EVENT_READING
from hub.metering.model import ReadResult
from hub.metering.reading import Reading, ReadingSource
from hub.metering.service import MeteringService

SITE = """
site: {name: 阳光公寓, time_zone: Asia/Shanghai, language: zh-CN}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false}
storage: {commit_interval: 0.02}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: m1, model: ddsy, link: sim1, address: "202400000101",
     link_options: {load: {constant: 1.2}}}
"""
ZH = "向前第 3 个日冻结：日期 2611310000（YYMMDDhhmm）不存在，未采用"
EN = "daily freeze 3 back: impossible date 2611310000 (YYMMDDhhmm), not taken"


async def reading_at(hub: Hub, when: datetime) -> None:
    """The simulated meter read with its clock at ``when``, recorded at that time."""
    service = hub.component("metering", MeteringService)
    clock = service.links["sim1"].clock  # type: ignore[attr-defined]
    clock.advance(when - clock.now())

    async def read(meter: Any, transport: Any) -> ReadResult:
        return await meter.model.read(transport, meter.ref, ["energy_import_total"])

    result = await service.exchange("m1", read)
    hub.bus.fire(EVENT_READING, {"meter_id": "m1", "reading": Reading.from_result(
        "m1", result, when, device="202400000101", link_id="sim1",
        source=ReadingSource.SCHEDULED)}, context=Context())


async def history(client: Any, language: str) -> dict[str, Any]:
    response = await client.post("/api/services/device/history", json={"meter_id": "m1"},
                                 params={"return_response": "1"},
                                 headers={"Accept-Language": language})
    assert response.status == 200, await response.text()
    return dict((await response.json())["response"]["meters"]["m1"])


@pytest.mark.timeout(300)
@bounded(240)
async def test_a_refused_freeze_is_worded_for_each_reader_after_a_restart_too(
        tmp_path: Path) -> None:
    start = t("2026-11-28T00:30")
    async with start_hub(tmp_path, SITE) as hub:
        devices = hub.component("devices", DeviceService)
        await reading_at(hub, start)
        link: Any = hub.component("metering", MeteringService).links["sim1"]
        link.clock.advance(timedelta(days=5) - timedelta(minutes=1))
        sim = link.simulators["m1"]
        assert sim.registers[0] > 0  # the meter ran on, freezing its days
        sim.daily_frozen[2] = ("2611310000", sim.daily_frozen[2][1])  # 31 November
        await reading_at(hub, start + timedelta(days=5))
        await wait_for(lambda: devices.history.report("m1")["m1"]["refused"], timeout=60)
        async with web_client(hub, tmp_path) as client:
            assert (await history(client, "zh-CN"))["refused"] == [ZH]
            assert (await history(client, "en"))["refused"] == [EN]
    rows = sqlite3.connect(tmp_path / "data" / "meterhub.db")
    with rows:  # a refusal kept before messages were keyed: English, as it was written
        rows.execute("INSERT INTO device_history (meter_id, kind, detail, ts) VALUES "
                     "('m1', 'refused', 'an old English refusal', 0)")
    rows.close()
    async with start_hub(tmp_path, SITE) as hub, web_client(hub, tmp_path) as client:
        refused = (await history(client, "zh-CN"))["refused"]
        assert refused == [ZH, "an old English refusal"], refused
        assert_chinese(refused[0], {"YYMMDDhhmm"})
        assert (await history(client, "en"))["refused"] == [EN, "an old English refusal"]
