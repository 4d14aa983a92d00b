"""Run a real hub for the charging crash test, then hold it in the crash window and wait.

    python charge_crash_hub.py HUB_YAML DATA_DIR

Recharges 100 to r101, reads r101_e three times and lets those reads be charged; then holds
the ledger's worker before its next transaction (the pause is this script's, not the
product's) and reads three more times: their readings are committed, their charges only
queued in memory. Prints ``READ <reading id> <energy_import_total>`` per read,
``CHARGED <balance>`` after the first three, ``HELD <operations>`` when the worker holds a
batch it will never commit, ``STORED`` once the later readings are committed; then waits
to be killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from common import HUB_TIMEOUT, child_hub, settle

from hub.ledger.ledger import Ledger
from hub.metering.service import MeteringService
from hub.storage import Storage


async def main(config_path: str, data_dir: str) -> int:
    hub = await child_hub(config_path, data_dir)
    if hub is None:
        return 2
    service = hub.component("metering", MeteringService)
    ledger = hub.component("ledger", Ledger)

    async def read() -> None:
        reading = await service.read("r101_e")
        print(f"READ {reading.id} {reading.registers['energy_import_total']}", flush=True)
        await asyncio.sleep(0.05)

    async with asyncio.timeout(HUB_TIMEOUT):
        await hub.services.call("account", "recharge", {  # in credit: the relay stays on
            "account_id": "r101", "amount": "100", "method": "cash", "reference": "p"})
        for _ in range(3):
            await read()
        await settle(hub)
    print(f"CHARGED {ledger.balance('r101')}", flush=True)

    async def held(ops: list[Any]) -> None:  # the worker's next transaction never happens
        print(f"HELD {len(ops)}", flush=True)
        await asyncio.Event().wait()

    ledger._process = held  # type: ignore[method-assign]
    async with asyncio.timeout(HUB_TIMEOUT):
        for _ in range(3):
            await read()
        await hub.component("storage", Storage).flush()
    print("STORED", flush=True)
    await asyncio.Event().wait()  # until SIGKILL
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:3])))
