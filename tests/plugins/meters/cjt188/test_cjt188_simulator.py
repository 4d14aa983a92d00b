"""The CJ/T 188 simulator driven by the models over a real byte stream (a socket pair)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.metering.model import Command, MeterRef, NoReply
from hub.metering.sim import ConstantLoad, SimClock, SimulatedBus
from hub.metering.transport import StreamTransport
from meterhub_cjt188.codec import Cjt188Parser, Frame, decode_frame, read_request
from meterhub_cjt188.const import DiOrder
from meterhub_cjt188.models import Cjt188WaterModel, NbWaterModel, reply_matcher
from meterhub_cjt188.simulator import CjT188Simulator
from meterhub_cjt188.tables import UNIT_LITRE

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 3, 14, 9, 0, 0, tzinfo=SHANGHAI)
ADDRESS = "00000000001234"
METER = MeterRef("w1", ADDRESS, {"timeout": "2"})
QUICK = MeterRef("w1", ADDRESS, {"timeout": "0.3"})


@asynccontextmanager
async def wired(*meters: CjT188Simulator) -> AsyncIterator[StreamTransport]:
    """A StreamTransport whose far end is a SimulatedBus serving ``meters``."""
    left, right = socket.socketpair()
    async with asyncio.timeout(5):
        bus_reader, bus_writer = await asyncio.open_connection(sock=left)
        reader, writer = await asyncio.open_connection(sock=right)
    server = asyncio.create_task(SimulatedBus(meters).serve(bus_reader, bus_writer))
    try:
        yield StreamTransport(reader, writer, name="sim")
    finally:
        writer.close()
        async with asyncio.timeout(5):
            await server
            await writer.wait_closed()


def frozen_meter(**kwargs: Any) -> CjT188Simulator:
    """A meter whose clock moves only when the test advances it; 1.5 m³/h from 100 m³."""
    options: dict[str, Any] = {"clock": SimClock(speed=0, start=START),
                               "load": ConstantLoad("1.5"), "flow": Decimal("100")}
    options.update(kwargs)
    return CjT188Simulator(ADDRESS, **options)


async def test_valve_close_stops_the_flow_and_open_resumes_it() -> None:
    model = Cjt188WaterModel()
    sim = frozen_meter()
    async with asyncio.timeout(20), wired(sim) as transport:
        first = await model.read(transport, METER)
        assert first.registers["water_total"] == Decimal("100.00")
        assert first.status["valve"] == "open"
        assert first.meter_time == START
        sim.clock.advance(timedelta(hours=2))
        assert (await model.read(transport, METER)).registers["water_total"] == Decimal("103.00")

        closed = await model.command(transport, METER, Command.VALVE_CLOSE)
        assert closed.accepted and "closed" in closed.detail
        sim.clock.advance(timedelta(hours=2))
        after = await model.read(transport, METER)
        assert after.registers["water_total"] == Decimal("103.00")
        assert after.status["valve"] == "closed"

        opened = await model.command(transport, METER, Command.VALVE_OPEN)
        assert opened.accepted
        sim.clock.advance(timedelta(hours=1))
        again = await model.read(transport, METER)
        assert again.registers["water_total"] == Decimal("104.50")
        assert again.status["valve"] == "open"
        assert again.meter_time == START + timedelta(hours=5)
    assert transport.timeouts == 0


async def test_fast_clock_flow_rises_only_while_open() -> None:
    model = NbWaterModel()
    # 10 simulated hours per real second at 1.5 m³/h: 0.15 m³ every 10 ms
    sim = CjT188Simulator(ADDRESS, SimClock(speed=36_000), ConstantLoad("1.5"))
    async with asyncio.timeout(20), wired(sim) as transport:
        before = (await model.read(transport, METER)).registers["water_total"]
        await asyncio.sleep(0.05)
        rising = (await model.read(transport, METER)).registers["water_total"]
        assert rising > before
        assert (await model.command(transport, METER, Command.VALVE_CLOSE)).accepted
        stopped = (await model.read(transport, METER)).registers["water_total"]
        await asyncio.sleep(0.05)
        assert (await model.read(transport, METER)).registers["water_total"] == stopped
        assert (await model.command(transport, METER, Command.VALVE_OPEN)).accepted
        await asyncio.sleep(0.05)
        assert (await model.read(transport, METER)).registers["water_total"] > stopped


async def test_settlement_flow_is_taken_on_the_settlement_day() -> None:
    start = datetime(2025, 3, 31, 23, 0, tzinfo=SHANGHAI)
    sim = CjT188Simulator(ADDRESS, SimClock(speed=0, start=start), ConstantLoad("1.5"),
                          flow=Decimal("10"))
    model = Cjt188WaterModel()
    async with asyncio.timeout(10), wired(sim) as transport:
        assert (await model.read(transport, METER)).registers["water_settlement"] == \
            Decimal("10.00")
        sim.clock.advance(timedelta(hours=2))
        result = await model.read(transport, METER)
    assert result.registers == {"water_total": Decimal("13.00"),
                                "water_settlement": Decimal("11.50")}


async def test_injected_battery_low_and_valve_fault() -> None:
    sim = frozen_meter()
    model = Cjt188WaterModel()
    async with asyncio.timeout(10), wired(sim) as transport:
        sim.battery_low = True
        result = await model.read(transport, METER)
        assert result.status["battery_low"] is True and result.status["valve"] == "open"
        sim.valve_fault = True
        assert (await model.read(transport, METER)).status["valve"] == "abnormal"
        refused = await model.command(transport, METER, Command.VALVE_CLOSE)
        assert not refused.accepted and "refused" in refused.detail
        assert "valve abnormal, battery low" in refused.detail


class Impostor(CjT188Simulator):
    """A meter that answers requests meant for ``victim`` with its own address."""

    victim = ADDRESS

    def handle_frame(self, frame: Any) -> bytes | None:
        if isinstance(frame, Frame) and frame.address == self.victim:
            frame = Frame(frame.meter_type, self.address, frame.control, frame.data)
        return super().handle_frame(frame)


async def test_reply_from_another_address_is_rejected() -> None:
    impostor = Impostor("00000000009999", SimClock(speed=0, start=START),
                        ConstantLoad("1"), flow=Decimal("555"))
    model = Cjt188WaterModel()
    async with asyncio.timeout(10), wired(impostor, frozen_meter()) as transport:
        result = await model.read(transport, METER)  # the impostor answers first
        assert result.registers["water_total"] == Decimal("100.00")
    async with asyncio.timeout(10), wired(impostor) as transport:
        with pytest.raises(NoReply):
            await model.read(transport, QUICK)


async def test_two_meters_on_one_bus() -> None:
    other = CjT188Simulator("00000000005678", SimClock(speed=0, start=START),
                            ConstantLoad("1"), flow=Decimal("7.5"))
    model = Cjt188WaterModel()
    async with asyncio.timeout(10), wired(frozen_meter(), other) as transport:
        ours = await model.read(transport, METER, ["water_total"])
        theirs = await model.read(transport, MeterRef("w2", "5678"), ["water_total"])
    assert ours.registers["water_total"] == Decimal("100.00")
    assert theirs.registers["water_total"] == Decimal("7.50")


@pytest.mark.parametrize(("fault", "value"), [("silent", True), ("corrupt_checksum", True)])
async def test_faults_give_no_reply(fault: str, value: bool) -> None:
    sim = frozen_meter()
    setattr(sim.faults, fault, value)
    async with asyncio.timeout(10), wired(sim) as transport:
        with pytest.raises(NoReply):
            await Cjt188WaterModel().read(transport, QUICK)
    assert transport.timeouts == 1


async def test_corrupted_reply_really_has_a_bad_checksum() -> None:
    sim = frozen_meter(preamble=0)
    reply = sim.handle_frame(decode_frame(read_request(ADDRESS)))
    assert reply is not None
    assert reply[-1] == 0x16 and sim.corrupt(reply)[-2] != reply[-2]
    with pytest.raises(Exception, match="bad checksum"):
        decode_frame(sim.corrupt(reply))


async def test_slow_meter_within_the_timeout() -> None:
    sim = frozen_meter()
    sim.faults.delay = 0.1
    async with asyncio.timeout(10), wired(sim) as transport:
        result = await Cjt188WaterModel().read(transport, METER)
    assert result.registers["water_total"] == Decimal("100.00")


async def test_di_order_must_match_a_fixed_order_meter() -> None:
    sim = frozen_meter(di_order=DiOrder.HI_FIRST)
    model = Cjt188WaterModel()
    async with asyncio.timeout(10), wired(sim) as transport:
        with pytest.raises(NoReply):
            await model.read(transport, QUICK)
        vendor = MeterRef("w1", ADDRESS, {"di_order": "901F", "timeout": "2"})
        result = await model.read(transport, vendor)
        assert result.registers["water_total"] == Decimal("100.00")
        assert (await model.command(transport, vendor, Command.VALVE_CLOSE)).accepted
    assert sim.valve == "closed"


async def test_meter_understanding_both_orders() -> None:
    sim = frozen_meter(di_order=None)
    model = Cjt188WaterModel()
    async with asyncio.timeout(10), wired(sim) as transport:
        for order in ("1F90", "901F"):
            meter = MeterRef("w1", ADDRESS, {"di_order": order, "timeout": "2"})
            assert (await model.read(transport, meter)).registers["water_total"] == \
                Decimal("100.00")


async def test_read_address_and_set_clock() -> None:
    sim = frozen_meter()
    model = Cjt188WaterModel()
    async with asyncio.timeout(10), wired(sim) as transport:
        assert await model.read_address(transport, timeout=2) == ADDRESS
        target = datetime(2025, 6, 1, 12, 30, 15, tzinfo=SHANGHAI)
        await model.sync_time(transport, METER, target)
        assert await model.read_clock(transport, METER) == target
        sim.clock.advance(timedelta(minutes=1))
        assert await model.read_clock(transport, METER) == target + timedelta(minutes=1)


async def test_unsupported_read_is_refused() -> None:
    async with asyncio.timeout(10), wired(frozen_meter()) as transport:
        request = read_request(ADDRESS, 0x8105, ser=3)  # purchased amount: not simulated
        accept = reply_matcher(decode_frame(request), order=DiOrder.LO_FIRST)
        reply = await transport.transact(request, Cjt188Parser(), accept, 2)
    assert reply.control == 0xC1 and reply.data == bytes.fromhex("030000")  # SER, ST


def test_uplink_decodes_to_the_simulated_state() -> None:
    sim = frozen_meter(flow=Decimal("42.5"))
    sim.clock.advance(timedelta(minutes=20))  # 0.5 m³ at 1.5 m³/h
    sim.set_valve(False)
    sim.battery_low = True
    data = sim.uplink()
    assert data[:1] == b"\x68"  # no wake-up bytes in a pushed payload
    result = NbWaterModel().decode_uplink(data, MeterRef("w1", ADDRESS))
    assert result.registers == {"water_total": Decimal("43.00"),
                                "water_settlement": Decimal("42.50")}
    assert result.status["valve"] == "closed" and result.status["battery_low"] is True
    assert result.meter_time == START + timedelta(minutes=20)


def test_uplink_in_litres_and_vendor_order() -> None:
    sim = frozen_meter(unit=UNIT_LITRE, di_order=DiOrder.HI_FIRST, flow=Decimal("1.23456"))
    data = sim.uplink()
    assert data[11:13] == b"\x90\x1f" and data[18] == 0x29  # DI, SER, 4 flow bytes, unit
    result = NbWaterModel().decode_uplink(data, MeterRef("w1", ADDRESS, {"di_order": "901F"}))
    assert result.registers["water_total"] == Decimal("1.23456")
