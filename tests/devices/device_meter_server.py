"""A simulated DL/T 645 meter behind a TCP serial server, in its own process (it outlives a
killed hub, as a real meter does). Prints ``PORT <n>`` once listening and ``WRITE <DI>`` for
every write frame it receives; ends when stdin closes.

    python device_meter_server.py ADDRESS
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from hub.metering.sim import SimulatedBus
from meterhub_dlt645.codec import parse_write
from meterhub_dlt645.const import Function
from meterhub_dlt645.models import DDSY


async def main(address: str) -> None:
    meter = DDSY.create_simulator(address)
    original = meter._handlers[Function.WRITE]

    def write(frame: Any) -> bytes:
        print(f"WRITE {parse_write(frame).di:08X}", flush=True)
        return original(frame)

    meter._handlers[Function.WRITE] = write
    server = await asyncio.start_server(SimulatedBus([meter]).serve, "127.0.0.1", 0)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with server:
        await reader.read()  # until stdin closes: the test is done


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
