"""Simulated NB-IoT meters reporting to an ``nbiot`` link, and a simulated CTWing platform.

    simulation:
      nbiot: [{link: nb1, period: 30s}]   # every meter of link nb1 reports every 30 s

Each meter of the link gets its model's simulator (``nb_water``: a CJ/T 188 water meter)
and pushes the simulator's ``uplink()`` bytes every ``period``, the way its NB module
would: as a CTWing ``dataReport`` (base64 APPdata) to the link's push endpoint, or as one
raw UDP datagram to the link's UDP port (``mode: auto`` picks CTWing for meters with an
``imei`` or ``device_id`` in their link options, UDP for the others). After each report
it listens for ``window`` seconds, like a module leaving PSM: a UDP meter answers the
frames the hub sends to it, a CTWing meter takes the commands the platform cached for it
and reports its answer as the next ``dataReport``. A closed valve stops its flow.

When the link's ``ctwing.api_url`` points at this machine, a simulated CTWing platform
listens there: it checks the AEP command call (headers, time, HMAC-SHA1 signature, body),
caches each command per device and hands it to the meter in its next window.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

import aiohttp
import voluptuous as vol
from aiohttp import web

from hub import validation as cv
from hub.metering.link_schema import short_duration

if TYPE_CHECKING:
    from .simulation import Simulation

_LOGGER = logging.getLogger(__name__)

LOCAL_HOSTS: Final = ("127.0.0.1", "localhost", "::1")
MAX_CACHED: Final = 32  # commands the simulated platform caches per device
MAX_CLOCK_SKEW_MS: Final = 15 * 60 * 1000  # the AEP refuses requests this far off its clock

NBIOT_SCHEMA = cv.Strict({
    vol.Required("link"): cv.identifier,
    vol.Optional("period", default=timedelta(seconds=30)): short_duration,
    vol.Optional("first", default=timedelta(seconds=1)): short_duration,
    vol.Optional("mode", default="auto"): cv.one_of("auto", "ctwing", "udp"),
    vol.Optional("window", default=timedelta(seconds=3)): short_duration,
    vol.Optional("host", default="127.0.0.1"): cv.string,
    vol.Optional("platform", default=True): cv.boolean,
})


def _ctwing_signature(secret: str, app_key: str, stamp: str, params: Mapping[str, str],
                      body: str) -> str:
    """The AEP signature, computed independently of the link's client."""
    lines = [f"application:{app_key}", f"timestamp:{stamp}"]
    lines += [f"{key}:{params[key]}" for key in sorted(params)]
    text = "\n".join(lines) + "\n" + (body + "\n" if body else "")
    return base64.b64encode(hmac.new(secret.encode(), text.encode(),
                                     hashlib.sha1).digest()).decode()


class SimulatedCtwingPlatform:
    """The CTWing AEP command API on a local port, caching commands per device."""

    def __init__(self, host: str, port: int, config: Mapping[str, Any], name: str = "") -> None:
        self.host = host
        self.port = port
        self.name = name or f"ctwing@{host}:{port}"
        self._app_key = str(config.get("app_key") or "")
        self._secret = str(config.get("app_secret") or "")
        self._master_key = str(config.get("master_key") or "")
        self.accepted = 0
        self.refused: list[str] = []  # why calls were refused (no secrets in it)
        self.delivered: list[str] = []  # command ids handed to meters
        self._cache: dict[str, deque[tuple[str, bytes]]] = defaultdict(
            lambda: deque(maxlen=MAX_CACHED))
        self._arrived: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen."""
        app = web.Application(client_max_size=65536)
        app.add_routes([web.get("/echo", self._echo),
                        web.post("/aep_device_command/command", self._command)])
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _echo(self, request: web.Request) -> web.Response:
        return web.Response(text="echo", headers={"x-ag-timestamp": str(int(time.time() * 1000))})

    def _refuse(self, why: str) -> web.Response:
        self.refused.append(why)
        _LOGGER.warning("Simulated CTWing %s refused a command call: %s", self.name, why)
        return web.json_response({"code": 1001, "msg": why})

    async def _command(self, request: web.Request) -> web.Response:
        body = (await request.read()).decode("utf-8", "replace")
        headers = request.headers
        for name in ("application", "timestamp", "version", "MasterKey", "signature"):
            if not headers.get(name):
                return self._refuse(f"header {name} missing")
        if headers["application"] != self._app_key or headers["MasterKey"] != self._master_key:
            return self._refuse("unknown application or MasterKey")
        stamp = headers["timestamp"]
        if not stamp.isdigit() or abs(int(stamp) - time.time() * 1000) > MAX_CLOCK_SKEW_MS:
            return self._refuse("timestamp missing or off the platform clock")
        params = {"MasterKey": headers["MasterKey"], **dict(request.query)}
        expected = _ctwing_signature(self._secret, self._app_key, stamp, params, body)
        if not hmac.compare_digest(expected.encode(), headers["signature"].encode()):
            return self._refuse("signature mismatch")
        try:
            doc = json.loads(body)
            payload = bytes.fromhex(doc["content"]["payload"])
            device_id = str(doc["deviceId"])
        except (ValueError, KeyError, TypeError):
            return self._refuse("body needs deviceId and content.payload (hex)")
        command_id = f"sim-{next(self._ids)}"
        self._cache[device_id].append((command_id, payload))
        self._arrived[device_id].set()
        self.accepted += 1
        return web.json_response({"code": 0, "msg": "ok", "result": {
            "commandId": command_id, "commandStatus": "指令已保存", "deviceId": device_id}})

    async def take(self, device_id: str, timeout: float) -> list[tuple[str, bytes]]:
        """The commands cached for a device, waiting up to ``timeout`` for the first."""
        event = self._arrived[device_id]
        if not self._cache[device_id]:
            event.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await event.wait()
        taken = list(self._cache[device_id])
        self._cache[device_id].clear()
        self.delivered.extend(command_id for command_id, _ in taken)
        return taken


class _Radio(asyncio.DatagramProtocol):
    def __init__(self, meter: SimulatedNbMeter) -> None:
        self.meter = meter

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.meter.heard(data)


class SimulatedNbMeter:
    """One NB-IoT meter: reports every period, listens briefly after each report."""

    def __init__(self, meter_id: str, simulator: Any, *, mode: str, period: float,
                 first: float, window: float, host: str,
                 udp_port: Callable[[], int | None], push_url: Callable[[], str | None],
                 session: Callable[[], aiohttp.ClientSession], imei: str | None = None,
                 device_id: str | None = None, product_id: str | None = None,
                 token: str | None = None, token_header: str = "X-Token",
                 platform: SimulatedCtwingPlatform | None = None) -> None:
        self.meter_id = meter_id
        self.simulator = simulator
        self.mode = mode
        self.period = period
        self.first = first
        self.window = window
        self.host = host
        self._udp_port = udp_port
        self._push_url = push_url
        self._session = session
        self.imei = imei
        self.device_id = device_id
        self.product_id = product_id
        self._token = token
        self._token_header = token_header
        self.platform = platform
        self.reports = 0
        self.answered = 0  # downlink frames answered
        self.dropped = 0  # datagrams heard while the radio was off
        self.last_error: str | None = None
        self._listening = False
        self._parser = simulator.new_parser()
        self._radio: asyncio.DatagramTransport | None = None
        self._task: asyncio.Task[None] | None = None
        self._sn = itertools.count(1)

    async def start(self) -> None:
        """Report every period in the background."""
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"simulated NB meter {self.meter_id}")

    async def stop(self) -> None:
        """Stop reporting and close the radio."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._radio is not None:
            self._radio.close()
            self._radio = None

    async def _run(self) -> None:
        await asyncio.sleep(self.first)
        while True:
            try:
                await self.report()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self.last_error = f"{type(err).__name__}: {err}"
                _LOGGER.debug("Simulated NB meter %s: report failed: %s", self.meter_id,
                              self.last_error)
            await asyncio.sleep(self.period)

    async def report(self) -> None:
        """Push one report now and keep the receive window open afterwards."""
        if self.mode == "udp":
            await self._report_udp()
        else:
            await self._report_ctwing()
        self.reports += 1

    # --- UDP ----------------------------------------------------------------------------

    def heard(self, data: bytes) -> None:
        """A datagram from the hub: answered in the window, lost outside it."""
        if not self._listening or self._radio is None:
            self.dropped += 1
            return
        for frame in self._parser.feed(data):
            reply = self.simulator.handle_frame(frame)
            if reply:
                self.answered += 1
                self._radio.sendto(reply)

    async def _report_udp(self) -> None:
        port = self._udp_port()
        if not port:
            raise ConnectionError("the link has no UDP port")
        if self._radio is None:
            transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                lambda: _Radio(self), remote_addr=(self.host, port))
            self._radio = transport
        self._parser.reset()
        self._listening = True
        try:
            self._radio.sendto(self.simulator.uplink())
            await asyncio.sleep(self.window)
        finally:
            self._listening = False

    # --- CTWing -------------------------------------------------------------------------

    def _data_report(self, data: bytes) -> dict[str, Any]:
        return {
            "messageType": "dataReport", "tenantId": "sim", "productId": self.product_id or "",
            "deviceId": self.device_id or "", "IMEI": self.imei or "", "IMSI": "undefined",
            "timestamp": int(time.time() * 1000), "protocol": "lwm2m", "topic": "v1/up/ad",
            "upPacketSN": next(self._sn), "upDataSN": -1, "serviceId": "",
            "payload": {"APPdata": base64.b64encode(data).decode()},
        }

    async def _post(self, doc: Mapping[str, Any]) -> None:
        url = self._push_url()
        for _ in range(50):  # the web server starts after the simulated devices
            if url:
                break
            await asyncio.sleep(0.1)
            url = self._push_url()
        if not url:
            raise ConnectionError("the hub's push endpoint is not up")
        headers = {self._token_header: self._token} if self._token else {}
        async with self._session().post(url, json=dict(doc), headers=headers) as response:
            text = await response.text()
            if response.status != 200:
                raise ConnectionError(f"push refused: HTTP {response.status} {text[:200]}")

    async def _report_ctwing(self) -> None:
        await self._post(self._data_report(self.simulator.uplink()))
        if self.platform is None or not self.device_id:
            return
        for _command_id, frame in await self.platform.take(self.device_id, self.window):
            self._parser.reset()
            for request in self._parser.feed(frame):
                reply = self.simulator.handle_frame(request)
                if reply:
                    self.answered += 1
                    await self._post(self._data_report(reply))


class NbiotSimulation:
    """The simulated NB meters (and CTWing platforms) of a ``simulation:`` block."""

    def __init__(self, simulation: Simulation) -> None:
        self.simulation = simulation
        self.meters: dict[str, SimulatedNbMeter] = {}
        self.platforms: dict[str, SimulatedCtwingPlatform] = {}
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._session

    def _live_link(self, link_id: str) -> Any:
        from hub.metering.service import MeteringService

        hub = self.simulation.hub
        if not hub.has_component("metering"):
            return None
        return hub.component("metering", MeteringService).links.get(link_id)

    def _push_url(self, link_id: str, host: str) -> Callable[[], str | None]:
        def url() -> str | None:
            live = self._live_link(link_id)
            port = getattr(live, "http_port", None)
            if not port:
                from hub.web.routes import web_port

                port = web_port(self.simulation.hub)
            return f"http://{host}:{port}/api/nbiot/{link_id}/ctwing" if port else None
        return url

    def _udp_port(self, link_id: str) -> Callable[[], int | None]:
        def port() -> int | None:
            live = self._live_link(link_id)
            value = getattr(live, "udp_port", None)
            return int(value) if value else None
        return port

    def build(self, entry: Mapping[str, Any]) -> None:
        """Create the simulated meters of one ``nbiot:`` entry."""
        link = self.simulation._links[entry["link"]]
        ctwing = link.get("ctwing") or {}
        platform = None
        api = urlsplit(str(ctwing.get("api_url") or ""))
        if entry["platform"] and api.hostname in LOCAL_HOSTS and api.port:
            key = f"{api.hostname}:{api.port}"
            platform = self.platforms.get(key)
            if platform is None:
                platform = self.platforms[key] = SimulatedCtwingPlatform(
                    api.hostname or "127.0.0.1", int(api.port), ctwing, name=key)
        for meter in self.simulation._meters:
            if meter["link"] != link["id"]:
                continue
            simulator = self.simulation._simulator(meter)
            if simulator is None or not hasattr(simulator, "uplink"):
                continue
            options = meter.get("link_options") or {}
            mode = entry["mode"]
            if mode == "auto":
                mode = "ctwing" if options.get("imei") or options.get("device_id") else "udp"
            self.meters[meter["id"]] = SimulatedNbMeter(
                meter["id"], simulator, mode=mode,
                period=entry["period"].total_seconds(), first=entry["first"].total_seconds(),
                window=entry["window"].total_seconds(), host=entry["host"],
                udp_port=self._udp_port(link["id"]),
                push_url=self._push_url(link["id"], entry["host"]), session=self._client,
                imei=_opt(options.get("imei")), device_id=_opt(options.get("device_id")),
                product_id=_opt(ctwing.get("product_id")), token=_opt(ctwing.get("token")),
                token_header=str(ctwing.get("token_header") or "X-Token"), platform=platform)

    async def start(self) -> None:
        """Start the platforms, then the meters."""
        for platform in self.platforms.values():
            await platform.start()
        for meter in self.meters.values():
            await meter.start()
        if self.meters:
            _LOGGER.info("Simulation: %d NB-IoT meters reporting", len(self.meters))

    async def stop(self) -> None:
        """Stop the meters and the platforms."""
        for meter in self.meters.values():
            await meter.stop()
        for platform in self.platforms.values():
            await platform.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)
