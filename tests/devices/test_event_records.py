"""Meters' own event logs: a cover opened raises one alarm however often the log is read (and
after a restart); records are stored with the meter's timestamps; a kind the meter does not
keep is named."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from common import collect, start_hub
from device_support import simulator

from hub.core import Context
from hub.events import EVENT_ALARM, EVENT_METER_EVENT

CONFIG = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {retries: 0, timeout: 0.5, read_on_start: false}
devices: {events_every: 0}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: r101_e, model: ddsy, link: sim1, address: "202400000101"}
"""


async def _read(hub: object) -> dict[str, object]:
    answer = await hub.services.call(  # type: ignore[attr-defined]
        "device", "read_events", {"meter_id": "r101_e"}, context=Context(),
        return_response=True)
    return dict(answer["meters"]["r101_e"])


async def test_a_cover_opened_raises_one_alarm_across_repeated_reads(tmp_path: Path) -> None:
    async with start_hub(tmp_path, CONFIG) as hub:
        alarms = collect(hub, EVENT_ALARM)
        records = collect(hub, EVENT_METER_EVENT)
        sim = simulator(hub, "r101_e")
        first = await _read(hub)
        assert first["new"] == 0 and first["counts"]["cover_open"] == 0  # type: ignore[index]
        sim.log_event("cover_open", datetime(2026, 12, 1, 2, 14, 5),
                      datetime(2026, 12, 1, 2, 20, 0))
        sim.log_event("power_down", datetime(2026, 12, 2, 8, 0, 0),
                      datetime(2026, 12, 2, 9, 30, 0))
        for _ in range(3):
            await _read(hub)
        assert [(a.data["kind"], a.data["value"]) for a in alarms] == [("cover_open", 1)]
        assert "cover open at 2026-12-01 02:14:05 (meter clock" in alarms[0].data["message"]
        stored = {r.data["kind"]: r.data for r in records}
        assert set(stored) == {"cover_open", "power_down"}
        assert stored["cover_open"]["started"] == "2026-12-01T02:14:05+08:00"
        assert stored["cover_open"]["ended"] == "2026-12-01T02:20:00+08:00"
        assert stored["cover_open"]["tamper"] is True
        assert stored["power_down"]["tamper"] is False
        # a second opening is a new record: one more alarm
        sim.log_event("cover_open", datetime(2026, 12, 3, 23, 0, 0))
        await _read(hub)
        await _read(hub)
        assert [a.data["value"] for a in alarms] == [1, 2]
    # after a restart the log is read from the start again: nothing raised twice
    async with start_hub(tmp_path, CONFIG) as hub:
        alarms = collect(hub, EVENT_ALARM)
        sim = simulator(hub, "r101_e")
        sim.log_event("cover_open", datetime(2026, 12, 1, 2, 14, 5),
                      datetime(2026, 12, 1, 2, 20, 0))
        answer = await _read(hub)
        assert answer["new"] == 0
        assert alarms == []
