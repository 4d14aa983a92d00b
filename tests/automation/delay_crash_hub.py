"""Child of test_persistence.py's crash test: a hub whose automation waits in a delay.

Prints ``WAITING`` once the run's wait is recorded (then the parent SIGKILLs it)."""

from __future__ import annotations

import asyncio
import sys

from common import child_hub, wait_for

from hub.automation import AutomationEngine


async def main(config_path: str, data_dir: str) -> None:
    hub = await child_hub(config_path, data_dir)
    if hub is None:
        return
    engine = hub.component("automation", AutomationEngine)
    assert engine.persistence is not None
    hub.bus.fire("custom_go", {"fee": "7.50"})
    await wait_for(lambda: engine.get("charge_later").runs, timeout=60)
    async with asyncio.timeout(60):
        while not await engine.persistence.waits():
            await asyncio.sleep(0.02)
    print("WAITING", flush=True)
    await asyncio.sleep(3600)  # killed here


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
