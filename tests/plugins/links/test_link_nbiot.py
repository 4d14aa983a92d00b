"""The nbiot link over real sockets: CTWing and OneNET pushes into the hub's web server,
raw UDP uplinks, the durable downlink queue (UDP receive window, CTWing and OneNET command
APIs checked by local fake platform servers), expiry, restarts and bad input."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from common import assert_no_leftover_tasks, free_port, settle, start_hub
from link_support import Recorder, until, within

from hub.core import Hub
from hub.events import EVENT_READING
from hub.i18n import localize
from hub.metering.link import LinkUnavailable
from hub.metering.model import Command, MeterRef
from hub.metering.reading import ReadingSource
from hub.metering.service import MeteringService
from hub.storage.storage import Storage
from hub.util import dt as dt_util
from hub.web.server import WebServer
from meterhub_cjt188.models import NbWaterModel
from meterhub_cjt188.simulator import CjT188Simulator
from meterhub_nbiot import NbiotLink, QueueFull
from meterhub_nbiot.events import EVENT_COMMAND, EVENT_DEVICE_OFFLINE, EVENT_DEVICE_ONLINE
from meterhub_nbiot.frames import frame_addresses
from meterhub_sim.nbiot import SimulatedNbMeter
from meterhub_sim.simulation import Simulation

IMEI_1 = "861234567890123"
IMEI_3 = "861234567890333"
ADDR_1, ADDR_2, ADDR_3 = "00000000001234", "00000000001235", "00000000001236"
PUSH_TOKEN = "push-token-1"
ONENET_TOKEN = "onenet-token-9"
# PROTOCOLS.md §5.2: the CTWing example APPdata is the CJ/T 188 reply C1 of §3.6 (123.45 m3)
C1_APPDATA = "aBA0EgAAAAAAgRYfkABFIwEALAAAAQAsUyYJFAMlIAAApBY="
# §3.6 C2: close valve request, and the meter's reply with ST 01 00 (closed)
C2_CLOSE = bytes.fromhex("68 10 34 12 00 00 00 00 00 04 04 17 A0 01 99 17 16")
C2_REPLY = bytes.fromhex("68 10 34 12 00 00 00 00 00 84 05 17 A0 01 01 00 00 16")
MODEL = NbWaterModel()

Factory = Callable[..., Awaitable[Hub]]


def site(*, ctwing_api: str | None = None, onenet_api: str | None = None,
         simulation: dict[str, Any] | None = None, **link: Any) -> dict[str, Any]:
    """Three NB water meters on one nbiot link: w1 via CTWing, w2 via UDP, w3 via OneNET."""
    ctwing: dict[str, Any] = {"token": PUSH_TOKEN}
    if ctwing_api:
        ctwing.update(api_url=ctwing_api, app_key="app-key-1", app_secret="app-secret-1",
                      master_key="master-key-1", product_id="15000001")
    onenet: dict[str, Any] = {"token": ONENET_TOKEN}
    if onenet_api:
        onenet.update(api_url=onenet_api, api_key="onenet-api-key")
    config: dict[str, Any] = {
        "site": {"name": "NB test", "time_zone": "Asia/Shanghai"},
        "http": {"host": "127.0.0.1", "port": 0},
        "metering": {"read_on_start": False},
        "storage": {"commit_interval": 0.05},
        "links": [{"id": "nb1", "type": "nbiot", "udp": "127.0.0.1:0", "udp_window": "1s",
                   "expiry_check": "100ms", "ctwing": ctwing, "onenet": onenet, **link}],
        "meters": [
            {"id": "w1", "model": "nb_water", "link": "nb1", "address": ADDR_1,
             "link_options": {"imei": IMEI_1, "device_id": "dev-w1"}},
            {"id": "w2", "model": "nb_water", "link": "nb1", "address": ADDR_2},
            {"id": "w3", "model": "nb_water", "link": "nb1", "address": ADDR_3,
             "link_options": {"imei": IMEI_3}},
        ],
    }
    if simulation:
        config["simulation"] = simulation
    return config


@pytest.fixture
async def make_hub(tmp_path: Path) -> AsyncIterator[Factory]:
    """Start hubs from configs (data dir shared unless ``data`` names another)."""
    async with contextlib.AsyncExitStack() as stack:
        started: list[Hub] = []

        async def factory(config: dict[str, Any], data: str = "data") -> Hub:
            hub = await stack.enter_async_context(start_hub(
                tmp_path, yaml.safe_dump(config, allow_unicode=True), data=data,
                name=f"hub{len(started)}.yaml"))
            started.append(hub)
            return hub

        yield factory
    assert_no_leftover_tasks()


def nb_link(hub: Hub) -> NbiotLink:
    link = hub.component("metering", MeteringService).links["nb1"]
    assert isinstance(link, NbiotLink)
    return link


def base_url(hub: Hub) -> str:
    return f"http://127.0.0.1:{hub.component('web', WebServer).port}"


async def post(hub: Hub, path: str, body: Any, *, headers: dict[str, str] | None = None,
               raw: bytes | None = None) -> tuple[int, Any]:
    """POST to the hub; returns (status, decoded JSON or text)."""
    data = raw if raw is not None else json.dumps(body).encode()
    async with asyncio.timeout(10), aiohttp.ClientSession() as session, session.post(
            base_url(hub) + path, data=data, headers=headers or {}) as response:
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text


def data_report(data: bytes | str, *, imei: str = IMEI_1, device_id: str = "dev-w1",
                sn: int = 1, **extra: Any) -> dict[str, Any]:
    appdata = data if isinstance(data, str) else base64.b64encode(data).decode()
    return {"messageType": "dataReport", "tenantId": "10001", "productId": "15000001",
            "deviceId": device_id, "IMEI": imei, "IMSI": "undefined",
            "timestamp": int(time.time() * 1000) + sn, "protocol": "lwm2m",
            "topic": "v1/up/ad", "upPacketSN": sn, "upDataSN": -1, "serviceId": "",
            "payload": {"APPdata": appdata}, **extra}


TOKEN = {"X-Token": PUSH_TOKEN}


def simulator(address: str, **options: Any) -> CjT188Simulator:
    return MODEL.create_simulator(address, **options)


async def storage_rows(hub: Hub, meter_id: str) -> list[Any]:
    rows: list[Any] = await within(hub.component("storage", Storage).commands(
        meter_id=meter_id))
    return rows


# --- uplinks --------------------------------------------------------------------------------


async def test_a_ctwing_push_becomes_a_reading(make_hub: Factory) -> None:
    hub = await make_hub(site())
    recorder = Recorder(hub, EVENT_READING)
    push = data_report(C1_APPDATA, rsrp=-95)
    status, body = await post(hub, "/api/nbiot/nb1/ctwing", push, headers=TOKEN)
    assert status == 200 and body["meter_id"] == "w1" and body["uplink"] == "report"
    await until(lambda: bool(recorder.of(EVENT_READING)))
    reading = recorder.of(EVENT_READING)[0].data["reading"]
    assert reading.meter_id == "w1" and reading.source is ReadingSource.UPLINK
    assert reading.registers["water_total"] == Decimal("123.45")
    assert reading.registers["water_settlement"] == Decimal("100.00")
    assert reading.status["valve"] == "open"
    assert reading.quality["platform"] == "ctwing" and reading.quality["imei"] == IMEI_1
    assert reading.quality["signal"] == {"rsrp": -95} and reading.quality["up_packet_sn"] == 1
    assert reading.meter_time is not None and reading.meter_time.year == 2025
    state = hub.states.get("meter.w1")
    assert state is not None and Decimal(str(state.state)) == Decimal("123.45")
    # a platform re-sending the same push does not make a second reading
    status, body = await post(hub, "/api/nbiot/nb1/ctwing", push, headers=TOKEN)
    assert status == 200 and body["duplicate"] is True
    # the token may also come in the query
    later = simulator(ADDR_1, flow="200.5").uplink()
    status, body = await post(hub, f"/api/nbiot/nb1/ctwing?token={PUSH_TOKEN}",
                              data_report(later, sn=2))
    assert status == 200
    await until(lambda: len(recorder.of(EVENT_READING)) == 2)
    assert recorder.of(EVENT_READING)[1].data["reading"].registers["water_total"] == \
        Decimal("200.50")
    assert nb_link(hub).stats.as_dict()["uplinks"] == 2


async def test_online_offline_and_event_reports_become_events(make_hub: Factory) -> None:
    hub = await make_hub(site())
    recorder = Recorder(hub, EVENT_DEVICE_ONLINE, EVENT_DEVICE_OFFLINE, "nbiot_device_event")
    base = {"productId": "15000001", "deviceId": "dev-w1", "IMEI": IMEI_1,
            "timestamp": int(time.time() * 1000)}
    for event_type in (1, 0):
        status, _ = await post(hub, "/api/nbiot/nb1/ctwing", {
            **base, "messageType": "deviceOnlineOfflineReport", "eventType": event_type},
            headers=TOKEN)
        assert status == 200
    status, _ = await post(hub, "/api/nbiot/nb1/ctwing", {
        **base, "messageType": "eventReport", "eventType": 2, "serviceId": "alarm",
        "eventContent": {"magnetic": 1}}, headers=TOKEN)
    assert status == 200
    await until(lambda: len(recorder.events) == 3)
    online, offline, alarm = recorder.events
    assert online.event_type == EVENT_DEVICE_ONLINE and online.data["meter_id"] == "w1"
    assert offline.event_type == EVENT_DEVICE_OFFLINE and offline.data["imei"] == IMEI_1
    assert alarm.data["service_id"] == "alarm"


def onenet_sign(nonce: str, msg: str, token: str = ONENET_TOKEN) -> str:
    """OneNET's signature, computed here independently: Base64(MD5(token + nonce + msg))."""
    return base64.b64encode(hashlib.md5((token + nonce + msg).encode()).digest()).decode()


async def test_onenet_verification_and_signed_pushes(make_hub: Factory) -> None:
    hub = await make_hub(site())
    recorder = Recorder(hub, EVENT_READING, EVENT_DEVICE_ONLINE)
    url = base_url(hub) + "/api/nbiot/nb1/onenet"
    async with aiohttp.ClientSession() as session:
        params = {"msg": "Xy7Pq2", "nonce": "abc123", "signature": onenet_sign("abc123", "Xy7Pq2")}
        async with asyncio.timeout(5), session.get(url, params=params) as response:
            assert response.status == 200 and await response.text() == "Xy7Pq2"
        params["signature"] = onenet_sign("abc123", "Xy7Pq2", token="wrong")
        async with asyncio.timeout(5), session.get(url, params=params) as response:
            assert response.status == 401
            assert (await response.json())["reason"] == "bad_signature"
    # legacy body: msg is an object, msg_signature over its JSON text
    frame = simulator(ADDR_3, flow="42.10").uplink()
    msg = {"at": int(time.time() * 1000), "type": 1, "imei": IMEI_3, "dev_id": 5012,
           "ds_id": "3200_0_5750", "value": frame.hex().upper()}
    msg_text = json.dumps(msg, separators=(",", ":"))
    body = ('{"msg":' + msg_text + ',"msg_signature":"' + onenet_sign("n1", msg_text)
            + '","nonce":"n1"}').encode()
    status, answer = await post(hub, "/api/nbiot/nb1/onenet", None, raw=body)
    assert status == 200 and answer["meter_id"] == "w3", answer
    await until(lambda: bool(recorder.of(EVENT_READING)))
    reading = recorder.of(EVENT_READING)[0].data["reading"]
    assert reading.registers["water_total"] == Decimal("42.10")
    assert reading.quality["platform"] == "onenet" and reading.quality["ds_id"] == "3200_0_5750"
    # OneNET Studio body: msg is JSON text; an online message, then a property report
    studio_online = json.dumps({"messageType": "lifeCycle", "deviceName": IMEI_3,
                                "productId": "p1", "data": {"status": "online"}})
    studio = {"msg": studio_online, "signature": onenet_sign("n2", studio_online),
              "nonce": "n2", "time": int(time.time() * 1000), "id": "1"}
    status, answer = await post(hub, "/api/nbiot/nb1/onenet", studio)
    assert status == 200 and answer["online"] is True
    frame = simulator(ADDR_3, flow="43.00").uplink()
    studio_data = json.dumps({"messageType": "notify", "notifyType": "property",
                              "deviceName": IMEI_3, "productId": "p1", "data": {
                                  "id": "7", "params": {"payload": {
                                      "value": frame.hex(), "time": int(time.time() * 1000)}}}})
    studio = {"msg": studio_data, "signature": onenet_sign("n3", studio_data), "nonce": "n3"}
    status, answer = await post(hub, "/api/nbiot/nb1/onenet", studio)
    assert status == 200 and answer["uplink"] == "report", answer
    await until(lambda: len(recorder.of(EVENT_READING)) == 2)
    assert recorder.of(EVENT_READING)[1].data["reading"].registers["water_total"] == \
        Decimal("43.00")
    assert recorder.of(EVENT_DEVICE_ONLINE)[0].data["meter_id"] == "w3"
    # a signed body whose msg was changed after signing is refused
    tampered = {"msg": studio_data.replace("43", "44"), "signature": onenet_sign("n3", studio_data),
                "nonce": "n3"}
    status, answer = await post(hub, "/api/nbiot/nb1/onenet", tampered)
    assert status == 401 and answer["reason"] == "bad_signature"
    assert len(recorder.of(EVENT_READING)) == 2


async def test_a_udp_uplink_becomes_a_reading(make_hub: Factory) -> None:
    hub = await make_hub(site())
    recorder = Recorder(hub, EVENT_READING)
    link = nb_link(hub)
    meter = simulator(ADDR_2, flow="7.25")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"\xfe\xfe" + meter.uplink(), ("127.0.0.1", link.udp_port))
        sock.sendto(b"not a frame at all", ("127.0.0.1", link.udp_port))
        await until(lambda: bool(recorder.of(EVENT_READING)))
    reading = recorder.of(EVENT_READING)[0].data["reading"]
    assert reading.meter_id == "w2" and reading.registers["water_total"] == Decimal("7.25")
    assert reading.quality["platform"] == "udp"
    await until(lambda: link.stats.as_dict().get("rejected") == {"unknown_device": 1})
    assert link.stats.garbage_bytes == len(b"not a frame at all")


async def test_a_read_request_lists_sleeping_meters_with_their_last_report(
        make_hub: Factory) -> None:
    """NB-IoT meters cannot be read on demand: meter.read says so and shows each one's last
    report (was an empty list)."""
    hub = await make_hub(site())
    by_link = await hub.services.call("meter", "read", {"link": "nb1"},
                                      return_response=True)
    assert by_link["read"] == [] and by_link["failed"] == []
    assert {(m["meter_id"], m["last_report"]) for m in by_link["reports_by_itself"]} == {
        ("w1", None), ("w2", None), ("w3", None)}
    assert "report by themselves" in by_link["note"]
    recorder = Recorder(hub, EVENT_READING)
    status, _body = await post(hub, "/api/nbiot/nb1/ctwing", data_report(C1_APPDATA),
                               headers=TOKEN)
    assert status == 200
    await until(lambda: bool(recorder.of(EVENT_READING)))
    reported = recorder.of(EVENT_READING)[0].data["reading"].time.isoformat()
    one = await hub.services.call("meter", "read", {"meter_id": "w1"}, return_response=True)
    assert one["failed"] == [] and one["reports_by_itself"] == [
        {"meter_id": "w1", "link": "nb1", "last_report": reported}]


def test_frame_addresses_of_both_protocols() -> None:
    assert ADDR_1 in frame_addresses(b"\xfe\xfe" + C2_CLOSE)
    dlt645 = bytes.fromhex("68 01 00 00 00 00 00 68 11 04 33 33 34 33 B3 16")
    assert "000000000001" in frame_addresses(dlt645)
    assert frame_addresses(b"\x00\x01") == []


# --- fake platform servers (only the platforms' internet hosts are mocked) -----------------


class FakePlatform:
    """A local stand-in for a platform's API host that checks the documented wire format."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.refuse = False
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.add_routes([web.get("/echo", self.echo),
                        web.post("/aep_device_command/command", self.ctwing),
                        web.post("/nbiot/execute/offline", self.onenet)])
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def echo(self, request: web.Request) -> web.Response:
        return web.Response(text="ok", headers={"x-ag-timestamp": str(int(time.time() * 1000))})

    async def ctwing(self, request: web.Request) -> web.Response:
        body = await request.text()
        headers = request.headers
        expected_headers = {"application": "app-key-1", "MasterKey": "master-key-1",
                            "version": "20190712225145"}
        for name, value in expected_headers.items():
            if headers.get(name) != value:
                self.problems.append(f"header {name}: {headers.get(name)!r}")
        if not headers.get("Content-Type", "").startswith("application/json"):
            self.problems.append(f"content type {headers.get('Content-Type')!r}")
        stamp = headers.get("timestamp", "")
        if not stamp.isdigit() or abs(int(stamp) - time.time() * 1000) > 60_000:
            self.problems.append(f"timestamp {stamp!r}")
        # the AEP signature, spelled out: application, timestamp, sorted params (here only
        # the MasterKey header), body, each line ending in a newline; HMAC-SHA1, base64
        text = (f"application:app-key-1\ntimestamp:{stamp}\nMasterKey:master-key-1\n"
                f"{body}\n")
        signature = base64.b64encode(hmac.new(b"app-secret-1", text.encode(),
                                              hashlib.sha1).digest()).decode()
        if headers.get("signature") != signature:
            self.problems.append("signature mismatch")
            return web.json_response({"code": 1002, "msg": "signature"})
        self.calls.append({"platform": "ctwing", **json.loads(body)})
        if self.refuse:
            return web.json_response({"code": 3001, "msg": "device not found"})
        return web.json_response({"code": 0, "msg": "ok", "result": {
            "commandId": f"cmd-{len(self.calls)}", "commandStatus": "指令已保存"}})

    async def onenet(self, request: web.Request) -> web.Response:
        if request.headers.get("api-key") != "onenet-api-key":
            self.problems.append("api-key")
            return web.json_response({"errno": 2, "error": "auth failed"})
        self.calls.append({"platform": "onenet", "query": dict(request.query),
                           "body": json.loads(await request.text())})
        return web.json_response({"errno": 0, "error": "succ",
                                  "data": {"uuid": f"uuid-{len(self.calls)}"}})


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    await fake.start()
    yield fake
    await fake.stop()


def is_valve_frame(data: bytes, address: str, close: bool) -> bool:
    """A CJ/T 188 A017 write to ``address`` (any SER): 99 closes, 55 opens."""
    wire = bytes.fromhex(address)[::-1]
    return (data[:2] == b"\x68\x10" and data[2:9] == wire and data[9:13] == b"\x04\x04\x17\xa0"
            and data[14] == (0x99 if close else 0x55) and data[-1] == 0x16
            and data[-2] == sum(data[:-2]) & 0xFF)


def states_of(recorder: Recorder, command_id: str) -> list[str]:
    return [e.data["state"] for e in recorder.of(EVENT_COMMAND)
            if e.data["command_id"] == command_id]


# --- the downlink queue -----------------------------------------------------------------


async def test_a_valve_close_waits_for_the_next_ctwing_uplink(
        make_hub: Factory, platform: FakePlatform) -> None:
    hub = await make_hub(site(ctwing_api=platform.url))
    link = nb_link(hub)
    recorder = Recorder(hub, EVENT_COMMAND, EVENT_READING)
    with pytest.raises(LinkUnavailable, match="sleeps"):
        link.transport_for(MeterRef("w1", ADDR_1))
    command_id = await within(link.queue_command("w1", Command.VALVE_CLOSE))
    rows = await storage_rows(hub, "w1")
    assert [(r.command_id, r.command, r.state) for r in rows] == [
        (command_id, "valve_close", "queued")]
    assert rows[0].params["queue"] == "nbiot" and rows[0].params["link"] == "nb1"
    await asyncio.sleep(0.3)
    assert platform.calls == []  # the meter sleeps: nothing goes out before it reports
    status, body = await post(hub, "/api/nbiot/nb1/ctwing", data_report(C1_APPDATA),
                              headers=TOKEN)
    assert status == 200 and body["queued"] == 1
    await until(lambda: len(platform.calls) == 1)
    assert not platform.problems, platform.problems
    call = platform.calls[0]
    assert call["deviceId"] == "dev-w1" and call["productId"] == 15000001
    assert call["operator"] == "meterhub" and call["level"] == 1
    assert 172000 <= call["ttl"] <= 172800  # seconds left until the 2-day expiry
    assert call["content"]["dataType"] == 2
    assert is_valve_frame(bytes.fromhex(call["content"]["payload"]), ADDR_1, close=True)
    await until(lambda: "sent" in [e.data["state"] for e in recorder.of(EVENT_COMMAND)])
    sent = next(e for e in recorder.of(EVENT_COMMAND) if e.data["state"] == "sent")
    assert sent.data["platform_id"] == "cmd-1" and sent.data["path"] == "ctwing"
    # the meter answers the command in its next window: a write reply with ST "closed"
    status, body = await post(hub, "/api/nbiot/nb1/ctwing", data_report(C2_REPLY, sn=2),
                              headers=TOKEN)
    assert status == 200 and body["uplink"] == "ack"
    await until(lambda: "done" in [e.data["state"] for e in recorder.of(EVENT_COMMAND)])
    assert states_of(recorder, command_id) == ["queued", "sent", "done"]
    done = recorder.of(EVENT_COMMAND)[-1]
    assert done.data["status"]["valve"] == "closed"
    assert len(recorder.of(EVENT_READING)) == 1  # an acknowledgement is not a reading
    row = await within(hub.component("storage", Storage).command(command_id))
    assert row is not None and row.state == "done" and row.attempts == 1
    assert [t["to"] for t in row.transitions] == ["queued", "sending", "sent", "done"]
    # a CTWing commandResponse completes a command too
    opening = await within(link.queue_command("w1", Command.VALVE_OPEN))
    await post(hub, "/api/nbiot/nb1/ctwing", data_report(C1_APPDATA, sn=3), headers=TOKEN)
    await until(lambda: len(platform.calls) == 2)
    assert is_valve_frame(bytes.fromhex(platform.calls[1]["content"]["payload"]), ADDR_1,
                          close=False)
    await until(lambda: "sent" in [e.data["state"] for e in recorder.of(EVENT_COMMAND)
                                   if e.data["command_id"] == opening])
    status, body = await post(hub, "/api/nbiot/nb1/ctwing", {
        "messageType": "commandResponse", "deviceId": "dev-w1", "IMEI": IMEI_1,
        "productId": "15000001", "taskId": "cmd-2", "timestamp": int(time.time() * 1000),
        "result": {"resultCode": "SUCCESSFUL", "resultDetail": {}}}, headers=TOKEN)
    assert status == 200 and body["command"] is True
    assert states_of(recorder, opening) == ["queued", "sent", "done"]


async def test_a_platform_refusal_is_retried_then_fails(make_hub: Factory,
                                                        platform: FakePlatform) -> None:
    hub = await make_hub(site(ctwing_api=platform.url, max_attempts=2))
    link = nb_link(hub)
    recorder = Recorder(hub, EVENT_COMMAND)
    platform.refuse = True
    command_id = await within(link.queue_command("w1", Command.VALVE_CLOSE))
    for sn, calls in ((1, 1), (2, 2), (3, 2)):  # the third uplink finds nothing queued
        await post(hub, "/api/nbiot/nb1/ctwing", data_report(C1_APPDATA, sn=sn), headers=TOKEN)
        await until(lambda: not link._delivering)
        assert len(platform.calls) == calls
    assert states_of(recorder, command_id) == ["queued", "queued", "failed"]
    failed = recorder.of(EVENT_COMMAND)[-1]
    assert failed.data["attempts"] == 2 and "code 3001" in failed.data["error"]
    row = await within(hub.component("storage", Storage).command(command_id))
    assert row is not None and row.state == "failed" and "code 3001" in (row.error or "")
    # kept keyed: whoever reads the row later (the commands API, the meter page) words it
    assert localize(row.error or "", "zh-CN") == (
        "CTWing 拒绝了该命令：代码 3001 device not found（已尝试 2 次）")


async def test_onenet_downlink_uses_the_cached_command_api(make_hub: Factory,
                                                           platform: FakePlatform) -> None:
    hub = await make_hub(site(onenet_api=platform.url))
    link = nb_link(hub)
    recorder = Recorder(hub, EVENT_COMMAND)
    command_id = await within(link.queue_command("w3", Command.VALVE_CLOSE, ttl=3600))
    frame = simulator(ADDR_3).uplink()
    msg = json.dumps({"at": int(time.time() * 1000), "type": 1, "imei": IMEI_3,
                      "ds_id": "3200_0_5750", "value": frame.hex()}, separators=(",", ":"))
    status, _ = await post(hub, "/api/nbiot/nb1/onenet", None, raw=(
        '{"msg":' + msg + ',"msg_signature":"' + onenet_sign("n", msg) + '","nonce":"n"}'
    ).encode())
    assert status == 200
    await until(lambda: len(platform.calls) == 1)
    assert not platform.problems, platform.problems
    query = platform.calls[0]["query"]
    assert {k: query[k] for k in ("imei", "obj_id", "obj_inst_id", "res_id")} == {
        "imei": IMEI_3, "obj_id": "3200", "obj_inst_id": "0", "res_id": "5750"}
    assert len(query["expired_time"]) == 19 and query["expired_time"][10] == "T"
    assert is_valve_frame(bytes.fromhex(platform.calls[0]["body"]["args"]), ADDR_3, close=True)
    await until(lambda: "sent" in [e.data["state"] for e in recorder.of(EVENT_COMMAND)])
    assert recorder.of(EVENT_COMMAND)[-1].data["platform_id"] == "uuid-1"
    assert command_id == recorder.of(EVENT_COMMAND)[-1].data["command_id"]


def udp_site(**link: Any) -> dict[str, Any]:
    """The three meters, all simulated: they report only when a test says so."""
    return site(simulation={"speed": 1, "nbiot": [
        {"link": "nb1", "period": "1h", "first": "1h", "window": "500ms"}]}, **link)


def sim_meter(hub: Hub, meter_id: str) -> tuple[SimulatedNbMeter, CjT188Simulator]:
    simulation = hub.component("simulation", Simulation)
    device = simulation.nbiot.meters[meter_id]
    assert isinstance(device.simulator, CjT188Simulator)
    return device, device.simulator


async def test_a_valve_close_goes_out_in_the_udp_receive_window(make_hub: Factory) -> None:
    hub = await make_hub(udp_site())
    link = nb_link(hub)
    recorder = Recorder(hub, EVENT_COMMAND, EVENT_READING)
    device, meter = sim_meter(hub, "w2")
    assert device.mode == "udp"
    command_id = await within(link.queue_command("w2", Command.VALVE_CLOSE))
    await asyncio.sleep(0.2)
    assert meter.valve_open and device.answered == 0
    before = meter.total()
    meter.clock.advance(timedelta(hours=3))
    assert meter.total() > before  # water flows while the valve is open
    await within(device.report())  # the meter wakes: reports, then listens 0.5 s
    await until(lambda: "done" in [e.data["state"] for e in recorder.of(EVENT_COMMAND)])
    assert states_of(recorder, command_id) == ["queued", "done"]
    assert not meter.valve_open and device.answered == 1
    reading = recorder.of(EVENT_READING)[0].data["reading"]
    assert reading.status["valve"] == "open"  # the report was sent before the command
    stopped = meter.total()
    meter.clock.advance(timedelta(hours=3))
    assert meter.total() == stopped  # a closed valve stops the flow
    await within(device.report())
    await until(lambda: len(recorder.of(EVENT_READING)) == 2)
    assert recorder.of(EVENT_READING)[1].data["reading"].status["valve"] == "closed"
    assert device.answered == 1  # nothing more was queued
    row = await within(hub.component("storage", Storage).command(command_id))
    assert row is not None and row.state == "done"


async def test_a_silent_window_keeps_the_command_queued(make_hub: Factory) -> None:
    hub = await make_hub(udp_site(udp_window="300ms"))
    link = nb_link(hub)
    recorder = Recorder(hub, EVENT_COMMAND)
    device, meter = sim_meter(hub, "w2")
    device.window = 0.0  # the meter's radio goes back to sleep at once: it hears nothing
    command_id = await within(link.queue_command("w2", "time_sync"))
    await within(device.report())
    await until(lambda: len(recorder.of(EVENT_COMMAND)) == 2)
    assert states_of(recorder, command_id) == ["queued", "queued"]
    assert recorder.of(EVENT_COMMAND)[-1].data["retry"] is True
    device.window = 0.5
    meter.clock_offset = timedelta(hours=-5)  # the meter's clock is off
    await within(device.report())
    await until(lambda: len(recorder.of(EVENT_COMMAND)) == 3)
    assert states_of(recorder, command_id) == ["queued", "queued", "done"]
    assert abs(meter.clock_offset) < timedelta(seconds=5)  # the time sync set it


async def test_commands_expire(make_hub: Factory) -> None:
    hub = await make_hub(udp_site())
    link = nb_link(hub)
    recorder = Recorder(hub, EVENT_COMMAND)
    device, meter = sim_meter(hub, "w2")
    command_id = await within(link.queue_command("w2", Command.VALVE_CLOSE,
                                                 ttl=timedelta(milliseconds=300)))
    await until(lambda: len(recorder.of(EVENT_COMMAND)) == 2, timeout=5)
    assert states_of(recorder, command_id) == ["queued", "expired"]
    expired = recorder.of(EVENT_COMMAND)[-1]
    assert expired.data["meter_id"] == "w2" and expired.data["previous"] == "queued"
    row = await within(hub.component("storage", Storage).command(command_id))
    assert row is not None and row.state == "expired"
    await within(device.report())
    assert device.answered == 0 and meter.valve_open  # an expired command never goes out
    assert link.pending() == []


async def test_the_queue_survives_a_restart(make_hub: Factory) -> None:
    first = await make_hub(udp_site())
    command_id = await within(nb_link(first).queue_command("w2", Command.VALVE_CLOSE))
    await within(first.stop(), 20)
    second = await make_hub(udp_site())  # same data directory
    link = nb_link(second)
    assert [c["command_id"] for c in link.pending("w2")] == [command_id]
    recorder = Recorder(second, EVENT_COMMAND)
    device, meter = sim_meter(second, "w2")
    await within(device.report())
    await until(lambda: [e.data["state"] for e in recorder.of(EVENT_COMMAND)] == ["done"])
    assert not meter.valve_open
    row = await within(second.component("storage", Storage).command(command_id))
    assert row is not None and row.state == "done"


async def test_queue_rules(make_hub: Factory) -> None:
    hub = await make_hub(site(max_queue=1))
    link = nb_link(hub)
    recorder = Recorder(hub, EVENT_COMMAND)
    with pytest.raises(KeyError):
        await within(link.queue_command("nope", Command.VALVE_CLOSE))
    with pytest.raises(ValueError, match="does not support trip"):
        await within(link.queue_command("w1", Command.TRIP))
    with pytest.raises(ValueError, match="unknown command"):
        await within(link.queue_command("w1", "self_destruct"))
    closing = await within(link.queue_command("w1", Command.VALVE_CLOSE))
    assert await within(link.queue_command("w1", Command.VALVE_CLOSE)) == closing  # not twice
    with pytest.raises(QueueFull):
        await within(link.queue_command("w1", "time_sync"))
    opening = await within(link.queue_command("w1", Command.VALVE_OPEN))  # undoes the close
    assert states_of(recorder, closing) == ["queued", "cancelled"]
    assert [c["command_id"] for c in link.pending("w1")] == [opening]
    assert await within(link.cancel_command(opening))
    assert not await within(link.cancel_command(opening))
    assert link.pending() == []
    rows = {r.command_id: r.state for r in await storage_rows(hub, "w1")}
    assert rows == {closing: "cancelled", opening: "cancelled"}


async def test_simulated_meters_report_and_obey_through_a_simulated_platform(
        make_hub: Factory) -> None:
    api = f"http://127.0.0.1:{free_port()}"
    hub = await make_hub(site(ctwing_api=api, simulation={"nbiot": [
        {"link": "nb1", "period": "300ms", "first": "100ms", "window": "1s"}]}))
    recorder = Recorder(hub, EVENT_READING, EVENT_COMMAND)
    await until(lambda: {e.data["meter_id"] for e in recorder.of(EVENT_READING)}
                == {"w1", "w2", "w3"}, timeout=8)
    sources = {e.data["reading"].quality["platform"] for e in recorder.of(EVENT_READING)}
    assert sources == {"ctwing", "udp"}
    link = nb_link(hub)
    device, meter = sim_meter(hub, "w1")
    assert device.mode == "ctwing"
    command_id = await within(link.queue_command("w1", Command.VALVE_CLOSE))
    await until(lambda: "done" in [e.data["state"] for e in recorder.of(EVENT_COMMAND)],
                timeout=8)
    assert states_of(recorder, command_id) == ["queued", "sent", "done"]
    assert not meter.valve_open
    simulation = hub.component("simulation", Simulation)
    platform = next(iter(simulation.nbiot.platforms.values()))
    assert platform.accepted == 1 and not platform.refused
    await until(lambda: any(e.data["meter_id"] == "w1"
                            and e.data["reading"].status.get("valve") == "closed"
                            for e in recorder.of(EVENT_READING)), timeout=5)


# --- bad input --------------------------------------------------------------------------


BAD_CTWING: list[tuple[str, bytes, dict[str, str], int, str]] = [
    ("not JSON", b"{not json", TOKEN, 400, "not_json"),
    ("not UTF-8", b"\xff\xfe\x00", TOKEN, 400, "not_json"),
    ("a JSON list", b"[1, 2]", TOKEN, 400, "not_json"),
    ("no messageType", json.dumps({"IMEI": IMEI_1}).encode(), TOKEN, 400, "missing_field"),
    ("no payload", json.dumps({**data_report(C1_APPDATA), "payload": None}).encode(), TOKEN,
     400, "missing_field"),
    ("no APPdata", json.dumps({**data_report(C1_APPDATA), "payload": {}}).encode(), TOKEN,
     400, "missing_field"),
    ("no identity", json.dumps({**data_report(C1_APPDATA), "IMEI": None, "deviceId": None}
                               ).encode(), TOKEN, 400, "missing_field"),
    ("bad base64", json.dumps(data_report("@@not base64@@")).encode(), TOKEN, 400,
     "bad_payload"),
    ("thing model", json.dumps({**data_report(C1_APPDATA), "payload": {
        "serviceData": {"flow": 1}}}).encode(), TOKEN, 422, "unsupported"),
    ("unknown IMEI", json.dumps(data_report(C1_APPDATA, imei="869999999999999",
                                            device_id="other")).encode(), TOKEN, 404,
     "unknown_device"),
    ("another meter's frame", json.dumps(data_report(simulator(ADDR_2).uplink())).encode(),
     TOKEN, 422, "decode_failed"),
    ("a frame with a bad checksum", json.dumps(data_report(
        base64.b64encode(base64.b64decode(C1_APPDATA)[:-2] + b"\x00\x16").decode())).encode(),
     TOKEN, 422, "decode_failed"),
    ("a refusal frame", json.dumps(data_report(bytes.fromhex(
        "68 10 34 12 00 00 00 00 00 C1 03 00 00 00 82 16"))).encode(), TOKEN, 422,
     "meter_refused"),
    ("bad online report", json.dumps({"messageType": "deviceOnlineOfflineReport",
                                      "IMEI": IMEI_1, "eventType": 7}).encode(), TOKEN, 400,
     "missing_field"),
    ("no token", json.dumps(data_report(C1_APPDATA)).encode(), {}, 401, "unauthorized"),
    ("wrong token", json.dumps(data_report(C1_APPDATA)).encode(), {"X-Token": "guess"}, 401,
     "unauthorized"),
    ("too large", b"{" + b" " * 20000 + b"}", TOKEN, 413, "too_large"),
]


async def test_bad_pushes_get_4xx_and_change_nothing(make_hub: Factory,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    hub = await make_hub(site())
    link = nb_link(hub)
    recorder = Recorder(hub, EVENT_READING, EVENT_COMMAND, EVENT_DEVICE_ONLINE)
    queued = await within(link.queue_command("w1", Command.VALVE_CLOSE))
    recorder.events.clear()
    for what, raw, headers, status, reason in BAD_CTWING:
        got, body = await post(hub, "/api/nbiot/nb1/ctwing", None, raw=raw, headers=headers)
        assert (got, body["reason"]) == (status, reason), what
        assert isinstance(body["error"], str) and body["error"], what
    bad_onenet = [("GET", "?msg=abc&nonce=1&signature=AAAA", 401),
                  ("GET", "?nonce=1&signature=AAAA", 400),
                  ("POST", json.dumps({"msg": {"type": 1}, "nonce": "1"}), 400),
                  ("POST", json.dumps({"msg": "{}", "nonce": "1",
                                       "signature": onenet_sign("1", "[]")}), 401),
                  ("POST", json.dumps({"msg": "not json", "nonce": "1",
                                       "signature": onenet_sign("1", "not json")}), 400)]
    async with aiohttp.ClientSession() as session:
        for method, rest, status in bad_onenet:
            url = base_url(hub) + "/api/nbiot/nb1/onenet"
            request = (session.get(url + rest) if method == "GET"
                       else session.post(url, data=rest.encode()))
            async with asyncio.timeout(5), request as response:
                assert response.status == status, (method, rest)
                assert "error" in await response.json()
        async with asyncio.timeout(5), session.post(
                base_url(hub) + "/api/nbiot/nope/ctwing", data=b"{}") as response:
            assert response.status == 404
    await asyncio.sleep(0.2)
    assert recorder.events == []  # no reading, no command moved, no event
    state = hub.states.get("meter.w1")
    assert state is None or state.state == "unknown"
    assert [c["state"] for c in link.pending("w1")] == ["queued"]
    stats = link.stats.as_dict()
    assert stats["errors"] == len(BAD_CTWING) + len(bad_onenet)
    assert stats["rejected"]["unauthorized"] == 2 and stats["rejected"]["too_large"] == 1
    assert PUSH_TOKEN not in caplog.text and ONENET_TOKEN not in caplog.text
    # the other meters, and this one with a good push, are unaffected
    status, _ = await post(hub, "/api/nbiot/nb1/ctwing", data_report(C1_APPDATA), headers=TOKEN)
    assert status == 200
    await until(lambda: len(recorder.of(EVENT_READING)) == 1)
    assert link.pending("w1")[0]["command_id"] == queued


async def test_a_flood_of_pushes_stays_bounded(make_hub: Factory,
                                               caplog: pytest.LogCaptureFixture) -> None:
    hub = await make_hub(site(max_body=1024))
    link = nb_link(hub)
    recorder = Recorder(hub, EVENT_READING)
    big = b"{" + b" " * 200_000 + b"}"
    url = base_url(hub) + "/api/nbiot/nb1/ctwing"

    async def one(index: int, session: aiohttp.ClientSession) -> int:
        data = big if index % 2 else b"\x00garbage" * 10
        async with session.post(url, data=data, headers=TOKEN) as response:
            await response.read()
            return response.status

    async with asyncio.timeout(20), aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(*(one(i, session) for i in range(200)))
    assert sorted(set(statuses)) == [400, 413]
    stats = link.stats.as_dict()
    assert stats["errors"] == 200 and set(stats["rejected"]) == {"not_json", "too_large"}
    refused = [r for r in caplog.records if r.name.startswith("meterhub_nbiot")
               and "refused input" in r.getMessage()]
    assert 0 < len(refused) <= 20  # logged at a bounded rate, counted always
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # and a UDP flood
        for _ in range(300):
            sock.sendto(b"\x68" * 3000, ("127.0.0.1", link.udp_port))
        sock.sendto(simulator(ADDR_2, flow="5").uplink(), ("127.0.0.1", link.udp_port))
        await until(lambda: bool(recorder.of(EVENT_READING)))
    assert recorder.of(EVENT_READING)[0].data["reading"].meter_id == "w2"
    assert link.stats.as_dict()["rejected"]["too_large"] >= 100 + 1


async def test_an_own_push_listener(make_hub: Factory) -> None:
    port = free_port()
    hub = await make_hub(site(http=f"127.0.0.1:{port}"))
    link = nb_link(hub)
    assert link.http_port == port
    recorder = Recorder(hub, EVENT_READING)
    async with asyncio.timeout(5), aiohttp.ClientSession() as session:
        async with session.post(f"http://127.0.0.1:{port}/api/nbiot/nb1/ctwing",
                                json=data_report(C1_APPDATA), headers=TOKEN) as response:
            assert response.status == 200
        async with session.post(f"http://127.0.0.1:{port}/api/nbiot/other/ctwing",
                                json=data_report(C1_APPDATA), headers=TOKEN) as response:
            assert response.status == 404
    await until(lambda: bool(recorder.of(EVENT_READING)))
    assert link.status()["http_port"] == port and link.status()["durable_queue"] is True


async def test_a_replaced_device_s_imei_is_unknown_and_the_new_one_reports(
        make_hub: Factory) -> None:
    hub = await make_hub(site())
    recorder = Recorder(hub, EVENT_READING)
    status, _body = await post(hub, "/api/nbiot/nb1/ctwing", data_report(C1_APPDATA),
                               headers=TOKEN)
    assert status == 200
    await until(lambda: bool(recorder.of(EVENT_READING)))
    new_imei, new_address = "861234567890999", "00000000009999"
    async with asyncio.timeout(20):
        answer = await hub.services.call("meter", "replace", {
            "meter_id": "w1", "new_address": new_address, "final": {"water_total": "123.45"},
            "initial": {"water_total": "1.20"},
            "link_options": {"imei": new_imei, "device_id": "dev-w1-new"}},
            return_response=True)
    assert isinstance(answer, dict)
    # the old device's push (its IMEI and platform device id) is refused as unknown
    old = simulator(ADDR_1, flow="130.00").uplink()
    status, body = await post(hub, "/api/nbiot/nb1/ctwing", data_report(old, sn=2),
                              headers=TOKEN)
    assert status == 404 and "861234567890123" in json.dumps(body), body
    # the new device's push is the meter's reading
    new = simulator(new_address, flow="1.25").uplink()
    status, body = await post(hub, "/api/nbiot/nb1/ctwing", data_report(
        new, imei=new_imei, device_id="dev-w1-new", sn=3), headers=TOKEN)
    assert status == 200 and body["meter_id"] == "w1", body
    await until(lambda: any(e.data["reading"].registers.get("water_total") == Decimal("1.25")
                            for e in recorder.of(EVENT_READING)))
    await settle(hub)
    now = dt_util.utcnow()
    stored = await within(hub.component("storage", Storage).readings(
        "w1", now - timedelta(hours=1), now + timedelta(hours=1)))
    uplinks = [r for r in stored if r.source is ReadingSource.UPLINK]
    assert [(r.device, r.registers["water_total"]) for r in uplinks] == [
        (new_address, Decimal("1.25"))], [  # nothing from the old device's refused push
        (r.time.isoformat(), r.source, r.device, dict(r.registers)) for r in stored]
