"""DL/T 645-1997 meters read through real links (socket bus, sim link, pty, simulated DTU):
the 1997 models, ``protocol: auto`` against both simulator versions, wrong-version replies
and refusals in words."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dlt645_support import METER, OTHER, bus_link

from hub.core import Hub
from hub.metering.model import Command, MeterRef, MeterRefused, NoReply, ProtocolError
from hub.metering.sim import ConstantLoad, SimClock, SimulatedBus, SimulatedMeter
from hub.util.dt import site_time_zone
from meterhub_dlt645.codec import Dlt645Parser, Frame
from meterhub_dlt645.dialect import DIALECTS, WrongVersion
from meterhub_dlt645.models import DDSY, DDSY1997, DTSY, DTSY1997
from meterhub_dlt645.simulator import Dlt645Simulator
from meterhub_dlt645.v1997 import read_reply_1997
from meterhub_rs485 import Rs485LinkType
from meterhub_sim import SimLinkType
from meterhub_sim.dtu import SimulatedDtu
from meterhub_sim.serial import SimulatedSerialBus
from meterhub_tcp_dtu import TcpDtuLinkType

TOU = ["energy_import_total", "energy_import_t1", "energy_import_t2", "energy_import_t3",
       "energy_import_t4"]


def start_time() -> datetime:
    """A Friday morning, site time."""
    return datetime(2025, 3, 14, 6, 30, tzinfo=site_time_zone())


def clock() -> SimClock:
    return SimClock(speed=0, start=start_time())


def meter_1997(address: str = METER, **kwargs: Any) -> Dlt645Simulator:
    kwargs.setdefault("clock", clock())
    kwargs.setdefault("load", ConstantLoad("1.0"))
    return DDSY1997.create_simulator(address, energy="1000.00", **kwargs)


def meter_2007(address: str = OTHER, **kwargs: Any) -> Dlt645Simulator:
    kwargs.setdefault("clock", clock())
    kwargs.setdefault("load", ConstantLoad("1.0"))
    return DDSY.create_simulator(address, energy="1000.00", **kwargs)


async def test_ddsy1997_reads_the_same_points_as_a_2007_meter() -> None:
    old, new = meter_1997(), meter_2007()
    for sim in (old, new):
        sim.clock.advance(timedelta(hours=1))  # 06:30-07:00 valley (T4), 07:00-07:30 flat (T3)
    async with asyncio.timeout(10), bus_link([old, new]) as (transport, _bus):
        result = await DDSY1997.read(transport, MeterRef("old", METER))
        modern = await DDSY.read(transport, MeterRef("new", OTHER), [*TOU, "voltage"])
        clock_1997 = await DDSY1997.read_clock(transport, MeterRef("old", METER))
    assert result.errors == {}
    assert result.registers == modern.registers == {
        "energy_import_total": Decimal("1001.00"), "energy_import_t1": Decimal("0.00"),
        "energy_import_t2": Decimal("0.00"), "energy_import_t3": Decimal("0.50"),
        "energy_import_t4": Decimal("0.50")}
    assert result.values == {"voltage": Decimal("220"), "current": Decimal("4.54"),
                             "power": Decimal("1.0000")}  # XXX V, XX.XX A, XX.XXXX kW
    assert modern.values == {"voltage": Decimal("220.0")}
    assert clock_1997 == start_time() + timedelta(hours=1)
    assert result.frames == 8
    assert old.requests == 8 + 2  # the reads, then C010 and C011


async def test_dtsy1997_reads_per_phase_values() -> None:
    sim = DTSY1997.create_simulator(METER, clock=clock(), load=ConstantLoad("3.0"))
    sim.set_voltage("231.7", "b")
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        result = await DTSY1997.read(transport, MeterRef("t", METER),
                                     ["voltage_a", "voltage_b", "current_c", "power_b",
                                      "meter_time"])
    assert result.errors == {}
    assert result.values == {"voltage_a": Decimal("220"), "voltage_b": Decimal("231"),
                             "current_c": Decimal("4.54"), "power_b": Decimal("1.0000")}
    assert result.meter_time == start_time()


async def test_a_1997_meter_has_no_relay_and_says_so() -> None:
    sim = meter_1997()
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        with pytest.raises(ProtocolError, match="no relay"):
            await DDSY1997.command(transport, MeterRef("old", METER), Command.TRIP)
        with pytest.raises(ProtocolError, match="DL/T 645-1997, which has no remote relay"):
            await DDSY.command(transport, MeterRef("old", METER, {"protocol": "1997"}),
                               Command.TRIP)
    assert sim.relay_closed and sim.requests == 0  # nothing was sent


async def test_refusals_of_a_1997_meter_in_words() -> None:
    sim = meter_1997(passwords={2: "123456"})
    ref = MeterRef("old", METER, {"password": "654321"})
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        with pytest.raises(MeterRefused) as wrong:
            await DDSY1997.write(transport, ref, 0xC011, time(12, 0))
        with pytest.raises(MeterRefused) as unknown:
            await DDSY1997.read_di(transport, METER, 0x9999, 2.0, DIALECTS["1997"])
        good = MeterRef("old", METER, {"password": "123456"})
        await DDSY1997.write(transport, good, 0xC011, time(12, 0))
        when = await DDSY1997.read_clock(transport, good)
    assert wrong.value.reasons == ["wrong password"] and wrong.value.code == "ERR 04"
    assert str(wrong.value) == (f"meter {METER} refused write of DI C011: wrong password "
                                "(ERR 04)")
    assert unknown.value.reasons == ["wrong data identifier"]
    assert when == datetime(2025, 3, 14, 12, 0, tzinfo=site_time_zone())


async def test_auto_detects_each_simulator_version_once(
        caplog: pytest.LogCaptureFixture) -> None:
    old, new = meter_1997(), meter_2007()
    refs = {"old": MeterRef("auto_old", METER, {"protocol": "auto", "timeout": 0.3}),
            "new": MeterRef("auto_new", OTHER, {"protocol": "auto", "timeout": 0.3})}
    caplog.set_level(logging.INFO, logger="meterhub_dlt645.models")
    try:
        async with asyncio.timeout(20), bus_link([old, new]) as (transport, _bus):
            first_old = await DDSY.read(transport, refs["old"])
            first_new = await DDSY.read(transport, refs["new"])
            requests = (old.requests, new.requests)
            again_old = await DDSY.read(transport, refs["old"], ["energy_import_total"])
            again_new = await DDSY.read(transport, refs["new"], ["energy_import_total"])
    finally:
        for ref in refs.values():
            DDSY.forget_version(ref)
    # the 1997 meter: its registers and values, no prepaid or relay points asked of it
    assert first_old.errors == {} and first_old.registers["energy_import_total"] == Decimal(
        "1000.00")
    assert set(first_old.values) == {"voltage", "current", "power"}
    assert first_new.errors == {} and first_new.status["relay"] == "closed"
    assert "balance" in first_new.values
    # the probes (the 1997 meter ignored the 2007 read, answered 9010), then one exchange per
    # point: the 1997 meter is not asked for balance or relay, which it does not have
    assert requests == (2 + 8, 1 + len(DDSY.default_points()))
    # remembered: the second reads are one exchange each, no probe
    assert (old.requests, new.requests) == (requests[0] + 1, requests[1] + 1)
    assert again_old.registers == {"energy_import_total": Decimal("1000.00")}
    assert again_new.registers == {"energy_import_total": Decimal("1000.00")}
    found = [r.getMessage() for r in caplog.records if "auto-detected" in r.getMessage()]
    assert found == [f"Meter auto_old ({METER}): protocol auto-detected: DL/T 645-1997 "
                     f"(it answered a read of 9010)",
                     f"Meter auto_new ({OTHER}): protocol auto-detected: DL/T 645-2007 "
                     f"(it answered a read of 00010000)"]


async def test_auto_with_no_meter_answering_is_no_reply_and_not_remembered() -> None:
    silent = meter_2007(address=METER)
    silent.faults.silent = True
    ref = MeterRef("auto_silent", METER, {"protocol": "auto", "timeout": 0.2})
    async with asyncio.timeout(10), bus_link([silent]) as (transport, _bus):
        with pytest.raises(NoReply, match="neither a DL/T 645-2007 read of 00010000 nor"):
            await DDSY.read(transport, ref)
        silent.faults.silent = False
        result = await DDSY.read(transport, ref, ["energy_import_total"])
    DDSY.forget_version(ref)
    assert result.registers == {"energy_import_total": Decimal("1000.00")}


async def test_auto_follows_a_meter_replaced_by_the_other_version() -> None:
    ref = MeterRef("auto_swap", METER, {"protocol": "auto", "timeout": 0.2})
    try:
        async with asyncio.timeout(10), bus_link([meter_2007(address=METER)]) as (
                transport, _bus):
            assert (await DDSY.read(transport, ref, ["energy_import_total"])).errors == {}
        async with asyncio.timeout(20), bus_link([meter_1997()]) as (transport, _bus):
            with pytest.raises(NoReply):  # the 1997 meter ignores the remembered 2007 read
                await DDSY.read(transport, ref, ["energy_import_total"])
            result = await DDSY.read(transport, ref, ["energy_import_total", "voltage"])
    finally:
        DDSY.forget_version(ref)
    assert result.errors == {}
    assert result.values == {"voltage": Decimal("220")}  # whole volts: read as 1997


class Answers1997To2007(SimulatedMeter):
    """A broken meter: answers every 2007 read with a 1997 reply of 9010 = 123.45 kWh."""

    protocol = "dlt645"

    def new_parser(self) -> Dlt645Parser:
        return Dlt645Parser()

    def handle_frame(self, frame: Any) -> bytes | None:
        if isinstance(frame, Frame) and frame.address == self.address and not frame.is_reply:
            return read_reply_1997(self.address, 0x9010, bytes.fromhex("45230100"))
        return None


async def test_a_1997_reply_to_a_2007_read_is_an_error_never_a_value() -> None:
    sim = Answers1997To2007(METER)
    async with asyncio.timeout(10), bus_link([sim]) as (transport, _bus):
        with pytest.raises(WrongVersion) as err:
            await DDSY.read(transport, MeterRef("m", METER), ["energy_import_total"])
        with pytest.raises(WrongVersion):
            await DDSY.read_di(transport, METER, 0x00010000, 1.0)
    assert str(err.value) == (
        f"meter {METER} answered a DL/T 645-2007 request (DI 00010000) with a DL/T 645-1997 "
        "frame (control 81), value not taken: set the meter's option protocol to 1997 or auto")


async def test_1997_meters_on_the_sim_link(hub: Hub) -> None:
    link_type = SimLinkType()
    link = link_type.create(hub, link_type.schema()({"id": "sim1", "type": "sim", "speed": 0}))
    refs = [MeterRef("s97", METER, {}), MeterRef("s97b", OTHER, {"protocol": "1997"})]
    link.add_meter(refs[0], DDSY1997, {})
    link.add_meter(refs[1], DTSY, {})
    await link.start()
    try:
        async with asyncio.timeout(10):
            plain = await DDSY1997.read(link.transport_for(refs[0]), refs[0])
            three = await DTSY.read(link.transport_for(refs[1]), refs[1])
    finally:
        await link.stop()
    assert plain.errors == {} and set(plain.registers) == set(TOU)
    assert isinstance(link.simulators["s97b"], Dlt645Simulator)  # type: ignore[attr-defined]
    assert link.simulators["s97b"].version == "1997"  # type: ignore[attr-defined]
    assert three.errors == {} and set(three.values) == {
        "voltage_a", "voltage_b", "voltage_c", "current_a", "current_b", "current_c", "power"}


async def test_auto_on_a_pty_bus_with_both_versions(hub: Hub, tmp_path: Path) -> None:
    bus = SimulatedBus([meter_1997(), DTSY.create_simulator(OTHER, clock=clock())],
                       baud=9600)
    wire = SimulatedSerialBus(bus, tmp_path / "bus1")
    await wire.start()
    link_type = Rs485LinkType()
    link = link_type.create(hub, link_type.schema()({
        "id": "bus1", "type": "rs485", "port": str(tmp_path / "bus1"), "baud": 9600,
        "timeout": 1}))
    refs = [MeterRef("pty97", METER, {"protocol": "auto", "timeout": 0.5}),
            MeterRef("pty07", OTHER, {"protocol": "auto", "timeout": 0.5})]
    link.add_meter(refs[0], DDSY, {})
    link.add_meter(refs[1], DTSY, {})
    try:
        await link.start()
        await link.wait_connected(5)  # type: ignore[attr-defined]
        async with asyncio.timeout(30):
            old = await DDSY.read(link.transport_for(refs[0]), refs[0], [*TOU, "voltage"])
            new = await DTSY.read(link.transport_for(refs[1]), refs[1], [*TOU, "voltage_a"])
    finally:
        await link.stop()
        await wire.stop()
        DDSY.forget_version(refs[0])
        DTSY.forget_version(refs[1])
    assert old.errors == {} and old.values == {"voltage": Decimal("220")}
    assert new.errors == {} and new.values == {"voltage_a": Decimal("220.0")}
    assert old.registers["energy_import_total"] == Decimal("1000.00")


async def test_a_1997_meter_behind_a_simulated_dtu(hub: Hub) -> None:
    link_type = TcpDtuLinkType()
    link: Any = link_type.create(hub, link_type.schema()({
        "id": "dtus", "type": "tcp_dtu", "listen": "127.0.0.1:0", "timeout": 1, "gap": 0}))
    ref = MeterRef("dtu97", METER, {"protocol": "auto", "timeout": 0.5})
    link.add_meter(ref, DDSY, {"dtu": "DTU-97"})
    await link.start()
    dtu = SimulatedDtu("127.0.0.1", link.bound_port, b"DTU-97", SimulatedBus([meter_1997()]),
                       reconnect_delay=0.05)
    await dtu.start()
    try:
        async with asyncio.timeout(20):
            while (d := link.dtu("DTU-97")) is None or not d.online:
                await asyncio.sleep(0.01)
            result = await DDSY.read(link.transport_for(ref), ref)
    finally:
        await dtu.stop()
        await link.stop()
        DDSY.forget_version(ref)
    assert result.errors == {}
    assert result.registers["energy_import_total"] == Decimal("1000.00")
    assert result.values["voltage"] == Decimal("220")
