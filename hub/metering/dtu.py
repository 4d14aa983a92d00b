"""Link toolkit: DTUs, which meters sit behind each, who is online, events and states.

Public API for links whose meters sit behind DTUs (the ``tcp_dtu`` and ``udp`` links):
:class:`DtuLink` is the base (registration, heartbeats, liveness, one request queue per
DTU, ``link_options: {dtu: ...}``), :class:`DtuTable` admits DTUs and tracks them, and
:data:`DTU_KEYS` are the YAML keys such a link type shares. A DTU going online or offline
fires ``dtu_online`` / ``dtu_offline`` on the hub's bus and sets the state
``dtu.<link>_<dtu>`` (``online`` / ``offline``) with its peer address and counters.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from .. import validation as cv
from ..const import HubState
from ..core import Context
from ..events import EVENT_DTU_OFFLINE, EVENT_DTU_ONLINE
from ..i18n import Text
from ..util.ids import slugify
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .link import Link, LinkStats, LinkUnavailable, host_of
from .link_schema import in_networks, network, short_duration
from .model import MeterModel, MeterRef, NoReply, ProtocolError
from .registration import (
    REGISTER_SCHEMA,
    Match,
    MatchOutcome,
    Registration,
    SecretFormat,
    hex_bytes,
    packet_bytes,
)
from .stream import Channel, LinkTransport, seconds

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "DTU_ENTRY_KEYS",
    "DTU_KEYS",
    "HEARTBEAT_KEYS",
    "Dtu",
    "DtuLink",
    "DtuTable",
    "dtu_entry",
    "heartbeat",
]

_LOGGER = logging.getLogger(__name__)

MAX_REFUSED_REMEMBERED: Final = 1024
PROBE_METERS: Final = 3  # meters behind a DTU a probe tries to read, one after another


class Dtu:
    """One DTU: its meters, its current connection (if any) and its counters."""

    def __init__(self, link_id: str, dtu_id: str, stats: LinkStats, *, known: bool,
                 name: str = "", secret: str | None = None) -> None:
        self.id = dtu_id
        self.name = name or dtu_id
        self.known = known
        self.secret = secret
        self.meters: set[str] = set()
        self.channel: Channel | None = None
        self.peer: str | None = None
        self.transport = LinkTransport(f"{link_id}/{dtu_id}", stats, self._channel)
        self.online_since: float | None = None
        self.last_seen: float | None = None
        self.connects = 0
        self.disconnects = 0
        self.replaced = 0
        self.heartbeats = 0
        self.last_offline_reason: str | None = None
        self.host: str | None = None  # the host it last registered from
        self.moved: tuple[str, str, float] | None = None  # (from host, to host, wall time)
        self.conflicts = 0
        self._listeners: list[asyncio.Future[None]] = []

    def _channel(self) -> Channel | None:
        return self.channel

    def heard(self) -> None:
        """Bytes arrived on the DTU's current channel (wakes a probe waiting for them)."""
        if self._listeners:
            listeners, self._listeners = self._listeners, []
            for waiter in listeners:
                if not waiter.done():
                    waiter.set_result(None)

    def next_bytes(self) -> asyncio.Future[None]:
        """A future that :meth:`heard` resolves when bytes next arrive on the channel."""
        waiter = asyncio.get_running_loop().create_future()
        self._listeners.append(waiter)
        return waiter

    @property
    def online(self) -> bool:
        """Whether the DTU can carry a request now."""
        return self.channel is not None

    def status(self) -> dict[str, Any]:
        """A JSON-friendly summary."""
        transport = self.transport
        last_rx = getattr(self.channel, "last_rx", None)
        if isinstance(last_rx, float):  # loop time of the last byte: make it wall time
            self.last_seen = time.time() - (asyncio.get_running_loop().time() - last_rx)
        return {
            "online": self.online, "name": self.name, "known": self.known,
            "peer": self.peer, "meters": len(self.meters),
            "online_since": self.online_since, "last_seen": self.last_seen,
            "connects": self.connects, "disconnects": self.disconnects,
            "replaced": self.replaced, "heartbeats": self.heartbeats,
            "conflicts": self.conflicts,
            "moved_from": self.moved[0] if self.moved else None,
            "requests": transport.requests, "replies": transport.replies,
            "timeouts": transport.timeouts, "errors": transport.errors,
            "last_offline_reason": self.last_offline_reason,
        }


class DtuTable:
    """The DTUs of one link; admits or refuses a registering DTU and tracks online state."""

    def __init__(self, link: Link, *, auto_discovery: bool) -> None:
        self.link = link
        self.auto_discovery = auto_discovery
        self.dtus: dict[str, Dtu] = {}
        self.refused: dict[str, int] = {}
        self._context = Context(origin=f"link:{link.id}")

    def declare(self, dtu_id: str, name: str = "", secret: str | None = None) -> Dtu:
        """A configured DTU (from ``dtus:`` or a meter's ``dtu:``)."""
        dtu = self.dtus.get(dtu_id)
        if dtu is None:
            dtu = self.dtus[dtu_id] = Dtu(self.link.id, dtu_id, self.link.stats, known=True,
                                          name=name, secret=secret)
        else:
            dtu.name = name or dtu.name
            dtu.secret = secret or dtu.secret
        return dtu

    def known_ids(self) -> list[str]:
        """Ids of configured DTUs (for the ``known`` registration matcher)."""
        return [dtu_id for dtu_id, dtu in self.dtus.items() if dtu.known]

    def admit(self, dtu_id: str, peer: str) -> Dtu | None:
        """The DTU record for a registration, or None when it is refused (unknown)."""
        dtu = self.dtus.get(dtu_id)
        if dtu is not None:
            return dtu
        if self.auto_discovery:
            _LOGGER.info("Link %s: discovered DTU %s at %s (no meters configured behind it)",
                         self.link.id, dtu_id, peer)
            dtu = self.dtus[dtu_id] = Dtu(self.link.id, dtu_id, self.link.stats, known=False)
            return dtu
        seen = self.refused.get(dtu_id, 0)
        if seen == 0:
            _LOGGER.warning("Link %s: refused unknown DTU %s from %s (add it to 'dtus:' or a "
                            "meter's link_options, or set auto_discovery: true)",
                            self.link.id, dtu_id, peer)
        else:
            _LOGGER.debug("Link %s: refused unknown DTU %s from %s again", self.link.id,
                          dtu_id, peer)
        if len(self.refused) < MAX_REFUSED_REMEMBERED or dtu_id in self.refused:
            self.refused[dtu_id] = seen + 1
        self.link.stats.extra["refused"] = self.link.stats.extra.get("refused", 0) + 1
        return None

    def set_online(self, dtu: Dtu, channel: Channel, peer: str) -> None:
        """Bind the DTU to a connection (replacing any older one is the caller's job)."""
        was_online = dtu.online
        dtu.channel = channel
        dtu.connects += 1
        self.note_peer(dtu, peer)
        now = time.time()
        dtu.last_seen = now
        if was_online:
            return
        dtu.online_since = now
        _LOGGER.info("Link %s: DTU %s online from %s", self.link.id, dtu.id, peer)
        self.link.hub.bus.fire(EVENT_DTU_ONLINE, {"link": self.link.id, "dtu": dtu.id,
                                                  "peer": peer}, context=self._context)
        self._state(dtu)

    def note_peer(self, dtu: Dtu, peer: str) -> None:
        """The DTU speaks from ``peer`` now; a new host is a move (its readings are suspect
        for the link's ``moved_probation``)."""
        dtu.peer = peer
        host = host_of(peer)
        if dtu.host is not None and host != dtu.host:
            dtu.moved = (dtu.host, host, time.time())
            _LOGGER.info("Link %s: DTU %s re-registered from a new address %s (was %s): "
                         "implausible readings through it are quarantined for now",
                         self.link.id, dtu.id, host, dtu.host)
        dtu.host = host

    def set_offline(self, dtu: Dtu, reason: str) -> None:
        """The DTU's connection is gone."""
        if not dtu.online:
            return
        dtu.channel = None
        dtu.disconnects += 1
        dtu.online_since = None
        dtu.last_offline_reason = reason
        stopping = self.link.hub.state in (HubState.STOPPING, HubState.STOPPED)
        (_LOGGER.info if stopping else _LOGGER.warning)(
            "Link %s: DTU %s offline (%s)", self.link.id, dtu.id, reason)
        self.link.hub.bus.fire(EVENT_DTU_OFFLINE, {"link": self.link.id, "dtu": dtu.id,
                                                   "reason": reason}, context=self._context)
        self._state(dtu)

    def publish_all(self) -> None:
        """Set the state of every DTU (at start-up), remembering from a state restored from
        before a restart the host each DTU last registered from (a move stays a move)."""
        for dtu in self.dtus.values():
            saved = self.link.hub.states.get(self._entity_id(dtu))
            peer = saved.attributes.get("peer") if saved is not None else None
            if dtu.host is None and isinstance(peer, str) and peer:
                dtu.peer, dtu.host = peer, host_of(peer)
            self._state(dtu)

    def publish(self, dtu: Dtu) -> None:
        """Set one DTU's state again (its counters changed)."""
        self._state(dtu)

    def _entity_id(self, dtu: Dtu) -> str:
        return f"dtu.{slugify(self.link.id)}_{slugify(dtu.id)}"

    def _state(self, dtu: Dtu) -> None:
        self.link.hub.states.set(
            self._entity_id(dtu),
            "online" if dtu.online else "offline",
            {"friendly_name": f"DTU {dtu.name}", "link": self.link.id, "dtu": dtu.id,
             "peer": dtu.peer, "meters": len(dtu.meters),
             "last_offline_reason": dtu.last_offline_reason, "conflicts": dtu.conflicts,
             "moved_from": dtu.moved[0] if dtu.moved else None},
            context=self._context,
        )

    def online_count(self) -> int:
        """How many DTUs are online."""
        return sum(1 for dtu in self.dtus.values() if dtu.online)

    def status(self) -> dict[str, Any]:
        """Every DTU's summary, by id."""
        return {dtu_id: dtu.status() for dtu_id, dtu in self.dtus.items()}


def heartbeat(value: Any) -> dict[str, Any]:
    """A DTU's heartbeat: ``{data: ping, interval: 60s}`` or ``{hex: "FE", interval: 30s}``."""
    beat: dict[str, Any] = HEARTBEAT_KEYS(value)
    if beat.get("data") and beat.get("hex"):
        raise vol.Invalid(Text("metering.heartbeat_both"))
    return beat


HEARTBEAT_KEYS = cv.Strict({
    vol.Optional("data"): cv.string,
    vol.Optional("hex"): hex_bytes,
    vol.Required("interval"): short_duration,
    vol.Optional("misses", default=2.5): vol.All(cv.decimal, vol.Range(min=1)),
})

# Keys of a ``dtus:`` entry every DTU link type shares (a link type may add its own).
DTU_ENTRY_KEYS: dict[Any, Any] = {
    vol.Required("id"): cv.string,
    vol.Optional("name"): cv.string,
    vol.Optional("secret"): cv.string,
}


def dtu_entry(value: Any, extra: Mapping[Any, Any] | None = None) -> dict[str, Any]:
    """A DTU id, or ``{id: ..., name: ..., secret: ...}`` (plus a link type's ``extra`` keys)."""
    if isinstance(value, dict):
        entry: dict[str, Any] = cv.Strict({**DTU_ENTRY_KEYS, **(extra or {})})(value)
        return entry
    return {"id": cv.string(value)}


# Keys every DTU link type shares (each adds ``listen`` and its own ``dtus:`` entries).
DTU_KEYS: dict[Any, Any] = {
    vol.Optional("register", default={}): REGISTER_SCHEMA,
    vol.Optional("allow_from"): cv.ListOf(network, allow_single=True),
    vol.Optional("probe_timeout"): short_duration,
    vol.Optional("moved_probation", default=timedelta(days=1)): cv.duration,
    vol.Optional("heartbeat"): heartbeat,
    vol.Optional("idle_timeout"): short_duration,
    vol.Optional("auto_discovery", default=False): cv.boolean,
    vol.Optional("timeout", default=timedelta(seconds=5)): short_duration,
    vol.Optional("gap", default=timedelta(milliseconds=50)): short_duration,
    vol.Optional("flood_limit", default=131072): cv.positive_int,
}


class DtuLink(Link):
    """A link whose meters sit behind DTUs; each DTU is its own request queue.

    Reads ``listen``, :data:`DTU_KEYS` and the ``id``/``name`` of each ``dtus:`` entry; a
    meter names its DTU with ``link_options: {dtu: ...}``. Subclasses carry the bytes.
    """

    # How transport_for says a DTU cannot be reached now ("DTU x is not connected").
    offline_reason = "is not connected"

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(hub, config)
        self.host: str = config["listen"][0]
        self.port: int = int(config["listen"][1])
        register = config["register"]
        self.registration = Registration(register["match"], register["mode"])
        self.secret: str | None = register.get("secret")
        self.secret_format = SecretFormat(register.get("secret_format", "{id},{secret}"))
        self.allow_from: list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None = (
            config.get("allow_from"))
        self.probe_timeout = seconds(config.get("probe_timeout"),
                                     2 * seconds(config.get("timeout"), 5.0))
        self.moved_probation = seconds(config.get("moved_probation"), 86400.0)
        beat = config.get("heartbeat") or {}
        self.heartbeat = packet_bytes(beat) if beat else b""
        interval = seconds(beat.get("interval"), 0.0) if beat else 0.0
        self.liveness = interval * float(beat.get("misses", 2.5)) if interval else 0.0
        idle = seconds(config.get("idle_timeout"), 0.0)
        if idle:
            self.liveness = idle
        self.gap = seconds(config.get("gap"), 0.0)
        self.table = DtuTable(self, auto_discovery=bool(config.get("auto_discovery")))
        for entry in config.get("dtus") or []:
            self.table.declare(entry["id"], entry.get("name", ""), entry.get("secret"))
        self.meter_dtu: dict[str, str] = {}
        self.meter_refs: dict[str, tuple[MeterRef, MeterModel]] = {}
        self._probes: dict[str, asyncio.Task[bool]] = {}

    def add_meter(self, meter: MeterRef, model: MeterModel,
                  settings: Mapping[str, Any]) -> None:
        """Put the meter behind its DTU (``link_options: {dtu: ...}``)."""
        dtu_id = str(settings["dtu"])
        self.table.declare(dtu_id).meters.add(meter.id)
        self.meter_dtu[meter.id] = dtu_id
        self.meter_refs[meter.id] = (meter, model)

    def remove_meter(self, meter_id: str) -> None:
        """Take a replaced device from behind its DTU (the new one may sit behind another)."""
        dtu_id = self.meter_dtu.pop(meter_id, None)
        dtu = self.table.dtus.get(dtu_id) if dtu_id is not None else None
        if dtu is not None:
            dtu.meters.discard(meter_id)
        self.meter_refs.pop(meter_id, None)

    # --- who may register ---------------------------------------------------------------

    def source_allowed(self, peer: str) -> bool:
        """Whether ``peer`` (host:port) is inside ``allow_from`` (everything without it)."""
        return not self.allow_from or in_networks(host_of(peer), self.allow_from)

    def refuse_source(self, peer: str) -> None:
        """Log, count and alarm a source outside ``allow_from``."""
        self.alarm("source_refused", peer, f"{peer} is outside the allowed networks "
                   f"({self.setting('allow_from')})")

    def check_secret(self, data: bytes, match: Match) -> MatchOutcome:
        """The registration with its secret checked: the match (extended by the secret),
        NEED_MORE, or None when the DTU needs a secret and the packet's is wrong."""
        dtu = self.table.dtus.get(match.dtu_id)
        secret = (dtu.secret if dtu is not None else None) or self.secret
        if not secret:
            return match
        return self.secret_format.check(data, match, secret)

    def refuse_secret(self, peer: str, dtu_id: str) -> None:
        """Log, count and alarm a registration with a wrong or missing secret."""
        self.alarm("registration_refused", peer, f"DTU {dtu_id} registered from {peer} "
                   f"without its secret (format {self.secret_format.template!r})", dtu=dtu_id)

    # --- a second claim on a DTU ----------------------------------------------------------

    def probe(self, dtu: Dtu) -> asyncio.Task[bool]:
        """Whether the DTU answers on its current channel (one probe at a time per DTU).

        Bytes on the channel (a heartbeat, a reply) within ``probe_timeout`` prove it alive;
        so does one meter behind it answering a read (any reply, even a refusal).
        """
        task = self._probes.get(dtu.id)
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(
                self._probe(dtu), name=f"link {self.id} probe of DTU {dtu.id}")
            self._probes[dtu.id] = task
        return task

    async def _probe(self, dtu: Dtu) -> bool:
        channel = dtu.channel
        if channel is None:
            return False
        heard = dtu.next_bytes()
        read = asyncio.get_running_loop().create_task(self._probe_read(dtu))
        try:
            async with asyncio.timeout(self.probe_timeout):
                await asyncio.wait((heard, read), return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            pass
        finally:
            heard.cancel()
            if not read.done():
                read.cancel()
                await asyncio.gather(read, return_exceptions=True)
        answered = (not read.cancelled() and read.exception() is None and read.result())
        alive = dtu.channel is channel and (not heard.cancelled() or answered)
        _LOGGER.info("Link %s: probe of DTU %s at %s: %s", self.id, dtu.id, dtu.peer,
                     "it answered" if alive else "no answer")
        return alive

    async def _probe_read(self, dtu: Dtu) -> bool:
        """True once a meter behind the DTU answers; never returns False before every one
        of the first few was tried, and then waits (bytes or the probe's timeout decide):
        one broken meter must not make a live DTU look gone."""
        found = [self.meter_refs[m] for m in sorted(dtu.meters) if m in self.meter_refs]
        for ref, model in found[:PROBE_METERS]:
            points = list(model.default_points())[:1] or None
            try:
                result = await model.read(dtu.transport, ref, points)
            except ProtocolError:  # a garbled or refused answer is still an answer
                return True
            except LinkUnavailable:
                return False
            except (NoReply, OSError):
                continue
            if result.frames > 0:
                return True
        await asyncio.get_running_loop().create_future()  # cancelled at the probe's end
        return False

    def conflict(self, dtu: Dtu, claimant: str) -> None:
        """A claim on a DTU that answered its probe: refused, alarmed."""
        dtu.conflicts += 1
        self.table.publish(dtu)
        self.alarm("dtu_conflict", claimant, f"{claimant} claimed DTU {dtu.id}, which is "
                   f"alive at {dtu.peer}: the claim is refused, the DTU kept",
                   dtu=dtu.id, live_peer=str(dtu.peer))

    async def stop_probes(self) -> None:
        """Cancel running probes (at stop)."""
        probes, self._probes = list(self._probes.values()), {}
        for task in probes:
            task.cancel()
        if probes:
            await asyncio.gather(*probes, return_exceptions=True)

    def reading_quality(self, meter: MeterRef) -> Mapping[str, Any]:
        """``link_moved`` while the meter's DTU is on probation after a move."""
        dtu = self.table.dtus.get(self.meter_dtu.get(meter.id, ""))
        if dtu is None or dtu.moved is None:
            return {}
        was, now, when = dtu.moved
        if time.time() - when >= self.moved_probation:
            return {}
        since = datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")
        return {"link_moved": f"DTU {dtu.id} moved from {was} to {now} at {since}"}

    def group_of(self, meter: MeterRef) -> str:
        """The DTU the meter sits behind: DTUs are read concurrently."""
        return self.meter_dtu.get(meter.id, self.id)

    def transport_for(self, meter: MeterRef) -> LinkTransport:
        """The meter's DTU's transport, or LinkUnavailable when that DTU is offline."""
        dtu_id = self.meter_dtu.get(meter.id)
        dtu = self.table.dtus.get(dtu_id) if dtu_id is not None else None
        if dtu is None:
            raise LinkUnavailable(Text("metering.no_dtu", link=self.id, meter=meter.id))
        if not dtu.online:
            raise LinkUnavailable(Text("metering.dtu_offline", link=self.id, dtu=dtu.id,
                                       reason=self.offline_reason))
        return dtu.transport

    def dtu(self, dtu_id: str) -> Dtu | None:
        """A DTU record by id."""
        return self.table.dtus.get(dtu_id)
