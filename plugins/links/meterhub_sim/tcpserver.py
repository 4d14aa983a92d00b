"""A simulated serial server (or DTU in TCP-server mode, or a transparent concentrator).

The hub's ``tcp_client`` or ``carrier`` link connects to it; it answers with the replies of
the simulated meters behind it. :meth:`SimulatedTcpServer.stop` and :meth:`start` imitate a
device that reboots (connections drop, the port refuses for a while, then accepts again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hub.metering.sim import SimulatedBus

from .dtu import READ_SIZE, DtuFaults

_LOGGER = logging.getLogger(__name__)


class SimulatedTcpServer:
    """Serves a simulated bus to whoever connects to ``host:port``."""

    def __init__(self, bus: SimulatedBus, host: str = "127.0.0.1", port: int = 0, *,
                 name: str = "") -> None:
        self.bus = bus
        self.host = host
        self.port = port
        self.name = name or f"{host}:{port}"
        self.faults = DtuFaults()
        self.connections = 0
        self.requests = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen (on the same port as before after a restart)."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._serve, self.host, self.port,
                                                  reuse_address=True)
        self.port = int(self._server.sockets[0].getsockname()[1])
        _LOGGER.info("Simulated server %s: %d meters on %s:%d", self.name,
                     len(self.bus.meters), self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and drop every connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if server is not None:
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    return
                self.requests += 1
                for delay, reply in self.bus.answers(data):
                    if self.faults.mute:
                        continue
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if self.faults.garbage:
                        writer.write(self.faults.garbage)
                    writer.write(reply)
                await writer.drain()
        except (ConnectionError, OSError):
            return
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.transport.abort()
