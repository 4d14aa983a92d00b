"""Replacing a meter's device in one operation: billed exactly once, history and identity kept,
the old device's pending command cancelled and named, the new device kept across restarts."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from common import bounded, collect, settle, wait_for
from control_support import simulator
from money_support import FROZEN_SIM, running_hub

from hub.core import Context, Hub
from hub.exceptions import ServiceValidationError
from hub.ledger.ledger import Ledger
from hub.metering.model import Command
from hub.metering.service import MeteringService
from hub.plugins import PluginManager
from hub.prepaid import Control
from hub.storage import Storage
from hub.util.dt import utcnow

D = Decimal

CFG = FROZEN_SIM + """
control: {retries: 50, retry_delay: 30s}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: m1, model: ddsy, link: sim1, address: "202400000001", account: a1, tariff: flat}
accounts:
  - {id: a1}
tariffs:
  - {id: flat, type: flat, price: 1.00}
"""


async def read(hub: Hub, energy: str) -> None:
    """Set the meter's current device to ``energy`` kWh and read it (stored)."""
    simulator(hub, "m1").energy[0] = D(energy)
    service = hub.component("metering", MeteringService)
    _reading, not_stored = await service.read_stored("m1")
    assert not_stored is None


async def replace(hub: Hub, data: dict[str, object]) -> dict[str, object]:
    async with asyncio.timeout(20):
        answer = await hub.services.call("meter", "replace", data, return_response=True,
                                         context=Context(user_id="fitter"))
    assert isinstance(answer, dict)
    return answer


def hub_plugins() -> PluginManager:
    plugins = PluginManager()
    plugins.load()
    return plugins


async def charged(hub: Hub) -> Decimal:
    entries = await hub.component("ledger", Ledger).entries("a1", kinds=["charge"], limit=None)
    return sum((-entry.amount for entry in entries), D("0.00"))


@bounded(90)
async def test_a_dead_meter_replaced_mid_period_is_billed_exactly_once(tmp_path: Path) -> None:
    async with running_hub(tmp_path, CFG) as hub:
        await hub.services.call("account", "recharge", {
            "account_id": "a1", "amount": "100", "method": "cash", "reference": "r1"})
        used = collect(hub, "consumption")
        replaced = collect(hub, "meter_replaced")
        await read(hub, "100.00")  # the old device's baseline
        await read(hub, "110.00")  # 10 kWh
        old = simulator(hub, "m1")
        old.faults.silent = True  # the old device dies with 2.5 kWh more on its display
        control = hub.component("control", Control)
        command_id, _new = await control.commands.submit(
            "m1", Command.TRIP, context=Context(user_id="clerk"), reason="test")
        await wait_for(lambda: control.commands.outstanding("m1") is not None)
        answer = await replace(hub, {
            "meter_id": "m1", "new_address": "202400009999",
            "final": {"energy_import_total": "112.50"}})
        assert answer["old_device"] == "202400000001"
        assert answer["new_device"] == "202400009999"
        assert answer["cancelled"] == [command_id]
        assert control.commands.outstanding("m1") is None
        record = await hub.component("storage", Storage).command(command_id)
        assert record is not None and record.state == "superseded"
        # the new device answered at once: its initial reading (0.00) is its baseline
        initial = answer["initial"]
        assert isinstance(initial, dict) and initial["typed"] is False
        assert initial["registers"]["energy_import_total"] == "0.00"
        new = simulator(hub, "m1")
        assert new is not old and new.address == "202400009999"
        await read(hub, "7.00")  # 7 kWh on the new device
        await settle(hub)
        assert len(replaced) == 1 and replaced[0].context.user_id == "fitter"
        total = sum((D(i["quantity"]) for e in used for i in e.data["intervals"]
                     if i["register"] == "energy_import_total"), D(0))
        assert total == D("19.50")  # 10 + 2.5 (typed final) + 7: the swap counts once
        assert await charged(hub) == D("19.50")
        assert hub.component("ledger", Ledger).balance("a1") == D("80.50")
        storage = hub.component("storage", Storage)
        rows = await storage.consumption("m1", start=utcnow() - timedelta(days=1),
                                         end=utcnow() + timedelta(days=1), resolution="day")
        assert sum((row.values.get("energy_import_total", D(0)) for row in rows),
                   D(0)) == D("19.50")
        stored = await storage.replacements("m1")
        assert [(r.old_device, r.new_device, r.cancelled, r.user_id) for r in stored] == [
            ("202400000001", "202400009999", [command_id], "fitter")]
        assert stored[0].final["registers"] == {"energy_import_total": "112.50"}
        assert stored[0].final["typed"] is True
    # after a restart the meter still talks to the new device and keeps counting from it
    async with running_hub(tmp_path, CFG) as hub:
        service = hub.component("metering", MeteringService)
        assert service.meters["m1"].ref.address == "202400009999"
        await read(hub, "9.00")
        await settle(hub)
        assert await charged(hub) == D("21.50")


@bounded(60)
async def test_a_live_old_device_gives_its_final_reading_and_a_typed_initial_is_the_baseline(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, CFG) as hub:
        await read(hub, "50.00")
        simulator(hub, "m1").energy[0] = D("53.25")  # read by the replacement itself
        answer = await replace(hub, {"meter_id": "m1", "new_address": "202400000777",
                                     "initial": {"energy_import_total": "4.00"}})
        final = answer["final"]
        assert isinstance(final, dict) and final["typed"] is False
        assert final["registers"]["energy_import_total"] == "53.25"
        simulator(hub, "m1").energy[0] = D("6.00")  # the new device moved 2 kWh since fitted
        await read(hub, "6.00")
        await settle(hub)
        assert await charged(hub) == D("5.25")  # 3.25 on the old, 2 on the new


@bounded(60)
async def test_bad_replacements_are_refused_and_change_nothing(tmp_path: Path) -> None:
    async with running_hub(tmp_path, CFG) as hub:
        await read(hub, "100.00")
        service = hub.component("metering", MeteringService)
        simulator(hub, "m1").faults.silent = True
        cases = [
            ({"meter_id": "nope", "new_address": "202400000002"}, "unknown meter 'nope'"),
            ({"meter_id": "m1", "new_address": "12ab"}, "changes.address"),
            ({"meter_id": "m1", "new_address": "202400000001",
              "final": {"energy_import_total": "101"}}, "is the meter's device now"),
            ({"meter_id": "m1", "new_address": "202400000002",
              "final": {"energy_import_total": "99.00"}}, "below the old device's last"),
            ({"meter_id": "m1", "new_address": "202400000002"}, "did not answer"),
            ({"meter_id": "m1", "new_address": "202400000002", "final": {"voltage": "1"}},
             "not a counter register"),
            ({"meter_id": "m1", "new_address": "202400000002",
              "final": {"energy_import_total": "101"},
              "at": (utcnow() + timedelta(hours=2)).isoformat()}, "in the future"),
        ]
        for data, message in cases:
            with pytest.raises((ServiceValidationError, Exception)) as caught:
                await replace(hub, data)
            assert message in str(caught.value), (data, str(caught.value))
        assert service.meters["m1"].ref.address == "202400000001"
        assert await hub.component("storage", Storage).replacements() == []


@bounded(90)
async def test_the_cli_replaces_through_the_running_hub(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hub.cli import build_parser
    from hub.web.server import WebServer

    parser = build_parser(hub_plugins())

    async with running_hub(tmp_path, CFG) as hub:
        await read(hub, "20.00")
        simulator(hub, "m1").faults.silent = True
        port = str(hub.component("web", WebServer).port)
        common = ["-c", str(tmp_path / "hub.yaml"), "--port", port, "--data",
                  str(tmp_path / "data")]

        def run(*argv: str) -> int:
            namespace = parser.parse_args(["meter", *argv, *common])
            return int(namespace.func(namespace))

        code = await asyncio.to_thread(run, "replace", "m1", "--address", "202400000555",
                                       "--final", "energy_import_total=19")
        assert code == 1 and "小于旧表上次读数 20.00" in capsys.readouterr().err
        code = await asyncio.to_thread(run, "replace", "m1", "--address", "202400000555",
                                       "--final", "energy_import_total=21.5", "--initial",
                                       "energy_import_total=3", "--note", "burnt")
        out = capsys.readouterr().out
        assert code == 0, out
        answer = json.loads(out)
        assert answer["new_device"] == "202400000555"
        assert answer["initial"]["typed"] is True
        await read(hub, "4.00")
        await settle(hub)
        assert await charged(hub) == D("2.50")  # 1.5 on the old device, 1 on the new
