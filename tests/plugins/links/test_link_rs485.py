"""The rs485 link over a real pty: reads, line-rate timing, many buses, a port that vanishes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import voluptuous as vol
from link_support import TOY, make_link, meter, until, within
from link_toy import ToyParser, ToySimulator

from hub.core import Hub
from hub.metering.link import LinkUnavailable
from hub.metering.model import NoReply
from hub.metering.sim import SimulatedBus
from hub.metering.stream import BoundedReader
from meterhub_rs485 import Rs485LinkType
from meterhub_sim.serial import SimulatedSerialBus

RS485 = Rs485LinkType()


def _bus(first: int, count: int, **options: object) -> SimulatedBus:
    return SimulatedBus([ToySimulator(f"{n:012d}") for n in range(first, first + count)],
                        **options)  # type: ignore[arg-type]


async def _wire(bus: SimulatedBus, path: Path) -> SimulatedSerialBus:
    wire = SimulatedSerialBus(bus, path)
    await wire.start()
    return wire


def test_schema_checks_serial_settings() -> None:
    schema = RS485.schema()
    good = schema({"id": "bus1", "type": "rs485", "port": "/dev/ttyUSB0", "parity": "even",
                   "gap": "50ms", "timeout": 1.5})
    assert (good["baud"], good["parity"], good["data_bits"], good["stop_bits"]) == (
        2400, "E", 8, 1.0)
    assert good["gap"].total_seconds() == 0.05 and good["timeout"].total_seconds() == 1.5
    with pytest.raises(vol.Invalid, match="baud rate"):
        schema({"id": "bus1", "type": "rs485", "port": "/dev/x", "baud": 2500})
    with pytest.raises(vol.Invalid, match="parity"):
        schema({"id": "bus1", "type": "rs485", "port": "/dev/x", "parity": "M"})
    with pytest.raises(vol.Invalid, match="stop bits"):
        schema({"id": "bus1", "type": "rs485", "port": "/dev/x", "stop_bits": 3})
    with pytest.raises(vol.Invalid):
        schema({"id": "bus1", "type": "rs485", "port": "/dev/x", "bauds": 9600})


async def test_reads_take_their_time_on_the_wire(hub: Hub, tmp_path: Path) -> None:
    bus = _bus(1, 3, baud=2400, turnaround=0.01)
    wire = await _wire(bus, tmp_path / "bus1")
    link = make_link(RS485, hub, {"id": "bus1", "type": "rs485", "port": str(tmp_path / "bus1"),
                                  "baud": 2400, "gap": "10ms", "wakeup": 2})
    refs = [meter(f"m{n}", f"{n:012d}", link) for n in (1, 2, 3)]
    try:
        await link.start()
        await link.wait_connected(5)  # type: ignore[attr-defined]
        started = time.monotonic()
        result = await within(TOY.read(link.transport_for(refs[1]), refs[1]))
        elapsed = time.monotonic() - started
        assert str(result.registers["energy_import_total"]) == "100.01"
        assert result.status["relay"] == "closed"
        # 3 exchanges: (2 FE + 13 request bytes) + 17 reply bytes, 11 bits each at 2400 bit/s
        minimum = 3 * ((15 + 17) * 11 / 2400 + 0.01) + 2 * 0.01
        assert elapsed >= minimum * 0.98
        assert elapsed < minimum + 0.5
        assert wire.counters.bytes_in == 3 * 15  # the wake-up bytes went out
        assert link.stats.requests == link.stats.replies == 3
    finally:
        await link.stop()
        await wire.stop()


async def test_a_silent_meter_times_out_and_the_bus_carries_on(hub: Hub,
                                                               tmp_path: Path) -> None:
    bus = _bus(1, 2, baud=9600)
    bus.meters[0].faults.silent = True  # type: ignore[attr-defined]
    wire = await _wire(bus, tmp_path / "bus1")
    link = make_link(RS485, hub, {"id": "bus1", "type": "rs485", "port": str(tmp_path / "bus1"),
                                  "baud": 9600})
    silent, other = meter("m1", "000000000001", link), meter("m2", "000000000002", link)
    try:
        await link.start()
        await link.wait_connected(5)  # type: ignore[attr-defined]
        transport = link.transport_for(silent)
        with pytest.raises(NoReply):
            await within(transport.transact(b"\x68", ToyParser(), lambda f: True, 0.2))
        result = await within(TOY.read(link.transport_for(other), other))
        assert result.values["voltage"] == 220
        assert link.stats.timeouts == 1
    finally:
        await link.stop()
        await wire.stop()


async def test_buses_are_read_concurrently(hub: Hub, tmp_path: Path) -> None:
    wires, links, refs = [], [], []
    for index in range(2):
        wire = await _wire(_bus(1, 2, baud=2400, turnaround=0.01), tmp_path / f"bus{index}")
        link = make_link(RS485, hub, {"id": f"bus{index}", "type": "rs485",
                                      "port": str(tmp_path / f"bus{index}"), "gap": "10ms"})
        wires.append(wire)
        links.append(link)
        refs.append([meter(f"b{index}m{n}", f"{n:012d}", link) for n in (1, 2)])
    try:
        for link in links:
            await link.start()
            await link.wait_connected(5)  # type: ignore[attr-defined]

        async def read_bus(index: int) -> float:
            started = time.monotonic()
            for ref in refs[index]:
                await TOY.read(links[index].transport_for(ref), ref)
            return time.monotonic() - started

        one = await within(read_bus(0))
        started = time.monotonic()
        both = await within(asyncio.gather(read_bus(0), read_bus(1)))
        together = time.monotonic() - started
        assert together < 1.5 * one, (one, both, together)
    finally:
        for link in links:
            await link.stop()
        for wire in wires:
            await wire.stop()


async def test_requests_on_one_bus_never_overlap(hub: Hub, tmp_path: Path) -> None:
    bus = _bus(1, 4, baud=19200)
    in_flight = 0
    worst = 0

    def watch(_frame: object) -> None:
        nonlocal in_flight, worst
        in_flight += 1
        worst = max(worst, in_flight)
        asyncio.get_running_loop().call_later(0.005, _done)

    def _done() -> None:
        nonlocal in_flight
        in_flight -= 1

    for sim in bus.meters:
        sim.on_request = watch  # type: ignore[attr-defined]
    wire = await _wire(bus, tmp_path / "bus1")
    link = make_link(RS485, hub, {"id": "bus1", "type": "rs485", "port": str(tmp_path / "bus1"),
                                  "baud": 19200, "gap": "10ms"})
    refs = [meter(f"m{n}", f"{n:012d}", link) for n in range(1, 5)]
    try:
        await link.start()
        await link.wait_connected(5)  # type: ignore[attr-defined]
        results = await within(asyncio.gather(*(TOY.read(link.transport_for(r), r)
                                                for r in refs)))
        assert all(r.frames == 3 for r in results)
        assert worst == 1
    finally:
        await link.stop()
        await wire.stop()


async def test_a_port_that_vanishes_is_reopened_and_other_buses_carry_on(
        hub: Hub, tmp_path: Path) -> None:
    gone = await _wire(_bus(1, 1, baud=9600, turnaround=0.3), tmp_path / "gone")
    stays = await _wire(_bus(1, 1, baud=9600), tmp_path / "stays")
    link = make_link(RS485, hub, {"id": "gone", "type": "rs485", "port": str(tmp_path / "gone"),
                                  "baud": 9600})
    other = make_link(RS485, hub, {"id": "stays", "type": "rs485",
                                   "port": str(tmp_path / "stays"), "baud": 9600})
    ref, other_ref = meter("m1", "000000000001", link), meter("o1", "000000000001", other)
    link.backoff_initial = 0.05  # type: ignore[attr-defined]
    try:
        for each in (link, other):
            await each.start()
            await each.wait_connected(5)  # type: ignore[attr-defined]
        # a read is waiting for the slow meter when the adapter is pulled out
        pending = asyncio.ensure_future(TOY.read(link.transport_for(ref), ref))
        await asyncio.sleep(0.1)
        gone.unplug()
        with pytest.raises((LinkUnavailable, NoReply)):
            await within(pending, 5)
        await until(lambda: not link.online)
        with pytest.raises(LinkUnavailable, match="not open"):
            link.transport_for(ref)
        assert link.status()["online"] is False and link.status()["last_error"]
        # the other bus is not affected
        result = await within(TOY.read(other.transport_for(other_ref), other_ref))
        assert result.frames == 3
        await asyncio.sleep(0.3)  # a few failed reopen attempts
        gone.replug()
        await link.wait_connected(5)  # type: ignore[attr-defined]
        result = await within(TOY.read(link.transport_for(ref), ref))
        assert result.status["relay"] == "closed"
        assert link.stats.connects == 2 and link.stats.disconnects == 1
    finally:
        for each in (link, other):
            await each.stop()
        await gone.stop()
        await stays.stop()


async def test_a_missing_port_is_retried_until_it_appears(hub: Hub, tmp_path: Path) -> None:
    link = make_link(RS485, hub, {"id": "bus1", "type": "rs485",
                                  "port": str(tmp_path / "later"), "baud": 9600})
    link.backoff_initial = 0.05  # type: ignore[attr-defined]
    ref = meter("m1", "000000000001", link)
    wire = None
    try:
        await link.start()  # must not wait for the port
        await asyncio.sleep(0.2)
        assert not link.online
        with pytest.raises(LinkUnavailable):
            link.transport_for(ref)
        wire = await _wire(_bus(1, 1, baud=9600), tmp_path / "later")
        await link.wait_connected(5)  # type: ignore[attr-defined]
        assert (await within(TOY.read(link.transport_for(ref), ref))).frames == 3
    finally:
        await link.stop()
        if wire is not None:
            await wire.stop()


async def test_stale_bytes_between_exchanges_are_dropped_and_bounded() -> None:
    reader = BoundedReader(cap=64)
    reader.feed_data(b"x" * 1000)  # nobody waits: stale
    assert reader.dropped == 1000 and not reader._buffer  # type: ignore[attr-defined]
    reader.accepting = True
    reader.feed_data(b"a" * 50)
    reader.feed_data(b"b" * 50)
    assert len(reader._buffer) == 64  # type: ignore[attr-defined]
    assert bytes(reader._buffer).endswith(b"b" * 50)  # type: ignore[attr-defined]
    reader.feed_data(b"c" * 500)
    assert bytes(reader._buffer) == b"c" * 64  # type: ignore[attr-defined]


async def test_a_broadcast_waits_for_its_bytes_to_leave_the_wire(hub: Hub,
                                                                 tmp_path: Path) -> None:
    wire = await _wire(_bus(1, 1, baud=1200), tmp_path / "bus1")
    link = make_link(RS485, hub, {"id": "bus1", "type": "rs485", "port": str(tmp_path / "bus1"),
                                  "baud": 1200, "gap": "10ms", "wakeup": 4})
    ref = meter("m1", "000000000001", link)
    try:
        await link.start()
        await link.wait_connected(5)  # type: ignore[attr-defined]
        frame = bytes.fromhex("68999999999999680806000000010118") + b"\x00\x16"
        started = time.monotonic()
        await within(link.transport_for(ref).send(frame))
        assert time.monotonic() - started >= (4 + len(frame)) * 11 / 1200 * 0.98
        await until(lambda: wire.counters.bytes_in == 4 + len(frame))
        assert wire.counters.replies == 0
    finally:
        await link.stop()
        await wire.stop()
