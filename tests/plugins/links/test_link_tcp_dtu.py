"""The tcp_dtu link over loopback TCP with simulated DTUs: registration, heartbeats, replacing
connections, refusing unknown DTUs, bounded garbage, half-open detection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from link_support import TOY, Recorder, make_link, meter, until, within
from link_toy import ToySimulator

from hub.core import Hub
from hub.events import EVENT_DTU_OFFLINE, EVENT_DTU_ONLINE, EVENT_LINK_ALARM
from hub.metering.link import LinkUnavailable
from hub.metering.model import MeterRef, NoReply
from hub.metering.sim import SimulatedBus
from meterhub_sim.dtu import SimulatedDtu
from meterhub_tcp_dtu import DtuServerLink, TcpDtuLinkType

TCP_DTU = TcpDtuLinkType()
IMEI = "861234567890123"


def _bus(*addresses: int) -> SimulatedBus:
    return SimulatedBus([ToySimulator(f"{n:012d}") for n in addresses])


class Site:
    """A tcp_dtu link on a free loopback port, meters behind DTUs, simulated DTUs."""

    def __init__(self, hub: Hub, **config: Any) -> None:
        self.hub = hub
        self.link: DtuServerLink = make_link(TCP_DTU, hub, {  # type: ignore[assignment]
            "id": "dtus", "type": "tcp_dtu", "listen": "127.0.0.1:0", "timeout": 1,
            "gap": 0, **config})
        self.dtus: list[SimulatedDtu] = []

    def meter(self, meter_id: str, number: int, dtu: str) -> MeterRef:
        return meter(meter_id, f"{number:012d}", self.link, dtu=dtu)

    async def dtu(self, registration: bytes, bus: SimulatedBus, **options: Any) -> SimulatedDtu:
        device = SimulatedDtu("127.0.0.1", self.link.bound_port, registration, bus,
                              reconnect_delay=options.pop("reconnect_delay", 0.05), **options)
        self.dtus.append(device)
        await device.start()
        return device

    async def online(self, dtu_id: str) -> None:
        await until(lambda: (d := self.link.dtu(dtu_id)) is not None and d.online)

    async def read(self, ref: MeterRef) -> Any:
        return await within(TOY.read(self.link.transport_for(ref), ref))


@pytest.fixture
async def site(hub: Hub) -> AsyncIterator[Site]:
    instance = Site(hub)
    await instance.link.start()
    yield instance
    for device in instance.dtus:
        await device.stop()
    await instance.link.stop()


async def test_meters_behind_two_dtus_are_read(site: Site) -> None:
    refs = [site.meter("a1", 1, "DTU-A"), site.meter("a2", 2, "DTU-A"),
            site.meter("b1", 1, "DTU-B")]
    recorder = Recorder(site.hub, EVENT_DTU_ONLINE)
    await site.dtu(b"DTU-A", _bus(1, 2))
    await site.dtu(b"DTU-B", _bus(1))
    await site.online("DTU-A")
    await site.online("DTU-B")
    for ref in refs:
        assert (await site.read(ref)).registers["energy_import_total"] > 100
    assert site.link.group_of(refs[0]) == "DTU-A" != site.link.group_of(refs[2])
    assert {e.data["dtu"] for e in recorder.of(EVENT_DTU_ONLINE)} == {"DTU-A", "DTU-B"}
    state = site.hub.states.get("dtu.dtus_dtu_a")
    assert state is not None and state.state == "online"
    status = site.link.status()
    assert status["dtus_online"] == 2 and status["dtus"]["DTU-A"]["replies"] == 6


async def test_transport_for_an_offline_dtu_is_unavailable(site: Site) -> None:
    ref = site.meter("a1", 1, "DTU-A")
    with pytest.raises(LinkUnavailable, match="DTU-A is not connected"):
        site.link.transport_for(ref)


async def test_prefix_mode_and_heartbeats_are_stripped(hub: Hub) -> None:
    site = Site(hub, heartbeat={"data": "ping", "interval": 30},
                register={"match": ["imei"], "mode": "both"})
    await site.link.start()
    try:
        ref = site.meter("m1", 7, IMEI)
        device = await site.dtu(IMEI.encode(), _bus(7), mode="both", heartbeat=b"ping",
                                heartbeat_interval=0.02)
        await site.online(IMEI)
        await asyncio.sleep(0.1)  # heartbeats, each prefixed with the IMEI
        device.faults.garbage = b"ping"  # a heartbeat glued before each reply
        assert (await site.read(ref)).frames == 3
        dtu = site.link.dtu(IMEI)
        assert dtu is not None and dtu.heartbeats >= 3
    finally:
        for device in site.dtus:
            await device.stop()
        await site.link.stop()


@pytest.mark.parametrize(("match", "registration", "expected"), [
    ({"hex": "7E 01 ?? ??"}, b"\x7e\x01\x12\x34", "7E011234"),
    ("iccid", b"89860012345678901234", "89860012345678901234"),
    ({"regex": "ID:([0-9]+);"}, b"ID:4711;", "4711"),
])
async def test_registration_matchers(hub: Hub, match: Any, registration: bytes,
                                     expected: str) -> None:
    site = Site(hub, register={"match": [match]})
    await site.link.start()
    try:
        ref = site.meter("m1", 3, expected)
        await site.dtu(registration, _bus(3))
        await site.online(expected)
        assert (await site.read(ref)).frames == 3
    finally:
        for device in site.dtus:
            await device.stop()
        await site.link.stop()


async def test_a_short_id_sent_once_never_eats_frame_bytes(site: Site) -> None:
    ref = site.meter("m1", 1, "h")  # registration "h" = 0x68, the frame start byte
    await site.dtu(b"h", _bus(1))
    await site.online("h")
    assert (await site.read(ref)).frames == 3


async def test_unknown_dtu_is_refused_unless_auto_discovery(
        hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    other_imei = "861234567890999"
    site = Site(hub, register={"match": ["known", "imei"]})
    await site.link.start()
    try:
        site.meter("m1", 1, IMEI)
        intruder = await site.dtu(other_imei.encode(), _bus(1))
        stranger = await site.dtu(b"HELLO-1", _bus(1))  # not even a registration format
        await until(lambda: site.link.stats.extra.get("refused", 0) >= 2)
        await until(lambda: stranger.connections >= 2)
        assert site.link.dtu(other_imei) is None and site.link.dtu("HELLO-1") is None
        assert intruder.connections >= 2
        refusals = [r for r in caplog.records if "refused unknown DTU" in r.getMessage()]
        assert len(refusals) == 1  # logged once, not at every reconnection
        assert any("not a registration packet" in r.getMessage() for r in caplog.records)
    finally:
        for device in site.dtus:
            await device.stop()
        await site.link.stop()
    open_site = Site(hub, auto_discovery=True, register={"match": ["imei"]})
    await open_site.link.start()
    try:
        await open_site.dtu(other_imei.encode(), _bus(1))
        await open_site.online(other_imei)
        dtu = open_site.link.dtu(other_imei)
        assert dtu is not None and not dtu.known
    finally:
        for device in open_site.dtus:
            await device.stop()
        await open_site.link.stop()


async def test_a_newer_registration_replaces_a_connection_that_does_not_answer(
        site: Site) -> None:
    ref = site.meter("m1", 1, "DTU-A")
    recorder = Recorder(site.hub, EVENT_DTU_ONLINE, EVENT_DTU_OFFLINE)
    first = await site.dtu(b"DTU-A", _bus(1), reconnect_delay=30)
    await site.online("DTU-A")
    dtu = site.link.dtu("DTU-A")
    assert dtu is not None
    old = dtu.channel
    first.faults.mute = True  # the module reconnected without closing: the old socket is dead
    second = await site.dtu(b"DTU-A", _bus(1))
    await until(lambda: dtu.channel is not old and dtu.channel is not None, timeout=15)
    await until(lambda: not first.connected.is_set())  # the hub closed the older one
    assert dtu.replaced == 1 and dtu.conflicts == 0
    assert (await site.read(ref)).frames == 3
    assert second.requests == 3 and first.requests == 1  # the probe went to the old one
    # still online throughout: no offline event, one online event
    assert not recorder.of(EVENT_DTU_OFFLINE) and len(recorder.of(EVENT_DTU_ONLINE)) == 1


async def test_a_live_dtu_with_a_broken_first_meter_keeps_its_id(site: Site) -> None:
    site.meter("m1", 1, "DTU-A")  # the first meter the probe tries is not on the bus
    second = site.meter("m2", 2, "DTU-A")
    recorder = Recorder(site.hub, EVENT_LINK_ALARM)
    await site.dtu(b"DTU-A", _bus(2))
    await site.online("DTU-A")
    dtu = site.link.dtu("DTU-A")
    assert dtu is not None
    live = dtu.channel
    claimant = await site.dtu(b"DTU-A", _bus(1, 2), reconnect_delay=30,
                              local_host="127.0.0.2")
    await until(lambda: bool(recorder.of(EVENT_LINK_ALARM)), timeout=15)
    assert recorder.of(EVENT_LINK_ALARM)[0].data["kind"] == "dtu_conflict"
    assert dtu.channel is live and dtu.replaced == 0 and dtu.conflicts == 1
    assert (await site.read(second)).frames == 3 and claimant.requests == 0


async def test_a_dtu_reconnecting_mid_read(site: Site) -> None:
    ref = site.meter("m1", 1, "DTU-A")
    device = await site.dtu(b"DTU-A", _bus(1))
    await site.online("DTU-A")
    device.faults.drop_on_request = 2  # drops the connection at the second request
    with pytest.raises((NoReply, LinkUnavailable)):
        await site.read(ref)
    await site.online("DTU-A")  # it came back by itself
    assert device.connections == 2
    assert (await site.read(ref)).frames == 3


async def test_no_registration_is_timed_out(hub: Hub) -> None:
    site = Site(hub, register={"timeout": 1})
    await site.link.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", site.link.bound_port)
        async with asyncio.timeout(5):
            assert await reader.read() == b""  # closed by the hub
        writer.close()
        assert site.link.stats.extra["registration_timeouts"] == 1
        assert not site.link.pending_connections
    finally:
        await site.link.stop()


async def test_garbage_before_registration_is_refused(site: Site) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", site.link.bound_port)
    writer.write(b"\x68\x00GET / HTTP/1.1\r\n")
    async with asyncio.timeout(5):
        assert await reader.read() == b""
    writer.close()
    assert site.link.stats.garbage_bytes > 0


async def test_garbage_and_half_frames_do_not_hide_replies(site: Site) -> None:
    ref = site.meter("m1", 1, "DTU-A")
    device = await site.dtu(b"DTU-A", _bus(1))
    await site.online("DTU-A")
    device.faults.garbage = b"\x68\x01\x02\xff\x16junk\x68"
    device.faults.half_frame = True
    assert (await site.read(ref)).registers["energy_import_total"] > 100


async def test_a_flooding_dtu_is_cut_off_and_others_are_unaffected(hub: Hub) -> None:
    site = Site(hub, flood_limit=65536)
    await site.link.start()
    try:
        good = site.meter("g1", 1, "DTU-G")
        site.meter("f1", 1, "DTU-F")
        await site.dtu(b"DTU-G", _bus(1))
        flooder = await site.dtu(b"DTU-F", _bus(1), reconnect_delay=30)
        await site.online("DTU-G")
        await site.online("DTU-F")
        chunk = bytes(range(256)) * 64
        reading = asyncio.ensure_future(site.read(good))
        for _ in range(40):  # 640 KiB of noise
            flooder.send_raw(chunk)
            await asyncio.sleep(0)
        assert (await within(reading)).frames == 3
        await until(lambda: not site.link.dtu("DTU-F").online)  # type: ignore[union-attr]
        dtu_f = site.link.dtu("DTU-F")
        assert dtu_f is not None and "flooding" in str(dtu_f.last_offline_reason)
        assert (await site.read(good)).frames == 3
        channel = site.link.dtu("DTU-G").channel  # type: ignore[union-attr]
        assert len(channel.reader._buffer) == 0  # type: ignore[union-attr]
    finally:
        for device in site.dtus:
            await device.stop()
        await site.link.stop()


async def test_stale_flood_between_reads_is_not_kept(site: Site) -> None:
    ref = site.meter("m1", 1, "DTU-A")
    device = await site.dtu(b"DTU-A", _bus(1))
    await site.online("DTU-A")
    device.send_raw(b"\x00" * 50000)
    await until(lambda: site.link.stats.garbage_bytes >= 50000)
    channel = site.link.dtu("DTU-A").channel  # type: ignore[union-attr]
    assert not channel.reader._buffer  # type: ignore[union-attr]
    assert (await site.read(ref)).frames == 3


async def test_a_silent_dtu_is_taken_offline_by_the_heartbeat_timeout(hub: Hub) -> None:
    site = Site(hub, heartbeat={"data": "ping", "interval": "100ms", "misses": 3})
    recorder = Recorder(hub, EVENT_DTU_OFFLINE)
    await site.link.start()
    try:
        ref = site.meter("m1", 1, "DTU-A")
        device = await site.dtu(b"DTU-A", _bus(1), heartbeat=b"ping", heartbeat_interval=0.05,
                                reconnect_delay=30)
        await site.online("DTU-A")
        await asyncio.sleep(0.5)
        assert site.link.dtu("DTU-A").online  # type: ignore[union-attr]
        device.faults.no_heartbeat = True  # the carrier dropped the session silently
        await until(lambda: bool(recorder.of(EVENT_DTU_OFFLINE)), timeout=3)
        assert "silent" in recorder.of(EVENT_DTU_OFFLINE)[0].data["reason"]
        with pytest.raises(LinkUnavailable):
            site.link.transport_for(ref)
        state = hub.states.get("dtu.dtus_dtu_a")
        assert state is not None and state.state == "offline"
    finally:
        for device in site.dtus:
            await device.stop()
        await site.link.stop()


async def _closed_by_hub(reader: asyncio.StreamReader) -> bool:
    async with asyncio.timeout(5):
        return await reader.read() == b""


async def test_waiting_connections_are_bounded_per_address_and_in_total(hub: Hub) -> None:
    site = Site(hub, max_pending=3, max_pending_per_address=2)
    await site.link.start()
    port = site.link.bound_port
    opened: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    recorder = Recorder(hub, EVENT_LINK_ALARM)

    async def connect(host: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        pair = await asyncio.open_connection("127.0.0.1", port, local_addr=(host, 0))
        opened.append(pair)
        return pair

    try:
        first, _ = await connect("127.0.0.1")
        await connect("127.0.0.1")
        await until(lambda: len(site.link.pending_connections) == 2)
        third, _ = await connect("127.0.0.1")  # over the per-address bound: closed at once
        assert await _closed_by_hub(third)
        await connect("127.0.0.2")
        await until(lambda: len(site.link.pending_connections) == 3)
        await connect("127.0.0.3")  # over the total: the busiest address's oldest goes
        assert await _closed_by_hub(first)
        await until(lambda: len(site.link.pending_connections) == 3)
        hosts = sorted(p.peer.rsplit(":", 1)[0] for p in site.link.pending_connections)
        assert hosts == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
        peers = [e.data["peer"].rsplit(":", 1)[0] for e in recorder.of(EVENT_LINK_ALARM)]
        assert peers == ["127.0.0.1", "127.0.0.1"]  # over its bound; the oldest evicted
        assert all(e.data["kind"] == "connection_flood" for e in recorder.of(EVENT_LINK_ALARM))
        assert site.link.stats.extra["link_alarms"]["connection_flood"] == 2
    finally:
        for _reader, writer in opened:
            writer.close()
        await site.link.stop()


async def test_a_replaced_device_behind_another_dtu_leaves_the_first(site: Site) -> None:
    site.meter("a1", 1, "DTU-A")
    site.meter("a2", 2, "DTU-A")
    site.link.remove_meter("a1")  # a1's new device sits behind DTU-B
    ref = site.meter("a1", 5, "DTU-B")
    await site.dtu(b"DTU-B", _bus(5))
    await site.online("DTU-B")
    assert (await site.read(ref)).registers["energy_import_total"] > 100
    assert site.link.group_of(ref) == "DTU-B"
    dtus = site.link.status()["dtus"]
    assert (dtus["DTU-A"]["meters"], dtus["DTU-B"]["meters"]) == (1, 1)
