"""Public holidays and make-up working days (调休) written into a meter's holiday list (公共假日,
04000205 and 040300nn) over a real pty: read back equal to the tariff's, the meter's band on
China's National Day and on a make-up working Saturday the hub's own, and the TOU check
comparing the list."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from common import start_hub
from device_support import command_events, devices, ended, pty_config, simulator

from hub.billing.tariff import Usage
from hub.core import Context
from hub.devices import tariff_table
from hub.exceptions import ServiceValidationError
from hub.util import dt as dt_util

USER = Context(user_id="operator-7")
# gd_tou with a holiday price: public holidays run a festive schedule of their own
FESTIVE = '      festive: [{start: "00:00", band: valley}, {start: "10:00", band: peak}]\n'


def holiday_config(tmp_path: Path) -> str:
    """The device tests' hub with a holiday schedule in the tariff."""
    return pty_config(tmp_path).replace(
        "    weekend_schedule: weekend\n",
        "    weekend_schedule: weekend\n    holiday_schedule: festive\n").replace(
        "      weekend: [", FESTIVE + "      weekend: [")


def _meter_rate(sim: object, local: datetime) -> int:
    schedule = sim.day_schedule(local)  # type: ignore[attr-defined]
    minute = local.hour * 60 + local.minute
    return [rate for start, rate in schedule if start.total_seconds() // 60 <= minute][-1]


async def test_holidays_and_make_up_days_pushed_and_counted_like_the_hub(
        tmp_path: Path) -> None:
    async with start_hub(tmp_path, holiday_config(tmp_path)) as hub:
        events = command_events(hub)
        service = devices(hub)
        answer = await hub.services.call("device", "write", {
            "meter_id": "a101", "param": "tou", "from_tariff": True, "on": "2026-10-01"},
            context=USER, return_response=True)
        done = await ended(events, answer["command_id"])
        assert done.data["state"] == "confirmed", done.data

        tariff = service.tariffs().get("gd_tou")  # type: ignore[union-attr]
        wanted = tariff_table(tariff, date(2026, 10, 1), service.calendar).table
        read_back = await service.writes.read_back("a101", "tou")
        assert read_back == wanted
        listed = dict(read_back.holidays)
        # National Day (a Thursday) runs the festive table (the 4th: after normal, summer,
        # weekend); the make-up working Saturday 10-10 the normal workday table
        assert listed[date(2026, 10, 1)] == 4
        assert listed[date(2026, 10, 10)] == 1
        # a plain Saturday needs no entry: the rest-day table covers it
        assert date(2026, 10, 17) not in listed
        sim = simulator(hub, "a101")
        assert int(sim.params[0x04000205]) == len(listed)

        # the meter's own band at each hour of those days is the band the hub prices
        bands = {"sharp": 1, "peak": 2, "flat": 3, "valley": 4}
        for day in (date(2026, 10, 1), date(2026, 10, 3), date(2026, 10, 10),
                    date(2026, 10, 17), date(2026, 2, 14), date(2026, 7, 7)):
            for hour in range(24):
                local = datetime(day.year, day.month, day.day, hour, 30)
                instant = local.replace(tzinfo=dt_util.site_time_zone())
                hub_band = tariff.segments(Usage(instant, instant, Decimal(1)))[0].key
                assert _meter_rate(sim, local) == bands[hub_band], (local, hub_band)
        # 10:30 on National Day is the festive peak, on the make-up Saturday the workday's
        assert _meter_rate(sim, datetime(2026, 10, 1, 10, 30)) == 2
        assert _meter_rate(sim, datetime(2026, 10, 10, 8, 30)) == 3
        assert _meter_rate(sim, datetime(2026, 10, 17, 10, 30)) == 3  # weekend flat

        with pytest.raises(ServiceValidationError, match="on: expected a date like"):
            await hub.services.call("device", "check_tou", {"meter_id": "a101", "on": "10/01"},
                                    context=USER, return_response=True)
        # the TOU check compares the holiday list: one entry lost in the meter is found
        checked = await hub.services.call("device", "check_tou", {
            "meter_id": "a101", "on": "2026-10-01"}, context=USER, return_response=True)
        assert checked["meters"]["a101"]["matches"] is True, checked
        count = int(sim.params[0x04000205])
        sim.params[0x04000205] = Decimal(count - 1)  # the last entry (a late one) dropped
        last = max(listed)
        checked = await hub.services.call("device", "check_tou", {
            "meter_id": "a101", "on": "2026-10-01"}, context=USER, return_response=True)
        assert checked["meters"]["a101"]["differences"] == [
            f"holiday {last.isoformat()} not listed instead of on day table {listed[last]}"]


async def test_a_make_up_day_before_a_pending_switch_stays_with_the_running_set(
        tmp_path: Path) -> None:
    async with start_hub(tmp_path, holiday_config(tmp_path)) as hub:
        events = command_events(hub)
        service = devices(hub)
        on = dt_util.now().date() + timedelta(days=30)
        first = await hub.services.call("device", "write", {
            "meter_id": "a101", "param": "tou", "from_tariff": True},
            context=USER, return_response=True)
        assert (await ended(events, first["command_id"])).data["state"] == "confirmed"
        running = await service.writes.read_back("a101", "tou")
        nxt = await hub.services.call("device", "write", {
            "meter_id": "a101", "param": "tou_next", "from_tariff": True,
            "on": on.isoformat()}, context=USER, return_response=True)
        done = await ended(events, nxt["command_id"])
        assert done.data["state"] == "confirmed", done.data
        # the next set holds its year's holidays from the switch day; the running set keeps
        # its own before it
        tariff = service.tariffs().get("gd_tou")  # type: ignore[union-attr]
        after = tariff_table(tariff, on, service.calendar).table.holidays
        read_next = await service.writes.read_back("a101", "tou_next")
        assert read_next["table"].holidays == tuple(h for h in after if h[0] >= on)
        assert (await service.writes.read_back("a101", "tou")).holidays == tuple(
            h for h in running.holidays if h[0] < on)
