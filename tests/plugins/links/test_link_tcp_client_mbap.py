"""tcp_client with ``framing: mbap``: a Modbus meter behind a Modbus/TCP gateway, the gateway
being pymodbus's own TCP server on 127.0.0.1; and what a read says when the framing is wrong."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import voluptuous as vol
from link_support import make_link, meter, within
from pymodbus.framer import FramerRTU, FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from hub.core import Hub
from hub.metering.link import Link
from hub.metering.model import MeterRef, NoReply, ProtocolError
from hub.metering.sim import SimClock, SimulatedBus
from meterhub_dlt645.models import DDSY
from meterhub_dlt645.simulator import Dlt645Simulator
from meterhub_modbus.frames import RtuParser
from meterhub_modbus.model import shipped_models
from meterhub_sim.tcpserver import SimulatedTcpServer
from meterhub_tcp_client import TcpClientLinkType
from meterhub_tcp_client.framing import FramedTransport
from meterhub_tcp_client.mbap import MbapParser, rtu_to_mbap

TCP_CLIENT = TcpClientLinkType()
SDM120 = next(model for model in shipped_models() if model.name == "sdm120")
_BIT = [SimData(0, values=False, datatype=DataType.BITS)]
UNIT = 3  # the meter's Modbus address = the MBAP unit id
_PDU = bytes.fromhex("0304000000")[1:] + b"\x02"  # read input registers 0x0000, count 2
READ_VOLTAGE = bytes((UNIT,)) + _PDU + FramerRTU.compute_CRC(bytes((UNIT,)) + _PDU).to_bytes(
    2, "big")


def _floats(values: dict[int, float]) -> list[SimData]:
    return [SimData(address, values=[value], datatype=DataType.FLOAT32)
            for address, value in values.items()]


GATEWAY_METER = SimDevice(id=UNIT, simdata=(_BIT, _BIT, _floats({0: 0.0}), _floats({
    0x0000: 230.5, 0x0006: 4.25, 0x000C: 941.75, 0x001E: 0.96, 0x0046: 49.98,
    0x0048: 12345.67, 0x004A: 1.5, 0x0156: 12347.17,
})))


@contextlib.asynccontextmanager
async def gateway(framer: FramerType = FramerType.SOCKET) -> AsyncIterator[int]:
    """A pymodbus Modbus/TCP server on 127.0.0.1 holding one SDM120's registers; its port."""
    server = ModbusTcpServer(GATEWAY_METER, framer=framer, address=("127.0.0.1", 0))
    async with asyncio.timeout(10):
        await server.serve_forever(background=True)
    try:
        yield server.transport.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    finally:
        async with asyncio.timeout(10):
            await server.shutdown()  # type: ignore[no-untyped-call]


@contextlib.asynccontextmanager
async def client(hub: Hub, port: int, **options: object) -> AsyncIterator[Link]:
    link = make_link(TCP_CLIENT, hub, {"id": "gw", "type": "tcp_client", "host": "127.0.0.1",
                                       "port": port, "timeout": 1, **options})
    try:
        await link.start()
        await link.wait_connected(5)  # type: ignore[attr-defined]
        yield link
    finally:
        await within(link.stop())


async def test_a_modbus_meter_behind_a_modbus_tcp_gateway(hub: Hub) -> None:
    async with gateway() as port, client(hub, port, framing="mbap") as link:
        ref = meter("m1", str(UNIT), link, SDM120)
        result = await within(SDM120.read(link.transport_for(ref), ref))
        again = await within(SDM120.read(link.transport_for(ref), ref))
    assert not result.errors
    assert result.values["voltage"] == Decimal("230.5")
    assert result.values["current"] == Decimal("4.25")
    assert result.registers["energy_import_total"] == Decimal("12345.67")
    assert again.registers == result.registers  # transaction ids move on
    assert link.status()["framing"] == "mbap"


async def test_rtu_framing_at_a_modbus_tcp_gateway_says_the_framing_may_be_wrong(
        hub: Hub) -> None:
    async with gateway() as port, client(hub, port) as link:
        ref = meter("m1", str(UNIT), link, SDM120)
        transport = link.transport_for(ref)
        with pytest.raises(NoReply) as err:
            await within(transport.transact(
                READ_VOLTAGE, RtuParser(), lambda _f: True, 0.5))
        with pytest.raises(NoReply, match="the framing may be wrong") as read:
            await within(SDM120.read(transport, MeterRef("m1", str(UNIT))))
    assert str(err.value).startswith("gw: no reply within 0.5s; ")
    assert "not one rtu frame: the framing may be wrong (link gw option framing: rtu " \
           "(rtu | mbap); try framing: mbap)" in str(err.value)
    assert "try framing: mbap" in str(read.value)  # what the read failure says


async def test_silence_on_port_502_with_rtu_framing_points_to_mbap(hub: Hub) -> None:
    server = SimulatedTcpServer(SimulatedBus([]))  # a gateway that never answers RTU
    await server.start()
    try:
        async with client(hub, server.port) as link:
            ref = meter("m1", str(UNIT), link, SDM120)
            inner = link.transport_for(ref)
            assert isinstance(inner, FramedTransport)
            on_502 = FramedTransport(inner.inner, "rtu", "gw", 502)
            with pytest.raises(NoReply, match=r"port 502 is Modbus/TCP's: a Modbus/TCP "
                               r"gateway needs framing: mbap \(link gw option framing"):
                await within(on_502.transact(READ_VOLTAGE,
                                             RtuParser(), lambda _f: True, 0.3))
            with pytest.raises(NoReply) as plain:  # any other port: a meter that is off
                await within(inner.transact(READ_VOLTAGE,
                                            RtuParser(), lambda _f: True, 0.3))
            assert str(plain.value) == "gw: no reply within 0.3s"
    finally:
        await within(server.stop())


async def test_dlt645_over_tcp_client_still_works_and_mbap_refuses_it(hub: Hub) -> None:
    sim = Dlt645Simulator("202400001234", SimClock(speed=0), energy="12.34")
    server = SimulatedTcpServer(SimulatedBus([sim]))
    await server.start()
    try:
        async with client(hub, server.port) as link:
            ref = meter("e1", "202400001234", link, DDSY)
            result = await within(DDSY.read(link.transport_for(ref), ref,
                                            ["energy_import_total"]))
            assert result.registers["energy_import_total"] == Decimal("12.34")
        async with client(hub, server.port, framing="mbap") as link:
            refused = await within(DDSY.read(link.transport_for(ref), ref,
                                             ["energy_import_total"]))
            with pytest.raises(ProtocolError, match=r"framing mbap carries Modbus RTU requests "
                               r"only.*needs framing: rtu"):
                await within(link.transport_for(ref).send(b"\x68\x99\x16"))
        assert refused.registers == {}
        assert "framing mbap carries Modbus RTU requests only" in refused.errors[
            "energy_import_total"]
    finally:
        await within(server.stop())


def test_mbap_frames_through_pymodbus() -> None:
    assert rtu_to_mbap(READ_VOLTAGE, 0x1234).hex() == (
        "123400000006030400000002")
    parser = MbapParser(RtuParser(), 7)
    reply = bytes.fromhex("0007000000070304044366800000")
    late = bytes.fromhex("0006000000070304044366800000")
    frames = parser.feed(b"\x01\x02" + late + reply[:5])
    assert frames == [] and parser.garbage == 2  # the late answer is skipped
    (frame,) = parser.feed(reply[5:])
    assert frame.slave == UNIT and frame.function == 4


def test_framing_is_rtu_or_mbap() -> None:
    schema = TCP_CLIENT.schema()
    base = {"id": "gw", "type": "tcp_client", "host": "h", "port": 502}
    assert schema(dict(base))["framing"] == "rtu"
    with pytest.raises(vol.Invalid, match="framing is one of rtu, mbap"):
        schema({**base, "framing": "ascii"})
