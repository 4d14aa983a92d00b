"""The udp link over loopback UDP with simulated DTUs: registration or source address,
replies per DTU, address changes, unknown senders, heartbeat liveness."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from link_support import TOY, Recorder, make_link, meter, until, within
from link_toy import ToySimulator

from hub.core import Hub
from hub.metering.dtu import EVENT_DTU_OFFLINE
from hub.metering.link import LinkUnavailable
from hub.metering.model import MeterRef, NoReply
from hub.metering.sim import SimulatedBus
from meterhub_sim.dtu import SimulatedUdpDtu
from meterhub_udp import UdpLink, UdpLinkType

UDP = UdpLinkType()
IMEI = "861234567890123"


def _bus(*addresses: int) -> SimulatedBus:
    return SimulatedBus([ToySimulator(f"{n:012d}") for n in addresses])


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Site:
    """A udp link on a free loopback port and its simulated DTUs."""

    def __init__(self, hub: Hub, **config: Any) -> None:
        self.link: UdpLink = make_link(UDP, hub, {  # type: ignore[assignment]
            "id": "udp", "type": "udp", "listen": "127.0.0.1:0", "timeout": 1, "gap": 0,
            **config})
        self.dtus: list[SimulatedUdpDtu] = []

    async def dtu(self, registration: bytes, bus: SimulatedBus, **options: Any
                  ) -> SimulatedUdpDtu:
        device = SimulatedUdpDtu("127.0.0.1", self.link.bound_port, registration, bus,
                                 **options)
        self.dtus.append(device)
        await device.start()
        return device

    async def read(self, ref: MeterRef) -> Any:
        return await within(TOY.read(self.link.transport_for(ref), ref))

    async def close(self) -> None:
        for device in self.dtus:
            await device.stop()
        await self.link.stop()


@pytest.fixture
async def site(hub: Hub) -> AsyncIterator[Site]:
    instance = Site(hub, register={"match": ["known", "imei"]})
    await instance.link.start()
    yield instance
    await instance.close()


async def test_dtus_register_once_or_by_prefix(site: Site) -> None:
    once = meter("m1", "000000000001", site.link, dtu=IMEI)
    prefixed = meter("m2", "000000000001", site.link, dtu="DTU-P")
    await site.dtu(IMEI.encode(), _bus(1))
    await site.dtu(b"DTU-P", _bus(1), mode="prefix")
    await until(lambda: site.link.table.online_count() == 1)
    assert (await site.read(once)).frames == 3
    with pytest.raises(LinkUnavailable, match="not been heard from"):
        site.link.transport_for(prefixed)  # a prefix-mode DTU is known once it speaks
    site.dtus[1].send_raw(b"DTU-P")  # e.g. its first heartbeat
    await until(lambda: site.link.table.online_count() == 2)
    assert (await site.read(prefixed)).frames == 3
    assert site.link.group_of(once) == IMEI


async def test_a_dtu_known_by_its_source_address(hub: Hub) -> None:
    port = _free_udp_port()
    site = Site(hub, dtus=[{"id": "gw7", "address": f"127.0.0.1:{port}"}])
    await site.link.start()
    try:
        ref = meter("m1", "000000000009", site.link, dtu="gw7")
        assert site.link.table.dtus["gw7"].online  # reachable before it said anything
        await site.dtu(b"", _bus(9), local_addr=("127.0.0.1", port))
        assert (await site.read(ref)).registers["energy_import_total"] > 100
    finally:
        await site.close()


async def test_replies_go_to_the_dtu_that_sent_them(site: Site) -> None:
    refs = [meter("a", "000000000001", site.link, dtu="DTU-A"),
            meter("b", "000000000001", site.link, dtu="DTU-B")]
    dtu_a = await site.dtu(b"DTU-A", _bus(1))
    dtu_b = await site.dtu(b"DTU-B", _bus(1))
    await until(lambda: site.link.table.online_count() == 2)
    results = await within(asyncio.gather(*(site.read(r) for r in refs)))
    assert [r.frames for r in results] == [3, 3]
    assert dtu_a.requests == 3 and dtu_b.requests == 3


async def test_a_dtu_that_moves_to_another_address_is_followed(site: Site) -> None:
    ref = meter("m1", "000000000001", site.link, dtu=IMEI)
    first = await site.dtu(IMEI.encode(), _bus(1))
    await until(lambda: site.link.table.online_count() == 1)
    await first.stop()  # NAT rebinding: the same DTU, a new source port
    second = await site.dtu(IMEI.encode(), _bus(1))
    await until(lambda: site.link.channels[IMEI].address == second.local_address)
    assert (await site.read(ref)).frames == 3
    assert second.requests == 3


async def test_unknown_senders_are_ignored(site: Site, caplog: pytest.LogCaptureFixture
                                           ) -> None:
    ref = meter("m1", "000000000001", site.link, dtu=IMEI)
    stranger = await site.dtu(b"", _bus(1))
    stranger.send_raw(b"\x68garbage\x16")
    stranger.send_raw(b"\x68garbage\x16")
    intruder = await site.dtu(b"861234567890999", _bus(1))
    await until(lambda: site.link.stats.extra.get("refused", 0) == 1)
    await until(lambda: site.link.stats.garbage_bytes == 18)
    assert intruder.requests == 0 and site.link.table.online_count() == 0
    assert sum("unknown source" in r.getMessage() for r in caplog.records) == 1
    with pytest.raises(LinkUnavailable):
        site.link.transport_for(ref)


async def test_a_muted_dtu_times_out_and_a_silent_one_goes_offline(hub: Hub) -> None:
    site = Site(hub, heartbeat={"data": "ping", "interval": "100ms", "misses": 3},
                timeout="200ms")
    recorder = Recorder(hub, EVENT_DTU_OFFLINE)
    await site.link.start()
    try:
        ref = meter("m1", "000000000001", site.link, dtu="DTU-A")
        device = await site.dtu(b"DTU-A", _bus(1), heartbeat=b"ping",
                                heartbeat_interval=0.05)
        await until(lambda: site.link.table.online_count() == 1)
        device.faults.mute = True
        with pytest.raises(NoReply):
            await site.read(ref)
        await asyncio.sleep(0.5)
        assert site.link.table.online_count() == 1  # heartbeats keep it online
        dtu = site.link.table.dtus["DTU-A"]
        assert dtu.heartbeats >= 3
        device.faults.no_heartbeat = True
        await until(lambda: bool(recorder.of(EVENT_DTU_OFFLINE)), timeout=3)
        with pytest.raises(LinkUnavailable):
            site.link.transport_for(ref)
        device.faults = type(device.faults)()  # back to normal: the next heartbeat revives it
        await until(lambda: site.link.table.online_count() == 1, timeout=3)
        assert (await site.read(ref)).frames == 3
    finally:
        await site.close()
