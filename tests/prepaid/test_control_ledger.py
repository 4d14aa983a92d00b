"""End to end with the REAL ledger: a tenant with 10 yuan and a steady load over the sim link.

Reads are charged at once; balance_low, then balance_exhausted; the relay trips and the
simulated meter's energy stops rising; a recharge closes it and consumption resumes; the
ledger sums to the shown balance throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from pathlib import Path

from control_support import collect, config, control_of, running_hub, simulator, wait_for

from hub.core import Context, Hub
from hub.ledger.ledger import Ledger
from hub.metering.service import MeteringService, ReadFailed

D = Decimal

METERS = """
meters:
  - {id: r101_e, model: ddsy, link: sim1, address: "202400000101", account: r101,
     tariff: steep, link_options: {load: {constant: 1.0}}}
"""

EXTRA = """
tariffs:
  - {id: steep, type: flat, price: 30.00}
"""

ACCOUNTS = """
accounts:
  - {id: r101, low_balance: [5]}
"""


def text() -> str:
    base = config(ACCOUNTS, meters=METERS, extra=EXTRA)
    # 600x: 1 kW uses 1/6 kWh a real second; raise the spike limit to match
    return base.replace("speed: 3600", "speed: 600").replace(
        "storage: {commit_interval: 0.02}",
        "storage: {commit_interval: 0.02, max_rate: {electricity: 100000}}")


async def reader(hub: Hub, stop: asyncio.Event) -> None:
    service = hub.component("metering", MeteringService)
    while not stop.is_set():
        with contextlib.suppress(ReadFailed):
            await service.read("r101_e")
        await asyncio.sleep(0.15)


async def energy(hub: Hub) -> Decimal:
    reading = await hub.component("metering", MeteringService).read("r101_e")
    return reading.registers["energy_import_total"]


def books_agree(hub: Hub, ledger: Ledger) -> bool:
    state = hub.states.get("account.r101")
    return state is not None and state.state == ledger.balance("r101")


async def test_a_tenant_runs_out_is_cut_off_recharges_and_gets_power_back(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, text(), fake_ledger=False) as (hub, _none):
        ledger = hub.component("ledger", Ledger)
        power = simulator(hub, "r101_e")
        events = collect(hub, "balance_low", "balance_exhausted", "balance_restored",
                         "command_confirmed")
        # a new account starts at 0: in arrears, so the start-up check cut it off
        await wait_for(lambda: not power.relay_closed)
        await hub.services.call("account", "recharge", {
            "account_id": "r101", "amount": "10", "method": "cash", "reference": "p1"},
            context=Context(user_id="clerk"))
        await wait_for(lambda: power.relay_closed)
        assert books_agree(hub, ledger)
        events.clear()
        stop = asyncio.Event()
        task = asyncio.create_task(reader(hub, stop))
        try:
            await wait_for(lambda: not power.relay_closed, timeout=20)
        finally:
            stop.set()
            await task
        kinds = [e.event_type for e in events]
        assert kinds.index("balance_low") < kinds.index("balance_exhausted")
        await wait_for(lambda: control_of(hub).commands.outstanding("r101_e") is None)
        cut = await energy(hub)
        await asyncio.sleep(0.4)
        assert await energy(hub) == cut  # no more energy once tripped
        await hub.component("ledger", Ledger).drain()
        await wait_for(lambda: books_agree(hub, ledger))
        assert ledger.balance("r101") <= 0
        why = await control_of(hub).why_cut(meter_id="r101_e")
        assert why is not None
        first_step = [e["event_type"] for e in why["chain"][0]["events"]]
        assert "balance_exhausted" in first_step
        await hub.services.call("account", "recharge", {
            "account_id": "r101", "amount": "50", "method": "cash", "reference": "p2"})
        await wait_for(lambda: power.relay_closed)
        before = await energy(hub)
        await asyncio.sleep(0.4)
        assert await energy(hub) > before  # consumption resumes
        await wait_for(lambda: books_agree(hub, ledger))
        report = await ledger.audit()
        assert report.ok
