"""A Modbus water meter from a register map alone (``kind: water``), read by the hub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import voluptuous as vol
from modbus_support import WATER_MAP

from hub.bootstrap import create_hub, prepare
from hub.core import Hub
from hub.metering.service import MeteringService
from meterhub_modbus.regmap import compile_map

CONFIG = f"""
site: {{name: Test, time_zone: Asia/Shanghai}}
http: {{port: 0, host: 127.0.0.1}}
metering: {{retries: 0, timeout: 0.5, read_on_start: false}}
links:
  - {{id: sim1, type: sim, speed: 3600}}
meters:
  - {{id: r12_w, model: modbus, link: sim1, address: 12, options: {{map: "{WATER_MAP}"}},
     link_options: {{load: {{constant: 0.5}}}}}}
  - {{id: r13_e, model: sdm120, link: sim1, address: 13}}
"""


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    (tmp_path / "hub.yaml").write_text(CONFIG)
    running = create_hub(prepare(tmp_path / "hub.yaml", data_dir=tmp_path / "data"))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


def test_kind_defaults_to_electricity_and_is_checked() -> None:
    registers = [{"point": "voltage", "address": 0, "type": "uint16"}]
    assert compile_map({"registers": registers}).kind == "electricity"
    assert compile_map({"kind": "water", "registers": registers}).kind == "water"
    with pytest.raises(vol.Invalid, match="gas"):
        compile_map({"kind": "gas", "registers": registers})


async def test_a_water_map_gives_a_water_meter_and_water_readings(hub: Hub) -> None:
    service = hub.component("metering", MeteringService)
    assert service.meters["r12_w"].kind == "water"
    assert service.meters["r13_e"].kind == "electricity"
    reading = await service.read("r12_w")
    assert set(reading.registers) == {"water_total"}
    assert reading.registers["water_total"] >= 0
    assert set(reading.values) == {"flow_rate", "battery_voltage"}
    state = hub.states.get("meter.r12_w")
    assert state is not None and state.attributes["kind"] == "water"
