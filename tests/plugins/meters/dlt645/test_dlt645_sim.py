"""Models and simulators exchanging real frames over a socket: SimulatedBus <-> StreamTransport."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from dlt645_support import METER, OTHER, bus_link

from hub.metering.model import Command, MeterRef, MeterRefused, NoReply
from hub.metering.sim import ConstantLoad, SimClock
from hub.util.dt import site_time_zone
from meterhub_dlt645.codec import (
    Dlt645Parser,
    Frame,
    encode_frame,
    read_address_request,
    read_reply,
    read_request,
)
from meterhub_dlt645.models import DDSY, DTSY
from meterhub_dlt645.simulator import Dlt645Simulator

ENERGY = "energy_import_total"


def start_time(hour: int = 6, minute: int = 30) -> datetime:
    """A Friday morning, site time."""
    return datetime(2025, 3, 14, hour, minute, tzinfo=site_time_zone())


def frozen(**kwargs: Any) -> Dlt645Simulator:
    """A DDSY at METER on a stopped clock (tests move it), 1 kW load."""
    kwargs.setdefault("clock", SimClock(speed=0, start=start_time()))
    kwargs.setdefault("load", ConstantLoad("1.0"))
    return DDSY.create_simulator(kwargs.pop("address", METER), **kwargs)


def ref(address: str = METER, **options: Any) -> MeterRef:
    return MeterRef("r101_e", address, options)


async def test_read_default_points_with_tou_registers() -> None:
    sim = frozen(energy="1000.00")
    sim.clock.advance(timedelta(hours=1))  # 06:30-07:00 valley (T4), 07:00-07:30 flat (T3)
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        result = await DDSY.read(transport, ref())
    assert result.errors == {}
    assert result.registers == {
        "energy_import_total": Decimal("1001.00"), "energy_import_t1": Decimal("0.00"),
        "energy_import_t2": Decimal("0.00"), "energy_import_t3": Decimal("0.50"),
        "energy_import_t4": Decimal("0.50")}
    assert result.values["voltage"] == Decimal("220.0")
    assert result.values["current"] == Decimal("4.545")  # 1 kW / 220 V, truncated
    assert result.values["power"] == Decimal("1.0000")
    assert result.values["balance"] == Decimal("99.40")  # 100.00 - 1 kWh x 0.60
    assert result.status["relay"] == "closed" and result.status["protect"] is False
    assert result.frames == len(DDSY.default_points())


async def test_trip_stops_the_energy_and_close_restores_it() -> None:
    clock = SimClock(speed=3600)  # one simulated hour per real second: 0.01 kWh every 5 ms
    sim = DDSY.create_simulator(METER, clock=clock, load=ConstantLoad("2.0"))
    meter = ref()

    async def energy() -> Decimal:
        return (await DDSY.read(transport, meter, [ENERGY])).registers[ENERGY]

    async with asyncio.timeout(20), bus_link([sim]) as (transport, _bus):
        first = await energy()
        await asyncio.sleep(0.05)
        assert await energy() > first
        accepted = await DDSY.command(transport, meter, Command.TRIP)
        assert accepted.accepted
        state = await DDSY.read(transport, meter, ["relay", "power", "current"])
        assert state.status["relay"] == "open" and state.status["relay_command"] == "trip"
        assert state.values == {"power": Decimal(0), "current": Decimal(0)}
        stopped = await energy()
        await asyncio.sleep(0.1)
        assert await energy() == stopped
        assert (await DDSY.command(transport, meter, Command.CLOSE)).accepted
        assert (await DDSY.read(transport, meter, ["relay"])).status["relay"] == "closed"
        restarted = await energy()
        await asyncio.sleep(0.05)
        assert await energy() > restarted


async def test_wrong_password_is_refused_with_the_reason() -> None:
    sim = frozen()
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        with pytest.raises(MeterRefused) as err:
            await DDSY.command(transport, ref(password="111111"), Command.TRIP)
        assert err.value.reasons == ["password wrong / not authorised"]
        assert (await DDSY.read(transport, ref(), ["relay"])).status["relay"] == "closed"
    assert sim.relay_closed


async def test_protect_refuses_trips_until_released() -> None:
    sim = frozen(passwords={4: "123456"})
    meter = ref(password_level="04", password="123456", operator="00000001")
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        assert (await DDSY.command(transport, meter, Command.PROTECT_ON)).accepted
        assert (await DDSY.read(transport, meter, ["protect"])).status["protect"] is True
        with pytest.raises(MeterRefused) as err:
            await DDSY.command(transport, meter, Command.TRIP)
        assert err.value.reasons == ["other error"]
        assert (await DDSY.read(transport, meter, ["relay"])).status["relay"] == "closed"
        await DDSY.command(transport, meter, Command.PROTECT_OFF)
        await DDSY.command(transport, meter, Command.TRIP)
        assert (await DDSY.read(transport, meter, ["relay"])).status["relay"] == "open"


async def test_validity_end_time_in_the_meters_past_is_refused() -> None:
    sim = DDSY.create_simulator(METER, clock=SimClock(speed=0))
    sim.set_meter_time(sim.meter_now() + timedelta(days=1))  # the meter clock runs a day ahead
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        with pytest.raises(MeterRefused, match="other error"):
            await DDSY.command(transport, ref(validity_clock="hub"), Command.TRIP)
        assert sim.relay_closed
        # counted from the meter's own clock (the default) the same command is valid
        assert (await DDSY.command(transport, ref(), Command.TRIP)).accepted
    assert not sim.relay_closed


async def test_close_allowed_waits_for_the_tenant() -> None:
    sim = frozen()
    meter = ref(close_mode="allowed")
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        await DDSY.command(transport, meter, Command.TRIP)
        await DDSY.command(transport, meter, Command.CLOSE)
        state = (await DDSY.read(transport, meter, ["relay"])).status
        assert state["relay"] == "open" and state["relay_command"] == "close"
        sim.press_button()
        assert (await DDSY.read(transport, meter, ["relay"])).status["relay"] == "closed"


async def test_pre_trip_alarm_then_relay_opens() -> None:
    sim = frozen(trip_delay=600.0)
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        await DDSY.command(transport, ref(), Command.TRIP)
        state = (await DDSY.read(transport, ref(), ["relay", "energy_import_total"]))
        assert state.status["relay"] == "closed" and state.status["pre_trip_alarm"] is True
        assert state.status["relay_command"] == "trip"
        sim.clock.advance(timedelta(hours=1))  # 10 minutes of load, then the relay opens
        state = await DDSY.read(transport, ref(), ["relay", "energy_import_total"])
        assert state.status["relay"] == "open" and state.status["pre_trip_alarm"] is False
        assert state.registers[ENERGY] == Decimal("0.16")  # 1 kW x 600 s, truncated


async def test_another_meter_on_the_bus_does_not_answer_for_it() -> None:
    mine = frozen(energy="12.34")
    other = frozen(address=OTHER, energy="56.78")
    async with asyncio.timeout(10), bus_link([other, mine]) as (transport, _bus):
        assert (await DDSY.read(transport, ref(), [ENERGY])).registers[ENERGY] == Decimal(
            "12.34")
        assert other.requests == 0 and mine.requests == 1
        result = await DDSY.read(transport, ref(OTHER), [ENERGY])
        assert result.registers[ENERGY] == Decimal("56.78")
        assert other.requests == 1 and mine.requests == 1
        with pytest.raises(NoReply):
            await DDSY.read(transport, ref("202400009999", timeout=0.3), [ENERGY])


class RogueMeter(Dlt645Simulator):
    """Answers reads meant for ``victim`` with a wrong frame (888888.88 kWh)."""

    def __init__(self, victim: str, mode: str) -> None:
        super().__init__(OTHER, clock=SimClock(speed=0))
        self.victim = victim
        self.mode = mode

    def handle_frame(self, frame: Any) -> bytes | None:
        if not isinstance(frame, Frame) or frame.address != self.victim or frame.di is None:
            return None
        value = bytes.fromhex("88888888")
        if self.mode == "address":
            return read_reply(self.address, frame.di, value)
        if self.mode == "di":
            return read_reply(self.victim, frame.di ^ 0x100, value)
        if self.mode == "write_reply":
            return encode_frame(self.victim, 0x94, frame.data + value)
        return encode_frame(self.victim, 0x11, frame.data + value)  # an echo of a request


@pytest.mark.parametrize("mode", ["address", "di", "write_reply", "request_echo"])
async def test_a_reply_that_is_not_the_answer_is_rejected(mode: str) -> None:
    real = frozen(energy="12.34")
    async with asyncio.timeout(10), bus_link([RogueMeter(METER, mode), real]) as (
            transport, _bus):
        result = await DDSY.read(transport, ref(), [ENERGY])
        assert result.registers[ENERGY] == Decimal("12.34")
    async with asyncio.timeout(10), bus_link([RogueMeter(METER, mode)]) as (transport, _bus):
        with pytest.raises(NoReply):
            await DDSY.read(transport, ref(timeout=0.3), [ENERGY])


async def test_follow_up_frames_are_followed() -> None:
    sim = frozen(energy="1234.56", max_reply_data=6)  # 2 value bytes, then 1 per follow-up
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        result = await DDSY.read(transport, ref(), [ENERGY])
    assert result.registers[ENERGY] == Decimal("1234.56")
    assert result.frames == 3


@pytest.mark.parametrize("fault", ["silent", "corrupt_checksum"])
async def test_faults_give_no_reply(fault: str) -> None:
    sim = frozen()
    setattr(sim.faults, fault, True)
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        with pytest.raises(NoReply):
            await DDSY.read(transport, ref(timeout=0.3))


async def test_slow_meter_within_the_timeout() -> None:
    sim = frozen(energy="5.00")
    sim.faults.delay = 0.05
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        result = await DDSY.read(transport, ref(timeout=1), [ENERGY])
    assert result.registers[ENERGY] == Decimal("5.00")


class Fading(Dlt645Simulator):
    """Answers its first request, then stops answering."""

    def handle_frame(self, frame: Any) -> bytes | None:
        if self.requests >= 1:
            return None
        return super().handle_frame(frame)


async def test_partial_reads_are_results() -> None:
    sim = frozen(price=None)  # a meter without prepaid registers
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        result = await DDSY.read(transport, ref(), [ENERGY, "balance", "water_total"])
    assert result.registers == {ENERGY: Decimal("0.00")}
    assert result.errors == {"balance": "meter refused: no requested data (ERR 02)",
                             "water_total": "not a point of model ddsy"}
    fading = Fading(METER, clock=SimClock(speed=0))
    points = [ENERGY, "voltage", "current", "power", "relay"]
    async with asyncio.timeout(10), bus_link([fading]) as (transport, _bus):
        result = await DDSY.read(transport, ref(timeout=0.2), points)
    assert list(result.registers) == [ENERGY]
    assert result.errors["voltage"].startswith("no reply")
    assert result.errors["current"].startswith("no reply")
    assert result.errors["power"] == result.errors["relay"] == (
        "not read: the meter stopped answering")


async def test_clock_read_and_time_sync() -> None:
    sim = frozen(max_broadcast_correction=None)  # any broadcast time
    target = datetime(2025, 6, 1, 12, 0, 5, tzinfo=site_time_zone())
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        assert await DDSY.read_clock(transport, ref()) == start_time()
        await DDSY.sync_time(transport, None, target)  # broadcast, no reply
        assert await DDSY.read_clock(transport, ref()) == target
        later = target + timedelta(hours=3, seconds=7)
        await DDSY.sync_time(transport, ref(), later)  # per-meter writes with the password
        assert await DDSY.read_clock(transport, ref()) == later
        result = await DDSY.read(transport, ref(), ["meter_time"])
        assert result.meter_time == later and result.frames == 2
        with pytest.raises(MeterRefused, match="password"):
            await DDSY.sync_time(transport, ref(password="999999"), target)
    limited = frozen(max_broadcast_correction=60)
    async with asyncio.timeout(10), bus_link([limited]) as (transport, _bus):
        await DDSY.sync_time(transport, None, start_time() + timedelta(seconds=100))
        assert await DDSY.read_clock(transport, ref()) == start_time()  # beyond its 60 s
        await DDSY.sync_time(transport, None, start_time() + timedelta(seconds=50))
        assert await DDSY.read_clock(transport, ref()) == start_time() + timedelta(seconds=50)


async def test_broadcast_time_beyond_five_minutes_is_ignored_by_default() -> None:
    sim = frozen()
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        for far in (timedelta(days=90), timedelta(minutes=6), -timedelta(seconds=301)):
            await DDSY.sync_time(transport, None, start_time() + far)  # no reply either way
            assert await DDSY.read_clock(transport, ref()) == start_time()
        for near in (-timedelta(minutes=5), timedelta(minutes=4, seconds=59)):
            before = await DDSY.read_clock(transport, ref())
            await DDSY.sync_time(transport, None, before + near)
            assert await DDSY.read_clock(transport, ref()) == before + near


async def test_write_a_parameter_with_the_password() -> None:
    sim = frozen()
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        await DDSY.write(transport, ref(), 0x04001001, Decimal("10.00"))
        with pytest.raises(MeterRefused, match="password wrong"):
            await DDSY.write(transport, ref(password="1"), 0x04001001, Decimal("1.00"))
    assert sim.params[0x04001001] == Decimal("10.00")


async def test_over_voltage_and_over_current_conditions() -> None:
    sim = frozen()
    points = ["voltage", "current", "status_word_4"]
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        normal = await DDSY.read(transport, ref(), points)
        assert normal.status["over_voltage_a"] is False
        sim.set_voltage("270.0")
        sim.set_current("65.000")
        alarm = await DDSY.read(transport, ref(), points)
        sim.set_voltage("150.0")
        low = await DDSY.read(transport, ref(), points)
    assert alarm.values == {"voltage": Decimal("270.0"), "current": Decimal("65.000")}
    assert alarm.status["over_voltage_a"] and alarm.status["over_current_a"]
    assert low.status["under_voltage_a"] and not low.status["over_voltage_a"]


async def test_three_phase_meter_and_phase_loss() -> None:
    sim = DTSY.create_simulator(METER, clock=SimClock(speed=0, start=start_time(12)),
                                load=ConstantLoad("3.0"))
    points = ["voltage_a", "voltage_b", "current_a", "current_b", "power", "power_b",
              "status_word_5", ENERGY, "energy_import_t3"]
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        result = await DTSY.read(transport, ref(), points)
        assert result.values["current_b"] == Decimal("4.545")  # 1 kW per phase
        assert result.values["power_b"] == Decimal("1.0000")
        sim.lose_phase("b")
        sim.clock.advance(timedelta(hours=1))  # 12:00-13:00 is flat (T3)
        result = await DTSY.read(transport, ref(), points)
    assert result.values["voltage_b"] == Decimal(0) and result.values["current_b"] == 0
    assert result.values["voltage_a"] == Decimal("220.0")
    assert result.values["power"] == Decimal("2.0000")
    assert result.status["phase_break_b"] is True
    assert result.registers[ENERGY] == result.registers["energy_import_t3"] == Decimal("2.00")


async def test_prepaid_balance_runs_down_into_overdraft() -> None:
    sim = frozen(price="1.00", balance="10.00")
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        sim.clock.advance(timedelta(hours=2))
        result = await DDSY.read(transport, ref(), ["balance", "overdraft"])
        assert result.values == {"balance": Decimal("8.00"), "overdraft": Decimal("0.00")}
        sim.clock.advance(timedelta(hours=9))
        result = await DDSY.read(transport, ref(), ["balance", "overdraft"])
        assert result.values == {"balance": Decimal("0.00"), "overdraft": Decimal("1.00")}
        sim.top_up("5.00")
        result = await DDSY.read(transport, ref(), ["balance"])
        assert result.values == {"balance": Decimal("4.00")}


async def test_wildcard_and_broadcast_addressing() -> None:
    sim = frozen(energy="7.00")
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        def anything(frame: Any) -> bool:
            return isinstance(frame, Frame)

        reply = await transport.transact(read_address_request(), Dlt645Parser(), anything, 2)
        assert reply.control == 0x93 and reply.data == bytes.fromhex("341200002420")
        reply = await transport.transact(read_request("AAAAAAAA1234", 0x00010000),
                                         Dlt645Parser(), anything, 2)
        assert reply.address == METER and reply.data[4:] == bytes.fromhex("00070000")
        with pytest.raises(NoReply):
            await transport.transact(read_request("999999999999", 0x00010000),
                                     Dlt645Parser(), anything, 0.3)
        with pytest.raises(NoReply):  # other digits: no match
            await transport.transact(read_request("AAAAAAAA1235", 0x00010000),
                                     Dlt645Parser(), anything, 0.3)
