"""Links: the ways frames reach meters (a serial bus, DTUs, NB-IoT, a simulator).

A link *type* (registered by a plugin with ``register_link_types``) validates its YAML
block and creates :class:`Link` objects. A link hands out a :class:`~.model.Transport`
for each meter on it; the metering service never touches sockets or serial ports. A link
whose meters sleep (NB-IoT) cannot hand out a transport: it keeps their commands in a
:class:`DownlinkQueue` (see :meth:`Link.downlink_queue`) and sends them when a meter reports.
"""

from __future__ import annotations

import abc
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from ..core import Context
from ..events import EVENT_LINK_ALARM
from ..i18n import Text
from .model import Command, MeterModel, MeterRef, ReadResult, Transport

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "DownlinkQueue",
    "Link",
    "LinkStats",
    "LinkType",
    "LinkUnavailable",
    "UplinkHandler",
    "host_of",
]

_LOGGER = logging.getLogger(__name__)

ALARM_REPEAT: Final = 600.0  # seconds before the same link alarm (kind, DTU, host) fires again
MAX_ALARM_KEYS: Final = 1024  # (kind, DTU, host) remembered for the repeat bound


def host_of(peer: str) -> str:
    """The host part of a ``host:port`` peer address."""
    return peer.rsplit(":", 1)[0] if ":" in peer else peer


class LinkUnavailable(Exception):
    """The link cannot reach the meter now (port missing, DTU not connected...)."""


@dataclass
class LinkStats:
    """Counters a link keeps; shown on the dashboard and used for health checks."""

    requests: int = 0
    replies: int = 0
    timeouts: int = 0
    errors: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    garbage_bytes: int = 0
    connects: int = 0
    disconnects: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict."""
        return {
            "requests": self.requests, "replies": self.replies, "timeouts": self.timeouts,
            "errors": self.errors, "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
            "garbage_bytes": self.garbage_bytes, "connects": self.connects,
            "disconnects": self.disconnects, **self.extra,
        }


# Sleeping meters push their readings: the link calls this with the meter's id and result.
UplinkHandler = Callable[[str, ReadResult, Mapping[str, Any]], Any]


class DownlinkQueue(abc.ABC):
    """A link's queue of commands for its sleeping meters: each goes out when its meter next
    reports, and every change of a command's state is fired as :attr:`command_event`.

    The event's data carries ``link``, ``meter_id``, ``command_id`` (as returned by
    :meth:`queue_command`), ``command``, ``state`` (queued, sending, sent, done, failed,
    expired, cancelled), ``previous`` and, when it failed, ``error``.
    """

    command_event: str

    @abc.abstractmethod
    async def queue_command(self, meter: MeterRef | str, command: Command | str,
                            context: Context | None = None, *,
                            ttl: timedelta | float | None = None,
                            params: Mapping[str, Any] | None = None) -> str:
        """Queue ``command`` for ``meter``; return the queued command's id at once.

        ``ttl`` (seconds or a timedelta) bounds the wait; ``params`` are kept with the
        command. Raises KeyError (meter not on this link) or ValueError (its model cannot
        do it); any other error means "not now, try again later".
        """

    @abc.abstractmethod
    async def cancel_command(self, command_id: str, context: Context | None = None) -> bool:
        """Withdraw a command that has not gone out yet; False if it is no longer queued."""


class Link(abc.ABC):
    """One configured link (``links: - {id: bus1, type: rs485, ...}``)."""

    type_name: str = ""

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        self.hub = hub
        self.config = config
        self.id: str = config["id"]
        self.stats = LinkStats()
        self.on_uplink: UplinkHandler | None = None
        # where this link is written, for messages: links[2] (set by the metering service)
        self.config_key = "links"
        self._alarmed: dict[tuple[str, str, str], float] = {}

    def setting(self, key: str) -> str:
        """Where one of this link's settings is changed: ``links[2].listen in hub.yaml:
        link dtu1``."""
        return Text("listen.key_link", path=f"{self.config_key}.{key}", link=self.id)

    async def bind(self) -> None:  # noqa: B027 - optional hook
        """Bind every port the link listens on (:func:`hub.listen.bind_tcp`, ``bind_udp``,
        keyed by :meth:`setting`), before any stage starts; raise PortInUse when one is
        taken. :meth:`start` then serves on them; :meth:`stop` closes them even if it never
        started. Nothing else: no reading, no sending."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open ports, start servers. Must not block on a meter or a DTU being there."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Close everything, also what :meth:`bind` took; pending requests fail with
        LinkUnavailable or NoReply."""

    def add_meter(self, meter: MeterRef, model: MeterModel,  # noqa: B027 - optional hook
                  settings: Mapping[str, Any]) -> None:
        """Tell the link a meter of ``model`` sits on it (``settings``: its link_options)."""

    def remove_meter(self, meter_id: str) -> None:  # noqa: B027 - optional hook
        """Forget a meter's device (replaced by a new one, which :meth:`add_meter` then
        brings): whatever the link indexed it by (an IMEI, a platform device id, an
        address) stops leading to the meter."""

    @abc.abstractmethod
    def transport_for(self, meter: MeterRef) -> Transport:
        """The transport reaching ``meter`` now, or raise LinkUnavailable."""

    def downlink_queue(self) -> DownlinkQueue | None:
        """Where commands for this link's sleeping meters wait, or None: commands go out
        at once through :meth:`transport_for` (every link whose meters are awake)."""
        return None

    def group_of(self, meter: MeterRef) -> str:
        """The unit requests are serialised on (the bus, or the DTU a meter sits behind).

        Reads of meters in different groups run concurrently.
        """
        return self.id

    @property
    def online(self) -> bool:
        """Whether the link can carry requests now."""
        return True

    def reading_quality(self, meter: MeterRef) -> Mapping[str, Any]:
        """What a reading taken through this link now must carry in its quality (a DTU
        that moved to a new address adds ``link_moved``); empty for most links."""
        return {}

    def alarm(self, kind: str, peer: str, message: str, *, source: str | None = None,
              **data: str) -> bool:
        """Log and count an attack on the link, and fire ``link_alarm``.

        The same kind from the same source (default: the peer's host; ``"*"`` for an attack
        from many hosts at once) about the same DTU fires at most once in ``ALARM_REPEAT``
        seconds (later ones are counted and logged at debug level), so a flood of attempts
        is not a flood of notifications. True when the alarm fired.
        """
        counts = self.stats.extra.setdefault("link_alarms", {})
        counts[kind] = counts.get(kind, 0) + 1
        key = (kind, data.get("dtu", ""), source or host_of(peer))
        now = time.monotonic()
        last = self._alarmed.get(key)
        if last is not None and now - last < ALARM_REPEAT:
            _LOGGER.debug("Link %s: %s from %s again: %s", self.id, kind, peer, message)
            return False
        if len(self._alarmed) >= MAX_ALARM_KEYS and key not in self._alarmed:
            del self._alarmed[min(self._alarmed, key=self._alarmed.__getitem__)]
        self._alarmed[key] = now
        _LOGGER.warning("Link %s: %s from %s: %s", self.id, kind, peer, message)
        self.hub.bus.fire(EVENT_LINK_ALARM, {"link": self.id, "kind": kind, "peer": peer,
                                             "message": message, **data},
                          context=Context(origin=f"link:{self.id}"))
        return True

    def status(self) -> dict[str, Any]:
        """State and counters for the dashboard."""
        return {"id": self.id, "type": self.type_name, "online": self.online,
                **self.stats.as_dict()}


class LinkType(abc.ABC):
    """A kind of link: its name in YAML, its schema, and how to build one."""

    name: str
    description: str = ""
    # Keys a meter on this link may carry (e.g. ``dtu: dtu_a`` for a DTU server link).
    meter_keys: Mapping[Any, Any] = {}

    @abc.abstractmethod
    def schema(self) -> Any:
        """The voluptuous schema of one ``links:`` entry of this type (``id``/``type`` incl.)."""

    @abc.abstractmethod
    def create(self, hub: Hub, config: Mapping[str, Any]) -> Link:
        """Build the link from its validated config."""
