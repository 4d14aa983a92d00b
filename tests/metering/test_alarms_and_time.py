"""Alarms from readings (every kind, per-tag and per-meter thresholds, hysteresis), clock drift
and time synchronisation, on simulated meters over the sim link."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from common import start_hub

from hub.core import Event, Hub
from hub.metering.scheduler import Scheduler
from hub.metering.service import MeteringService
from hub.util.dt import now

CONFIG = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {retries: 0, timeout: 0.3, read_on_start: false}
alarms:
  defaults: {over_current: {above: 40}}
  rules:
    - {tags: {building: B}, over_current: {above: 20, clear_below: 15}}
links:
  - {id: sim1, type: sim}
meters:
  - {id: a_e, model: ddsy, link: sim1, address: "1", tags: {building: A}}
  - {id: b_e, model: ddsy, link: sim1, address: "2", tags: {building: B}}
  - {id: own_e, model: ddsy, link: sim1, address: "3", tags: {building: B},
     alarms: {over_current: {above: 10}, under_voltage: false}}
  - {id: main, model: dtsy, link: sim1, address: "9"}
  - {id: w, model: cjt188_water, link: sim1, address: "00000000000001"}
"""


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    async with start_hub(tmp_path, CONFIG) as instance:
        yield instance


def _alarms(hub: Hub) -> list[tuple[str, str, str, Any]]:
    seen: list[Event] = []
    out: list[tuple[str, str, str, Any]] = []

    def keep(event: Event) -> None:
        seen.append(event)
        out.append((event.event_type, event.data["meter_id"], event.data["kind"],
                    event.data.get("phase")))

    hub.bus.listen("alarm", keep)
    hub.bus.listen("alarm_cleared", keep)
    return out


def _sim(hub: Hub, meter_id: str) -> Any:
    return hub.component("metering", MeteringService).meters[meter_id].link.simulators[meter_id]


FULL = ["default", "meter_time", "energy_export_total"]  # what a daily plan would read


async def _read(hub: Hub, *meter_ids: str) -> None:
    service = hub.component("metering", MeteringService)
    async with asyncio.timeout(10):
        for meter_id in meter_ids:
            await service.read(meter_id, points=FULL)


async def test_over_current_thresholds_come_from_defaults_tags_and_the_meter(hub: Hub) -> None:
    alarms = _alarms(hub)
    for meter_id in ("a_e", "b_e", "own_e"):
        _sim(hub, meter_id).set_current("25")
    await _read(hub, "a_e", "b_e", "own_e")
    # 25 A: below the default 40 A, above building B's 20 A and own_e's 10 A
    assert alarms == [("alarm", "b_e", "over_current", None),
                      ("alarm", "own_e", "over_current", None)]
    _sim(hub, "b_e").set_current("17")  # under 20 but above the rule's clear_below 15
    await _read(hub, "b_e")
    assert len(alarms) == 2
    _sim(hub, "b_e").set_current("14")
    await _read(hub, "b_e")
    assert alarms[-1] == ("alarm_cleared", "b_e", "over_current", None)


async def test_an_alarm_clears_only_past_its_hysteresis_of_two_percent(hub: Hub) -> None:
    """Without a clearing level an alarm stays raised until the value is 2 % of the threshold
    back on the good side: above 10 A it clears below 9.8 A; below 198 V, above 201.96 V."""
    alarms = _alarms(hub)
    steps = [("own_e", "set_current", "25", 1), ("own_e", "set_current", "9.9", 1),
             ("own_e", "set_current", "9.7", 2), ("a_e", "set_voltage", "190.0", 3),
             ("a_e", "set_voltage", "201.5", 3), ("a_e", "set_voltage", "202.5", 4)]
    for meter_id, setter, value, count in steps:
        getattr(_sim(hub, meter_id), setter)(value)
        await _read(hub, meter_id)
        assert len(alarms) == count, (meter_id, setter, value, alarms)
    assert alarms == [("alarm", "own_e", "over_current", None),
                      ("alarm_cleared", "own_e", "over_current", None),
                      ("alarm", "a_e", "under_voltage", None),
                      ("alarm_cleared", "a_e", "under_voltage", None)]


async def test_a_meter_changed_at_runtime_is_checked_against_its_new_thresholds(
        hub: Hub) -> None:
    """The thresholds kept per meter are its settings': a meter updated at runtime (a new
    limit of its own, a new building tag) is checked against the new ones at its next read."""
    alarms = _alarms(hub)
    service = hub.component("metering", MeteringService)
    _sim(hub, "own_e").set_current("25")
    _sim(hub, "a_e").set_current("25")
    await _read(hub, "own_e", "a_e")
    assert alarms == [("alarm", "own_e", "over_current", None)]  # own 10 A; a_e: default 40
    service.update_meter({**service.meters["own_e"].config,
                          "alarms": {"over_current": {"above": 30}}})
    service.update_meter({**service.meters["a_e"].config, "tags": {"building": "B"}})
    await _read(hub, "own_e", "a_e")
    assert alarms[1:] == [("alarm_cleared", "own_e", "over_current", None),  # 25 < 29.4
                          ("alarm", "a_e", "over_current", None)]  # building B's 20 A


async def test_under_voltage_and_its_per_meter_switch_off(hub: Hub) -> None:
    alarms = _alarms(hub)
    for meter_id in ("a_e", "own_e"):
        _sim(hub, meter_id).set_voltage("190.0")
    await _read(hub, "a_e", "own_e")
    assert alarms == [("alarm", "a_e", "under_voltage", None)]


async def test_three_phase_loss_of_one_phase_and_power_loss(hub: Hub) -> None:
    alarms = _alarms(hub)
    sim = _sim(hub, "main")
    sim.set_voltage("0.0", phase="b")
    await _read(hub, "main")
    kinds = {(kind, phase) for _t, _m, kind, phase in alarms}
    assert ("phase_loss", "b") in kinds
    assert ("power_loss", None) not in kinds  # phases A and C are still there
    for phase in "ac":
        sim.set_voltage("0.0", phase=phase)
    await _read(hub, "main")
    assert ("alarm", "main", "power_loss", None) in alarms
    # with the supply gone, no under-voltage alarms pile up on top of the power loss
    assert not any(kind == "under_voltage" for _t, _m, kind, _p in alarms)
    for phase in "abc":
        sim.set_voltage("220.0", phase=phase)
    await _read(hub, "main")
    cleared = {(kind, phase) for event, _m, kind, phase in alarms if event == "alarm_cleared"}
    assert {("phase_loss", "b"), ("power_loss", None)} <= cleared


async def test_water_meter_valve_abnormal_and_battery_low(hub: Hub) -> None:
    alarms = _alarms(hub)
    sim = _sim(hub, "w")
    sim.battery_low = True
    sim.valve_fault = True
    await _read(hub, "w")
    assert {(kind, event) for event, _m, kind, _p in alarms} == {
        ("battery_low", "alarm"), ("valve_abnormal", "alarm")}
    sim.battery_low = False
    await _read(hub, "w")
    assert ("alarm_cleared", "w", "battery_low", None) in alarms


async def test_clock_drift_alarm_then_time_sync_fixes_the_clock(hub: Hub) -> None:
    alarms = _alarms(hub)
    sim = _sim(hub, "a_e")
    sim.set_meter_time((now() - timedelta(minutes=20)).replace(tzinfo=None))
    await _read(hub, "a_e")
    assert ("alarm", "a_e", "clock_drift", None) in alarms
    scheduler = hub.component("metering.scheduler", Scheduler)
    async with asyncio.timeout(10):
        synced = await scheduler.sync_time("per_meter")
    assert synced >= 4  # every meter with a clock on the link
    await _read(hub, "a_e")
    assert alarms[-1] == ("alarm_cleared", "a_e", "clock_drift", None)
    service = hub.component("metering", MeteringService)
    reading = service.meters["a_e"].last_reading
    assert reading is not None and reading.meter_time is not None
    assert abs((reading.meter_time - reading.time).total_seconds()) < 5


async def test_broadcast_time_sync_reaches_every_meter_on_the_bus(hub: Hub) -> None:
    late = (now() - timedelta(seconds=50)).replace(tzinfo=None)
    for meter_id in ("a_e", "b_e"):
        _sim(hub, meter_id).set_meter_time(late)
    scheduler = hub.component("metering.scheduler", Scheduler)
    async with asyncio.timeout(10):
        sent = await scheduler.sync_time("broadcast")
    # one DL/T 645 broadcast for the bus; CJ/T 188 has none, so the water meter is set alone
    assert sent == 2
    service = hub.component("metering", MeteringService)
    for meter_id in ("a_e", "b_e"):
        async with asyncio.timeout(10):
            clock = await service.meters[meter_id].model.read_clock(
                service.meters[meter_id].link.transport_for(service.meters[meter_id].ref),
                service.meters[meter_id].ref)
        assert abs((clock - now()).total_seconds()) < 5, meter_id


async def test_reverse_energy_is_an_alarm(hub: Hub) -> None:
    alarms = _alarms(hub)
    sim = _sim(hub, "a_e")
    await _read(hub, "a_e")
    sim.export += Decimal("0.50")  # the meter counted energy flowing back
    await _read(hub, "a_e")
    assert ("alarm", "a_e", "reverse_energy", None) in alarms


async def test_alarm_events_and_log_say_their_units(hub: Hub,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    events: list[Event] = []
    hub.bus.listen("alarm", events.append)
    hub.bus.listen("alarm_cleared", events.append)
    sim = _sim(hub, "a_e")
    sim.set_meter_time((now() - timedelta(seconds=28821)).replace(tzinfo=None))
    sim.set_current("45")
    three = _sim(hub, "main")
    three.set_voltage("0.0", phase="b")
    await _read(hub, "a_e", "main")
    by_kind = {event.data["kind"]: event.data for event in events}
    drift = by_kind["clock_drift"]
    assert drift["value_unit"] == "s" and drift["threshold"] == 300
    assert abs(drift["value"] - 28821) <= 2  # the read takes a moment
    assert drift["message"] == f"clock off by {drift['value']} s (threshold 300 s)"
    assert f"Alarm clock_drift on a_e: {drift['message']}" in caplog.text
    current = by_kind["over_current"]
    assert (current["value_unit"], current["message"]) == (
        "A", "current 45.000 A (threshold 40 A)")
    lost = by_kind["phase_loss"]
    assert (lost["value_unit"], lost["message"]) == (
        "V", "phase B voltage 0.0 V (threshold 110 V)")
    sim.set_current("1")
    await _read(hub, "a_e")
    cleared = events[-1].data
    assert (events[-1].event_type, cleared["kind"], cleared["value_unit"]) == (
        "alarm_cleared", "over_current", "A")
    assert cleared["message"].startswith("current 1.000 A (threshold 40 A")
