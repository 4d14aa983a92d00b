"""Attacks on the DTU links of a whole hub (storage, ledger, billing) over loopback sockets:
a second DTU claiming a live IMEI over TCP and over UDP, a flood of idle connections, a
wrong registration secret, a source outside the allowed networks, and a DTU taken over
after its real one went away. In each the real meters keep being read, nothing forged is
stored as a counter level or charged, and the attempt is alarmed (``link_alarm``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import collect, start_hub, wait_for

from hub.core import Event, Hub
from hub.events import EVENT_LINK_ALARM
from hub.ledger.ledger import Ledger
from hub.metering.dtu import DtuLink
from hub.metering.reading import Reading
from hub.metering.service import MeteringService
from hub.metering.sim import SimulatedBus
from hub.storage.storage import Storage
from hub.util.dt import utcnow
from meterhub_dlt645.simulator import Dlt645Simulator
from meterhub_sim.dtu import SimulatedDtu, SimulatedUdpDtu
from meterhub_sim.simulation import Simulation

IMEI = "861234567890101"
METERS = ("r101", "r102")
FORGED = Decimal(5000)
ATTACKER = "127.0.0.2"  # another host on the loopback network


def site(link: str, *, simulation: str = "{link: dtus, reconnect: 100ms}") -> str:
    """Two DDSY meters behind one DTU on link ``dtus``, charged to one account."""
    return f"""
site: {{name: Test, time_zone: Asia/Shanghai}}
http: {{port: 0, host: 127.0.0.1}}
metering: {{read_on_start: false, timeout: 1s, retries: 0}}
storage: {{commit_interval: 0.02}}
links:
  - {link}
meters:
  - {{id: r101, model: ddsy, link: dtus, address: "202400000101", account: a1,
     tariff: room, link_options: {{dtu: "{IMEI}"}}}}
  - {{id: r102, model: ddsy, link: dtus, address: "202400000102", account: a1,
     tariff: room, link_options: {{dtu: "{IMEI}"}}}}
accounts:
  - {{id: a1, name: 张三}}
tariffs:
  - {{id: room, type: flat, price: 0.6}}
simulation: {{dtus: [{simulation}]}}
"""


TCP = ('{id: dtus, type: tcp_dtu, listen: "127.0.0.1:0", register: {match: [imei]}, '
       'timeout: 1s, gap: 0, probe_timeout: 3s}')


def forged_bus() -> SimulatedBus:
    """The impostor's meters: the real ones' addresses, with a forged 5000 kWh."""
    return SimulatedBus([Dlt645Simulator(f"2024000001{n:02d}", energy=FORGED)
                         for n in (1, 2)])


def dtu_link(hub: Hub) -> DtuLink:
    link = hub.component("metering", MeteringService).links["dtus"]
    assert isinstance(link, DtuLink)
    return link


def alarms(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e.data["kind"] == kind]


@asynccontextmanager
async def attacked_site(tmp_path: Path, text: str) -> AsyncIterator[tuple[Hub, list[Event]]]:
    """The hub with its real DTU online and both meters read once (the baselines)."""
    async with start_hub(tmp_path, text) as hub:
        events = collect(hub, EVENT_LINK_ALARM)
        link = dtu_link(hub)
        await wait_for(lambda: link.table.online_count() == 1, 30)
        await fresh_readings(hub, utcnow() - timedelta(seconds=1))
        yield hub, events


async def fresh_readings(hub: Hub, since: Any) -> list[Reading]:
    """Read every meter now (stored); each reading is new, real and committed."""
    service = hub.component("metering", MeteringService)
    readings = []
    for meter_id in METERS:
        async with asyncio.timeout(30):
            reading, not_stored = await service.read_stored(meter_id)
        assert not_stored is None, not_stored
        assert reading.time > since
        assert reading.registers["energy_import_total"] < 1000  # the real meter's level
        readings.append(reading)
    return readings


async def nothing_forged(hub: Hub) -> None:
    """No stored register anywhere near the forged level is counted, nothing charged."""
    storage = hub.component("storage", Storage)
    await storage.flush()
    now = utcnow()
    for meter_id in METERS:
        for reading in await storage.readings(meter_id, now - timedelta(days=1),
                                              now + timedelta(minutes=1)):
            total = reading.registers.get("energy_import_total", Decimal(0))
            verdict = reading.quality.get("counter", {}).get("energy_import_total")
            assert total < 1000 or verdict in ("quarantined", "suspect"), (total, verdict)
    used = Decimal(0)
    for meter_id in METERS:
        rows = await storage.consumption(meter_id, start=now - timedelta(days=1),
                                         end=now + timedelta(days=1))
        used += sum((r.values.get("energy_import_total", Decimal(0)) for r in rows),
                    Decimal(0))
    assert used < 10  # the real meters' few kWh at most, never the forged 5000
    assert hub.component("ledger", Ledger).balance("a1") > Decimal(-10)


def untouched(devices: Iterable[Any]) -> bool:
    return all(meter.requests == 0 for device in devices for meter in device.bus.meters)


async def unharmed(hub: Hub, started: datetime, *devices: Any) -> None:
    """The real meters are read afresh, the impostors' meters never asked, nothing forged."""
    await fresh_readings(hub, started)
    assert untouched(devices)
    await nothing_forged(hub)


@asynccontextmanager
async def impostor(link: DtuLink, packet: bytes = IMEI.encode()
                   ) -> AsyncIterator[SimulatedDtu]:
    """A TCP DTU on another host registering with ``packet``, forged meters behind it."""
    device = SimulatedDtu("127.0.0.1", link.bound_port, packet, forged_bus(),
                          reconnect_delay=60, local_host=ATTACKER)
    await device.start()
    try:
        yield device
    finally:
        await device.stop()


def real_dtu(hub: Hub) -> Any:
    """The simulated real DTU of the site."""
    return next(iter(hub.component("simulation", Simulation).dtus.values()))


async def test_a_second_tcp_connection_claiming_a_live_imei_is_refused(tmp_path: Path) -> None:
    async with attacked_site(tmp_path, site(TCP)) as (hub, events):
        link = dtu_link(hub)
        live = link.table.dtus[IMEI].peer
        started = utcnow()
        async with impostor(link) as device:
            await wait_for(lambda: alarms(events, "dtu_conflict"), 30)
            await wait_for(lambda: device.connections == 1
                           and not device.connected.is_set(), 10)  # its socket closed
            alarm = alarms(events, "dtu_conflict")[0].data
            assert alarm["dtu"] == IMEI and alarm["live_peer"] == live
            assert alarm["peer"].startswith(f"{ATTACKER}:") and live.startswith("127.0.0.1:")
            assert link.table.dtus[IMEI].peer == live and link.table.dtus[IMEI].conflicts == 1
            state = hub.states.get(f"dtu.dtus_{IMEI}")
            assert state is not None and state.attributes["conflicts"] == 1
            await unharmed(hub, started, device)


async def test_a_udp_datagram_cannot_redirect_a_live_dtu(tmp_path: Path) -> None:
    udp = ('{id: dtus, type: udp, listen: "127.0.0.1:0", register: {match: [imei]}, '
           'timeout: 1s, gap: 0, probe_timeout: 3s}')
    async with attacked_site(tmp_path, site(udp)) as (hub, events):
        link = dtu_link(hub)
        live = link.table.dtus[IMEI].peer
        started = utcnow()
        udp_impostor = SimulatedUdpDtu("127.0.0.1", link.bound_port, IMEI.encode(),
                                       forged_bus(), local_addr=(ATTACKER, 0))
        await udp_impostor.start()
        try:
            await wait_for(lambda: alarms(events, "dtu_conflict"), 30)
            alarm = alarms(events, "dtu_conflict")[0].data
            assert alarm["peer"].startswith(f"{ATTACKER}:") and alarm["live_peer"] == live
            assert link.table.dtus[IMEI].peer == live
            await fresh_readings(hub, started)
            udp_impostor.send_raw(IMEI.encode())  # again: still refused, alarmed once
            await wait_for(lambda: link.stats.extra["link_alarms"]["dtu_conflict"] == 2, 30)
            assert len(alarms(events, "dtu_conflict")) == 1
            await unharmed(hub, started, udp_impostor)
        finally:
            await udp_impostor.stop()


async def test_a_flood_of_idle_connections_never_locks_the_real_dtu_out(
        tmp_path: Path) -> None:
    async with attacked_site(tmp_path, site(TCP)) as (hub, events):
        link = dtu_link(hub)
        port = link.bound_port
        writers: list[asyncio.StreamWriter] = []
        try:
            for n in range(300):  # 300 silent sockets from 100 addresses
                host = f"127.0.1.{n % 100 + 1}"
                writers.append((await asyncio.open_connection(
                    "127.0.0.1", port, local_addr=(host, 0)))[1])
            await wait_for(lambda: len(link.pending_connections) == 256, 30)  # type: ignore[attr-defined]
            started = utcnow()
            device = real_dtu(hub)
            device.disconnect()  # the real DTU drops and reconnects within 100 ms
            await wait_for(lambda: device.connections == 2
                           and link.table.online_count() == 1, 10)
            await fresh_readings(hub, started)
            assert len(alarms(events, "connection_flood")) == 1  # alarmed, not flooded
            assert link.stats.extra["link_alarms"]["connection_flood"] >= 44
            assert len(link.pending_connections) <= 256  # type: ignore[attr-defined]
        finally:
            for writer in writers:
                writer.close()
        await nothing_forged(hub)


async def test_a_wrong_registration_secret_is_refused(tmp_path: Path) -> None:
    secret = ('{id: dtus, type: tcp_dtu, listen: "127.0.0.1:0", register: {match: [imei]}, '
              f'timeout: 1s, gap: 0, dtus: [{{id: "{IMEI}", secret: s3cret-7}}]}}')
    secret = secret.replace("register: {match: [imei]}", "register: {match: [imei], timeout: 3s}")
    async with attacked_site(tmp_path, site(secret)) as (hub, events):
        link = dtu_link(hub)
        started = utcnow()
        async with impostor(link, f"{IMEI},guess-123".encode()) as wrong, \
                impostor(link, IMEI.encode() + b",s3cret-") as short:
            await wait_for(lambda: link.stats.extra.get("link_alarms", {}).get(
                "registration_refused") == 1, 30)  # a packet one byte short waits...
            assert short.connected.is_set()
            await wait_for(lambda: short.connections == 1
                           and not short.connected.is_set(), 30)  # ...then times out
            assert link.stats.extra["link_alarms"]["registration_refused"] == 2
            assert len(alarms(events, "registration_refused")) == 1  # same host, same DTU
            alarm = alarms(events, "registration_refused")[0].data
            assert alarm["dtu"] == IMEI and alarm["peer"].startswith(f"{ATTACKER}:")
            assert "s3cret" not in alarm["message"]  # the secret is never told
            assert link.table.dtus[IMEI].peer.startswith("127.0.0.1:")
            await unharmed(hub, started, wrong, short)


async def test_a_source_outside_the_allowed_networks_is_refused(tmp_path: Path) -> None:
    allowed = ('{id: dtus, type: tcp_dtu, listen: "127.0.0.1:0", register: {match: [imei]}, '
               'timeout: 1s, gap: 0, allow_from: [127.0.0.1/32]}')
    async with attacked_site(tmp_path, site(allowed)) as (hub, events):
        link = dtu_link(hub)
        started = utcnow()
        async with impostor(link) as device:
            await wait_for(lambda: alarms(events, "source_refused"), 30)
            assert alarms(events, "source_refused")[0].data["peer"].startswith(f"{ATTACKER}:")
            await wait_for(lambda: not device.connected.is_set(), 10)
            assert not alarms(events, "dtu_conflict")  # refused before it could claim
            await unharmed(hub, started, device)


async def test_readings_through_a_dtu_taken_over_after_it_went_away_are_quarantined(
        tmp_path: Path) -> None:
    async with attacked_site(tmp_path, site(TCP)) as (hub, _events):
        link = dtu_link(hub)
        real_dtu(hub).pause()  # the real DTU is gone (out of coverage)
        await wait_for(lambda: link.table.online_count() == 0, 10)
        async with impostor(link):
            await wait_for(lambda: link.table.online_count() == 1, 10)
            service = hub.component("metering", MeteringService)
            for _ in range(4):  # more than the readings that would confirm a reset
                reading, not_stored = await asyncio.wait_for(service.read_stored("r101"), 30)
                assert not_stored is None and "link_moved" in reading.quality
                assert reading.registers["energy_import_total"] >= FORGED
            storage = hub.component("storage", Storage)
            stored = await storage.readings("r101", utcnow() - timedelta(minutes=5),
                                            utcnow() + timedelta(minutes=1))
            verdicts = [r.quality.get("counter", {}).get("energy_import_total")
                        for r in stored]
            assert verdicts[-4:] == ["suspect"] * 4
            await nothing_forged(hub)


async def test_a_takeover_right_after_a_restart_is_still_a_move(tmp_path: Path) -> None:
    async with attacked_site(tmp_path, site(TCP)):
        pass  # the real DTU registered from 127.0.0.1 before the restart
    text = site(TCP, simulation="{link: dtus, reconnect: 100ms, host: 127.0.0.9}")
    async with start_hub(tmp_path, text) as hub:  # its simulated DTU never reaches it
        link = dtu_link(hub)
        assert link.table.dtus[IMEI].host == "127.0.0.1"
        async with impostor(link):
            await wait_for(lambda: link.table.online_count() == 1, 10)
            service = hub.component("metering", MeteringService)
            reading, _ = await asyncio.wait_for(service.read_stored("r101"), 30)
            assert reading.quality["link_moved"].startswith(
                f"DTU {IMEI} moved from 127.0.0.1 to {ATTACKER}")
            await nothing_forged(hub)
