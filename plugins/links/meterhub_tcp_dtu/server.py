"""The ``tcp_dtu`` link: a TCP server that 4G/Wi-Fi DTUs connect to (PROTOCOLS.md §5.1).

Each connection must name its DTU with a registration packet (with its secret, when one is
set) within ``register.timeout``, from a source inside ``allow_from`` when that is set;
then requests for the meters behind that DTU go out on it, one at a time, and replies are
matched by the address inside the frame. Heartbeats and registration prefixes are removed
before the frame parser. A newer connection registering a DTU that is still connected does
not simply replace it: the live connection is probed (a heartbeat or a meter's answer
within ``probe_timeout``) and kept if it answers, the claim refused and a ``link_alarm``
(``dtu_conflict``) fired; only a DTU that does not answer (a cellular module that
reconnected without closing) is replaced. A connection silent for ``heartbeat.misses``
heartbeat intervals is closed as half-open. Connections waiting to register are bounded
per source address (``max_pending_per_address``) and in total (``max_pending``: the oldest
of the busiest address is closed to make room), so idle sockets never lock a DTU out.
Garbage, half frames and floods are bounded per connection: a DTU that floods is
disconnected, the others never notice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from hub.i18n import Text
from hub.listen import Listening, bind_tcp
from hub.metering.dtu import Dtu, DtuLink
from hub.metering.link import LinkUnavailable, host_of
from hub.metering.model import MeterModel, MeterRef
from hub.metering.registration import MAX_REGISTRATION, NEED_MORE, Match, StreamFilter
from hub.metering.stream import BoundedReader, LinkProtocol, keepalive, seconds
from hub.metering.transport import StreamTransport

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

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
        self.claiming: str | None = None  # the DTU it claims while the live one is probed
        self.awaiting_secret: str | None = None  # the DTU it named, its secret still missing
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
        if not self.link.source_allowed(self.peer):
            self.refused = True
            self.link.refuse_source(self.peer)
            self.drop("outside the allowed networks")
            return
        if not self.link.add_pending(self):
            return
        self._timer = self.loop.call_later(self.link.registration_timeout,
                                           self._registration_timeout)

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
        dtu = self.dtu
        if dtu is None:
            if self.claiming is None:  # a claimant's bytes wait for nothing: dropped
                self._register(data)
            return
        if dtu.channel is self:
            dtu.heard()
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
        checked = self.link.check_secret(bytes(buffer), outcome)
        if checked == NEED_MORE:
            self.awaiting_secret = outcome.dtu_id
            return
        if not isinstance(checked, Match):
            self.refused = True
            self.link.refuse_secret(self.peer, outcome.dtu_id)
            self.drop(f"DTU {outcome.dtu_id}: wrong registration secret")
            return
        rest = bytes(buffer[len(checked.raw):])
        self._registration = bytearray()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.link.register_connection(self, checked, rest)

    def accept(self, match: Match, rest: bytes) -> None:
        """Registered: strip the DTU's heartbeats and prefixes from now on."""
        self.filter = StreamFilter(heartbeat=self.link.heartbeat,
                                   prefix=self.link.registration.stream_prefix(match))
        if rest:
            self._deliver(rest)

    def _registration_timeout(self) -> None:
        self._timer = None
        if self.dtu is None:
            self.link.stats.extra["registration_timeouts"] = (
                self.link.stats.extra.get("registration_timeouts", 0) + 1)
            if self.awaiting_secret is not None:
                self.refused = True
                self.link.refuse_secret(self.peer, self.awaiting_secret)
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
            raise LinkUnavailable(Text("tcp_dtu.unregistered", link=self.link.id, peer=self.peer))
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
        self.max_pending_per_address = int(config.get("max_pending_per_address", 8))
        self.pending_connections: dict[DtuProtocol, None] = {}  # oldest first
        self._pending_hosts: Counter[str] = Counter()
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
        await self.stop_probes()
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

    def add_pending(self, protocol: DtuProtocol) -> bool:
        """Admit a connection that has yet to register, within the per-address and total
        bounds: over the address's bound it is closed; over the total, the oldest waiting
        connection of the busiest address is closed to make room."""
        host = host_of(protocol.peer)
        if self._pending_hosts[host] >= self.max_pending_per_address:
            self.alarm("connection_flood", protocol.peer, f"more than "
                       f"{self.max_pending_per_address} connections from {host} waiting to "
                       f"register ({self.setting('max_pending_per_address')})")
            protocol.refused = True
            protocol.drop(f"more than {self.max_pending_per_address} connections from {host} "
                          "waiting to register")
            return False
        if len(self.pending_connections) >= self.max_pending:
            busiest = self._pending_hosts.most_common(1)[0][0]
            victim = next(p for p in self.pending_connections if host_of(p.peer) == busiest)
            self.alarm("connection_flood", victim.peer, f"{self.max_pending} connections "
                       f"waiting to register ({self.setting('max_pending')}): closing the "
                       f"oldest from {busiest}", source="*")
            victim.refused = True
            victim.drop("closed to make room: too many connections waiting to register")
            self._unpend(victim)
        self.pending_connections[protocol] = None
        self._pending_hosts[host] += 1
        return True

    def _unpend(self, protocol: DtuProtocol) -> None:
        if self.pending_connections.pop(protocol, False) is None:
            host = host_of(protocol.peer)
            self._pending_hosts[host] -= 1
            if self._pending_hosts[host] <= 0:
                del self._pending_hosts[host]

    def register_connection(self, protocol: DtuProtocol, match: Match, rest: bytes) -> None:
        """A connection registered as ``match.dtu_id``: admit it, refuse it (unknown), or —
        when that DTU is connected already — probe the live one and decide then."""
        dtu = self.table.admit(match.dtu_id, protocol.peer)
        if dtu is None:
            self._unpend(protocol)
            protocol.refused = True  # the table logged it
            protocol.drop(f"unknown DTU {match.dtu_id}")
            return
        live = dtu.channel
        if isinstance(live, DtuProtocol) and live is not protocol and not live.lost:
            protocol.claiming = dtu.id
            _LOGGER.info("Link %s: %s registers as DTU %s, which is connected from %s: "
                         "probing that connection", self.id, protocol.peer, dtu.id, live.peer)
            self.probe(dtu).add_done_callback(
                lambda task: self._claim_decided(protocol, dtu, live, match, rest, task))
            return
        self._bind(protocol, dtu, match, rest)

    def _claim_decided(self, protocol: DtuProtocol, dtu: Dtu, probed: DtuProtocol,
                       match: Match, rest: bytes, task: asyncio.Task[bool]) -> None:
        protocol.claiming = None
        if protocol.lost:
            self._unpend(protocol)
            return
        if task.cancelled() or task.exception() is not None:
            self._unpend(protocol)
            protocol.drop("link stopped while probing")
            return
        if task.result():
            self._unpend(protocol)
            self.conflict(dtu, protocol.peer)
            protocol.refused = True
            protocol.drop(f"claimed DTU {dtu.id}, which answered at {probed.peer}")
            return
        if dtu.channel is not probed and dtu.channel is not None:
            self.register_connection(protocol, match, rest)  # another claimant came first
            return
        self._bind(protocol, dtu, match, rest)

    def _bind(self, protocol: DtuProtocol, dtu: Dtu, match: Match, rest: bytes) -> None:
        self._unpend(protocol)
        old = dtu.channel
        protocol.bound(dtu)
        if isinstance(old, DtuProtocol) and old is not protocol:
            dtu.replaced += 1
            _LOGGER.warning("Link %s: DTU %s registered again from %s; its connection from "
                            "%s did not answer a probe and is closed", self.id, dtu.id,
                            protocol.peer, old.peer)
            old.close_reason = (f"replaced by a newer connection from {protocol.peer} "
                                "(no answer to a probe)")
            dtu.channel = protocol  # before the old one's connection_lost runs
            old.abort()
        self.table.set_online(dtu, protocol, protocol.peer)
        protocol.accept(match, rest)

    def connection_gone(self, protocol: DtuProtocol, reason: str) -> None:
        """A connection closed: mark its DTU offline if it was the DTU's current one."""
        self._unpend(protocol)
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
