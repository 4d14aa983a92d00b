"""A simulated DL/T 645 prepaid meter behind a TCP serial server, in its own process.

Used by the crash tests: the meter outlives the hub that is killed, as a real meter does.
Prints ``PORT <n>`` once listening, ``RELAY <N1 hex>`` for every relay control frame it
receives, and answers ``state`` on stdin with ``STATE relay=<open|closed> commanded=<0|1>``.

    python control_meter_server.py ADDRESS TRIP_DELAY_SECONDS
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from hub.metering.sim import SimulatedBus
from meterhub_dlt645.codec import parse_relay
from meterhub_dlt645.const import Function
from meterhub_dlt645.models import DDSY


async def main(address: str, trip_delay: float) -> None:
    meter = DDSY.create_simulator(address, trip_delay=trip_delay)
    original = meter._handlers[Function.RELAY_CONTROL]

    def relay(frame: Any) -> bytes:
        print(f"RELAY {int(parse_relay(frame).action):02X}", flush=True)
        return original(frame)

    meter._handlers[Function.RELAY_CONTROL] = relay
    bus = SimulatedBus([meter])
    server = await asyncio.start_server(bus.serve, "127.0.0.1", 0)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with server:
        while True:
            line = (await reader.readline()).decode().strip()
            if not line:
                return  # stdin closed: the test is done
            if line == "state":
                meter.phase_values()  # bring the relay up to the simulated clock
                relay_state = "closed" if meter.relay_closed else "open"
                print(f"STATE relay={relay_state} commanded={int(meter.trip_commanded)}",
                      flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
