"""The ``udp`` link: DTUs that carry their bus's frames in UDP datagrams to the hub.

The hub listens on one UDP port. A DTU is known by its registration packet (sent once, or
as a prefix of every datagram; the same matchers as ``tcp_dtu``) or, for DTUs that send
none, by a fixed source address in ``dtus:``. Requests go to the address the DTU last sent
from (NAT rebinding is followed); a DTU's datagrams feed only that DTU's reply reader, and
replies are matched by the address inside the frame. One request is outstanding per DTU.
A registration from a new address does not redirect a DTU that is alive at its known one:
the DTU is probed there (a heartbeat or a meter's answer within ``probe_timeout``), and the
claim is refused with a ``link_alarm`` (``dtu_conflict``) if it answers; only a DTU that
stays silent is followed to the new address. Datagrams from outside ``allow_from`` and
registrations without the DTU's secret are dropped and alarmed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from hub.listen import Listening, bind_udp
from hub.metering.dtu import Dtu, DtuLink
from hub.metering.registration import Match, StreamFilter
from hub.metering.stream import BoundedReader
from hub.metering.transport import StreamTransport

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

MAX_UNKNOWN_SOURCES: Final = 1024
MAX_CLAIMS: Final = 64  # registrations from new addresses waiting for a probe, per link
WATCH_MAX: Final = 5.0

Address = tuple[str, int]


class _Sender(asyncio.WriteTransport):
    """A write-only transport that sends each write as one datagram to a DTU."""

    def __init__(self, channel: UdpChannel) -> None:
        super().__init__()
        self._channel = channel

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._channel.link.sendto(bytes(data), self._channel.address)

    def is_closing(self) -> bool:
        return self._channel.link.endpoint is None

    def close(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


class UdpChannel:
    """A DTU's path over UDP: its address, its reply reader and request discipline."""

    def __init__(self, link: UdpLink, dtu: Dtu, address: Address, prefix: bytes) -> None:
        loop = asyncio.get_running_loop()
        self.link = link
        self.dtu = dtu
        self.address = address
        self.reader = BoundedReader()
        self.filter = StreamFilter(heartbeat=link.heartbeat, prefix=prefix)
        self.last_rx = loop.time()
        protocol = asyncio.StreamReaderProtocol(self.reader)
        writer = asyncio.StreamWriter(_Sender(self), protocol, self.reader, loop)
        self.stream = StreamTransport(self.reader, writer, gap=link.gap,
                                      name=f"{link.id}/{dtu.id}")

    def feed(self, data: bytes) -> None:
        """A datagram from the DTU (registration already removed)."""
        beats = self.filter.heartbeats
        data = self.filter.feed(data) + self.filter.flush()  # a datagram is whole
        if self.filter.heartbeats != beats:
            self.dtu.heartbeats += self.filter.heartbeats - beats
        if data:
            before = self.reader.dropped
            self.reader.feed_data(data)
            self.link.stats.garbage_bytes += self.reader.dropped - before


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, link: UdpLink) -> None:
        self.link = link

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.link.datagram(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        _LOGGER.debug("Link %s: UDP error: %s", self.link.id, exc)


class UdpLink(DtuLink):
    """DTUs over UDP; each DTU is its own request queue."""

    type_name = "udp"
    offline_reason = "has not been heard from"

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(hub, config)
        self.static: dict[Address, str] = {
            entry["address"]: entry["id"] for entry in config.get("dtus") or []
            if entry.get("address")}
        self.channels: dict[str, UdpChannel] = {}
        self.by_address: dict[Address, str] = {}
        self.endpoint: asyncio.DatagramTransport | None = None
        self.listening: Listening | None = None
        self._unknown: set[Address] = set()
        self._claims: set[tuple[str, Address]] = set()
        self._watchdog: asyncio.Task[None] | None = None

    # --- life-cycle -------------------------------------------------------------------

    async def bind(self) -> None:
        """Bind ``listen`` before any stage starts (PortInUse naming ``links[i].listen``)."""
        self.listening = bind_udp(self.host, self.port, key=self.setting("listen"))
        self.hub.ports[f"link {self.id}"] = self.listening.port

    async def start(self) -> None:
        """Listen on the bound socket (bound now if :meth:`bind` did not run); DTUs with a
        fixed address are reachable at once."""
        if self.listening is None:
            await self.bind()
        assert self.listening is not None
        loop = asyncio.get_running_loop()
        sock = self.listening.take()[0]
        transport, _ = await loop.create_datagram_endpoint(lambda: _Endpoint(self), sock=sock)
        self.endpoint = transport
        _LOGGER.info("Link %s: listening for %d DTUs on UDP %s:%d", self.id,
                     len(self.table.dtus), self.host, self.bound_port)
        self.table.publish_all()
        for address, dtu_id in self.static.items():
            self._bind(self.table.dtus[dtu_id], address, b"")
        if self.liveness:
            self._watchdog = loop.create_task(self._watch(), name=f"link {self.id} liveness")

    async def stop(self) -> None:
        """Close the socket; pending exchanges time out."""
        await self.stop_probes()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        endpoint, self.endpoint = self.endpoint, None
        for channel in self.channels.values():
            self.table.set_offline(channel.dtu, "link stopped")
            channel.reader.feed_eof()  # a pending exchange ends now
        self.channels.clear()
        self.by_address.clear()
        if endpoint is not None:
            endpoint.close()
        if self.listening is not None:  # bound, never served
            self.listening.close()
            self.listening = None
        await asyncio.sleep(0)

    @property
    def bound_port(self) -> int:
        """The UDP port actually bound (``listen: 127.0.0.1:0`` picks one)."""
        if self.endpoint is None:
            return self.port
        return int(self.endpoint.get_extra_info("sockname")[1])

    async def _watch(self) -> None:
        period = max(0.2, min(self.liveness / 4, WATCH_MAX))
        while True:
            await asyncio.sleep(period)
            now = asyncio.get_running_loop().time()
            for channel in self.channels.values():
                if channel.dtu.channel is channel and now - channel.last_rx > self.liveness:
                    self.table.set_offline(channel.dtu, f"silent for {now - channel.last_rx:.0f} s")

    # --- datagrams ----------------------------------------------------------------------

    def sendto(self, data: bytes, address: Address) -> None:
        """Send one datagram (counted)."""
        if self.endpoint is not None:
            self.endpoint.sendto(data, address)

    def datagram(self, data: bytes, address: Address) -> None:
        """Route a datagram to its DTU: by registration, else by known source address."""
        self.stats.bytes_in += len(data)
        peer = f"{address[0]}:{address[1]}"
        if not self.source_allowed(peer):
            self.stats.garbage_bytes += len(data)
            self.refuse_source(peer)
            return
        body = data
        if self.heartbeat:
            while body.startswith(self.heartbeat):
                body = body[len(self.heartbeat):]
        outcome = self.registration.match(body, self.table.known_ids()) if body else None
        prefix = b""
        if isinstance(outcome, Match):
            checked = self.check_secret(body, outcome)
            if not isinstance(checked, Match):  # a datagram is whole: nothing more comes
                self.stats.garbage_bytes += len(data)
                self.refuse_secret(peer, outcome.dtu_id)
                return
            dtu_id: str | None = checked.dtu_id
            prefix = self.registration.stream_prefix(checked)
            data = body[len(checked.raw):]
        else:
            dtu_id = self.by_address.get(address) or self.static.get(address)
        if dtu_id is None:
            self.stats.garbage_bytes += len(data)
            if address not in self._unknown and len(self._unknown) < MAX_UNKNOWN_SOURCES:
                self._unknown.add(address)
                _LOGGER.warning("Link %s: datagram from unknown source %s:%d ignored "
                                "(no registration, not a configured address)", self.id,
                                *address)
            return
        dtu = self.table.admit(dtu_id, peer)
        if dtu is None:
            return
        known = self.channels.get(dtu.id)
        if known is not None and known.address != address and dtu.channel is known:
            self.stats.garbage_bytes += len(data)
            self._claim(dtu, known, address, prefix)
            return
        channel = self._bind(dtu, address, prefix)
        channel.last_rx = asyncio.get_running_loop().time()
        if dtu.channel is not channel:
            self.table.set_online(dtu, channel, peer)
        dtu.heard()
        if data:
            channel.feed(data)

    def _claim(self, dtu: Dtu, known: UdpChannel, address: Address, prefix: bytes) -> None:
        """A registration from a new address for a DTU alive at ``known``: probe it there."""
        claim = (dtu.id, address)
        if claim in self._claims or len(self._claims) >= MAX_CLAIMS:
            return
        self._claims.add(claim)
        _LOGGER.info("Link %s: %s:%d registers as DTU %s, which is alive at %s:%d: probing it "
                     "there", self.id, *address, dtu.id, *known.address)
        probed = known.address
        self.probe(dtu).add_done_callback(
            lambda task: self._claim_decided(dtu, probed, address, prefix, task))

    def _claim_decided(self, dtu: Dtu, probed: Address, address: Address, prefix: bytes,
                       task: asyncio.Task[bool]) -> None:
        self._claims.discard((dtu.id, address))
        if task.cancelled() or task.exception() is not None or self.endpoint is None:
            return
        channel = self.channels.get(dtu.id)
        if channel is None or channel.address != probed:
            return  # it moved meanwhile: the claimant must speak again
        if task.result():
            self.conflict(dtu, f"{address[0]}:{address[1]}")
            return
        self._bind(dtu, address, prefix)

    def _bind(self, dtu: Dtu, address: Address, prefix: bytes) -> UdpChannel:
        channel = self.channels.get(dtu.id)
        if channel is None:
            channel = self.channels[dtu.id] = UdpChannel(self, dtu, address, prefix)
            self.table.set_online(dtu, channel, f"{address[0]}:{address[1]}")
        elif channel.address != address:
            _LOGGER.info("Link %s: DTU %s now sends from %s:%d (was %s:%d)", self.id, dtu.id,
                         *address, *channel.address)
            self.by_address.pop(channel.address, None)
            channel.address = address
            self.table.note_peer(dtu, f"{address[0]}:{address[1]}")
        if prefix and channel.filter.prefix != prefix:
            channel.filter = StreamFilter(heartbeat=self.heartbeat, prefix=prefix)
        self.by_address[address] = dtu.id
        return channel

    # --- what the metering service uses -----------------------------------------------

    @property
    def online(self) -> bool:
        """Listening."""
        return self.endpoint is not None

    def status(self) -> dict[str, Any]:
        """Listening port, counters and every DTU's state."""
        return {**super().status(), "listen": f"{self.host}:{self.bound_port}",
                "dtus_online": self.table.online_count(), "dtus": self.table.status()}
