"""Bulk device jobs over tags: progress, a result per meter, resumed after a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from common import collect, db_rows, start_hub, wait_for
from device_support import TARIFFS, command_events, simulator

from hub.core import Context
from hub.events.devices import EVENT_DEVICE_JOB

USER = Context(user_id="landlord-1")


def config(silent: bool) -> str:
    faults = "link_options: {faults: {silent: true}}, " if silent else ""
    return f"""
site: {{name: Test, time_zone: Asia/Shanghai}}
http: {{port: 0, host: 127.0.0.1}}
metering: {{retries: 0, timeout: 0.3, read_on_start: false}}
devices: {{retries: 5, retry_delay: 1, confirm_delay: 0.05}}
links:
  - {{id: sim1, type: sim, speed: 0}}
meters:
  - {{id: a101, model: ddsy, link: sim1, address: "202400000101", tariff: gd_tou,
     tags: {{building: A}}}}
  - {{id: a102, model: ddsy, link: sim1, address: "202400000102", tariff: gd_tou,
     {faults}tags: {{building: A}}}}
  - {{id: a103, model: ddsy1997, link: sim1, address: "202400000103", tags: {{building: A}}}}
  - {{id: b201, model: ddsy, link: sim1, address: "202400000201", tariff: gd_tou,
     tags: {{building: B}}}}
{TARIFFS}
"""


async def test_a_job_over_tags_reports_each_meter_and_resumes_after_a_restart(
        tmp_path: Path) -> None:
    async with start_hub(tmp_path, config(silent=True)) as hub:
        events = command_events(hub)
        jobs = collect(hub, EVENT_DEVICE_JOB)
        answer = await hub.services.call("device", "write", {
            "tags": {"building": "A"}, "param": "tou", "from_tariff": True},
            context=USER, return_response=True)
        job_id = answer["job_id"]
        items = {item["meter_id"]: item for item in answer["items"]}
        assert set(items) == {"a101", "a102", "a103"}  # b201 is in building B
        assert items["a103"]["state"] == "failed"
        assert "model ddsy1997 of meter a103 does not declare 'tou' writable" in items[
            "a103"]["result"]
        await wait_for(lambda: any(e.data["meter_id"] == "a101" and e.data["state"] ==
                                   "confirmed" for e in events))
        # a102 does not answer: its write is retried, the job runs on
        await wait_for(lambda: any(e.data["meter_id"] == "a102" and e.data["state"] ==
                                   "queued" and e.data.get("error") for e in events))
        status = await hub.services.call("device", "job", {"job_id": job_id},
                                         return_response=True)
        assert status["state"] == "running"
        assert status["progress"] == {"total": 3, "done": 1, "failed": 1, "queued": 1}
        assert status["author"] == "landlord-1"
        # the job's progress event follows its stored progress (fired once it is written)
        await wait_for(lambda: jobs and jobs[-1].data["progress"].get("done") == 1)
    # restart with a102 answering again: the job carries on where it was
    async with start_hub(tmp_path, config(silent=False)) as hub:
        events = command_events(hub)
        jobs = collect(hub, EVENT_DEVICE_JOB)
        await wait_for(lambda: any(e.data["state"] == "done" for e in jobs), timeout=60)
        status = await hub.services.call("device", "job", {"job_id": job_id},
                                         return_response=True)
        assert status["state"] == "done"
        results = {item["meter_id"]: (item["state"], item["result"]) for item in
                   status["items"]}
        assert results["a101"] == ("done", "confirmed by reading back")
        assert results["a102"] == ("done", "confirmed by reading back")
        assert results["a103"][0] == "failed"
        assert simulator(hub, "a102").params[0x04010000] == ["010101", "070102", "100101"]
        assert [e.data["state"] for e in events if e.data["meter_id"] == "a102"][-1] == \
            "confirmed"
    rows = db_rows(tmp_path / "data", "SELECT meter_id, state FROM command WHERE queue = "
                                      "'device' ORDER BY meter_id")
    assert rows == [("a101", "confirmed"), ("a102", "confirmed")]


async def test_the_scheduled_tou_check_raises_one_alarm_per_meter(tmp_path: Path) -> None:
    text = config(silent=False).replace("confirm_delay: 0.05}",
                                        "confirm_delay: 0.05, tou_check_every: 0.2}")
    async with start_hub(tmp_path, text) as hub:
        alarms = collect(hub, "alarm")
        await wait_for(lambda: {a.data["meter_id"] for a in alarms} >= {"a101", "a102",
                                                                        "b201"})
        await asyncio.sleep(0.6)  # more checks: still one alarm each
        assert sorted(a.data["meter_id"] for a in alarms) == ["a101", "a102", "b201"]
        assert {a.data["kind"] for a in alarms} == {"tou_mismatch"}
        assert "day table 1 00:00 T4, 07:00 T3" in alarms[0].data["message"]
