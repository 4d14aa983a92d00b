"""tcp_client and carrier links over loopback TCP (and a pty): reads, reconnect with backoff,
long carrier timeouts."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import voluptuous as vol
from link_support import TOY, make_link, meter, until, within
from link_toy import ToySimulator

from hub.core import Hub
from hub.metering.link import LinkUnavailable
from hub.metering.sim import SimulatedBus
from meterhub_carrier import CarrierLinkType
from meterhub_sim.serial import SimulatedSerialBus
from meterhub_sim.tcpserver import SimulatedTcpServer
from meterhub_tcp_client import TcpClientLinkType

TCP_CLIENT = TcpClientLinkType()
CARRIER = CarrierLinkType()


def _bus(*addresses: int, **options: object) -> SimulatedBus:
    return SimulatedBus([ToySimulator(f"{n:012d}") for n in addresses],
                        **options)  # type: ignore[arg-type]


async def test_reads_through_a_serial_server(hub: Hub) -> None:
    server = SimulatedTcpServer(_bus(1, 2))
    await server.start()
    link = make_link(TCP_CLIENT, hub, {"id": "gw", "type": "tcp_client", "host": "127.0.0.1",
                                       "port": server.port, "timeout": 1})
    refs = [meter("m1", "000000000001", link), meter("m2", "000000000002", link)]
    try:
        await link.start()
        await link.wait_connected(5)  # type: ignore[attr-defined]
        for ref in refs:
            assert (await within(TOY.read(link.transport_for(ref), ref))).frames == 3
        assert link.status()["endpoint"] == f"127.0.0.1:{server.port}"
        assert link.config["gap"].total_seconds() == 0.05
    finally:
        await link.stop()
        await server.stop()


async def test_reconnects_with_backoff_after_the_server_goes_away(hub: Hub) -> None:
    server = SimulatedTcpServer(_bus(1))
    await server.start()
    link = make_link(TCP_CLIENT, hub, {"id": "gw", "type": "tcp_client", "host": "127.0.0.1",
                                       "port": server.port, "timeout": 1,
                                       "reconnect_max": "400ms"})
    link.backoff_initial = 0.05  # type: ignore[attr-defined]
    ref = meter("m1", "000000000001", link)
    try:
        await link.start()
        await link.wait_connected(5)  # type: ignore[attr-defined]
        await server.stop()  # the serial server reboots
        await until(lambda: not link.online)
        with pytest.raises(LinkUnavailable, match="is not open"):
            link.transport_for(ref)
        await asyncio.sleep(0.5)  # refused attempts, backing off (capped at 0.4 s)
        await server.start()
        started = time.monotonic()
        await link.wait_connected(5)  # type: ignore[attr-defined]
        assert time.monotonic() - started < 1.0  # the backoff is capped
        assert (await within(TOY.read(link.transport_for(ref), ref))).frames == 3
        assert link.stats.connects == 2 and server.connections == 2
    finally:
        await link.stop()
        await server.stop()


async def test_carrier_waits_long_for_a_slow_power_line(hub: Hub) -> None:
    bus = _bus(1)
    bus.meters[0].faults.delay = 0.4  # type: ignore[attr-defined]
    concentrator = SimulatedTcpServer(bus)
    await concentrator.start()
    link = make_link(CARRIER, hub, {"id": "plc", "type": "carrier", "host": "127.0.0.1",
                                    "port": concentrator.port, "gap": "10ms"})
    ref = meter("m1", "000000000001", link)
    try:
        assert link.config["timeout"].total_seconds() == 15
        await link.start()
        await link.wait_connected(5)  # type: ignore[attr-defined]
        started = time.monotonic()
        result = await within(TOY.read(link.transport_for(ref), ref))
        assert result.frames == 3 and time.monotonic() - started >= 1.2
        assert "concentrator at 127.0.0.1" in link.status()["endpoint"]
    finally:
        await link.stop()
        await concentrator.stop()


async def test_carrier_concentrator_on_a_serial_port(hub: Hub, tmp_path: Path) -> None:
    wire = SimulatedSerialBus(_bus(5, baud=9600), tmp_path / "plc")
    await wire.start()
    link = make_link(CARRIER, hub, {"id": "plc", "type": "carrier",
                                    "serial": {"port": str(tmp_path / "plc"), "baud": 9600}})
    ref = meter("m5", "000000000005", link)
    try:
        await link.start()
        await link.wait_connected(5)  # type: ignore[attr-defined]
        assert (await within(TOY.read(link.transport_for(ref), ref))).frames == 3
    finally:
        await link.stop()
        await wire.stop()


def test_carrier_needs_one_way_to_the_concentrator() -> None:
    schema = CARRIER.schema()
    with pytest.raises(vol.Invalid, match="either 'host' and 'port' or 'serial'"):
        vol.Schema(schema)({"id": "plc", "type": "carrier"})
    with pytest.raises(vol.Invalid, match="either"):
        vol.Schema(schema)({"id": "plc", "type": "carrier", "host": "h", "port": 1,
                            "serial": {"port": "/dev/ttyS1"}})
    with pytest.raises(vol.Invalid, match="needs 'port'"):
        vol.Schema(schema)({"id": "plc", "type": "carrier", "host": "h"})
