"""Run a real hub for the bill-run crash test and hold it mid-way through a bill run.

    python bill_run_crash_hub.py HUB_YAML DATA_DIR

By a ledger clock in July 2025 the postpaid meters e1, e2, e3 use 25, 50 and 75 kWh (charged
to their charge states, not yet billed); then the clock moves to 1 August and the bill run
starts. The store's bill writes are wrapped: once the run's first bill is written (inside its
open transaction) the writer's thread prints ``MIDWAY <bill id>`` and sleeps until SIGKILL.
The pause is this script's, not the product's. ``USED`` is printed before the run.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from decimal import Decimal

from bills_support import engine, hourly
from common import HUB_TIMEOUT, Clock, child_hub, settle

from hub.ledger.ledger import Ledger
from hub.storage import BillRow, MoneyStore


async def main(config_path: str, data_dir: str) -> int:
    hub = await child_hub(config_path, data_dir)
    if hub is None:
        return 2
    clock = Clock("2025-07-20T12:00")
    hub.component("ledger", Ledger).clock = clock
    for index, meter_id in enumerate(("e1", "e2", "e3")):
        hourly(hub, meter_id, "2025-07-20T00:00", [Decimal("2.5")] * (10 * (index + 1)))
    async with asyncio.timeout(HUB_TIMEOUT):
        await settle(hub)
    print("USED", flush=True)
    save_bills = MoneyStore.save_bills

    def pausing(store: MoneyStore, rows: Sequence[BillRow]) -> None:
        save_bills(store, rows)
        print(f"MIDWAY {rows[0].bill_id}", flush=True)
        time.sleep(600)  # in the writer's thread, the transaction open: SIGKILL comes here

    MoneyStore.save_bills = pausing  # type: ignore[method-assign]
    clock.set("2025-08-01T03:00")
    await engine(hub).tick()
    print("FINISHED", flush=True)  # the test fails if it gets here
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:3])))
