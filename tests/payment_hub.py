"""Run a real hub for the payments end-to-end test and wait to be killed.

    python payment_hub.py HUB_YAML DATA_DIR [hold]

Prints ``READY`` once the hub has started (its web server listens on the port of hub.yaml).
With ``hold`` the ledger's worker holds its next transaction for ever (the pause is this
script's, not the product's) and prints ``HELD`` when it has one: a payment written on its
order but whose credit never commits — the crash window the test kills the hub in.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from common import child_hub

from hub.ledger.ledger import Ledger


async def main(config_path: str, data_dir: str, mode: str = "") -> int:
    hub = await child_hub(config_path, data_dir)
    if hub is None:
        return 2
    if mode == "hold":
        async def held(ops: list[Any]) -> None:  # the next transaction never happens
            print(f"HELD {len(ops)}", flush=True)
            await asyncio.Event().wait()

        hub.component("ledger", Ledger)._process = held  # type: ignore[method-assign]
    print("READY", flush=True)
    await asyncio.Event().wait()  # until SIGKILL
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:4])))
