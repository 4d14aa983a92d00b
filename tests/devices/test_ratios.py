"""CT/PT ratios: a CT meter's registers scaled for billing, a ratio change mid-month billed at
the old ratio before it and the new one after, kept across a restart; a ratio of 0 refused."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from common import db_rows, settle, start_hub, wait_for, write_hub_yaml

from hub.bootstrap import prepare
from hub.core import Context
from hub.exceptions import ServiceValidationError
from hub.ledger.ledger import Ledger
from hub.metering.service import MeteringService

CONFIG = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {retries: 0, timeout: 0.5, read_on_start: false}
storage: {commit_interval: 0.02, max_rate: {electricity: 1000000000000}}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: main_e, model: dtsy, link: sim1, address: "202400000901", account: shop,
     tariff: flat, ct_ratio: 200/5, link_options: {load: {constant: 1}}}
accounts:
  - {id: shop, name: 商铺, trip_policy: {mode: never}}
tariffs:
  - {id: flat, type: flat, price: 1.00}
"""
ENGINEER = Context(user_id="engineer-2")


async def _read(hub: Any, hours: int) -> Any:
    service = hub.component("metering", MeteringService)
    service.links["sim1"].clock.advance(timedelta(hours=hours))
    # the hub's clock moves too: hours of the meter's time in a fraction of a second would
    # be implausible even at a primary-side max_rate
    await asyncio.sleep(0.2)
    reading = await service.read("main_e", points=["energy_import_total", "current_a"])
    await settle(hub)
    return reading


async def test_a_ct_ratio_change_mid_month_is_billed_at_each_ratio(tmp_path: Path) -> None:
    async with start_hub(tmp_path, CONFIG) as hub:
        ledger = hub.component("ledger", Ledger)
        first = await _read(hub, 0)
        assert first.registers["energy_import_total"] == Decimal("0")
        sim = hub.component("metering", MeteringService).links["sim1"].simulators["main_e"]
        before = await _read(hub, 10)  # about 10 kWh on the meter's own register
        raw_1 = sim.registers[0]
        assert raw_1 > Decimal("9.9")
        assert before.registers["energy_import_total"] == raw_1 * 40
        assert before.status["ct_ratio"] == "40"
        assert before.values["current_a"] == sim.phase_values()[0][1].quantize(
            Decimal("0.001"), rounding="ROUND_DOWN") * 40
        changed = await hub.services.call("device", "set_ratio", {
            "meter_id": "main_e", "ct_ratio": "300/5"}, context=ENGINEER,
            return_response=True)
        assert changed["version"]["registers_at_change"]["energy_import_total"] == str(raw_1)
        after = await _read(hub, 10)  # about 10 more kWh on the meter: 600 on the primary side
        raw_2 = sim.registers[0]
        expected = raw_1 * 40 + (raw_2 - raw_1) * 60  # about 400 + 600, not 1200 nor a jump
        assert after.registers["energy_import_total"] == expected
        await wait_for(lambda: ledger.balance("shop") == -expected.quantize(Decimal("0.01")))
        with pytest.raises(ServiceValidationError, match="expected a ratio above 0, got 0"):
            await hub.services.call("device", "set_ratio", {"meter_id": "main_e",
                                                            "ct_ratio": 0},
                                    context=ENGINEER, return_response=True)
    rows = db_rows(tmp_path / "data", "SELECT ct_ratio, pt_ratio, context_user_id FROM "
                                      "meter_ratio")
    assert rows == [("60", "1", "engineer-2")]
    # after a restart the change still applies from its time on
    async with start_hub(tmp_path, CONFIG) as hub:
        answer = await hub.services.call("device", "ratios", {"meter_id": "main_e"},
                                         return_response=True)
        assert [(v["ct_ratio"], v["effective"] is None) for v in answer["versions"]] == [
            ("40", True), ("60", False)]


def test_a_ratio_of_zero_in_yaml_is_named_with_its_line(tmp_path: Path) -> None:
    text = CONFIG.replace("ct_ratio: 200/5", "ct_ratio: 0")
    prepared = prepare(write_hub_yaml(tmp_path, text), data_dir=tmp_path / "data")
    problems = [str(problem) for problem in prepared.problems]
    assert len(problems) == 1, problems
    assert "meters[0].ct_ratio" in problems[0]
    assert "expected a ratio above 0, got 0" in problems[0]


async def test_ratios_read_from_the_meter(tmp_path: Path) -> None:
    async with start_hub(tmp_path, CONFIG) as hub:
        sim = hub.component("metering", MeteringService).links["sim1"].simulators["main_e"]
        sim.params[0x04000306] = Decimal(75)  # the meter keeps CT 75 (375/5)
        answer = await hub.services.call("device", "set_ratio", {
            "meter_id": "main_e", "from_meter": True}, context=ENGINEER, return_response=True)
        assert (answer["version"]["ct_ratio"], answer["version"]["pt_ratio"]) == ("75", "1")
        sim.params[0x04000306] = Decimal(0)
        with pytest.raises(ServiceValidationError, match="the meter keeps ct_ratio 0, not a "
                                                         "ratio"):
            await hub.services.call("device", "set_ratio", {
                "meter_id": "main_e", "from_meter": True}, context=ENGINEER,
                return_response=True)
