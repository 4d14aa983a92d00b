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
import logging
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from .. import validation as cv
from ..const import HubState
from ..core import Context
from ..events import EVENT_DTU_OFFLINE, EVENT_DTU_ONLINE
from ..util.ids import slugify
from .link import Link, LinkStats, LinkUnavailable
from .link_schema import short_duration
from .model import MeterModel, MeterRef
from .registration import REGISTER_SCHEMA, Registration, hex_bytes, packet_bytes
from .stream import Channel, LinkTransport, seconds

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "DTU_KEYS",
    "EVENT_DTU_OFFLINE",
    "EVENT_DTU_ONLINE",
    "HEARTBEAT_KEYS",
    "Dtu",
    "DtuLink",
    "DtuTable",
    "heartbeat",
]

_LOGGER = logging.getLogger(__name__)

MAX_REFUSED_REMEMBERED: Final = 1024


class Dtu:
    """One DTU: its meters, its current connection (if any) and its counters."""

    def __init__(self, link_id: str, dtu_id: str, stats: LinkStats, *, known: bool,
                 name: str = "") -> None:
        self.id = dtu_id
        self.name = name or dtu_id
        self.known = known
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

    def _channel(self) -> Channel | None:
        return self.channel

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

    def declare(self, dtu_id: str, name: str = "") -> Dtu:
        """A configured DTU (from ``dtus:`` or a meter's ``dtu:``)."""
        dtu = self.dtus.get(dtu_id)
        if dtu is None:
            dtu = self.dtus[dtu_id] = Dtu(self.link.id, dtu_id, self.link.stats, known=True,
                                          name=name)
        elif name:
            dtu.name = name
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
        dtu.peer = peer
        dtu.connects += 1
        now = time.time()
        dtu.last_seen = now
        if was_online:
            return
        dtu.online_since = now
        _LOGGER.info("Link %s: DTU %s online from %s", self.link.id, dtu.id, peer)
        self.link.hub.bus.fire(EVENT_DTU_ONLINE, {"link": self.link.id, "dtu": dtu.id,
                                                  "peer": peer}, context=self._context)
        self._state(dtu)

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
        """Set the state of every DTU (at start-up)."""
        for dtu in self.dtus.values():
            self._state(dtu)

    def _state(self, dtu: Dtu) -> None:
        self.link.hub.states.set(
            f"dtu.{slugify(self.link.id)}_{slugify(dtu.id)}",
            "online" if dtu.online else "offline",
            {"friendly_name": f"DTU {dtu.name}", "link": self.link.id, "dtu": dtu.id,
             "peer": dtu.peer, "meters": len(dtu.meters),
             "last_offline_reason": dtu.last_offline_reason},
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
        raise vol.Invalid("give the heartbeat as 'data' or as 'hex', not both")
    return beat


HEARTBEAT_KEYS = cv.Strict({
    vol.Optional("data"): cv.string,
    vol.Optional("hex"): hex_bytes,
    vol.Required("interval"): short_duration,
    vol.Optional("misses", default=2.5): vol.All(cv.decimal, vol.Range(min=1)),
})

# Keys every DTU link type shares (each adds ``listen`` and its own ``dtus:`` entries).
DTU_KEYS: dict[Any, Any] = {
    vol.Optional("register", default={}): REGISTER_SCHEMA,
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
            self.table.declare(entry["id"], entry.get("name", ""))
        self.meter_dtu: dict[str, str] = {}

    def add_meter(self, meter: MeterRef, model: MeterModel,
                  settings: Mapping[str, Any]) -> None:
        """Put the meter behind its DTU (``link_options: {dtu: ...}``)."""
        dtu_id = str(settings["dtu"])
        self.table.declare(dtu_id).meters.add(meter.id)
        self.meter_dtu[meter.id] = dtu_id

    def group_of(self, meter: MeterRef) -> str:
        """The DTU the meter sits behind: DTUs are read concurrently."""
        return self.meter_dtu.get(meter.id, self.id)

    def transport_for(self, meter: MeterRef) -> LinkTransport:
        """The meter's DTU's transport, or LinkUnavailable when that DTU is offline."""
        dtu_id = self.meter_dtu.get(meter.id)
        dtu = self.table.dtus.get(dtu_id) if dtu_id is not None else None
        if dtu is None:
            raise LinkUnavailable(f"{self.id}: meter {meter.id} is behind no DTU")
        if not dtu.online:
            raise LinkUnavailable(f"{self.id}: DTU {dtu.id} {self.offline_reason}")
        return dtu.transport

    def dtu(self, dtu_id: str) -> Dtu | None:
        """A DTU record by id."""
        return self.table.dtus.get(dtu_id)
