"""A relay command the simulated meter refuses (meter-side 保电): why it failed is kept in
the command table and shown later in each reader's language (the commands API, the meter's
page, ``meterhub control why`` in the site's language); an old English row still shows."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from common import bounded, free_port, start_hub, web_client
from test_stored_read_failures import assert_chinese

from hub.core import Context, Hub
from hub.metering.model import Command
from hub.metering.service import MeteringService
from hub.prepaid.control import Control
from hub.storage.storage import Storage

SITE = """
site: {{name: 阳光公寓, time_zone: Asia/Shanghai, language: zh-CN}}
http: {{port: {http}, host: 127.0.0.1}}
metering: {{retries: 0, retry_delay: 0, timeout: 0.3, read_on_start: false}}
storage: {{commit_interval: 0.02}}
control: {{retries: 1, retry_delay: 0.1, max_retry_delay: 0.2, confirm_delay: 0.05,
          recheck_delay: 0.1, rechecks: 1}}
links:
  - {{id: sim1, type: sim, speed: 3600}}
meters:
  - {{id: r1_e, model: ddsy, link: sim1, address: "202400000101"}}
"""

ZH = "表拒绝执行：其他错误（ERR 01）（已尝试 2 次）"
EN = "meter refused: other error (ERR 01) (after 2 attempts)"


async def refused_trip(hub: Hub) -> str:
    """A trip of r1_e, which its meter refuses (保电) until the command failed; its id."""
    metering = hub.component("metering", MeteringService)
    metering.meters["r1_e"].link.simulators["r1_e"].protected = True  # type: ignore[attr-defined]
    control = hub.component("control", Control)
    command_id, _new = await control.commands.submit("r1_e", Command.TRIP,
                                                     context=Context(origin="test"))
    storage = hub.component("storage", Storage)
    async with asyncio.timeout(60):
        while (record := await storage.command(command_id)) is None \
                or record.state != "failed":
            await asyncio.sleep(0.05)
    return command_id


async def api(client: Any, path: str, language: str) -> Any:
    response = await client.get(path, headers={"Accept-Language": language})
    assert response.status == 200, await response.text()
    return await response.json()


@pytest.mark.timeout(300)
@bounded(240)
async def test_a_refused_command_is_worded_for_each_reader(tmp_path: Path) -> None:
    http = free_port()
    async with start_hub(tmp_path, SITE.format(http=http)) as hub, \
            web_client(hub, tmp_path) as client:
        command_id = await refused_trip(hub)
        # the commands API: zh-CN and en callers, the row and the list
        assert (await api(client, f"/api/commands/{command_id}", "zh-CN"))["error"] == ZH
        assert (await api(client, f"/api/commands/{command_id}", "en"))["error"] == EN
        listed = await api(client, "/api/commands?meter_id=r1_e", "zh-CN")
        assert [row["error"] for row in listed["items"]] == [ZH], listed
        # a retried attempt's reason, kept in its transition
        reasons = [step["detail"]["reason"] for step in
                   (await api(client, f"/api/commands/{command_id}", "zh-CN"))["transitions"]
                   if "reason" in step["detail"]]
        assert reasons and all(reason == "表拒绝执行：其他错误（ERR 01）" for reason in reasons)
        # the meter's page: its commands (its events' data are the event log's)
        page = await (await client.get("/meters/r1_e")).text()
        shown = re.findall(r'<small class="bad">([^<]*)</small>', page)
        assert shown == [ZH] and '{"$text"' not in page, shown
        # the CLI, in the site's language
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub", "control", "why", "--command", command_id,
            "-c", str(tmp_path / "hub.yaml"), "--port", str(http),
            "--data", str(tmp_path / "data"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path)
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, (out, err)
        why = json.loads(out)
        assert why["command"]["error"] == ZH, why
        assert_chinese(why["command"]["error"], {"ERR"})


@pytest.mark.timeout(300)
@bounded(240)
async def test_an_english_error_written_before_still_shows(tmp_path: Path) -> None:
    async with start_hub(tmp_path, SITE.format(http=free_port())) as hub, \
            web_client(hub, tmp_path) as client:
        storage = hub.component("storage", Storage)
        await storage.create_command("cmd-old", "r1_e", "trip", state="queued", params={},
                                     context=Context())
        await storage.transition_command("cmd-old", "failed", error="no answer")
        for language in ("zh-CN", "en"):
            assert (await api(client, "/api/commands/cmd-old", language))["error"] == \
                "no answer"
