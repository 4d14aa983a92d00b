"""device.firmware: a plugin's updater run as a job over tags — progress, a result per meter,
followed again after a restart without starting an update twice."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common import db_rows, start_hub, wait_for

from hub.core import Context
from hub.hookspecs import hookimpl
from hub.i18n import localize
from hub.metering.firmware import FirmwareProgress, FirmwareUpdater

CONFIG = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {retries: 0, timeout: 0.5, read_on_start: false}
devices: {firmware_poll: 0.05}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: a101, model: ddsy, link: sim1, address: "202400000101", tags: {building: A}}
  - {id: a102, model: ddsy, link: sim1, address: "202400000102", tags: {building: A}}
  - {id: a103, model: ddsy1997, link: sim1, address: "202400000103", tags: {building: A}}
"""


class ToyUpdater(FirmwareUpdater):
    """A vendor service stand-in: updates finish once ``finishing`` is set."""

    name = "toy"

    def __init__(self, finishing: bool) -> None:
        self.finishing = finishing
        self.started: list[str] = []
        self.asked: list[str] = []

    def supports(self, meter: Any) -> str | None:
        return None if meter.model.name == "ddsy" else (
            f"model {meter.model.name} has no firmware channel with toy")

    async def start(self, meter: Any, image: Mapping[str, Any]) -> str:
        self.started.append(meter.id)
        return f"task-{meter.id}-{image['version']}"

    async def progress(self, meter: Any, task: str) -> FirmwareProgress:
        self.asked.append(task)
        if not self.finishing:
            return FirmwareProgress("running", "downloading")
        return FirmwareProgress("done", version=task.rsplit("-", 1)[-1])


class ToyPlugin:
    def __init__(self, updater: ToyUpdater) -> None:
        self.updater = updater

    @hookimpl
    def register_firmware_updaters(self) -> list[Any]:
        return [self.updater]


async def test_a_firmware_job_runs_per_meter_and_resumes_after_a_restart(
        tmp_path: Path) -> None:
    first = ToyUpdater(finishing=False)
    async with start_hub(tmp_path, CONFIG, plugins=[(ToyPlugin(first), "toy_fw")]) as hub:
        answer = await hub.services.call("device", "firmware", {
            "tags": {"building": "A"}, "updater": "toy", "image": {"version": "2.1"}},
            context=Context(user_id="admin"), return_response=True)
        job_id = answer["job_id"]
        items = {item["meter_id"]: item for item in answer["items"]}
        assert items["a103"]["state"] == "failed"
        assert items["a103"]["result"] == "model ddsy1997 has no firmware channel with toy"
        await wait_for(lambda: len(first.asked) >= 4)
        assert sorted(first.started) == ["a101", "a102"]
        status = await hub.services.call("device", "job", {"job_id": job_id},
                                         return_response=True)
        assert status["state"] == "running"
        assert status["progress"] == {"total": 3, "failed": 1, "queued": 2}
    second = ToyUpdater(finishing=True)
    async with start_hub(tmp_path, CONFIG, plugins=[(ToyPlugin(second), "toy_fw")]) as hub:
        # the job's own state, not its event: under load the job can finish while the hub
        # is still starting, before a listener added here would hear it
        async with asyncio.timeout(90):
            while (status := await hub.services.call(
                    "device", "job", {"job_id": job_id}, return_response=True)
                   )["state"] != "done":
                await asyncio.sleep(0.05)
        assert second.started == []  # followed by their kept tasks, not started again
        assert sorted(second.asked) == ["task-a101-2.1", "task-a102-2.1"]
        results = {item["meter_id"]: item["result"] for item in status["items"]}
        assert results == {"a101": "version 2.1 installed", "a102": "version 2.1 installed",
                           "a103": "model ddsy1997 has no firmware channel with toy"}
        # the results are kept keyed (device_job_item.result): worded for each reader
        assert localize(results["a101"], "zh-CN") == "已安装版本 2.1"
    rows = db_rows(tmp_path / "data", "SELECT meter_id, state, context_user_id FROM command "
                                      "WHERE command = 'firmware' ORDER BY meter_id")
    assert rows == [("a101", "confirmed", "admin"), ("a102", "confirmed", "admin")]


async def test_an_unknown_updater_is_refused(tmp_path: Path) -> None:
    async with start_hub(tmp_path, CONFIG) as hub:
        try:
            await hub.services.call("device", "firmware", {
                "meter_id": "a101", "updater": "ota", "image": {"version": "1"}},
                return_response=True)
        except Exception as err:
            assert "no firmware updater 'ota' (updaters: none installed)" in str(err)
        else:
            raise AssertionError("an unknown updater was accepted")
