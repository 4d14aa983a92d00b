"""Commands that fail because a meter is unreachable are not the end of it: the account is
looked at again later; and a trip that has not gone out yet is withdrawn once the tenant
pays, even with automatic closing switched off."""

from __future__ import annotations

import asyncio
from pathlib import Path

from common import collect, wait_for
from control_support import config, running_hub, simulator

from hub.core import Hub
from hub.storage.storage import Storage

ACCOUNTS = """
accounts:
  - {id: r101}
  - {id: r102}
  - {id: r103}
"""

RETRY = "control: {retries: 2, retry_delay: 0.1, max_retry_delay: 0.4, confirm_delay: 0.05,\n"


def with_control(extra: str) -> str:
    text = config(ACCOUNTS)
    assert RETRY in text
    return text.replace(RETRY, RETRY.rstrip("\n") + f" {extra},\n")


async def commands(hub: Hub, meter_id: str) -> list[tuple[str, str]]:
    storage = hub.component("storage", Storage)
    await storage.flush()
    return [(c.command, c.state) for c in await storage.commands(meter_id=meter_id)]


async def test_a_trip_that_failed_during_an_outage_is_tried_again(tmp_path: Path) -> None:
    text = with_control("retry_failed_after: 0.5")
    async with running_hub(tmp_path, text) as (hub, fake):
        assert fake is not None
        power = simulator(hub, "r101_e")
        power.faults.silent = True  # the bus is down
        failed = collect(hub, "command_failed")
        fake.set("r101", "-3.00")
        await wait_for(lambda: any(e.data["meter_id"] == "r101_e" for e in failed))
        assert power.relay_closed  # nothing reached the meter
        power.faults.silent = False  # the bus is back
        confirmed = collect(hub, "command_confirmed")
        await wait_for(lambda: not power.relay_closed, timeout=15)
        await wait_for(lambda: any(e.data["meter_id"] == "r101_e" for e in confirmed))
        states = await commands(hub, "r101_e")
        assert ("trip", "failed") in states and ("trip", "confirmed") in states


async def test_a_queued_trip_is_withdrawn_when_the_tenant_pays_without_auto_close(
        tmp_path: Path) -> None:
    text = with_control("auto_close: false, retry_failed_after: 60")
    text = text.replace("retry_delay: 0.1, max_retry_delay: 0.4", "retry_delay: 1.5, "
                        "max_retry_delay: 1.5")
    async with running_hub(tmp_path, text) as (hub, fake):
        assert fake is not None
        power = simulator(hub, "r101_e")
        power.faults.silent = True
        sent = collect(hub, "command_sent")
        fake.set("r101", "-3.00")
        await wait_for(lambda: any(e.data["meter_id"] == "r101_e" for e in sent))
        # the first attempt found no meter; the trip waits 1.5 s for its next attempt
        withdrawn = collect(hub, "command_superseded")
        fake.set("r101", "20.00")  # the tenant pays meanwhile
        await wait_for(lambda: any(e.data["meter_id"] == "r101_e" for e in withdrawn))
        power.faults.silent = False
        more = collect(hub, "command_sent")
        await asyncio.sleep(2.0)  # past the retry time of the withdrawn trip
        assert power.relay_closed
        assert not [e for e in more if e.data["meter_id"] == "r101_e"]
        assert ("trip", "superseded") in await commands(hub, "r101_e")
