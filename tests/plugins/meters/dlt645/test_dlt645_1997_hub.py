"""DL/T 645-1997 meters in a running hub: configured in YAML on the sim link, read by the
metering service into the same points as a 2007 meter; a bad ``protocol`` named at its line."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from common import start_hub, write_hub_yaml

from hub.bootstrap import prepare
from hub.metering.service import MeteringService

CONFIG = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {retries: 0, timeout: 0.5, read_on_start: false}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: old_e, model: ddsy1997, link: sim1, address: "202400000197"}
  - {id: set_e, model: ddsy, link: sim1, address: "202400000297", options: {protocol: 1997}}
  - {id: new_e, model: ddsy, link: sim1, address: "202400000207"}
"""


async def test_1997_meters_read_by_the_metering_service(tmp_path: Path) -> None:
    async with start_hub(tmp_path, CONFIG) as hub:
        service = hub.component("metering", MeteringService)
        async with asyncio.timeout(20):
            old = await service.read("old_e")
            set_1997 = await service.read("set_e")
            new = await service.read("new_e")
        state = hub.states.get("meter.old_e")
    for reading in (old, set_1997, new):
        assert reading.registers["energy_import_total"] == Decimal("0.00")
        assert set(reading.registers) >= {"energy_import_t1", "energy_import_t4"}
    assert old.values["voltage"] == set_1997.values["voltage"] == Decimal("220")
    assert new.values["voltage"] == Decimal("220.0") and new.status["relay"] == "closed"
    assert "relay" not in set_1997.status and "balance" not in set_1997.values
    assert state is not None and state.attributes["unit"] == "kWh"


def test_a_bad_protocol_option_is_named_with_its_line(tmp_path: Path) -> None:
    text = CONFIG.replace("options: {protocol: 1997}", "options: {protocol: 1998}")
    prepared = prepare(write_hub_yaml(tmp_path, text), data_dir=tmp_path / "data")
    problems = [str(problem) for problem in prepared.problems]
    assert len(problems) == 1, problems
    assert "meters[1].options.protocol" in problems[0]
    assert "expected protocol 2007, 1997 or auto, got 1998" in problems[0]
    assert "hub.yaml:9" in problems[0]
