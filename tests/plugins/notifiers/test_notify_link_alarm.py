"""A link attack reaches the landlord: a second DTU claiming a live one's IMEI (loopback TCP,
simulated DTUs) is refused and told once, however often it tries."""

from __future__ import annotations

import asyncio
from pathlib import Path

from common import start_hub, wait_for
from notify_support import config, receiver

from hub.metering.dtu import DtuLink
from hub.metering.service import MeteringService
from hub.metering.sim import SimulatedBus
from meterhub_sim.dtu import SimulatedDtu

IMEI = "861234567890101"


async def test_a_dtu_conflict_is_told_to_the_landlord_once(tmp_path: Path) -> None:
    async with receiver() as rx:
        text = config(f"""
            links:
              - {{id: dtus, type: tcp_dtu, listen: "127.0.0.1:0", register: {{match: [imei]}},
                 timeout: 1s, gap: 0, probe_timeout: 3s}}
            meters:
              - {{id: r101, model: ddsy, link: dtus, address: "202400000101",
                 link_options: {{dtu: "{IMEI}"}}}}
            notify:
              landlord: {{urls: "{rx.url('landlord')}"}}
            simulation: {{dtus: [{{link: dtus, reconnect: 100ms}}]}}
            """)
        async with start_hub(tmp_path, text) as hub:
            link = hub.component("metering", MeteringService).links["dtus"]
            assert isinstance(link, DtuLink)
            await wait_for(lambda: link.table.online_count() == 1, 30)
            impostor = SimulatedDtu("127.0.0.1", link.bound_port, IMEI.encode(),
                                    SimulatedBus(), reconnect_delay=0.2,
                                    local_host="127.0.0.2")
            await impostor.start()
            try:
                await wait_for(lambda: link.table.dtus[IMEI].conflicts >= 2, 30)
            finally:
                await impostor.stop()
            messages = await wait_for(lambda: rx.bodies("landlord"), 10)
            await asyncio.sleep(0.3)
            assert len(rx.bodies("landlord")) == 1  # the repeat is counted, not told again
            text = messages[0]["message"]
            assert text.startswith("【阳光公寓】链路 dtus 拒绝了来自 127.0.0.2:")
            assert "dtu_conflict" in text and f"claimed DTU {IMEI}" in text
