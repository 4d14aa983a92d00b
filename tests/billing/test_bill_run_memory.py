"""A bill run gives the memory its bills took back to the system when it is done, and keeps
nothing for the charge states it closed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bills_support import config, engine, running_hub, use
from common import Clock, bounded, settle, t

from hub.util.memory import releases

# one meter on one prepaid account at 1.00 a kWh
CFG = config([("e1", "ddsy", "a1", "flat")],
             "accounts: [{id: a1}]\ntariffs: [{id: flat, type: flat, price: 1.00}]")


@bounded()
async def test_a_bill_run_gives_free_memory_back_and_an_idle_check_does_not(
        tmp_path: Path) -> None:
    clock = Clock("2025-07-02T00:00")
    async with running_hub(tmp_path, CFG, clock) as hub:
        async with asyncio.timeout(30):
            use(hub, "e1", t("2025-07-10T00:00"), t("2025-07-10T01:00"), "3")
            await settle(hub)
            clock.set("2025-08-01T03:00")
            count = releases()
            summary = await engine(hub).tick()
            assert summary["bills"] == 1 and not summary["failed"]
            assert releases() == count + 1
            await settle(hub)
            # the billed period's charge state is closed: nothing is kept for the account
            # (an emptied set keeps its size: 10,000 of them after a bill run)
            assert "a1" not in engine(hub).book.open_by_account
            assert not engine(hub).book.states
            count = releases()
            assert (await engine(hub).tick())["bills"] == 0  # nothing due: no trim
            assert releases() == count
