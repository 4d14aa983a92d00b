"""A meter read through a USB infrared head: an rs485 link at 1200 bit/s, even parity, on a
pty whose simulated head echoes every request (the head hears its own light)."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

from common import start_hub

from hub.metering.service import MeteringService


def config(tmp_path: Path) -> str:
    return f"""
site: {{name: Test, time_zone: Asia/Shanghai}}
http: {{port: 0, host: 127.0.0.1}}
metering: {{retries: 0, timeout: 3, read_on_start: false}}
links:
  - {{id: ir1, type: rs485, port: {tmp_path / "ir1"}, baud: 1200, parity: E, wakeup: 4}}
meters:
  - {{id: old_e, model: ddsy1997, link: ir1, address: "202400000197"}}
  - {{id: new_e, model: ddsy, link: ir1, address: "202400000207"}}
simulation:
  speed: 0
  serial: [{{link: ir1, echo: true, turnaround: 20ms}}]
"""


async def test_meters_read_through_an_echoing_infrared_head_at_1200_baud(
        tmp_path: Path) -> None:
    async with start_hub(tmp_path, config(tmp_path)) as hub:
        service = hub.component("metering", MeteringService)
        started = time.monotonic()
        async with asyncio.timeout(60):
            old = await service.read("old_e", points=["energy_import_total", "voltage"])
        elapsed = time.monotonic() - started
        async with asyncio.timeout(60):
            new = await service.read("new_e", points=["energy_import_total", "relay"])
        wire = hub.component("simulation", object).buses["ir1"]  # type: ignore[attr-defined]
    assert old.registers["energy_import_total"] == Decimal("0.00")
    assert old.values["voltage"] == Decimal("220")
    assert new.registers["energy_import_total"] == Decimal("0.00")
    assert new.status["relay"] == "closed"
    # 2 exchanges of a 1997 read: (4 FE + 14 request bytes) + 18..20 reply bytes, 11 bits
    # each at 1200 bit/s: at least 0.6 s on the wire (a 9600 bit/s link would need 0.08 s)
    assert elapsed >= 2 * (4 + 14 + 18) * 11 / 1200 * 0.95
    assert wire.echo and wire.counters.bytes_out > wire.counters.bytes_in  # echoes went back
