"""Run a real hub for the browser tests: users, some history for the charts, then serve.

    python browser_hub.py HUB_YAML DATA_DIR

Adds the users of ``USERS`` (password ``PASSWORD``), stores a week of daily readings of
every meter (so the charts have bars), prints ``READY <port>`` and serves until SIGTERM
(stopped cleanly) or SIGKILL.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta
from decimal import Decimal

from common import HUB_TIMEOUT, child_hub, settle

from hub.auth import Auth
from hub.metering.reading import Reading
from hub.metering.service import MeteringService
from hub.storage import Storage
from hub.util.dt import utcnow
from hub.web.server import WebServer

PASSWORD = "browser-pass-7"
USERS = {"admin": ("admin", {}), "landlord_a": ("landlord", {"building": "A"}),
         "finance": ("finance", {})}
HISTORY_DAYS = 7


async def main(config_path: str, data_dir: str) -> int:
    hub = await child_hub(config_path, data_dir)
    if hub is None:
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with asyncio.timeout(HUB_TIMEOUT):
        auth = hub.component("auth", Auth)
        for name, (role, scope) in USERS.items():
            await auth.add_user(name, role, scope, PASSWORD, by="@test")
        storage = hub.component("storage", Storage)
        now = utcnow()
        for meter in hub.component("metering", MeteringService).meters.values():
            register = "water_total" if meter.kind == "water" else "energy_import_total"
            for day in range(HISTORY_DAYS, 0, -1):
                when = now - timedelta(days=day)
                storage.enqueue_reading(Reading(
                    meter.id, when, {register: Decimal(100 + (HISTORY_DAYS - day) * 3)}, {},
                    {}, device=f"hist-{meter.id}", link_id=meter.link.id))
        await storage.flush()
        await settle(hub)
    print(f"READY {hub.component('web', WebServer).port}", flush=True)
    await stop.wait()
    async with asyncio.timeout(HUB_TIMEOUT):
        await hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
