"""The ``tcp_dtu`` link: a TCP server that 4G/Wi-Fi DTUs connect to (PROTOCOLS.md §5.1).

Each connection must name its DTU with a registration packet within ``register.timeout``;
then requests for the meters behind that DTU go out on it, one at a time, and replies are
matched by the address inside the frame. Heartbeats and registration prefixes are removed
before the frame parser. A newer connection registering the same DTU replaces the old one
(cellular modules reconnect without closing); a connection silent for ``heartbeat.misses``
heartbeat intervals is closed as half-open. Garbage, half frames and floods are bounded per
connection: a DTU that floods is disconnected, the others never notice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from hub.listen import Listening, bind_tcp
from hub.metering.dtu import Dtu, DtuLink
from hub.metering.link import LinkUnavailable
from hub.metering.model import MeterModel, MeterRef
from hub.metering.registration import MAX_REGISTRATION, NEED_MORE, Match, StreamFilter
from hub.metering.stream import BoundedReader, LinkProtocol, keepalive, seconds
from hub.metering.transport import StreamTransport

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

FLUSH_DELAY: Final = 0.05  # seconds a possible partial heartbeat is held back at most
FLOOD_WINDOW: Final = 10.0  # seconds over which a DTU's bytes are counted for flood checks
WATCH_MAX: Final = 5.0  # the liveness sweep runs at least this often (seconds)
MAX_WARNED_HOSTS: Final = 1024  # hosts whose failed registrations were logged as warnings


class DtuProtocol(LinkProtocol):
    """One TCP connection from a DTU: registration, stripping, liveness, flood guard."""

    def __init__(self, link: DtuServerLink) -> None:
        super().__init__(BoundedReader(), link.stats)
        self.link = link
        self.loop = asyncio.get_running_loop()
        self.peer = "?"
        self.dtu: Dtu | None = None
        self._stream: StreamTransport | None = None
        self.filter: StreamFilter | None = None
        self.last_rx = self.loop.time()
        self.close_reason: str | None = None
        self.refused = False
        self._registration = bytearray()
        self._timer: asyncio.TimerHandle | None = None
        self._flush: asyncio.TimerHandle | None = None
        self._window_start = self.last_rx
        self._window_bytes = 0

    # --- asyncio callbacks ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Wait for the registration packet."""
        super().connection_made(transport)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        keepalive(transport.get_extra_info("socket"))
        if len(self.link.pending_connections) >= self.link.max_pending:
            self.drop(f"more than {self.link.max_pending} connections waiting to register")
            return
        self._timer = self.loop.call_later(self.link.registration_timeout,
                                           self._registration_timeout)
        self.link.pending_connections.add(self)

    def data_received(self, data: bytes) -> None:
        """Registration first, then heartbeat/prefix stripping, then the frame reader."""
        now = self.loop.time()
        self.last_rx = now
        size = len(data)
        self.stats.bytes_in += size
        if now - self._window_start > FLOOD_WINDOW:
            self._window_start, self._window_bytes = now, 0
        self._window_bytes += size
        if self._window_bytes > self.link.flood_limit:
            self.stats.garbage_bytes += size
            self.drop(f"flooding: more than {self.link.flood_limit} bytes in "
                      f"{FLOOD_WINDOW:g} s")
            return
        if self.dtu is None:
            self._register(data)
        else:
            self._deliver(data)

    def connection_lost(self, exc: Exception | None) -> None:
        """Tell the link; a pending exchange fails with NoReply."""
        for handle in (self._timer, self._flush):
            if handle is not None:
                handle.cancel()
        super().connection_lost(exc)
        self.link.connection_gone(self, self.close_reason or (
            str(exc) if exc else "connection closed"))

    # --- registration ------------------------------------------------------------------

    def _register(self, data: bytes) -> None:
        buffer = self._registration
        buffer += data
        heartbeat = self.link.heartbeat
        while heartbeat and buffer.startswith(heartbeat):
            del buffer[:len(heartbeat)]
        if not buffer:
            return
        outcome = self.link.registration.match(bytes(buffer[:MAX_REGISTRATION]),
                                               self.link.known_ids())
        if outcome == NEED_MORE:
            return
        if not isinstance(outcome, Match):
            self.stats.garbage_bytes += len(buffer)
            self.drop(f"not a registration packet: {bytes(buffer[:40])!r}")
            return
        rest = bytes(buffer[len(outcome.raw):])
        self._registration = bytearray()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.link.register_connection(self, outcome):
            return
        self.filter = StreamFilter(heartbeat=heartbeat,
                                   prefix=self.link.registration.stream_prefix(outcome))
        if rest:
            self._deliver(rest)

    def _registration_timeout(self) -> None:
        self._timer = None
        if self.dtu is None:
            self.link.stats.extra["registration_timeouts"] = (
                self.link.stats.extra.get("registration_timeouts", 0) + 1)
            self.drop(f"no registration within {self.link.registration_timeout:g} s")

    def bound(self, dtu: Dtu) -> None:
        """Registered as ``dtu``: set up the request/reply discipline."""
        assert self.transport is not None
        self.dtu = dtu
        writer = asyncio.StreamWriter(self.transport, self,  # type: ignore[arg-type]
                                      self.reader, self.loop)
        self._stream = StreamTransport(self.reader, writer, gap=self.link.gap,
                                       name=f"{self.link.id}/{dtu.id}")

    @property
    def stream(self) -> StreamTransport:
        """The request/reply discipline (set once registered)."""
        if self._stream is None:
            raise LinkUnavailable(f"{self.link.id}: connection from {self.peer} is not "
                                  "registered")
        return self._stream

    # --- after registration ----------------------------------------------------------

    def _deliver(self, data: bytes) -> None:
        stream_filter = self.filter
        dtu = self.dtu
        if stream_filter is not None and dtu is not None:
            beats = stream_filter.heartbeats
            data = stream_filter.feed(data)
            if stream_filter.heartbeats != beats:
                dtu.heartbeats += stream_filter.heartbeats - beats
                self.stats.extra["heartbeats"] = self.stats.extra.get("heartbeats", 0) + (
                    stream_filter.heartbeats - beats)
            if stream_filter.holding and self._flush is None:
                self._flush = self.loop.call_later(FLUSH_DELAY, self._flush_held)
        if data:
            reader = self.reader
            before = reader.dropped
            reader.feed_data(data)
            if reader.dropped != before:
                self.stats.garbage_bytes += reader.dropped - before

    def _flush_held(self) -> None:
        self._flush = None
        if self.filter is not None and not self.lost:
            held = self.filter.flush()
            if held:
                self.reader.feed_data(held)

    def drop(self, reason: str) -> None:
        """Close the connection, saying why (logged by the link)."""
        if self.close_reason is None:
            self.close_reason = reason
        self.abort()


class DtuServerLink(DtuLink):
    """DTUs connecting in over TCP; each DTU is its own request queue."""

    type_name = "tcp_dtu"

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(hub, config)
        self.registration_timeout = seconds(config["register"]["timeout"], 10.0)
        self.flood_limit = int(config.get("flood_limit", 131072))
        self.max_pending = int(config.get("max_pending", 256))
        self.pending_connections: set[DtuProtocol] = set()
        self.listening: Listening | None = None
        self._servers: list[asyncio.Server] = []
        self._watchdog: asyncio.Task[None] | None = None
        self._known_cache: list[str] | None = None
        self._warned_hosts: set[str] = set()

    # --- configuration --------------------------------------------------------------

    def add_meter(self, meter: MeterRef, model: MeterModel,
                  settings: Mapping[str, Any]) -> None:
        """Put the meter behind its DTU (``link_options: {dtu: ...}``)."""
        super().add_meter(meter, model, settings)
        self._known_cache = None

    def known_ids(self) -> list[str]:
        """Configured DTU ids (cached)."""
        if self._known_cache is None:
            self._known_cache = self.table.known_ids()
        return self._known_cache

    # --- life-cycle -------------------------------------------------------------------

    async def bind(self) -> None:
        """Bind ``listen`` before any stage starts (PortInUse naming ``links[i].listen``)."""
        self.listening = bind_tcp(self.host, self.port, key=self.setting("listen"))
        self.hub.ports[f"link {self.id}"] = self.listening.port

    async def start(self) -> None:
        """Listen for DTUs on the bound socket (bound now if :meth:`bind` did not run)."""
        if self.listening is None:
            await self.bind()
        assert self.listening is not None
        loop = asyncio.get_running_loop()
        for sock in self.listening.take():
            self._servers.append(await loop.create_server(
                lambda: DtuProtocol(self), sock=sock, backlog=1024))
        addresses = ", ".join(f"{s.getsockname()[0]}:{s.getsockname()[1]}"
                              for server in self._servers for s in server.sockets)
        _LOGGER.info("Link %s: waiting for %d DTUs on %s", self.id, len(self.table.dtus),
                     addresses)
        self.table.publish_all()
        if self.liveness:
            self._watchdog = loop.create_task(self._watch(), name=f"link {self.id} liveness")

    @property
    def bound_port(self) -> int:
        """The port actually listened on (``listen: 127.0.0.1:0`` picks a free one)."""
        if not self._servers or not self._servers[0].sockets:
            return self.listening.port if self.listening and self.listening.sockets else self.port
        return int(self._servers[0].sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and close every DTU connection."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
        if self.listening is not None:  # bound, never served
            self.listening.close()
            self.listening = None
        protocols = list(self.pending_connections)
        protocols += [dtu.channel for dtu in self.table.dtus.values()
                      if isinstance(dtu.channel, DtuProtocol)]
        for protocol in protocols:
            protocol.close_reason = "link stopped"
            protocol.abort()
        for server in servers:
            await server.wait_closed()
        await asyncio.sleep(0)

    async def _watch(self) -> None:
        period = max(0.2, min(self.liveness / 4, WATCH_MAX))
        while True:
            await asyncio.sleep(period)
            now = asyncio.get_running_loop().time()
            for dtu in list(self.table.dtus.values()):
                protocol = dtu.channel
                if isinstance(protocol, DtuProtocol) and now - protocol.last_rx > self.liveness:
                    protocol.drop(f"silent for {now - protocol.last_rx:.0f} s "
                                  f"(half-open connection?)")

    # --- connections ------------------------------------------------------------------

    def register_connection(self, protocol: DtuProtocol, match: Match) -> bool:
        """A connection registered as ``match.dtu_id``: admit (replacing older) or refuse."""
        self.pending_connections.discard(protocol)
        dtu = self.table.admit(match.dtu_id, protocol.peer)
        if dtu is None:
            protocol.refused = True  # the table logged it
            protocol.drop(f"unknown DTU {match.dtu_id}")
            return False
        old = dtu.channel
        protocol.bound(dtu)
        if isinstance(old, DtuProtocol) and old is not protocol:
            dtu.replaced += 1
            _LOGGER.info("Link %s: DTU %s registered again from %s; closing its older "
                         "connection from %s", self.id, dtu.id, protocol.peer, old.peer)
            old.close_reason = f"replaced by a newer connection from {protocol.peer}"
            dtu.channel = protocol  # before the old one's connection_lost runs
            old.abort()
        self.table.set_online(dtu, protocol, protocol.peer)
        return True

    def connection_gone(self, protocol: DtuProtocol, reason: str) -> None:
        """A connection closed: mark its DTU offline if it was the DTU's current one."""
        self.pending_connections.discard(protocol)
        dtu = protocol.dtu
        if dtu is None:
            if protocol.refused:
                return
            host = protocol.peer.rsplit(":", 1)[0]
            first = host not in self._warned_hosts
            if first and len(self._warned_hosts) < MAX_WARNED_HOSTS:
                self._warned_hosts.add(host)
            (_LOGGER.warning if first else _LOGGER.debug)(
                "Link %s: connection from %s closed before registering: %s", self.id,
                protocol.peer, reason)
            return
        self.stats.disconnects += 1
        if dtu.channel is protocol:
            self.table.set_offline(dtu, reason)
        else:
            _LOGGER.debug("Link %s: older connection of DTU %s closed: %s", self.id, dtu.id,
                          reason)

    # --- what the metering service uses -----------------------------------------------

    @property
    def online(self) -> bool:
        """Listening (individual DTUs have their own online state)."""
        return bool(self._servers)

    def status(self) -> dict[str, Any]:
        """Listening address, counters, and every DTU's state."""
        return {**super().status(), "listen": f"{self.host}:{self.bound_port}",
                "dtus_online": self.table.online_count(), "dtus_total": len(self.table.dtus),
                "pending_connections": len(self.pending_connections),
                "dtus": self.table.status()}
