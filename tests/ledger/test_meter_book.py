"""Meters added and changed at runtime: checked like check-config, read and charged at once,
kept across restarts, and hub.yaml wins by the same rule as accounts."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from common import bounded, collect, settle, wait_for
from money_support import FROZEN_SIM, running_hub

from hub.core import Context, Hub
from hub.exceptions import ServiceValidationError
from hub.ledger import MeterBook
from hub.ledger.ledger import Ledger
from hub.metering.service import MeteringService
from hub.prepaid.control import Control

D = Decimal

BASE = FROZEN_SIM + """
links:
  - {id: sim1, type: sim, speed: 0}
accounts:
  - {id: a1}
tariffs:
  - {id: flat, type: flat, price: 1.00}
  - {id: dear, type: flat, price: 2.00}
  - {id: cheap, type: flat, price: 0.50}
"""
YAML_METER = """meters:
  - {id: m1, model: ddsy, link: sim1, address: "202400000001", account: a1, tariff: %s}
"""


async def call(hub: Hub, service: str, domain: str, data: dict[str, object]) -> object:
    async with asyncio.timeout(20):
        return await hub.services.call(domain, service, data, return_response=True,
                                       context=Context(user_id="clerk"))


async def read(hub: Hub, meter_id: str, energy: str) -> None:
    service = hub.component("metering", MeteringService)
    service.meters[meter_id].link.simulators[meter_id].energy[0] = D(energy)  # type: ignore[attr-defined]
    _reading, not_stored = await service.read_stored(meter_id)
    assert not_stored is None


@bounded(90)
async def test_a_runtime_meter_of_a_runtime_account_is_read_charged_and_kept(
        tmp_path: Path) -> None:
    text = BASE + YAML_METER % "flat"
    async with running_hub(tmp_path, text) as hub:
        await call(hub, "create", "account", {"account": {"id": "shop9", "name": "小卖部"}})
        await call(hub, "create", "meter", {"meter": {
            "id": "shop9_e", "model": "ddsy", "link": "sim1", "address": "202400000909",
            "account": "shop9", "tariff": "dear", "tags": {"building": "B"}}})
        await read(hub, "shop9_e", "10.00")
        await read(hub, "shop9_e", "13.00")
        await settle(hub)
        assert hub.component("ledger", Ledger).balance("shop9") == D("-6.00")
    async with running_hub(tmp_path, text) as hub:
        meter = hub.component("metering", MeteringService).meters["shop9_e"]
        assert meter.ref.address == "202400000909" and meter.tags == {"building": "B"}
        await read(hub, "shop9_e", "14.00")
        await settle(hub)
        assert hub.component("ledger", Ledger).balance("shop9") == D("-8.00")


@bounded(90)
async def test_a_runtime_tariff_holds_until_hub_yaml_changes_that_field(tmp_path: Path) -> None:
    async with running_hub(tmp_path, BASE + YAML_METER % "flat") as hub:
        await call(hub, "update", "meter", {"meter_id": "m1", "changes": {"tariff": "dear"}})
        await read(hub, "m1", "1.00")
        await read(hub, "m1", "2.00")
        await settle(hub)
        assert hub.component("ledger", Ledger).balance("a1") == D("-2.00")  # priced at once
    async with running_hub(tmp_path, BASE + YAML_METER % "flat") as hub:
        assert hub.component("meter_book", MeterBook).entries["m1"]["tariff"] == "dear"
    # hub.yaml edited by hand for that field: hub.yaml wins, the runtime value is dropped
    async with running_hub(tmp_path, BASE + YAML_METER % "cheap") as hub:
        book = hub.component("meter_book", MeterBook)
        assert book.entries["m1"]["tariff"] == "cheap" and book.runtime == {}
        await read(hub, "m1", "3.00")
        await settle(hub)
        assert hub.component("ledger", Ledger).balance("a1") == D("-2.50")


@bounded(60)
async def test_changes_that_check_config_would_refuse_are_refused_and_change_nothing(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, BASE + YAML_METER % "flat") as hub:
        cases = [
            ("create", {"meter": {"id": "x1", "model": "ddsy", "link": "nolink",
                                  "address": "202400000002"}}, "unknown link 'nolink'"),
            ("create", {"meter": {"id": "x1", "model": "ddsy", "link": "sim1",
                                  "address": "202400000002", "account": "ghost"}},
             "unknown account 'ghost'"),
            ("create", {"meter": {"id": "x1", "model": "ddsy", "link": "sim1",
                                  "address": "202400000002", "tariff": "gold"}},
             "unknown tariff 'gold'"),
            ("create", {"meter": {"id": "x1", "model": "nosuch", "link": "sim1",
                                  "address": "1"}}, "unknown meter model"),
            ("create", {"meter": {"id": "x1", "model": "ddsy", "link": "sim1",
                                  "address": "202400000002", "colour": "red"}}, "colour"),
            ("create", {"meter": {"id": "m1", "model": "ddsy", "link": "sim1",
                                  "address": "202400000002"}}, "already exists"),
            ("update", {"meter_id": "m1", "changes": {"address": "202400000003"}},
             "use meter.replace"),
            ("update", {"meter_id": "m1", "changes": {"parent": "m1"}}, "its own parent"),
            ("update", {"meter_id": "m1", "changes": {"link": "sim2"}}, "never changes"),
        ]
        for service, data, message in cases:
            with pytest.raises(ServiceValidationError) as caught:
                await call(hub, service, "meter", data)
            assert message in str(caught.value), (service, data, str(caught.value))
        book = hub.component("meter_book", MeterBook)
        assert list(book.entries) == ["m1"] and book.runtime == {} and book.created == {}
        assert list(hub.component("metering", MeteringService).meters) == ["m1"]


@bounded(90)
async def test_a_meter_disabled_at_runtime_is_out_at_once_and_back_when_enabled(
        tmp_path: Path) -> None:
    """``meter.update {enabled: false}`` was stored but the meter was read until the next
    start: now it is out at once (not read, no entity), across a restart too, and back when
    enabled."""
    text = BASE + YAML_METER % "flat"
    async with running_hub(tmp_path, text) as hub:
        metering = hub.component("metering", MeteringService)
        await read(hub, "m1", "1.00")
        assert hub.states.get("meter.m1") is not None
        await call(hub, "update", "meter", {"meter_id": "m1", "changes": {"enabled": False}})
        assert "m1" not in metering.meters and metering.meters_of("a1") == []
        assert hub.states.get("meter.m1") is None
        with pytest.raises(ServiceValidationError, match="m1"):
            await call(hub, "read", "meter", {"meter_id": "m1"})
    async with running_hub(tmp_path, text) as hub:
        assert "m1" not in hub.component("metering", MeteringService).meters
        await call(hub, "update", "meter", {"meter_id": "m1", "changes": {"enabled": True}})
        await read(hub, "m1", "3.00")
        await settle(hub)
        assert hub.component("ledger", Ledger).balance("a1") == D("-2.00")  # 1.00 → 3.00


@bounded(90)
async def test_disabling_a_meter_withdraws_its_outstanding_command(tmp_path: Path) -> None:
    """A trip waiting on a meter that does not answer ended only after its retries with
    "unknown meter" once the meter was disabled: it is withdrawn at once."""
    text = BASE.replace("  - {id: a1}", "  - {id: a1}\n  - {id: a2, opening_balance: -5}") + \
        YAML_METER % "flat" + """  - {id: m2, model: ddsy, link: sim1, address: "202400000002",
     account: a2, tariff: flat, link_options: {faults: {silent: true}}}
"""
    async with running_hub(tmp_path, text) as hub:
        withdrawn = collect(hub, "command_superseded")
        control = hub.component("control", Control)
        await wait_for(lambda: "m2" in control.commands._pending)  # the trip of a2's arrears
        await call(hub, "update", "meter", {"meter_id": "m2", "changes": {"enabled": False}})
        await wait_for(lambda: withdrawn)
        assert withdrawn[0].data["meter_id"] == "m2"
        assert withdrawn[0].data["withdrawn"] == "meter disabled"
        assert "m2" not in control.commands._pending
