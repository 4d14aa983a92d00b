"""Link toolkit: stream links, one byte stream (serial port, TCP connection) reopened when lost.

Public API for link plugins (the ``rs485``, ``tcp_client`` and ``carrier`` links build on
:class:`StreamLink`; the DTU links on the per-connection parts):

* :class:`BoundedReader` keeps bytes only while an exchange is waiting for them, never more
  than ``cap``; bytes arriving between exchanges are stale and dropped at once, so a meter
  or DTU that floods the line costs no memory.
* :class:`LinkProtocol` feeds it, counts bytes, and tells its owner the moment the stream ends
  (EOF, an error, a serial port that vanished), so the link can reopen it.
* :class:`LinkTransport` is the :class:`~hub.metering.model.Transport` a link hands out: one
  exchange at a time on whatever connection is current (the lock outlives reconnects), over
  the core's :class:`~hub.metering.transport.StreamTransport`; socket and port errors become
  :class:`~hub.metering.link.LinkUnavailable`.
* :class:`StreamLink` opens its stream at start and reopens it with exponential backoff; a
  concrete link gives :meth:`StreamLink.endpoint` and :meth:`StreamLink.open_stream` (with
  :func:`~hub.metering.ports.open_serial` or :func:`~hub.metering.ports.open_tcp`).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import random
import socket
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol, SupportsIndex

from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .link import Link, LinkStats, LinkUnavailable
from .model import FrameParser, MeterRef, NoReply
from .transport import StreamTransport

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "READ_CAP",
    "BoundedReader",
    "Channel",
    "Connection",
    "LinkProtocol",
    "LinkTransport",
    "StreamLink",
    "describe_error",
    "keepalive",
    "seconds",
]

_LOGGER = logging.getLogger(__name__)

READ_CAP = 16384  # bytes held for one exchange at most (a 645 frame is < 220)
STABLE_AFTER = 10.0  # a connection that lived this long resets the reconnect backoff
FIRST_OPEN_WAIT = 2.0  # start() waits this long at most for the first attempt to open


class BoundedReader(asyncio.StreamReader):
    """A StreamReader that accepts bytes only during an exchange, and at most ``cap``."""

    def __init__(self, cap: int = READ_CAP) -> None:
        # limit > cap: the reader never pauses the transport (heartbeats must keep flowing)
        super().__init__(limit=cap + 1)
        self.cap = cap
        self.accepting = False
        self.dropped = 0

    def feed_data(self, data: Iterable[SupportsIndex]) -> None:
        """Keep ``data`` while an exchange waits; drop stale or excess bytes (oldest first)."""
        data = bytes(data)
        if not self.accepting:
            self.dropped += len(data)
            return
        buffer: bytearray = self._buffer  # type: ignore[attr-defined]
        excess = len(buffer) + len(data) - self.cap
        if excess > 0:
            self.dropped += excess
            if excess >= len(buffer):
                data = data[excess - len(buffer):]
                buffer.clear()
            else:
                del buffer[:excess]
        if data:
            super().feed_data(data)


class LinkProtocol(asyncio.StreamReaderProtocol):
    """Feeds a :class:`BoundedReader`, counts bytes, reports the end of the stream once."""

    def __init__(self, reader: BoundedReader, stats: LinkStats,
                 on_lost: Callable[[LinkProtocol, Exception | None], None] | None = None
                 ) -> None:
        super().__init__(reader)
        self.reader = reader
        self.stats = stats
        self.transport: asyncio.BaseTransport | None = None
        self.lost = False
        self._on_lost = on_lost
        self.closed: asyncio.Future[Exception | None] = (
            asyncio.get_running_loop().create_future())

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Remember the transport."""
        super().connection_made(transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        """Count and keep (or drop: stale, excess) the bytes."""
        self.stats.bytes_in += len(data)
        reader = self.reader
        dropped = reader.dropped
        reader.feed_data(data)
        if reader.dropped != dropped:
            self.stats.garbage_bytes += reader.dropped - dropped

    def eof_received(self) -> bool:
        """The peer closed: close our side too (a half-open link is of no use)."""
        super().eof_received()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Wake a pending exchange and tell the owner."""
        super().connection_lost(exc)
        if self.lost:
            return
        self.lost = True
        if not self.closed.done():
            self.closed.set_result(exc)
        if self._on_lost is not None:
            self._on_lost(self, exc)

    def close(self) -> None:
        """Close the underlying transport (connection_lost follows)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once, without flushing."""
        transport = self.transport
        if transport is None or self.lost:
            return
        abort = getattr(transport, "abort", None)
        if callable(abort):
            abort()
        else:
            transport.close()


class Channel(Protocol):
    """What :class:`LinkTransport` needs of a connection."""

    @property
    def reader(self) -> BoundedReader:
        """The connection's reader."""
        ...

    @property
    def stream(self) -> StreamTransport:
        """The request/reply discipline over the connection."""
        ...


class Connection:
    """One open stream: its protocol, writer and request/reply discipline."""

    def __init__(self, protocol: LinkProtocol, transport: asyncio.BaseTransport, *,
                 gap: float, preamble: bytes, name: str) -> None:
        loop = asyncio.get_running_loop()
        self.protocol = protocol
        self.writer = asyncio.StreamWriter(transport, protocol, protocol.reader,  # type: ignore[arg-type]
                                           loop)
        self.stream = StreamTransport(protocol.reader, self.writer, gap=gap, preamble=preamble,
                                      name=name)
        self.since = time.time()

    @property
    def reader(self) -> BoundedReader:
        """The connection's reader."""
        return self.protocol.reader


class LinkTransport:
    """The transport a link hands out: one exchange at a time on the current connection."""

    def __init__(self, name: str, stats: LinkStats, current: Callable[[], Channel | None],
                 *, wire_time: Callable[[int], float] | None = None) -> None:
        self.name = name
        self.stats = stats
        self._current = current
        self._wire_time = wire_time
        self.lock = asyncio.Lock()
        self.requests = 0
        self.replies = 0
        self.timeouts = 0
        self.errors = 0

    def _channel(self) -> Channel:
        channel = self._current()
        if channel is None:
            raise LinkUnavailable(Text("metering.not_connected", link=self.name))
        return channel

    async def transact(self, request: bytes, parser: FrameParser,
                       accept: Callable[[Any], bool], timeout: float) -> Any:
        """Send ``request``; return the first frame ``accept`` takes, or raise NoReply."""
        async with self.lock:
            channel = self._channel()
            stream = channel.stream
            reader = channel.reader
            self.requests += 1
            self.stats.requests += 1
            self.stats.bytes_out += len(stream.preamble) + len(request)
            reader.accepting = True
            try:
                frame = await stream.transact(request, parser, accept, timeout)
            except NoReply:
                self.timeouts += 1
                self.stats.timeouts += 1
                raise
            except OSError as err:  # ConnectionError, serial.SerialException
                self.errors += 1
                self.stats.errors += 1
                raise LinkUnavailable(Text("metering.link_error", link=self.name,
                                           reason=str(err) or type(err).__name__)) from err
            finally:
                reader.accepting = False
            self.replies += 1
            self.stats.replies += 1
            return frame

    async def send(self, data: bytes) -> None:
        """Send bytes that get no reply (broadcasts); waits for them to leave the wire."""
        async with self.lock:
            stream = self._channel().stream
            payload = len(stream.preamble) + len(data)
            self.stats.bytes_out += payload
            try:
                await stream.send(data)
            except OSError as err:
                self.stats.errors += 1
                raise LinkUnavailable(Text("metering.link_error", link=self.name,
                                           reason=str(err) or type(err).__name__)) from err
            if self._wire_time is not None:
                await asyncio.sleep(self._wire_time(payload))


def keepalive(sock: socket.socket | None, idle: int = 60) -> None:
    """TCP keep-alive after ``idle`` s: a dead peer is noticed even without heartbeats."""
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if hasattr(socket, "TCP_KEEPIDLE"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 10)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    except OSError:
        pass


def describe_error(err: BaseException) -> str:
    """A short one-line reason for a failed open."""
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


class StreamLink(Link):
    """A link over one byte stream that it opens at start and reopens with backoff."""

    backoff_initial = 0.5
    backoff_max = 30.0
    open_timeout = 10.0

    def __init__(self, hub: Hub, config: Any) -> None:
        super().__init__(hub, config)
        self.gap = seconds(config.get("gap"), 0.0)
        self.preamble = b"\xfe" * int(config.get("wakeup", 0))
        self.backoff_max = seconds(config.get("reconnect_max"), self.backoff_max)
        self._conn: Connection | None = None
        self._connected = asyncio.Event()
        self._attempted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.last_error: str | None = None
        self.transport = LinkTransport(self.id, self.stats, self._channel,
                                       wire_time=self.wire_time)
        self._meters: set[str] = set()

    # --- what a concrete link provides ---------------------------------------------

    @abc.abstractmethod
    def endpoint(self) -> str:
        """What the link opens, for log lines (``port /dev/ttyUSB0``, ``10.0.0.7:26``)."""

    @abc.abstractmethod
    async def open_stream(self, protocol: LinkProtocol) -> asyncio.BaseTransport:
        """Open the stream with ``protocol``; return its transport or raise OSError."""

    def wire_time(self, nbytes: int) -> float:
        """Seconds ``nbytes`` take on the wire (0 where the link cannot know)."""
        return 0.0

    # --- life-cycle -------------------------------------------------------------------

    def add_meter(self, meter: MeterRef, model: Any, settings: Any) -> None:
        """Remember the meter (every meter on a stream link shares the one stream)."""
        self._meters.add(meter.id)

    async def start(self) -> None:
        """Start opening the stream in the background; wait briefly for the first attempt.

        Never fails and never waits long for a device that is not there: a missing port
        fails at once, an unreachable host within ``FIRST_OPEN_WAIT`` seconds.
        """
        self._stopping = False
        self._attempted.clear()
        self._task = asyncio.get_running_loop().create_task(
            self._supervise(), name=f"link {self.id}")
        try:
            async with asyncio.timeout(FIRST_OPEN_WAIT):
                await self._attempted.wait()
        except TimeoutError:
            pass

    async def stop(self) -> None:
        """Close the stream; a pending exchange ends with NoReply."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        conn, self._conn = self._conn, None
        self._connected.clear()
        if conn is not None:
            conn.protocol.close()
            try:
                async with asyncio.timeout(5):
                    await asyncio.shield(conn.protocol.closed)
            except TimeoutError:
                conn.protocol.abort()

    async def wait_connected(self, timeout: float) -> None:
        """Wait until the stream is open (tests, the bench)."""
        async with asyncio.timeout(timeout):
            await self._connected.wait()

    async def _connect(self) -> Connection:
        protocol = LinkProtocol(BoundedReader(), self.stats)
        async with asyncio.timeout(self.open_timeout):
            transport = await self.open_stream(protocol)
        await asyncio.sleep(0)  # let connection_made run
        return Connection(protocol, transport, gap=self.gap, preamble=self.preamble,
                          name=self.id)

    async def _supervise(self) -> None:
        delay = self.backoff_initial
        failures = 0
        while not self._stopping:
            try:
                conn = await self._connect()
            except Exception as err:  # any failure to open is retried
                self._attempted.set()
                failures += 1
                self.last_error = describe_error(err)
                log = _LOGGER.warning if failures == 1 else _LOGGER.debug
                log("Link %s: cannot open %s (%s); retrying in %.1f s", self.id,
                    self.endpoint(), self.last_error, delay)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.backoff_max)
                continue
            self._conn = conn
            self._connected.set()
            self._attempted.set()
            self.stats.connects += 1
            self.last_error = None
            _LOGGER.info("Link %s: %s open%s", self.id, self.endpoint(),
                         f" after {failures} failed attempts" if failures else "")
            failures = 0
            opened = time.monotonic()
            exc = await asyncio.shield(conn.protocol.closed)
            if self._conn is conn:
                self._conn = None
                self._connected.clear()
            self.stats.disconnects += 1
            if self._stopping:
                return
            self.last_error = describe_error(exc) if exc else Text("metering.closed_by_peer")
            if time.monotonic() - opened >= STABLE_AFTER:
                delay = self.backoff_initial
            _LOGGER.warning("Link %s: %s lost (%s); reopening in %.1f s", self.id,
                            self.endpoint(), self.last_error, delay)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.backoff_max)

    # --- what the metering service uses -------------------------------------------

    def _channel(self) -> Connection | None:
        return self._conn

    def transport_for(self, meter: MeterRef) -> LinkTransport:
        """The link's transport, or LinkUnavailable while the stream is not open."""
        if self._conn is None:
            raise LinkUnavailable(
                Text("metering.not_open_why", link=self.id, endpoint=self.endpoint(),
                     reason=self.last_error) if self.last_error else
                Text("metering.not_open", link=self.id, endpoint=self.endpoint()))
        return self.transport

    @property
    def online(self) -> bool:
        """Whether the stream is open."""
        return self._conn is not None

    def status(self) -> dict[str, Any]:
        """State, endpoint, last error and counters."""
        conn = self._conn
        return {**super().status(), "endpoint": self.endpoint(), "meters": len(self._meters),
                "connected_since": conn.since if conn else None,
                "last_error": self.last_error, "dropped_bytes": self._dropped()}

    def _dropped(self) -> int:
        conn = self._conn
        return conn.reader.dropped if conn else 0


def seconds(value: Any, default: float) -> float:
    """A config duration (timedelta or number) in seconds."""
    if value is None:
        return default
    total = getattr(value, "total_seconds", None)
    return float(total() if callable(total) else value)
