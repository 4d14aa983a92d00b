"""Simulated transparent DTUs (4G/Cat-1/Wi-Fi) with meters behind them.

:class:`SimulatedDtu` behaves like a DTU in TCP-client mode (PROTOCOLS.md §5.1): it connects
to the hub, sends its registration packet once and/or as a prefix of every packet, sends a
heartbeat every few seconds, answers requests with the replies of the simulated meters on
its RS-485 side, and reconnects after the connection drops. It can misbehave on demand:
garbage and half frames before a reply, a byte flood, dropping the connection mid-request.
:class:`SimulatedUdpDtu` does the same over UDP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from hub.metering.sim import SimulatedBus

_LOGGER = logging.getLogger(__name__)

READ_SIZE = 4096

Port = int | Callable[[], int]  # a port, or how to find it when connecting


@dataclass
class DtuFaults:
    """Misbehaviour a test can switch on for one simulated DTU."""

    garbage: bytes = b""  # sent before every reply
    half_frame: bool = False  # the first half of the reply is sent once more before it
    drop_on_request: int = 0  # drop the connection when this many more requests arrived
    mute: bool = False  # never forwards replies (the meters behind it seem silent)
    no_heartbeat: bool = False  # stops sending heartbeats (a half-open link for the hub)


class SimulatedDtu:
    """A DTU in TCP-client mode serving a simulated RS-485 bus."""

    def __init__(self, host: str, port: Port, registration: bytes, bus: SimulatedBus, *,
                 mode: str = "once", heartbeat: bytes = b"", heartbeat_interval: float = 30.0,
                 reconnect_delay: float = 1.0, name: str = "",
                 local_host: str | None = None) -> None:
        self.host = host
        self._port = port
        self.local_host = local_host  # the source address to connect from (another host)
        self.registration = registration
        self.bus = bus
        self.mode = mode
        self.heartbeat = heartbeat
        self.heartbeat_interval = heartbeat_interval
        self.reconnect_delay = reconnect_delay
        self.name = name or registration.decode("latin-1")
        self.faults = DtuFaults()
        self.connections = 0
        self.requests = 0
        self.connected = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._paused = False

    @property
    def port(self) -> int:
        """The hub's port (asked again at every connection attempt)."""
        return self._port() if callable(self._port) else self._port

    async def start(self) -> None:
        """Start connecting (and reconnecting) in the background."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"simulated DTU {self.name}")

    async def stop(self) -> None:
        """Disconnect for good."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._close()

    def disconnect(self) -> None:
        """Drop the connection without a goodbye (it reconnects after ``reconnect_delay``)."""
        writer = self._writer
        if writer is not None:
            writer.transport.abort()

    def pause(self, paused: bool = True) -> None:
        """Stay disconnected while paused (a DTU out of coverage)."""
        self._paused = paused
        if paused:
            self.disconnect()

    def send_raw(self, data: bytes) -> None:
        """Write bytes to the hub as they are (garbage, a flood)."""
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(data)

    def _close(self) -> None:
        writer, self._writer = self._writer, None
        self.connected.clear()
        if writer is not None:
            writer.transport.abort()

    def _packet(self, data: bytes) -> bytes:
        return self.registration + data if self.mode in ("prefix", "both") else data

    async def _run(self) -> None:
        while True:
            if self._paused:
                await asyncio.sleep(0.05)
                continue
            try:
                reader, writer = await asyncio.open_connection(
                    self.host, self.port,
                    local_addr=(self.local_host, 0) if self.local_host else None)
            except OSError as err:
                _LOGGER.debug("Simulated DTU %s: cannot connect: %s", self.name, err)
                await asyncio.sleep(self.reconnect_delay)
                continue
            self.connections += 1
            self._writer = writer
            beat: asyncio.Task[None] | None = None
            try:
                if self.mode in ("once", "both"):
                    writer.write(self.registration)
                self.connected.set()
                if self.heartbeat:
                    beat = asyncio.get_running_loop().create_task(self._beat(writer))
                await self._serve(reader, writer)
            except (ConnectionError, OSError):
                pass
            finally:
                if beat is not None:
                    beat.cancel()
                if self._writer is writer:
                    self._close()
                else:
                    writer.transport.abort()
            await asyncio.sleep(self.reconnect_delay)

    async def _beat(self, writer: asyncio.StreamWriter) -> None:
        while not writer.is_closing():
            await asyncio.sleep(self.heartbeat_interval)
            if not self.faults.no_heartbeat and not writer.is_closing():
                writer.write(self._packet(self.heartbeat))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(READ_SIZE)
            if not data:
                return
            self.requests += 1
            faults = self.faults
            if faults.drop_on_request:
                faults.drop_on_request -= 1
                if not faults.drop_on_request:
                    writer.transport.abort()
                    return
            for delay, reply in self.bus.answers(data):
                if faults.mute:
                    continue
                if delay > 0:
                    await asyncio.sleep(delay)
                if faults.garbage:
                    writer.write(self._packet(faults.garbage))
                if faults.half_frame:
                    writer.write(self._packet(reply[:len(reply) // 2]))
                writer.write(self._packet(reply))
            await writer.drain()


class SimulatedUdpDtu(asyncio.DatagramProtocol):
    """A DTU carrying its bus's frames over UDP to the hub."""

    def __init__(self, host: str, port: Port, registration: bytes, bus: SimulatedBus, *,
                 mode: str = "once", heartbeat: bytes = b"", heartbeat_interval: float = 30.0,
                 local_addr: tuple[str, int] | None = None, name: str = "") -> None:
        self.host = host
        self._port = port
        self.local_addr = local_addr
        self.registration = registration
        self.bus = bus
        self.mode = mode
        self.heartbeat = heartbeat
        self.heartbeat_interval = heartbeat_interval
        self.name = name or registration.decode("latin-1") or "udp-dtu"
        self.faults = DtuFaults()
        self.requests = 0
        self.transport: asyncio.DatagramTransport | None = None
        self._beat: asyncio.Task[None] | None = None

    @property
    def local_address(self) -> tuple[str, int] | None:
        """The DTU's own address (what the hub sees as its source)."""
        if self.transport is None:
            return None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    async def start(self) -> None:
        """Open the socket, register, and start heartbeats."""
        loop = asyncio.get_running_loop()
        port = self._port() if callable(self._port) else self._port
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, remote_addr=(self.host, port), local_addr=self.local_addr)
        self.transport = transport
        if self.registration and self.mode in ("once", "both"):
            self._send(self.registration)
        if self.heartbeat:
            self._beat = loop.create_task(self._beats())

    async def stop(self) -> None:
        """Close the socket."""
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the socket."""
        self.transport = transport  # type: ignore[assignment]

    def _send(self, data: bytes) -> None:
        if self.transport is not None:
            prefix = self.registration if self.mode in ("prefix", "both") else b""
            self.transport.sendto(prefix + data)

    def send_raw(self, data: bytes) -> None:
        """Send one datagram as it is."""
        if self.transport is not None:
            self.transport.sendto(data)

    async def _beats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            if not self.faults.no_heartbeat:
                self._send(self.heartbeat)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        """Answer a request from the hub."""
        self.requests += 1
        if self.faults.mute:
            return
        for delay, reply in self.bus.answers(data):
            if self.faults.garbage:
                self._send(self.faults.garbage)
            if delay > 0:
                asyncio.get_running_loop().call_later(delay, self._send, reply)
            else:
                self._send(reply)
