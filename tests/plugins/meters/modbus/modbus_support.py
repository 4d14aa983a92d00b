"""Helpers of the Modbus tests: a simulated bus served over a real socket pair."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.metering.model import MeterRef
from hub.metering.sim import SimClock, SimulatedBus
from hub.metering.transport import StreamTransport

VECTORS = Path("/work/shared/vectors/modbus.json")
MAPS = Path(__file__).resolve().parents[4] / "config" / "modbus_maps"
EXAMPLE_MAP = MAPS / "dds238_2.yaml"
WATER_MAP = MAPS / "water_meter.yaml"
START = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


def vectors() -> list[dict[str, Any]]:
    """The shared Modbus vectors."""
    data: dict[str, Any] = json.loads(VECTORS.read_text())
    return list(data["vectors"])


def frozen_clock() -> SimClock:
    """A simulated clock that moves only when a test advances it."""
    return SimClock(speed=0, start=START)


def meter(address: str = "1", options: dict[str, Any] | None = None,
          meter_id: str = "m1") -> MeterRef:
    """A meter reference as the metering service builds it."""
    return MeterRef(meter_id, address, options or {})


@contextlib.asynccontextmanager
async def socket_bus(bus: SimulatedBus) -> AsyncIterator[StreamTransport]:
    """A StreamTransport whose far end (a real socket) is served by ``bus``."""
    near, far = socket.socketpair()
    far_reader, far_writer = await asyncio.open_connection(sock=far)
    serving = asyncio.create_task(bus.serve(far_reader, far_writer))
    reader, writer = await asyncio.open_connection(sock=near)
    try:
        yield StreamTransport(reader, writer, name="socketpair")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
        async with asyncio.timeout(5):
            await serving


class ScriptedTransport:
    """A transport that answers each request with scripted reply bytes (in chunks)."""

    def __init__(self, script: list[tuple[bytes | None, list[bytes]]]) -> None:
        self.script = list(script)
        self.sent: list[bytes] = []

    async def transact(self, request: bytes, parser: Any, accept: Any, timeout: float) -> Any:
        """Check the request against the script; feed its reply chunks to the parser."""
        from hub.metering.model import NoReply

        self.sent.append(request)
        expected, chunks = self.script.pop(0)
        assert expected is None or request == expected, (request.hex(), expected.hex())
        parser.reset()
        for chunk in chunks:
            for frame in parser.feed(chunk):
                if accept(frame):
                    return frame
        raise NoReply("scripted: no acceptable reply")

    async def send(self, data: bytes) -> None:
        """Record bytes sent without a reply."""
        self.sent.append(data)
