"""Every trip mode with the REAL ledger: tenants whose prepaid money runs out through real
charged readings on the sim link (no fake balances), the ledger summing to the shown balance.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from control_support import (
    Clock,
    collect,
    config,
    control_of,
    local,
    running_hub,
    simulator,
    types,
    wait_for,
)

from hub.core import Context, Hub
from hub.ledger.ledger import Ledger
from hub.metering.service import MeteringService, ReadFailed

METERS = """
meters:
  - {id: n_e, model: ddsy, link: sim1, address: "202400000201", account: never,
     tariff: steep, link_options: {load: {constant: 1.0}}}
  - {id: d_e, model: ddsy, link: sim1, address: "202400000202", account: delayed,
     tariff: steep, link_options: {load: {constant: 1.0}}}
  - {id: h_e, model: ddsy, link: sim1, address: "202400000203", account: held,
     tariff: steep, link_options: {load: {constant: 1.0}}}
  - {id: v_w, model: cjt188_water, link: sim1, address: "00000000000204", account: water,
     tariff: steep_water, link_options: {load: {constant: 3.0}}}
"""

ACCOUNTS = """
accounts:
  - {id: never, opening_balance: 2.00, trip_policy: {mode: never}}
  - {id: delayed, opening_balance: 2.00,
     trip_policy: {mode: delayed, at: "10:00", warn_before: 30m}}
  - {id: held, opening_balance: 2.00}
  - {id: water, opening_balance: 2.00}
"""

TARIFFS = """
tariffs:
  - {id: steep, type: flat, price: 30.00}
  - {id: steep_water, type: flat, unit: m3, price: 30.00}
"""


def text() -> str:
    base = config(ACCOUNTS, meters=METERS, extra=TARIFFS)
    return base.replace("speed: 3600", "speed: 600").replace(
        "storage: {commit_interval: 0.02}",
        "storage: {commit_interval: 0.02, max_rate: {electricity: 100000, water: 100000}}")


@contextlib.asynccontextmanager
async def reading(hub: Hub, meters: Sequence[str]):  # type: ignore[no-untyped-def]
    """Read the meters over and over (as reading plans would) while the block runs."""
    stop = asyncio.Event()
    service = hub.component("metering", MeteringService)

    async def loop() -> None:
        while not stop.is_set():
            for meter_id in meters:
                with contextlib.suppress(ReadFailed):
                    await service.read(meter_id)
            await asyncio.sleep(0.1)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        stop.set()
        await task


async def books_agree(hub: Hub, account_id: str) -> None:
    ledger = hub.component("ledger", Ledger)
    await ledger.drain()
    await wait_for(lambda: (state := hub.states.get(f"account.{account_id}")) is not None
                   and state.state == ledger.balance(account_id))
    assert (await ledger.audit()).ok


async def test_never_mode_runs_into_arrears_with_an_alarm_and_no_trip(tmp_path: Path) -> None:
    async with running_hub(tmp_path, text(), fake_ledger=False) as (hub, _none):
        ledger = hub.component("ledger", Ledger)
        alarms = collect(hub, "arrears_alarm", "balance_exhausted", "command_queued")
        async with reading(hub, ["n_e"]):
            await wait_for(lambda: ledger.balance("never") < 0, timeout=20)
            await wait_for(lambda: "arrears_alarm" in types(alarms))
        assert "command_queued" not in types(alarms)
        assert simulator(hub, "n_e").relay_closed
        await books_agree(hub, "never")


async def test_delayed_mode_trips_at_its_time_after_real_charges(tmp_path: Path) -> None:
    async with running_hub(tmp_path, text(), fake_ledger=False) as (hub, _none):
        clock = Clock(local("2026-03-02T09:00"))  # a Monday morning
        control_of(hub).set_clock(clock)
        ledger = hub.component("ledger", Ledger)
        events = collect(hub, "balance_exhausted", "trip_scheduled", "trip_warning")
        async with reading(hub, ["d_e"]):
            await wait_for(lambda: "trip_scheduled" in types(events), timeout=20)
        assert ledger.balance("delayed") <= 0
        assert simulator(hub, "d_e").relay_closed  # not before 10:00
        clock.set(local("2026-03-02T09:31"))  # the 30-minute warning
        control_of(hub).trips.wake()
        await wait_for(lambda: "trip_warning" in types(events))
        assert simulator(hub, "d_e").relay_closed
        clock.set(local("2026-03-02T10:00:01"))
        control_of(hub).trips.wake()
        await wait_for(lambda: not simulator(hub, "d_e").relay_closed)
        await hub.services.call("account", "recharge", {
            "account_id": "delayed", "amount": "50", "method": "cash", "reference": "d-1"},
            context=Context(user_id="clerk"))
        await wait_for(lambda: simulator(hub, "d_e").relay_closed)
        await books_agree(hub, "delayed")


async def test_a_keep_on_hold_keeps_power_through_real_arrears(tmp_path: Path) -> None:
    async with running_hub(tmp_path, text(), fake_ledger=False) as (hub, _none):
        ledger = hub.component("ledger", Ledger)
        await hub.services.call("account", "hold", {
            "account_id": "held", "kind": "keep_on", "reason": "保电: medical equipment",
            "until": "2099-01-01"}, context=Context(user_id="landlord"))
        alarms = collect(hub, "arrears_alarm")
        async with reading(hub, ["h_e"]):
            await wait_for(lambda: ledger.balance("held") < 0, timeout=20)
            await wait_for(lambda: alarms)
        await asyncio.sleep(0.3)
        assert simulator(hub, "h_e").relay_closed
        await hub.services.call("account", "release_hold", {"account_id": "held"},
                                context=Context(user_id="landlord"))
        await wait_for(lambda: not simulator(hub, "h_e").relay_closed)
        await books_agree(hub, "held")


async def test_a_water_meter_valve_closes_on_arrears_and_opens_after_a_recharge(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, text(), fake_ledger=False) as (hub, _none):
        ledger = hub.component("ledger", Ledger)
        water = simulator(hub, "v_w")
        async with reading(hub, ["v_w"]):
            await wait_for(lambda: not water.valve_open, timeout=20)
        assert ledger.balance("water") <= Decimal(0)
        service = hub.component("metering", MeteringService)
        stopped = (await service.read("v_w")).registers["water_total"]
        await asyncio.sleep(0.3)
        assert (await service.read("v_w")).registers["water_total"] == stopped
        await hub.services.call("account", "recharge", {
            "account_id": "water", "amount": "100", "method": "wechat", "reference": "w-1"})
        await wait_for(lambda: water.valve_open)
        await books_agree(hub, "water")
