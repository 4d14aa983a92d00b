"""The metering service over real links with DDSY simulators behind them, all from a config:
reads, a trip reflected in the relay status, re-reads, offline meters, DTU reconnects, and
the ``simulation:`` block that puts simulated devices on every kind of link."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import StartHub
from link_support import Recorder, config_problems, metering, until, within

from hub.core import Hub
from hub.events import EVENT_METER_OFFLINE, EVENT_METER_ONLINE, EVENT_READ_FAILED, EVENT_READING
from hub.metering.model import Command
from hub.metering.reading import ReadingSource
from hub.metering.scheduler import Scheduler
from hub.metering.service import ReadFailed
from meterhub_dlt645.simulator import Dlt645Simulator
from meterhub_sim.dtu import SimulatedDtu
from meterhub_sim.simulation import Simulation

FAST = {"timeout": Decimal("0.5"), "retries": 0, "retry_delay": Decimal("0.1"),
        "offline_after": 2,
        "reread": {"first_delay": Decimal("0.2"), "max_delay": Decimal("0.4")}}


def _ddsy(meter_id: str, address: str, link: str, **extra: Any) -> dict[str, Any]:
    return {"id": meter_id, "model": "ddsy", "link": link, "address": address,
            "tags": {"building": "A"}, **extra}


def dtu_site(**metering_options: Any) -> dict[str, Any]:
    """Two DTUs with two DDSY meters each behind a tcp_dtu link, simulated."""
    return {
        "links": [{"id": "dtu_server", "type": "tcp_dtu", "listen": "127.0.0.1:0",
                   "heartbeat": {"data": "ping", "interval": 30}, "timeout": 1, "gap": 0}],
        "meters": [
            _ddsy("r101", "202400000101", "dtu_server", link_options={"dtu": "DTU-A"}),
            _ddsy("r102", "202400000102", "dtu_server", link_options={"dtu": "DTU-A"}),
            _ddsy("r201", "202400000201", "dtu_server", link_options={"dtu": "DTU-B"}),
            _ddsy("r202", "202400000202", "dtu_server", link_options={"dtu": "DTU-B"}),
        ],
        "metering": {**FAST, **metering_options},
        "reading": [{"plan": "every", "minutes": 60, "id": "hourly"}],
        "simulation": {"dtus": [{"link": "dtu_server", "reconnect": "100ms"}]},
    }


def _simulation(hub: Hub) -> Simulation:
    return hub.component("simulation", Simulation)


def _meter_sim(hub: Hub, meter_id: str) -> Dlt645Simulator:
    simulator = _simulation(hub).simulators[meter_id]
    assert isinstance(simulator, Dlt645Simulator)
    return simulator


async def _dtus_online(hub: Hub, count: int) -> None:
    link = metering(hub).links["dtu_server"]
    await until(lambda: link.table.online_count() == count)  # type: ignore[attr-defined]


async def test_every_meter_behind_simulated_dtus_is_read(start_hub: StartHub) -> None:
    hub = await start_hub(dtu_site())
    recorder = Recorder(hub, EVENT_READING, EVENT_METER_ONLINE)
    await _dtus_online(hub, 2)
    service = metering(hub)
    ok, failed = await within(service.read_many(list(service.meters.values())))
    assert sorted(ok) == ["r101", "r102", "r201", "r202"] and not failed
    reading = service.meters["r201"].last_reading
    assert reading is not None
    assert set(reading.registers) >= {"energy_import_total", "energy_import_t1"}
    assert reading.values["voltage"] > 200 and reading.status["relay"] == "closed"
    assert reading.quality["frames"] == 10
    assert len(recorder.of(EVENT_READING)) == 4 and len(recorder.of(EVENT_METER_ONLINE)) == 4
    state = hub.states.get("meter.r101")
    assert state is not None and state.attributes["online"] is True
    assert service.meters["r101"].group == "dtu_server/DTU-A"
    response = await within(hub.services.call("meter", "read", {"meter_id": "r102"},
                                              return_response=True))
    assert response["read"] == ["r102"]


async def test_a_trip_is_reflected_in_the_relay_status(start_hub: StartHub) -> None:
    hub = await start_hub(dtu_site())
    await _dtus_online(hub, 2)
    service = metering(hub)
    result = await within(service.command("r102", Command.TRIP))
    assert result.accepted
    reading = await within(service.read("r102", points=["relay"],
                                        source=ReadingSource.CONFIRM))
    assert reading.status["relay"] == "open"
    assert not _meter_sim(hub, "r102").relay_closed
    assert (await within(service.read("r101", points=["relay"]))).status["relay"] == "closed"
    await within(service.command("r102", Command.CLOSE))
    assert (await within(service.read("r102", points=["relay"]))).status["relay"] == "closed"


async def test_failed_meters_are_re_read_until_they_answer(start_hub: StartHub) -> None:
    hub = await start_hub(dtu_site())
    recorder = Recorder(hub, EVENT_READING, EVENT_READ_FAILED)
    await _dtus_online(hub, 2)
    simulator = _meter_sim(hub, "r202")
    simulator.faults.silent = True  # a transient fault: e.g. a neighbour's drill on the bus
    scheduler = hub.component("metering.scheduler", Scheduler)
    ok, failed = await within(scheduler.run_plan(0, scheduler.plans[0]))
    assert failed == ["r202"] and len(ok) == 3
    assert scheduler.pending_rereads() == ["r202"]
    simulator.faults.silent = False
    await until(lambda: not scheduler.pending_rereads(), timeout=5)
    rereads = [e for e in recorder.of(EVENT_READING) if e.data["reading"].source ==
               ReadingSource.REREAD]
    assert [e.data["meter_id"] for e in rereads] == ["r202"]
    assert recorder.of(EVENT_READ_FAILED)[0].data["meter_id"] == "r202"


async def test_a_meter_that_stops_answering_goes_offline(start_hub: StartHub) -> None:
    hub = await start_hub(dtu_site())
    recorder = Recorder(hub, EVENT_METER_OFFLINE)
    await _dtus_online(hub, 2)
    service = metering(hub)
    await within(service.read("r101"))
    _meter_sim(hub, "r101").faults.silent = True
    for _ in range(2):
        with pytest.raises(ReadFailed, match="no reply"):
            await within(service.read("r101"))
    assert [e.data["meter_id"] for e in recorder.of(EVENT_METER_OFFLINE)] == ["r101"]
    state = hub.states.get("meter.r101")
    assert state is not None and state.attributes["online"] is False
    assert (await within(service.read("r102"))).registers  # its neighbour still answers


async def test_a_dtu_reconnecting_mid_read_is_retried(start_hub: StartHub) -> None:
    hub = await start_hub(dtu_site(retries=2))
    await _dtus_online(hub, 2)
    device = _simulation(hub).dtus["dtu_server/DTU-B"]
    assert isinstance(device, SimulatedDtu)
    device.faults.drop_on_request = 3  # the connection drops in the middle of the read
    reading = await within(metering(hub).read("r201"))
    assert reading.quality["attempts"] >= 2
    assert device.connections == 2


async def test_a_dtu_that_is_offline_fails_fast_and_counts(start_hub: StartHub) -> None:
    hub = await start_hub(dtu_site())
    await _dtus_online(hub, 2)
    device = _simulation(hub).dtus["dtu_server/DTU-A"]
    assert isinstance(device, SimulatedDtu)
    device.pause()
    await _dtus_online(hub, 1)
    service = metering(hub)
    ok, failed = await within(service.read_many(list(service.meters.values())))
    assert sorted(failed) == ["r101", "r102"] and sorted(ok) == ["r201", "r202"]
    assert "DTU-A is not connected" in str(service.meters["r101"].last_error)
    device.pause(False)
    await _dtus_online(hub, 2)
    assert (await within(service.read("r101"))).registers


async def test_simulated_devices_on_every_kind_of_link(start_hub: StartHub,
                                                       tmp_path: Path) -> None:
    raw: dict[str, Any] = {
        "links": [
            {"id": "bus1", "type": "rs485", "port": str(tmp_path / "bus1"), "baud": 9600,
             "timeout": 1, "gap": "5ms"},
            {"id": "gw1", "type": "tcp_client", "host": "127.0.0.1", "port": _free_tcp_port(),
             "timeout": 1},
            {"id": "udp1", "type": "udp", "listen": "127.0.0.1:0", "timeout": 1,
             "register": {"mode": "both"}},
            {"id": "plc1", "type": "carrier", "serial": {"port": str(tmp_path / "plc1"),
                                                         "baud": 9600}, "gap": "20ms"},
        ],
        "meters": [
            _ddsy("s1", "202400000001", "bus1"), _ddsy("s2", "202400000002", "bus1"),
            _ddsy("g1", "202400000011", "gw1"),
            _ddsy("u1", "202400000021", "udp1", link_options={"dtu": "UDP-1"}),
            _ddsy("p1", "202400000031", "plc1"),
        ],
        "metering": FAST,
        "simulation": {"serial": [{"link": "bus1", "turnaround": "5ms"}, {"link": "plc1"}],
                       "servers": [{"link": "gw1"}], "dtus": [{"link": "udp1"}],
                       "meters": {"s2": {"load": {"constant": 2}}}},
    }
    hub = await start_hub(raw)
    service = metering(hub)
    udp = service.links["udp1"]
    await until(lambda: all(link.online for link in service.links.values()))
    await until(lambda: udp.table.online_count() == 1)  # type: ignore[attr-defined]
    ok, failed = await within(service.read_many(list(service.meters.values())), 20)
    assert not failed and len(ok) == 5
    for meter_id in ("s1", "s2", "g1", "u1", "p1"):
        reading = service.meters[meter_id].last_reading
        assert reading is not None and reading.status["relay"] == "closed", meter_id
    assert service.meters["s1"].link.stats.requests >= 10
    assert _simulation(hub).buses["bus1"].counters.replies >= 20


def test_simulation_block_names_links_it_can_stand_in_for(tmp_path: Path) -> None:
    raw = {
        "links": [{"id": "bus1", "type": "rs485", "port": str(tmp_path / "x")},
                  {"id": "sim1", "type": "sim"}],
        "meters": [_ddsy("s1", "202400000001", "bus1")],
        "simulation": {"dtus": [{"link": "bus1"}], "serial": [{"link": "nope"}],
                       "meters": {"s9": {"faults": {"silent": True}}}},
    }
    problems = config_problems(raw)
    assert any("simulation.dtus[0].link" in p and "cannot be simulated" in p
               for p in problems), problems
    assert any("simulation.serial[0].link" in p and "unknown link" in p for p in problems)
    assert any("unknown meter 's9'" in p for p in problems)


def test_link_options_are_checked_per_link_type(tmp_path: Path) -> None:
    raw = {
        "links": [{"id": "d", "type": "tcp_dtu"}, {"id": "b", "type": "rs485",
                                                   "port": str(tmp_path / "x")}],
        "meters": [_ddsy("m1", "1", "d"), _ddsy("m2", "2", "b", link_options={"dtu": "x"})],
    }
    problems = config_problems(raw)
    assert any("meters[0].link_options.dtu" in p for p in problems), problems
    assert any("meters[1].link_options.dtu" in p and "unknown key" in p for p in problems)


def _free_tcp_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_events_of_dtus_reach_the_bus(start_hub: StartHub) -> None:
    hub = await start_hub(dtu_site())
    recorder = Recorder(hub, "dtu_online", "dtu_offline")
    await _dtus_online(hub, 2)
    device = _simulation(hub).dtus["dtu_server/DTU-B"]
    assert isinstance(device, SimulatedDtu)
    device.disconnect()
    await until(lambda: bool(recorder.of("dtu_offline")))
    await until(lambda: len(recorder.of("dtu_online")) >= 1)
    assert recorder.of("dtu_offline")[0].data == {"link": "dtu_server", "dtu": "DTU-B",
                                                  "reason": "connection closed"}
    await asyncio.sleep(0)
