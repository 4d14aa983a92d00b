"""The ``nbiot`` link: sleeping meters that report by themselves, commands that wait for them.

Uplinks reach the link three ways: CTWing and OneNET HTTP pushes (see :mod:`.push`) and raw
UDP datagrams from meters that send their frames straight to the hub (the frame's address
names the meter). Each is decoded by the meter's model (``decode_uplink``) and handed to
the metering service (``on_uplink``), which makes it a Reading with source ``uplink``.

Commands cannot be sent to a sleeping meter: ``transport_for`` raises LinkUnavailable and
callers queue them instead with :meth:`NbiotLink.queue_command` (the link is its own
:class:`~hub.metering.link.DownlinkQueue`, see ``Link.downlink_queue``). The queue is
durable (storage command rows, see :mod:`.queue`); a command goes out on the meter's next uplink
through the path that uplink came by: a UDP meter gets the frame at once in its receive
window and answers there; a platform meter's command is handed to CTWing or OneNET, which
cache it until the meter's next wake-up, and the meter's acknowledgement (a write reply in
a later uplink, or a CTWing commandResponse) completes it. Commands not completed before
their expiry end ``expired``. Every state change fires ``nbiot_command``.

A platform carries one frame per command: the model's first frame for it. Models whose
command first reads the meter (DL/T 645 with ``validity_clock: meter`` reads the clock before
a relay command) need that read switched off (``validity_clock: hub``) behind a platform;
over UDP the whole exchange runs in the receive window.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from hub.core import Context
from hub.i18n import Text, text_of
from hub.listen import Listening, bind_tcp, bind_udp
from hub.metering.link import DownlinkQueue, Link, LinkUnavailable
from hub.metering.link_schema import in_networks
from hub.metering.model import (
    Command,
    CommandResult,
    MeterModel,
    MeterRef,
    MeterRefused,
    NoReply,
    ProtocolError,
    ReadResult,
    Transport,
)
from hub.metering.service import MeteringService
from hub.util.dt import utcnow
from hub.util.ids import new_id
from hub.web.routes import HUB_KEY

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import (
    ALARMED_REASONS,
    LINK_TYPE,
    MAX_DATAGRAM,
    MAX_LOGGED_PER_MINUTE,
    OPEN_STATES,
    PATH_CTWING,
    PATH_ONENET,
    PATH_UDP,
    STATE_CANCELLED,
    STATE_DONE,
    STATE_EXPIRED,
    STATE_FAILED,
    STATE_QUEUED,
    STATE_SENDING,
    STATE_SENT,
    TIME_SYNC,
)
from .events import (
    EVENT_COMMAND,
    EVENT_DEVICE_EVENT,
    EVENT_DEVICE_OFFLINE,
    EVENT_DEVICE_ONLINE,
)
from .frames import Address, Captured, CaptureTransport, WindowTransport, frame_addresses
from .platforms import CtwingApi, OneNetApi, PlatformError
from .push import PushError, decode_base64, decode_hex, routes
from .queue import CommandStore, QueueConflict, QueuedCommand

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

# Commands that undo each other: a newer one supersedes an older queued one of its group.
_GROUPS = {
    str(Command.VALVE_OPEN): "valve", str(Command.VALVE_CLOSE): "valve",
    str(Command.TRIP): "relay", str(Command.CLOSE): "relay",
    str(Command.ALARM_ON): "alarm", str(Command.ALARM_OFF): "alarm",
    str(Command.PROTECT_ON): "protect", str(Command.PROTECT_OFF): "protect",
    TIME_SYNC: "clock",
}
# The status a full report shows once a command took effect (confirms a sent command).
_EFFECT = {str(Command.VALVE_OPEN): ("valve", "open"),
           str(Command.VALVE_CLOSE): ("valve", "closed"),
           str(Command.TRIP): ("relay", "open"), str(Command.CLOSE): ("relay", "closed")}
_DONE_CODES = frozenset({"SUCCESSFUL", "SUCCESS", "SUCCEED", "OK", "EXECUTED"})
_FAILED_CODES = frozenset({"FAILED", "FAIL", "TIMEOUT", "CANCELED", "CANCELLED",
                           "EXPIRED", "REJECTED"})


class QueueFull(Exception):
    """The meter has as many open commands as ``max_queue`` allows."""


@dataclass(frozen=True, slots=True)
class UplinkPath:
    """How a meter last reached the hub, and so how its downlinks go out."""

    kind: str  # udp, ctwing, onenet
    address: Address | None = None
    imei: str | None = None
    device_id: str | None = None
    product_id: str | None = None


@dataclass
class NbMeter:
    """A meter on the link, its identities and what the link knows of it."""

    ref: MeterRef
    model: MeterModel
    imei: str | None = None
    device_id: str | None = None
    path: UplinkPath | None = None
    last_uplink: datetime | None = None
    last_key: tuple[Any, ...] | None = None  # the last push, to drop a platform's re-sends
    uplinks: int = 0


def find_link(request: web.Request, link_id: str) -> NbiotLink | None:
    """The nbiot link a push URL names (on the hub's web app or a link's own listener)."""
    own = request.app.get(_LINK_KEY)
    if own is not None:
        return own if own.id == link_id else None
    hub = request.app[HUB_KEY]
    if not hub.has_component("metering"):
        return None
    link = hub.component("metering", MeteringService).links.get(link_id)
    return link if isinstance(link, NbiotLink) else None


_LINK_KEY: web.AppKey[NbiotLink] = web.AppKey("nbiot_link")


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, link: NbiotLink) -> None:
        self.link = link

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.link.datagram(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        _LOGGER.debug("Link %s: UDP error: %s", self.link.id, exc)


def _seconds(value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


class NbiotLink(Link, DownlinkQueue):
    """NB-IoT meters: pushed uplinks, a durable downlink queue, no polling."""

    type_name = LINK_TYPE
    command_event = EVENT_COMMAND

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(hub, config)
        self.udp_listen: tuple[str, int] | None = config.get("udp")
        self.http_listen: tuple[str, int] | None = config.get("http")
        self.max_body = int(config.get("max_body", 16384))
        self.window = _seconds(config.get("udp_window"), 5.0)
        self.command_ttl = _seconds(config.get("command_ttl"), 2 * 86400.0)
        self.max_attempts = int(config.get("max_attempts", 3))
        self.max_queue = int(config.get("max_queue", 16))
        self.expiry_check = _seconds(config.get("expiry_check"), 60.0)
        self.api_timeout = _seconds(config.get("api_timeout"), 15.0)
        ctwing = dict(config.get("ctwing") or {})
        onenet = dict(config.get("onenet") or {})
        self._ctwing_token: str = str(ctwing.get("token") or "")
        self.ctwing_token_header: str = str(ctwing.get("token_header") or "X-Token")
        self.ctwing = CtwingApi(ctwing) if ctwing.get("api_url") else None
        self.onenet_token: str = str(onenet.get("token") or "")
        self.allow_from: list[Any] = list(config.get("allow_from") or [])
        self.onenet_ds_id: str = str(onenet.get("ds_id") or "")
        self.onenet_property: str = str(onenet.get("property") or "payload")
        self.onenet_encoding: str = str(onenet.get("value_encoding") or "hex")
        self.onenet = OneNetApi(onenet) if onenet.get("api_url") else None
        self.meters: dict[str, NbMeter] = {}
        self._by_imei: dict[str, str] = {}
        self._by_device: dict[str, str] = {}
        self._by_address: dict[str, list[str]] = {}
        self.store = CommandStore(hub, self.id)
        self.endpoint: asyncio.DatagramTransport | None = None
        self._windows: dict[Address, WindowTransport] = {}
        self._delivering: dict[str, asyncio.Task[None]] = {}
        self._confirming: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._udp_bound: Listening | None = None
        self._http_bound: Listening | None = None
        self.http_port: int | None = None
        self._session: aiohttp.ClientSession | None = None
        self._expiry: asyncio.Task[None] | None = None
        self._started = False
        self._rejected: Counter[str] = Counter()
        self._counts: Counter[str] = Counter()
        self._log_budget = (0.0, 0)

    # --- meters -----------------------------------------------------------------------

    def add_meter(self, meter: MeterRef, model: MeterModel,
                  settings: Mapping[str, Any]) -> None:
        """Index the meter by its IMEI, platform device id and frame address."""
        imei = str(settings["imei"]) if settings.get("imei") is not None else None
        device_id = (str(settings["device_id"]) if settings.get("device_id") is not None
                     else None)
        entry = NbMeter(meter, model, imei, device_id)
        self.meters[meter.id] = entry
        for index, key, what in ((self._by_imei, imei, "IMEI"),
                                 (self._by_device, device_id, "device id")):
            if key is None:
                continue
            if key in index and index[key] != meter.id:
                _LOGGER.error("Link %s: meters %s and %s have the same %s; uplinks go to %s",
                              self.id, index[key], meter.id, what, index[key])
                continue
            index[key] = meter.id
        self._by_address.setdefault(meter.address.upper(), []).append(meter.id)

    def remove_meter(self, meter_id: str) -> None:
        """Drop a replaced device's IMEI, device id and address: its pushes are unknown."""
        self.meters.pop(meter_id, None)
        for index in (self._by_imei, self._by_device):
            for key in [k for k, v in index.items() if v == meter_id]:
                del index[key]
        for address in list(self._by_address):
            ids = [m for m in self._by_address[address] if m != meter_id]
            if ids:
                self._by_address[address] = ids
            else:
                del self._by_address[address]

    def meter_for(self, *, imei: str | None, device_id: str | None) -> NbMeter:
        """The meter a platform message names (404 when none is configured)."""
        meter_id = ((self._by_device.get(device_id) if device_id else None)
                    or (self._by_imei.get(imei) if imei else None)
                    or (self._by_imei.get(device_id) if device_id else None))
        if meter_id is None:
            raise PushError(404, "unknown_device", f"no meter on link {self.id} has IMEI "
                            f"{imei or '-'} or device id {device_id or '-'}")
        return self.meters[meter_id]

    def platform_path(self, kind: str, meter: NbMeter, *, imei: str | None,
                      device_id: str | None, product_id: str | None = None) -> UplinkPath:
        """The path a platform uplink came by (identities filled from the meter's config)."""
        return UplinkPath(kind, None, imei or meter.imei, device_id or meter.device_id,
                          product_id)

    # --- life-cycle ---------------------------------------------------------------------

    async def bind(self) -> None:
        """Bind the ``udp`` socket and the own push listener (``http``) if set, before any
        stage starts (PortInUse naming ``links[i].udp`` / ``links[i].http``). Pushes
        through the hub's web server need nothing here: the web server binds its own port."""
        if self.udp_listen is not None:
            self._udp_bound = bind_udp(*self.udp_listen, key=self.setting("udp"))
            self.hub.ports[f"link {self.id} udp"] = self._udp_bound.port
        if self.http_listen is not None:
            self._http_bound = bind_tcp(*self.http_listen, key=self.setting("http"))
            self.http_port = self._http_bound.port
            self.hub.ports[f"link {self.id} http"] = self.http_port

    async def start(self) -> None:
        """Load open commands, serve the UDP socket and the own push listener if set (on
        the sockets bound by :meth:`bind`; bound now if it did not run)."""
        loop = asyncio.get_running_loop()
        if self._udp_bound is None and self._http_bound is None:
            await self.bind()
        try:
            loaded = await self.store.load()
        except Exception as err:  # storage down: keep running, commands cannot be queued
            _LOGGER.error("Link %s: queued commands could not be loaded: %s", self.id, err)
            loaded = []
        if loaded:
            _LOGGER.info("Link %s: %d queued commands wait for their meters", self.id,
                         len(loaded))
        if self._udp_bound is not None:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Endpoint(self), sock=self._udp_bound.take()[0])
            self.endpoint = transport
        if self._http_bound is not None:
            app = web.Application(client_max_size=self.max_body)
            app[HUB_KEY] = self.hub
            app[_LINK_KEY] = self
            app.add_routes(routes())
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            for sock in self._http_bound.take():
                await web.SockSite(self._runner, sock).start()
        self._expiry = self.hub.create_background_task(self._expiry_loop(),
                                                       f"link {self.id} expiry")
        self._started = True
        _LOGGER.info("Link %s: %d NB-IoT meters; pushes on /api/nbiot/%s/ctwing|onenet%s%s",
                     self.id, len(self.meters), self.id,
                     f", own listener on port {self.http_port}" if self.http_port else "",
                     f", UDP on port {self.udp_port}" if self.endpoint else "")

    async def stop(self) -> None:
        """Stop deliveries, the expiry loop, the sockets and the API session."""
        self._started = False
        tasks = [t for t in (self._expiry, *self._delivering.values(), *self._confirming)
                 if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._expiry = None
        self._delivering.clear()
        if self.endpoint is not None:
            self.endpoint.close()
            self.endpoint = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for bound in (self._udp_bound, self._http_bound):  # bound, perhaps never served
            if bound is not None:
                bound.close()
        self._udp_bound = self._http_bound = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def udp_port(self) -> int:
        """The UDP port actually bound (``udp: 127.0.0.1:0`` picks one)."""
        if self.endpoint is None:
            return self.udp_listen[1] if self.udp_listen else 0
        return int(self.endpoint.get_extra_info("sockname")[1])

    @property
    def online(self) -> bool:
        """Started (pushes and datagrams are taken)."""
        return self._started

    def downlink_queue(self) -> DownlinkQueue:
        """This link: commands wait for the meter's next uplink."""
        return self

    def transport_for(self, meter: MeterRef) -> Transport:
        """Never: a sleeping meter cannot be polled; queue commands with queue_command()."""
        raise LinkUnavailable(Text("nbiot.sleeps", link=self.id, meter=meter.id))

    def status(self) -> dict[str, Any]:
        """Counters, ports and the queue's size."""
        queued = Counter(c.state for c in self.store.open.values())
        return {**super().status(), "meters": len(self.meters),
                "udp_port": self.udp_port if self.endpoint else None,
                "http_port": self.http_port, "commands": dict(queued),
                "durable_queue": self.store.durable}

    # --- bookkeeping --------------------------------------------------------------------

    def count(self, what: str) -> None:
        """Count something that went right (uplinks, verifications, ignored messages)."""
        self._counts[what] += 1
        self.stats.extra[what] = self._counts[what]

    def reject(self, reason: str, message: str, source: str | None) -> None:
        """Count and (at a bounded rate) log bad input."""
        self.stats.errors += 1
        self._rejected[reason] += 1
        self.stats.extra["rejected"] = dict(self._rejected)
        now = time.monotonic()
        start, logged = self._log_budget
        if now - start >= 60:
            start, logged = now, 0
        if logged < MAX_LOGGED_PER_MINUTE:
            _LOGGER.warning("Link %s: refused input from %s (%s): %s", self.id,
                            source or "?", reason, message)
        elif logged == MAX_LOGGED_PER_MINUTE:
            _LOGGER.warning("Link %s: more bad input this minute; counting it only "
                            "(see the link's stats)", self.id)
        self._log_budget = (start, logged + 1)
        kind = ALARMED_REASONS.get(reason)
        if kind is not None:
            self.alarm(kind, source or "?", f"uplink refused ({reason}): {message}",
                       source=source or "?")

    def check_ctwing_token(self, request: web.Request) -> None:
        """Refuse a CTWing push without the configured shared token (401), and every CTWing
        push while no token is configured (404)."""
        token = self._ctwing_token
        if not token:
            raise PushError(404, "not_configured", f"CTWing push is not configured on link "
                            f"{self.id} (set ctwing.token): pushes without one are refused")
        given = request.headers.get(self.ctwing_token_header) or request.query.get("token")
        if given is None or not hmac.compare_digest(given.encode("utf-8", "replace"),
                                                    token.encode()):
            raise PushError(401, "unauthorized", f"push needs the link's token (header "
                            f"{self.ctwing_token_header} or ?token=)")

    def onenet_bytes(self, value: Any, field: str) -> bytes:
        """A OneNET value (hex text by default, base64 with value_encoding: base64)."""
        if self.onenet_encoding == "base64":
            return decode_base64(value, field)
        return decode_hex(value, field)

    def _fire(self, event_type: str, data: Mapping[str, Any],
              context: Context | None = None) -> None:
        self.hub.bus.fire(event_type, {"link": self.id, **data},
                          context=context or Context(origin=f"link.{self.id}"))

    # --- uplinks ------------------------------------------------------------------------

    def uplink(self, meter: NbMeter, data: bytes, info: Mapping[str, Any],
               path: UplinkPath, *, dedup: tuple[Any, ...] | None = None) -> dict[str, Any]:
        """Decode one uplink of ``meter`` and pass it on; 422 when the model refuses it."""
        if dedup is not None and dedup == meter.last_key:
            self.count("duplicates")
            return {"duplicate": True}
        try:
            result = meter.model.decode_uplink(data, meter.ref)
        except MeterRefused as err:
            raise PushError(422, "meter_refused", f"meter {meter.ref.id} sent an error "
                            f"frame: {err}") from None
        except ProtocolError as err:
            raise PushError(422, "decode_failed", f"uplink of meter {meter.ref.id} does "
                            f"not decode: {err}") from None
        meter.last_key = dedup
        meter.path = path
        meter.last_uplink = utcnow()
        meter.uplinks += 1
        self.stats.replies += 1
        self.count("uplinks")
        kind = "report" if (result.registers or result.values) else "ack"
        if kind == "report":
            self._publish(meter, result, info)
        self._confirm(meter, result, kind)
        self._schedule_delivery(meter)
        return {"uplink": kind, "queued": len(self.store.of_meter(meter.ref.id, STATE_QUEUED))}

    def _publish(self, meter: NbMeter, result: ReadResult, info: Mapping[str, Any]) -> None:
        handler = self.on_uplink
        if handler is None:
            return
        try:
            handler(meter.ref.id, result, dict(info))
        except Exception:
            _LOGGER.exception("Link %s: uplink of %s could not be recorded", self.id,
                              meter.ref.id)

    def device_status(self, meter: NbMeter, online: bool, info: Mapping[str, Any]) -> None:
        """A platform online/offline report: an event; an awake meter gets its commands."""
        self.count("online_reports" if online else "offline_reports")
        self._fire(EVENT_DEVICE_ONLINE if online else EVENT_DEVICE_OFFLINE,
                   {"meter_id": meter.ref.id, **info})
        if online and meter.path is None and info.get("platform") in (PATH_CTWING,
                                                                      PATH_ONENET):
            meter.path = self.platform_path(str(info["platform"]), meter,
                                            imei=info.get("imei"),
                                            device_id=info.get("device_id"),
                                            product_id=info.get("product_id"))
        if online:
            self._schedule_delivery(meter)

    def device_event(self, meter: NbMeter, info: Mapping[str, Any]) -> None:
        """A platform event report (alarm, tamper...): passed on as an event."""
        self.count("event_reports")
        self._fire(EVENT_DEVICE_EVENT, {"meter_id": meter.ref.id,
                                        **{k: v for k, v in info.items() if v is not None}})

    def datagram(self, data: bytes, address: Address) -> None:
        """A UDP datagram: a reply in an open receive window, else an uplink (dropped when
        its source is outside ``allow_from``)."""
        self.stats.bytes_in += len(data)
        if self.allow_from and not in_networks(address[0], self.allow_from):
            self.stats.garbage_bytes += len(data)
            self.reject("source_refused", f"{address[0]} is outside the allowed networks "
                        f"({self.setting('allow_from')})", f"{address[0]}:{address[1]}")
            return
        window = self._windows.get(address)
        if window is not None:
            window.put(data)
            return
        self._udp_uplink(data, address)

    def _udp_uplink(self, data: bytes, address: Address) -> None:
        source = f"{address[0]}:{address[1]}"
        if len(data) > MAX_DATAGRAM:
            self.stats.garbage_bytes += len(data)
            self.reject("too_large", f"datagram of {len(data)} bytes", source)
            return
        candidates = [self.meters[m] for a in frame_addresses(data)
                      for m in self._by_address.get(a, ())]
        if not candidates:
            self.stats.garbage_bytes += len(data)
            self.reject("unknown_device", f"no configured meter in a {len(data)}-byte "
                        f"datagram ({data[:16].hex(' ')})", source)
            return
        error: PushError | None = None
        for meter in candidates:
            try:
                self.uplink(meter, data, {"platform": PATH_UDP, "source": source},
                            UplinkPath(PATH_UDP, address))
                return
            except PushError as err:
                error = error or err
        assert error is not None
        self.reject(error.reason, error.message, source)

    # --- the command queue: the seam for metering and prepaid ----------------------------

    async def queue_command(self, meter: MeterRef | str, command: Command | str,
                            context: Context | None = None, *,
                            ttl: timedelta | float | None = None,
                            params: Mapping[str, Any] | None = None) -> str:
        """Queue a command for a sleeping meter; returns the command id at once.

        ``command`` is a :class:`Command` (valve_open, valve_close, trip, close...) or
        ``"time_sync"`` (the meter's clock is set to the hub's time at delivery).
        The command goes out on the meter's next uplink and ends ``done`` (acknowledged),
        ``failed`` or ``expired`` after ``ttl`` (default ``command_ttl``); follow it with
        ``nbiot_command`` events or storage's command rows (``params.queue == "nbiot"``).
        The same command already queued is not queued twice (its id is returned); a
        queued command undone by this one (valve_open after valve_close) is cancelled.
        Raises KeyError (meter not on this link), ValueError (the model cannot do it) or
        QueueFull.
        """
        meter_id = meter if isinstance(meter, str) else meter.id
        entry = self.meters.get(meter_id)
        if entry is None:
            raise KeyError(f"meter {meter_id} is not on link {self.id}")
        name = str(command)
        if name != TIME_SYNC and name not in {str(c) for c in Command}:
            raise ValueError(Text("nbiot.unknown_command", name=repr(name)))
        try:
            await self._encode(entry, name)
        except ProtocolError as err:
            raise ValueError(Text("nbiot.cannot_encode", meter=meter_id, model=entry.model.name,
                                   reason=text_of(err))) from None
        open_now = self.store.of_meter(meter_id)
        for item in open_now:
            if item.command == name and item.state == STATE_QUEUED:
                return item.command_id
        for item in open_now:
            if (item.state == STATE_QUEUED and _GROUPS.get(item.command) is not None
                    and _GROUPS.get(item.command) == _GROUPS.get(name)):
                await self._move(item, STATE_CANCELLED, (STATE_QUEUED,),
                                 {"reason": f"superseded by {name}"}, context=context)
        if len(self.store.of_meter(meter_id)) >= self.max_queue:
            raise QueueFull(Text("nbiot.queue_full", meter=meter_id, limit=self.max_queue))
        seconds = _seconds(ttl, self.command_ttl)
        expires = utcnow() + timedelta(seconds=seconds)
        item = await self.store.create(f"nb-{new_id()}", meter_id, name, expires,
                                       dict(params or {}), context)
        _LOGGER.info("Link %s: %s for %s queued until %s (next uplink)", self.id, name,
                     meter_id, expires.isoformat(timespec="seconds"))
        self._fire(EVENT_COMMAND, self._event_data(item, None, {}), context)
        return item.command_id

    async def cancel_command(self, command_id: str, context: Context | None = None) -> bool:
        """Withdraw a command that has not gone out yet; False if it is not queued."""
        item = self.store.open.get(command_id)
        if item is None or item.state != STATE_QUEUED:
            return False
        try:
            await self._move(item, STATE_CANCELLED, (STATE_QUEUED,),
                             {"reason": "cancelled"}, context=context)
        except QueueConflict:
            return False
        return True

    def pending(self, meter_id: str | None = None) -> list[dict[str, Any]]:
        """Open commands (of one meter), oldest first, as dicts."""
        items = sorted(self.store.open.values(), key=lambda c: c.created)
        return [{"command_id": c.command_id, "meter_id": c.meter_id, "command": c.command,
                 "state": c.state, "created": c.created.isoformat(),
                 "expires": c.expires.isoformat(), "attempts": c.attempts}
                for c in items if meter_id is None or c.meter_id == meter_id]

    # --- delivery -----------------------------------------------------------------------

    def _event_data(self, item: QueuedCommand, previous: str | None,
                    detail: Mapping[str, Any], error: str | None = None) -> dict[str, Any]:
        data = {"meter_id": item.meter_id, "command_id": item.command_id,
                "command": item.command, "state": item.state, "previous": previous,
                "attempts": item.attempts, "expires": item.expires.isoformat(),
                **{k: v for k, v in detail.items() if k != "state"}}
        if error:
            data["error"] = error
        return data

    async def _move(self, item: QueuedCommand, state: str, expected: tuple[str, ...],
                    detail: Mapping[str, Any], *, error: str | None = None,
                    attempt: bool = False, context: Context | None = None) -> None:
        previous = await self.store.move(item, state, expected=expected, detail=detail,
                                         error=error, attempt=attempt, context=context)
        if state != STATE_SENDING:
            level = logging.WARNING if state in (STATE_FAILED, STATE_EXPIRED) else logging.INFO
            _LOGGER.log(level, "Link %s: %s for %s %s%s", self.id, item.command,
                        item.meter_id, state, f" ({error})" if error else "")
            self._fire(EVENT_COMMAND, self._event_data(item, previous, detail, error), context)

    def _schedule_delivery(self, meter: NbMeter) -> None:
        meter_id = meter.ref.id
        if (not self._started or meter_id in self._delivering or meter.path is None
                or not self.store.of_meter(meter_id, STATE_QUEUED)):
            return
        self._delivering[meter_id] = self.hub.create_task(
            self._deliver(meter, meter.path), name=f"link {self.id} downlink {meter_id}")

    async def _deliver(self, meter: NbMeter, path: UplinkPath) -> None:
        try:
            for item in self.store.of_meter(meter.ref.id, STATE_QUEUED):
                if item.expired(utcnow()):
                    await self._expire(item)
                    continue
                try:
                    await self._move(item, STATE_SENDING, (STATE_QUEUED,),
                                     {"path": path.kind}, attempt=True)
                except QueueConflict:
                    continue
                await self._send_one(meter, item, path)
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception("Link %s: delivery to %s failed", self.id, meter.ref.id)
        finally:
            self._delivering.pop(meter.ref.id, None)

    async def _encode(self, meter: NbMeter, name: str) -> bytes:
        """The command frame the model builds for ``name`` (nothing is sent)."""
        try:
            await self._run_model(meter, CaptureTransport(), name)
        except Captured as captured:
            return captured.request
        raise ProtocolError(Text("nbiot.no_frame", model=meter.model.name, name=name))

    async def _run_model(self, meter: NbMeter, transport: Transport,
                         name: str) -> CommandResult:
        if name == TIME_SYNC:
            await meter.model.sync_time(transport, meter.ref, utcnow())
            return CommandResult(True, "meter clock set")
        return await meter.model.command(transport, meter.ref, Command(name))

    async def _send_one(self, meter: NbMeter, item: QueuedCommand, path: UplinkPath) -> None:
        try:
            if path.kind == PATH_UDP:
                await self._send_udp(meter, item, path)
            else:
                await self._send_platform(meter, item, path)
        except (NoReply, PlatformError, OSError, TimeoutError) as err:
            await self._retry_or_fail(item, text_of(err) or type(err).__name__)
        except MeterRefused as err:
            await self._move(item, STATE_FAILED, (STATE_SENDING,), {"path": path.kind},
                             error=Text("nbiot.meter_refused", reason=err.summary))
        except ProtocolError as err:
            await self._move(item, STATE_FAILED, (STATE_SENDING,), {"path": path.kind},
                             error=text_of(err))

    async def _retry_or_fail(self, item: QueuedCommand, error: str) -> None:
        if item.attempts >= self.max_attempts:
            await self._move(item, STATE_FAILED, (STATE_SENDING,), {},
                             error=Text("nbiot.after_attempts", reason=error,
                                        attempts=item.attempts))
        else:
            await self._move(item, STATE_QUEUED, (STATE_SENDING,), {"retry": True},
                             error=error)

    async def _send_udp(self, meter: NbMeter, item: QueuedCommand, path: UplinkPath) -> None:
        address = path.address
        if address is None or self.endpoint is None:
            raise PlatformError(Text("nbiot.no_udp_path"))
        endpoint = self.endpoint

        def sendto(data: bytes) -> None:
            self.stats.requests += 1
            self.stats.bytes_out += len(data)
            endpoint.sendto(data, address)

        window = WindowTransport(sendto, lambda data: self._udp_uplink(data, address),
                                 self.window)
        self._windows[address] = window
        try:
            result = await self._run_model(meter, window, item.command)
        finally:
            if self._windows.get(address) is window:
                del self._windows[address]
        if result.accepted:
            await self._move(item, STATE_DONE, (STATE_SENDING,),
                             {"path": PATH_UDP, "detail": result.detail})
        else:
            await self._move(item, STATE_FAILED, (STATE_SENDING,), {"path": PATH_UDP},
                             error=Text("nbiot.meter_refused", reason=result.detail))

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.api_timeout))
        return self._session

    async def _send_platform(self, meter: NbMeter, item: QueuedCommand,
                             path: UplinkPath) -> None:
        frame = await self._encode(meter, item.command)
        remaining = max(1, int((item.expires - utcnow()).total_seconds()))
        if path.kind == PATH_CTWING:
            if self.ctwing is None:
                raise PlatformError(Text("nbiot.no_ctwing_api"))
            if not path.device_id:
                raise PlatformError(Text("nbiot.no_device_id"))
            platform_id = await self.ctwing.send_command(
                self._client(), device_id=path.device_id, product_id=path.product_id,
                payload=frame, ttl=remaining)
        elif path.kind == PATH_ONENET:
            if self.onenet is None:
                raise PlatformError(Text("nbiot.no_onenet_api"))
            imei = path.imei or meter.imei
            if not imei:
                raise PlatformError(Text("nbiot.no_imei"))
            platform_id = await self.onenet.send_command(self._client(), imei=imei,
                                                         payload=frame, expires=item.expires)
        else:
            raise PlatformError(Text("nbiot.unknown_path", kind=path.kind))
        self.stats.requests += 1
        self.stats.bytes_out += len(frame)
        await self._move(item, STATE_SENT, (STATE_SENDING,),
                         {"path": path.kind, "platform_id": platform_id or None,
                          "frame": frame.hex().upper()})

    # --- completion ---------------------------------------------------------------------

    def _confirm(self, meter: NbMeter, result: ReadResult, kind: str) -> None:
        """A sent command is done when the meter acknowledges it (a write reply) or when a
        report shows its effect."""
        sent = self.store.of_meter(meter.ref.id, STATE_SENT)
        if not sent:
            return
        done: list[tuple[QueuedCommand, dict[str, Any]]] = []
        if kind == "ack":
            done.append((sent[0], {"by": "meter acknowledgement",
                                   "status": _plain(result.status)}))
        else:
            for item in sent:
                effect = _EFFECT.get(item.command)
                if effect is not None and result.status.get(effect[0]) == effect[1]:
                    done.append((item, {"by": "report", "status": _plain(result.status)}))
        for item, detail in done:
            task = self.hub.create_task(self._complete(item, STATE_DONE, detail, None),
                                        name=f"link {self.id} confirm {item.command_id}")
            self._confirming.add(task)
            task.add_done_callback(self._confirming.discard)

    async def _complete(self, item: QueuedCommand, state: str, detail: Mapping[str, Any],
                        error: str | None) -> None:
        try:
            await self._move(item, state, (STATE_SENT,), detail, error=error)
        except QueueConflict:
            pass  # completed by another path meanwhile
        except Exception as err:  # storage down: the command stays sent, expiry ends it
            _LOGGER.error("Link %s: command %s could not be marked %s: %s", self.id,
                          item.command_id, state, err)

    async def command_response(self, meter: NbMeter, platform_id: str, status: str,
                               info: Mapping[str, Any]) -> bool:
        """A platform's report on a command it delivered; False when it is not ours."""
        item = self.store.by_platform_id(platform_id)
        if item is None or item.meter_id != meter.ref.id:
            self.count("unmatched_responses")
            return False
        code = status.upper()
        if code in _DONE_CODES:
            await self._complete(item, STATE_DONE, {"by": "platform", "result": code}, None)
        elif code in _FAILED_CODES:
            await self._complete(item, STATE_FAILED, {"by": "platform", "result": code},
                                 Text("nbiot.platform_reports", code=code))
        else:
            self._fire(EVENT_COMMAND, self._event_data(item, item.state,
                                                       {"platform_status": code}))
        return True

    async def _expire(self, item: QueuedCommand) -> None:
        with contextlib.suppress(QueueConflict):
            await self._move(item, STATE_EXPIRED, OPEN_STATES,
                             {"expired_at": item.expires.isoformat()},
                             error=Text("nbiot.not_acknowledged"))

    async def _expiry_loop(self) -> None:
        while True:
            await asyncio.sleep(self.expiry_check)
            now = utcnow()
            for item in list(self.store.open.values()):
                busy = item.state == STATE_SENDING and item.meter_id in self._delivering
                if item.state in OPEN_STATES and not busy and item.expired(now):
                    try:
                        await self._expire(item)
                    except Exception as err:
                        _LOGGER.error("Link %s: command %s could not expire: %s", self.id,
                                      item.command_id, err)


def _plain(status: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if isinstance(v, str | int | bool | float)}
