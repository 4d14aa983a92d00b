"""The Modbus models against a real pymodbus server, and pymodbus's client against ours.

The server is pymodbus's own ``ModbusTcpServer`` with its RTU framer on 127.0.0.1 (RTU
frames over TCP, as through a transparent DTU), its datastore holding known values; the
hub reads it through a plain asyncio stream and :class:`StreamTransport`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal

from modbus_support import EXAMPLE_MAP, WATER_MAP, frozen_clock, meter
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.framer import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from hub.metering.model import Command, MeterKind
from hub.metering.sim import ConstantLoad, SimulatedBus
from hub.metering.transport import StreamTransport
from meterhub_modbus.model import shipped_models
from meterhub_modbus.simulator import ModbusSimulator

MODELS = {model.name: model for model in shipped_models()}
_BIT = [SimData(0, values=False, datatype=DataType.BITS)]


def _floats(values: dict[int, float]) -> list[SimData]:
    return [SimData(address, values=[value], datatype=DataType.FLOAT32)
            for address, value in values.items()]


SDM120_DEVICE = SimDevice(id=1, simdata=(_BIT, _BIT, _floats({0: 0.0}), _floats({
    0x0000: 230.5, 0x0006: 4.25, 0x000C: 941.75, 0x001E: 0.96, 0x0046: 49.98,
    0x0048: 12345.67, 0x004A: 1.5, 0x0156: 12347.17,
})))

DDS238_DEVICE = SimDevice(id=7, simdata=(_BIT, _BIT, [
    SimData(0x0000, values=[123456], datatype=DataType.UINT32),
    SimData(0x0008, values=[100], datatype=DataType.UINT32),
    SimData(0x000A, values=[123356], datatype=DataType.UINT32),
    SimData(0x000C, values=[2305], datatype=DataType.UINT16),
    SimData(0x000D, values=[512], datatype=DataType.UINT16),
    SimData(0x000E, values=[-1180], datatype=DataType.INT16),
    SimData(0x000F, values=[0], datatype=DataType.UINT16),
    SimData(0x0010, values=[987], datatype=DataType.UINT16),
    SimData(0x0011, values=[4998], datatype=DataType.UINT16),
    SimData(0x001A, values=[1], datatype=DataType.UINT16),
], _floats({0: 0.0})))


@contextlib.asynccontextmanager
async def pymodbus_server(device: SimDevice) -> AsyncIterator[StreamTransport]:
    """A pymodbus RTU-over-TCP server on 127.0.0.1 and a StreamTransport connected to it."""
    server = ModbusTcpServer(device, framer=FramerType.RTU, address=("127.0.0.1", 0))
    async with asyncio.timeout(10):
        await server.serve_forever(background=True)
        port = server.transport.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        yield StreamTransport(reader, writer, name="pymodbus")
    finally:
        writer.close()
        async with asyncio.timeout(10):
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            await server.shutdown()  # type: ignore[no-untyped-call]


async def test_sdm120_reads_a_pymodbus_server() -> None:
    """Every SDM120 point comes back as the exact Decimal the float32 stands for."""
    async with pymodbus_server(SDM120_DEVICE) as transport, asyncio.timeout(20):
        result = await MODELS["sdm120"].read(transport, meter("1"))
    assert not result.errors
    assert result.values == {
        "voltage": Decimal("230.5"), "current": Decimal("4.25"),
        "power": Decimal("0.94175"),  # 941.75 W in kW
        "power_factor": Decimal("0.96"), "frequency": Decimal("49.98"),
    }
    assert result.registers == {
        "energy_import_total": Decimal("12345.67"), "energy_export_total": Decimal("1.5"),
        "energy_combined_total": Decimal("12347.17"),
    }
    assert result.frames == 6  # 0x46..0x4B (frequency, import, export) in one request


async def test_exception_reply_from_a_pymodbus_server() -> None:
    """pymodbus answers a slave it does not have with "device failure": a named refusal."""
    async with pymodbus_server(SDM120_DEVICE) as transport, asyncio.timeout(20):
        result = await MODELS["sdm120"].read(transport, meter("2"), ["voltage"])
    assert not result.values and result.frames == 1
    assert result.errors == {
        "voltage": "slave 2 refused read input registers at 0x0000: server device failure (04)"}


async def test_user_map_reads_and_trips_a_pymodbus_server() -> None:
    """The example DDS238-2 map: scaled integers, then FC 10 relay writes read back."""
    model = MODELS["modbus"]
    ref = meter("7", {"map": str(EXAMPLE_MAP)})
    async with pymodbus_server(DDS238_DEVICE) as transport, asyncio.timeout(20):
        result = await model.read(transport, ref)
        assert not result.errors
        assert result.registers == {
            "energy_combined_total": Decimal("1234.56"),
            "energy_export_total": Decimal("1.00"),
            "energy_import_total": Decimal("1233.56"),
        }
        assert result.values == {
            "voltage": Decimal("230.5"), "current": Decimal("5.12"),
            "power": Decimal("-1.180"), "power_factor": Decimal("0.987"),
            "frequency": Decimal("49.98"),
        }
        assert result.status == {"relay": "closed"}
        assert result.frames == 3
        tripped = await model.command(transport, ref, Command.TRIP)
        assert tripped.accepted, tripped.detail
        assert (await model.read(transport, ref, ["relay"])).status == {"relay": "open"}
        closed = await model.command(transport, ref, Command.CLOSE)
        assert closed.accepted, closed.detail
        assert (await model.read(transport, ref, ["relay"])).status == {"relay": "closed"}


async def test_pymodbus_client_reads_and_trips_our_simulator() -> None:
    """pymodbus's own RTU client understands the simulator's frames (and its relay)."""
    model = MODELS["modbus"]
    clock = frozen_clock()
    simulator = model.create_simulator("7", clock=clock, load=ConstantLoad("2"),
                                       options={"map": str(EXAMPLE_MAP)},
                                       energy_import="1000")
    sdm = MODELS["sdm120"].create_simulator("1", clock=clock, load=ConstantLoad("2"))
    assert isinstance(simulator, ModbusSimulator) and isinstance(sdm, ModbusSimulator)
    bus = SimulatedBus([simulator, sdm])
    server = await asyncio.start_server(bus.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = AsyncModbusTcpClient("127.0.0.1", port=port, framer=FramerType.RTU, timeout=2,
                                  retries=0)
    try:
        async with asyncio.timeout(20):
            assert await client.connect()
            clock.advance(1800)  # half an hour at 2 kW
            reply = await client.read_holding_registers(0x000A, count=2, device_id=7)
            assert not reply.isError()
            raw = client.convert_from_registers(reply.registers, client.DATATYPE.UINT32)
            assert raw == 100100  # 1001.00 kWh in 0.01 kWh
            reply = await client.read_input_registers(0x0000, count=2, device_id=1)
            volts = client.convert_from_registers(reply.registers, client.DATATYPE.FLOAT32)
            assert volts == 230.0
            written = await client.write_registers(0x001A, [0], device_id=7)
            assert not written.isError()
            assert simulator.relay_closed is False
            refused = await client.write_register(0x001A, 1, device_id=7)
            assert refused.isError() and refused.exception_code == 1  # FC 06 not taken
    finally:
        client.close()
        server.close()
        async with asyncio.timeout(10):
            await server.wait_closed()


WATER_DEVICE = SimDevice(id=12, simdata=(_BIT, _BIT, [
    SimData(0x0000, values=[1234567], datatype=DataType.UINT32),  # litres
    SimData(0x0002, values=[1250], datatype=DataType.UINT32),  # 1.250 m³/h
    SimData(0x0004, values=[0, 0], datatype=DataType.UINT16),
    SimData(0x0006, values=[361], datatype=DataType.UINT16),  # 3.61 V
], _floats({0: 0.0})))


async def test_water_map_reads_water_from_a_pymodbus_server() -> None:
    """``kind: water`` in a map: the meter is a water meter and its readings are in m³."""
    model = MODELS["modbus"]
    ref = meter("12", {"map": str(WATER_MAP)})
    assert model.kind_of(ref) is MeterKind.WATER
    assert model.kind_of(meter("7", {"map": str(EXAMPLE_MAP)})) is MeterKind.ELECTRICITY
    async with pymodbus_server(WATER_DEVICE) as transport, asyncio.timeout(20):
        result = await model.read(transport, ref)
    assert not result.errors
    assert result.registers == {"water_total": Decimal("1234.567")}
    assert result.values == {"flow_rate": Decimal("1.250"), "battery_voltage": Decimal("3.61")}
