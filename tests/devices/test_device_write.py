"""device.write over a real pty: a tariff's TOU table pushed into a simulated DL/T 645 meter and
read back equal; bad inputs refused before anything is stored; a meter that refuses or that
acknowledges but keeps another value ends failed with its reason, never confirmed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from common import collect, db_rows, start_hub, web_client
from device_support import command_events, devices, ended, pty_config, simulator

from hub.core import Context
from hub.devices import tariff_table
from hub.events import EVENT_ALARM, EVENT_ALARM_CLEARED
from hub.exceptions import ServiceValidationError
from hub.metering.tou import TouTable
from hub.util import dt as dt_util

USER = Context(user_id="operator-7")


async def test_tariff_tou_table_pushed_over_a_pty_reads_back_equal(tmp_path: Path) -> None:
    async with start_hub(tmp_path, pty_config(tmp_path)) as hub:
        events = command_events(hub)
        alarms = collect(hub, EVENT_ALARM, EVENT_ALARM_CLEARED)
        service = devices(hub)
        # the meter still holds its factory table: the check raises the mismatch alarm once
        checked = await hub.services.call("device", "check_tou", {"meter_id": "a101"},
                                          context=USER, return_response=True)
        assert checked["meters"]["a101"]["matches"] is False
        again = await hub.services.call("device", "check_tou", {"meter_id": "a101"},
                                        context=USER, return_response=True)
        assert again["meters"]["a101"]["matches"] is False
        assert [(e.event_type, e.data["kind"]) for e in alarms] == [("alarm", "tou_mismatch")]

        answer = await hub.services.call("device", "write", {
            "meter_id": "a101", "param": "tou", "from_tariff": True},
            context=USER, return_response=True)
        done = await ended(events, answer["command_id"])
        assert done.data["state"] == "confirmed", done.data

        tariff = service.tariffs().get("gd_tou")  # type: ignore[union-attr]
        wanted = tariff_table(tariff, dt_util.now().date(), service.calendar).table
        read_back = await service.writes.read_back("a101", "tou")
        assert read_back == wanted
        assert [(m, d) for m, d, _n in read_back.zones] == [(1, 1), (7, 1), (10, 1)]
        # the meter's own T1..T4 follow the tariff: a summer Wednesday at 11:30 is sharp (T1),
        # a Saturday in March at 09:00 is the weekend's flat (T3), 09:00 on a weekday flat
        sim = simulator(hub, "a101")
        assert _rate(sim, datetime(2027, 7, 7, 11, 30)) == 1
        assert _rate(sim, datetime(2027, 3, 6, 9, 0)) == 3
        assert _rate(sim, datetime(2027, 3, 3, 10, 30)) == 2
        assert _rate(sim, datetime(2027, 3, 3, 7, 59)) == 4
        # the write cleared the alarm; the other meter was not touched
        assert [e.event_type for e in alarms] == ["alarm", "alarm_cleared"]
        assert simulator(hub, "a102").params[0x04010000] == ["010101"]
    rows = db_rows(tmp_path / "data", "SELECT command, state, context_user_id, params FROM "
                                      "command WHERE queue = 'device'")
    assert [(r[0], r[1], r[2]) for r in rows] == [("write:tou", "confirmed", "operator-7")]
    transitions = db_rows(tmp_path / "data", "SELECT to_state FROM command_transition "
                                             "ORDER BY ts, transition_key")
    assert [t[0] for t in transitions] == ["queued", "sent", "confirmed"]


def _rate(sim: object, local: datetime) -> int:
    schedule = sim.day_schedule(local)  # type: ignore[attr-defined]
    minute = local.hour * 60 + local.minute
    return [rate for start, rate in schedule if start.total_seconds() // 60 <= minute][-1]


def _table(segments: int, start: str = "00:00") -> dict[str, object]:
    day = [{"start": start, "rate": 4}] + [
        {"start": f"{h:02d}:00", "rate": 3} for h in range(1, segments)]
    return {"zones": [{"start": "01-01", "table": 1}], "tables": {"1": day}}


def _zones(count: int) -> dict[str, object]:
    zones = [{"start": f"{1 + n % 12:02d}-{1 + n // 12 * 15:02d}", "table": 1 + n % 2}
             for n in range(count)]
    zones.sort(key=lambda zone: str(zone["start"]))
    return {"zones": zones, "tables": {"1": _table(14)["tables"]["1"],  # type: ignore[index]
                                       "2": _table(2)["tables"]["1"]}}  # type: ignore[index]


async def test_fourteen_segments_and_fourteen_zones_written_and_read_back(
        tmp_path: Path) -> None:
    async with start_hub(tmp_path, pty_config(tmp_path)) as hub:
        events = command_events(hub)
        value = _zones(14)
        answer = await hub.services.call("device", "write", {
            "meter_id": "a101", "param": "tou", "value": value},
            context=USER, return_response=True)
        done = await ended(events, answer["command_id"])
        assert done.data["state"] == "confirmed", done.data
        read_back = await devices(hub).writes.read_back("a101", "tou")
        assert read_back == TouTable.parse(value)
        assert len(read_back.zones) == 14 and len(read_back.tables[0]) == 14
        # the meter holds all 14 entries of each table: 42 value bytes in one write
        sim = simulator(hub, "a101")
        assert len(sim.params[0x04010000]) == 14 and len(sim.params[0x04010001]) == 14


@pytest.mark.parametrize(("data", "expected"), [
    ({"param": "over_current_limit", "value": 40},
     "does not declare 'over_current_limit' writable (writable: alarm_amount_1"),
    ({"param": "tou", "value": _table(15)}, "at most 14 segments a day, got 15"),
    ({"param": "tou", "value": _zones(15)}, "zones: at most 14 yearly zones, got 15"),
    ({"param": "tou", "value": {"zones": [{"start": "01-01", "table": 1}],
                                "tables": {"1": [{"start": "00:00", "rate": 4},
                                                 {"start": "25:00", "rate": 3}]}}},
     "tables.1[1].start: 25:00 is not a time of day"),
    ({"param": "tou", "value": {"zones": [{"start": "02-30", "table": 1}],
                                "tables": {"1": [{"start": "00:00", "rate": 4}]}}},
     "zones[0].start: 02-30 is not a day of the year"),
    ({"param": "alarm_amount_1", "value": "12.345"}, "does not fit XXXXXX.XX CNY"),
    ({"param": "meter_time", "value": "yesterday"}, "expected 'now' or a date-time"),
    ({"param": "tou", "value": _table(3), "password_level": "2X"},
     "expected a password level of 2 hex digits"),
])
async def test_bad_input_is_refused_naming_what_and_nothing_is_stored(
        tmp_path: Path, data: dict[str, object], expected: str) -> None:
    async with start_hub(tmp_path, pty_config(tmp_path)) as hub:
        with pytest.raises(ServiceValidationError) as caught:
            await hub.services.call("device", "write", {"meter_id": "a101", **data},
                                    context=USER, return_response=True)
        assert expected in str(caught.value)
    assert db_rows(tmp_path / "data", "SELECT * FROM command") == []


async def test_meter_refusals_and_wrong_read_back_end_failed_with_the_reason(
        tmp_path: Path) -> None:
    async with start_hub(tmp_path, pty_config(tmp_path, retries=1)) as hub:
        events = command_events(hub)
        sim = simulator(hub, "a101")
        # a plaintext level the meter has no password for: ERR 04 in words, not retried
        refused = await hub.services.call("device", "write", {
            "meter_id": "a101", "param": "alarm_amount_1", "value": "33.00",
            "password_level": "05"}, context=USER, return_response=True)
        event = await ended(events, refused["command_id"])
        assert event.data["state"] == "failed"
        assert event.data["error"] == "meter refused: password wrong / not authorised (ERR 04)"
        assert event.data["attempts"] == 1
        # ESAM ciphertext level: refused before anything is sent
        esam = await hub.services.call("device", "write", {
            "meter_id": "a101", "param": "alarm_amount_1", "value": "33.00",
            "password_level": "98"}, context=USER, return_response=True)
        event = await ended(events, esam["command_id"])
        assert "password level 98 means ESAM ciphertext" in event.data["error"]
        assert event.data["state"] == "failed"
        # acknowledged, not kept: retried once, then failed with both values
        sim.faulty_writes.add(0x04001001)
        faulty = await hub.services.call("device", "write", {
            "meter_id": "a101", "param": "alarm_amount_1", "value": "33.00"},
            context=USER, return_response=True)
        event = await ended(events, faulty["command_id"])
        assert event.data["state"] == "failed"
        assert event.data["error"] == ("the meter acknowledged but reads back 20.00, not 33.00 "
                                       "(after 2 attempts)")
        assert sim.params[0x04001001] == Decimal("20.00")
        assert not [e for e in events if e.data["state"] == "confirmed"]
        # the good write confirms once the meter keeps it
        sim.faulty_writes.clear()
        good = await hub.services.call("device", "write", {
            "meter_id": "a101", "param": "alarm_amount_1", "value": "33.00"},
            context=USER, return_response=True)
        assert (await ended(events, good["command_id"])).data["state"] == "confirmed"
        assert sim.params[0x04001001] == Decimal("33.00")
    states = db_rows(tmp_path / "data", "SELECT state, error FROM command WHERE queue = "
                                        "'device' ORDER BY created_ts")
    assert [s[0] for s in states] == ["failed", "failed", "failed", "confirmed"]


async def test_clock_and_voltage_limit_written_and_read_back(tmp_path: Path) -> None:
    async with start_hub(tmp_path, pty_config(tmp_path)) as hub:
        events = command_events(hub)
        sim = simulator(hub, "a102")
        sim.set_meter_time(datetime(2025, 1, 1, 0, 0))  # a badly wrong clock
        clock = await hub.services.call("device", "write", {
            "meter_id": "a102", "param": "meter_time", "value": "now"},
            context=USER, return_response=True)
        limit = await hub.services.call("device", "write", {
            "meter_id": "a102", "param": "voltage_upper", "value": "242.0"},
            context=USER, return_response=True)
        assert (await ended(events, clock["command_id"])).data["state"] == "confirmed"
        assert (await ended(events, limit["command_id"])).data["state"] == "confirmed"
        assert sim.meter_now().year >= 2026
        assert sim.over_voltage == Decimal("242.0")
        params = await hub.services.call("device", "params", {"meter_id": "a102"},
                                         return_response=True)
        assert {"meter_time", "tou", "tou_next", "voltage_upper", "alarm_amount_1"} <= set(
            params["params"])


def test_tou_table_json_round_trip() -> None:
    table = TouTable.parse({"zones": [{"start": "01-01", "table": 1}],
                            "tables": {"1": [{"start": "00:00", "rate": 4},
                                             {"start": "22:00", "rate": 2}]},
                            "rest_table": 1, "rest_days": [0, 6]})
    assert TouTable.parse(table.as_json()) == table
    assert table.rate_at(date(2027, 3, 3), 22 * 60 + 5) == 2


CONFIG_1997 = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {retries: 0, timeout: 0.5, read_on_start: false}
devices: {retries: 0, retry_delay: 0.2, confirm_delay: 0.05}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: old_e, model: ddsy1997, link: sim1, address: "202400000197"}
  - {id: set_e, model: ddsy, link: sim1, address: "202400000297", options: {protocol: 1997}}
"""


async def test_1997_meters_take_their_clock_and_refuse_2007_tables(tmp_path: Path) -> None:
    async with start_hub(tmp_path, CONFIG_1997) as hub:
        events = command_events(hub)
        with pytest.raises(ServiceValidationError, match="model ddsy1997 of meter old_e does "
                                                         "not declare 'tou' writable"):
            await hub.services.call("device", "write", {
                "meter_id": "old_e", "param": "tou", "value": _table(3)},
                context=USER, return_response=True)
        clock = await hub.services.call("device", "write", {
            "meter_id": "old_e", "param": "meter_time", "value": "now"},
            context=USER, return_response=True)
        assert (await ended(events, clock["command_id"])).data["state"] == "confirmed"
        # a 2007 model set to 1997: its TOU tables are 2007 identifiers, never sent
        refused = await hub.services.call("device", "write", {
            "meter_id": "set_e", "param": "tou", "value": _table(3)},
            context=USER, return_response=True)
        event = await ended(events, refused["command_id"])
        assert event.data["state"] == "failed"
        assert event.data["error"] == (
            "not sent: meter set_e speaks DL/T 645-1997: tou is written with DL/T 645-2007 "
            "identifiers, not sent")
        assert simulator(hub, "set_e").requests == 0  # nothing reached the meter


async def test_device_write_through_the_http_api(tmp_path: Path) -> None:
    async with start_hub(tmp_path, pty_config(tmp_path)) as hub:
        events = command_events(hub)
        async with web_client(hub, tmp_path) as client:
            response = await client.post(
                "/api/services/device/write?return_response=1",
                json={"meter_id": "a101", "param": "alarm_amount_2", "value": "6.50"})
            assert response.status == 200, await response.text()
            body = await response.json()
            refused = await client.post(
                "/api/services/device/write?return_response=1",
                json={"meter_id": "a101", "param": "tou", "value": _table(15)})
            assert refused.status == 400
            assert "at most 14 segments a day, got 15" in await refused.text()
        command_id = body["response"]["command_id"]
        assert (await ended(events, command_id)).data["state"] == "confirmed"
        assert simulator(hub, "a101").params[0x04001002] == Decimal("6.50")


async def test_a_meter_without_a_holiday_list_takes_a_table_without_holidays(
        tmp_path: Path) -> None:
    async with start_hub(tmp_path, pty_config(tmp_path)) as hub:
        events = command_events(hub)
        sim = simulator(hub, "a101")
        sim.unsupported.add(0x04000205)  # no holiday list: ERR 02 to a read or a write
        answer = await hub.services.call("device", "write", {
            "meter_id": "a101", "param": "tou", "value": _table(3)},
            context=USER, return_response=True)
        done = await ended(events, answer["command_id"])
        assert done.data["state"] == "confirmed", done.data
        assert await devices(hub).writes.read_back("a101", "tou") == TouTable.parse(_table(3))
