"""The Modbus simulators driven over a real byte transport (a socket pair), not by calls."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from modbus_support import EXAMPLE_MAP, frozen_clock, meter, socket_bus

from hub.metering.model import Command, MeterRef, NoReply
from hub.metering.sim import ConstantLoad, SimClock, SimulatedBus
from meterhub_modbus.frames import Request, RtuParser
from meterhub_modbus.model import shipped_models
from meterhub_modbus.simulator import ModbusSimulator
from meterhub_sim import SimLink

MODELS = {model.name: model for model in shipped_models()}
DDS238 = {"map": str(EXAMPLE_MAP), "timeout": "0.3"}


def _dds238(clock: SimClock, load: str = "1", **options: object) -> ModbusSimulator:
    simulator = MODELS["modbus"].create_simulator("7", clock=clock, load=ConstantLoad(load),
                                                  options=DDS238, **options)
    assert isinstance(simulator, ModbusSimulator)
    return simulator


def _sdm120(clock: SimClock, load: str = "2", address: str = "1") -> ModbusSimulator:
    simulator = MODELS["sdm120"].create_simulator(address, clock=clock,
                                                  load=ConstantLoad(load))
    assert isinstance(simulator, ModbusSimulator)
    return simulator


async def _energy(transport: object, ref: MeterRef) -> Decimal:
    result = await MODELS["modbus"].read(transport, ref, ["energy_import_total"])  # type: ignore[arg-type]
    return result.registers["energy_import_total"]


async def test_trip_stops_energy_rising() -> None:
    """A fast clock: energy rises, a trip (FC 10 over the socket) stops it, close resumes."""
    clock = SimClock(speed=36000)  # ten simulated hours per real second
    simulator = _dds238(clock, load="3")
    ref = meter("7", DDS238)
    model = MODELS["modbus"]
    async with asyncio.timeout(20), socket_bus(SimulatedBus([simulator])) as transport:
        first = await _energy(transport, ref)
        await asyncio.sleep(0.05)
        rising = await _energy(transport, ref)
        assert rising > first
        assert (await model.command(transport, ref, Command.TRIP)).accepted
        assert (await model.read(transport, ref, ["relay", "power", "current"])).status == {
            "relay": "open"}
        tripped = await model.read(transport, ref, ["power", "current"])
        assert tripped.values == {"power": Decimal(0), "current": Decimal(0)}
        stopped = await _energy(transport, ref)
        await asyncio.sleep(0.1)  # another hour of simulated time
        assert await _energy(transport, ref) == stopped
        assert (await model.command(transport, ref, Command.CLOSE)).accepted
        await asyncio.sleep(0.05)
        assert await _energy(transport, ref) > stopped


async def test_energy_accumulates_by_the_simulated_clock() -> None:
    """Two simulated hours at 2 kW add exactly 4 kWh to import and combined energy."""
    clock = frozen_clock()
    simulator = _sdm120(clock)
    simulator.energy_import = Decimal("1000")
    simulator.energy_export = Decimal("12.5")
    async with asyncio.timeout(20), socket_bus(SimulatedBus([simulator])) as transport:
        before = await MODELS["sdm120"].read(transport, meter("1"))
        clock.advance(7200)
        after = await MODELS["sdm120"].read(transport, meter("1"))
    assert before.registers == {"energy_import_total": Decimal("1000"),
                                "energy_export_total": Decimal("12.5"),
                                "energy_combined_total": Decimal("1012.5")}
    assert after.registers["energy_import_total"] == Decimal("1004")
    assert after.registers["energy_combined_total"] == Decimal("1016.5")


async def test_instant_values_follow_the_load() -> None:
    """P = U·I·PF within float32 precision; injected conditions show in the readings."""
    clock = frozen_clock()
    simulator = _sdm120(clock, load="2.3")
    async with asyncio.timeout(20), socket_bus(SimulatedBus([simulator])) as transport:
        normal = (await MODELS["sdm120"].read(transport, meter("1"))).values
        simulator.inject("over_voltage")
        high = (await MODELS["sdm120"].read(transport, meter("1"), ["voltage"])).values
        simulator.inject("under_voltage")
        low = (await MODELS["sdm120"].read(transport, meter("1"), ["voltage"])).values
        simulator.inject("over_current")
        surge = (await MODELS["sdm120"].read(transport, meter("1"), ["current"])).values
    assert normal["voltage"] == Decimal("230") and normal["power"] == Decimal("2.3")
    assert normal["power_factor"] == Decimal("0.95") and normal["frequency"] == Decimal("50")
    product = normal["voltage"] * normal["current"] * normal["power_factor"] / 1000
    assert abs(product - normal["power"]) < Decimal("0.001")
    assert high["voltage"] == Decimal("264.5") and low["voltage"] == Decimal("184")
    assert surge["current"] > Decimal("60")


async def test_wrong_slave_reply_is_rejected() -> None:
    """A meter answering as slave 9 is never taken for slave 7's reply: NoReply."""
    simulator = _dds238(frozen_clock())
    simulator.reply_slave = 9
    async with asyncio.timeout(20), socket_bus(SimulatedBus([simulator])) as transport:
        with pytest.raises(NoReply):
            await MODELS["modbus"].read(transport, meter("7", DDS238), ["voltage"])
    assert simulator.requests == 1


async def test_only_the_addressed_meter_answers_on_a_shared_bus() -> None:
    """Three meters on one socket: each read gets its own meter's values."""
    clock = frozen_clock()
    sdm = _sdm120(clock, load="1", address="1")
    ddsu = MODELS["ddsu666"].create_simulator("2", clock=clock, load=ConstantLoad("4"))
    dds = _dds238(clock, load="0.5")
    async with asyncio.timeout(20), socket_bus(SimulatedBus([sdm, ddsu, dds])) as transport:
        one = await MODELS["sdm120"].read(transport, meter("1"), ["power"])
        two = await MODELS["ddsu666"].read(transport, meter("2"), ["power"])
        seven = await MODELS["modbus"].read(transport, meter("7", DDS238), ["power"])
    assert (one.values, two.values, seven.values) == (
        {"power": Decimal(1)}, {"power": Decimal(4)}, {"power": Decimal("0.5")})
    assert (sdm.requests, ddsu.requests, dds.requests) == (1, 1, 1)


async def test_exception_replies_are_decoded() -> None:
    """Unknown registers: illegal data address; FC 06 to a FC-10-only relay: illegal function."""
    clock = frozen_clock()
    bus = SimulatedBus([_sdm120(clock), _dds238(clock)])
    unknown = meter("1", {"registers": [
        {"point": "voltage", "address": 0, "type": "float32"},
        {"point": "current", "address": 0x9000, "type": "float32"}]}, meter_id="u1")
    by_fc06 = meter("7", {"registers": [{"point": "voltage", "address": 0x0C,
                                         "type": "uint16", "scale": "0.1", "function": 3}],
                          "relay": {"register": 0x1A, "write_function": 6}}, meter_id="u7")
    async with asyncio.timeout(20), socket_bus(bus) as transport:
        read = await MODELS["modbus"].read(transport, unknown)
        refused = await MODELS["modbus"].command(transport, by_fc06, Command.TRIP)
    assert read.values == {"voltage": Decimal("230")}
    assert read.errors == {"current": "slave 1 refused read input registers at 0x9000: "
                                      "illegal data address (02)"}
    assert not refused.accepted
    assert "illegal function (01)" in refused.detail


@pytest.mark.parametrize("fault", ["silent", "corrupt_checksum", "delay"])
async def test_faults_give_no_reply(fault: str) -> None:
    """Silent, corrupted-CRC and too-slow meters all end in NoReply within the timeout."""
    simulator = _dds238(frozen_clock())
    if fault == "delay":
        simulator.faults.delay = 0.6
    else:
        setattr(simulator.faults, fault, True)
    async with asyncio.timeout(20), socket_bus(SimulatedBus([simulator])) as transport:
        with pytest.raises(NoReply):
            await MODELS["modbus"].read(transport, meter("7", DDS238), ["voltage"])


async def test_slow_meter_within_the_timeout_is_read() -> None:
    """A meter slower than usual but inside the timeout still gives its reading."""
    simulator = _dds238(frozen_clock())
    simulator.faults.delay = 0.1
    async with asyncio.timeout(20), socket_bus(SimulatedBus([simulator])) as transport:
        result = await MODELS["modbus"].read(transport, meter("7", DDS238), ["voltage"])
    assert result.values == {"voltage": Decimal("230.0")}


def test_corrupt_breaks_only_the_crc() -> None:
    """The corrupted reply keeps its body; its CRC no longer matches."""
    simulator = _dds238(frozen_clock())
    request = Request(7, 3, 0x0C, 1)
    (frame,) = RtuParser(requests=True).feed(request.encode())
    reply = simulator.handle_frame(frame)
    assert reply is not None
    bad = simulator.corrupt(reply)
    assert bad[:-2] == reply[:-2] and bad[-2:] != reply[-2:]
    assert RtuParser(expect=request).feed(bad) == []
    assert len(RtuParser(expect=request).feed(reply)) == 1


async def test_broadcast_write_is_applied_without_reply() -> None:
    """A broadcast (slave 0) relay write trips the meter and gets no answer."""
    simulator = _dds238(frozen_clock())
    async with asyncio.timeout(20), socket_bus(SimulatedBus([simulator])) as transport:
        await transport.send(Request(0, 0x10, 0x1A, 1, (0,)).encode())
        result = await MODELS["modbus"].read(transport, meter("7", DDS238), ["relay"])
    assert result.status == {"relay": "open"}


async def test_shipped_model_on_the_sim_link() -> None:
    """The sim link creates an sdm120 simulator and reads it through its own transport."""
    link = SimLink(None, {"id": "sim1", "speed": 0})  # type: ignore[arg-type]
    ref = meter("3", meter_id="pv")
    link.add_meter(ref, MODELS["sdm120"], {"load": {"constant": "1.5"}})
    async with asyncio.timeout(10):
        result = await MODELS["sdm120"].read(link.transport_for(ref), ref, ["power"])
    assert result.values == {"power": Decimal("1.5")}


async def test_user_model_on_the_sim_link() -> None:
    """The sim link hands the meter's options (its map) to the simulator."""
    link = SimLink(None, {"id": "sim1", "speed": 0})  # type: ignore[arg-type]
    ref = meter("7", MODELS["modbus"].options(DDS238), meter_id="r12")  # type: ignore[arg-type]
    link.add_meter(ref, MODELS["modbus"], {"load": {"constant": "0.75"}})
    async with asyncio.timeout(10):
        result = await MODELS["modbus"].read(link.transport_for(ref), ref, ["power", "relay"])
    assert (result.values, result.status) == ({"power": Decimal("0.75")}, {"relay": "closed"})


async def test_user_model_simulator_without_a_map(caplog: pytest.LogCaptureFixture) -> None:
    """Created without the meter's options, the simulator refuses reads (and logs why)
    rather than failing the hub's start."""
    simulator = MODELS["modbus"].create_simulator("7", clock=frozen_clock())
    assert "has no register map" in caplog.text
    async with asyncio.timeout(20), socket_bus(SimulatedBus([simulator])) as transport:
        result = await MODELS["modbus"].read(transport, meter("7", DDS238), ["voltage"])
    assert result.errors == {"voltage": "slave 7 refused read holding registers at 0x000C: "
                                        "illegal data address (02)"}
