"""A meter that does not answer on a real TCP link: why its read failed is kept, and shown
later in each reader's language (the API's caller, the CLI in the site's language)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from common import bounded, free_port, start_hub, web_client
from test_api_messages import english_words

SITE = """
site: {{name: 阳光公寓, time_zone: Asia/Shanghai, language: zh-CN}}
http: {{port: {http}, host: 127.0.0.1}}
metering: {{read_on_start: false, retries: 0}}
links:
  - {{id: gw, type: tcp_client, host: 127.0.0.1, port: {port}, timeout: 1s, gap: 0}}
meters:
  - {{id: m1, model: ddsy, link: gw, address: "202400000001"}}
"""

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@asynccontextmanager
async def silent_server(answer: bytes = b"") -> AsyncIterator[int]:
    """A loopback TCP server that takes every connection and never answers a meter's frame
    (it sends ``answer``, not a frame, to each request); its port."""
    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(1024):
            writer.write(answer)
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def assert_chinese(message: str, allowed: set[str]) -> None:
    """A message worded in Chinese: no English word but the ids ``allowed``."""
    assert CHINESE.search(message), message
    assert [word for word in english_words(message) if word not in allowed] == [], message


@pytest.mark.timeout(300)
@bounded(240)
async def test_a_meter_that_does_not_answer_is_worded_for_each_reader(tmp_path: Path) -> None:
    http = free_port()
    async with silent_server() as port, \
            start_hub(tmp_path, SITE.format(http=http, port=port)) as hub, \
            web_client(hub, tmp_path) as client:
        response = await client.post("/api/services/meter/read", json={"meter_id": "m1"},
                                     params={"return_response": "1"},
                                     headers={"Accept-Language": "zh-CN"})
        assert response.status == 200, await response.text()
        answer = (await response.json())["response"]
        assert answer["failed"] == ["m1"], answer
        assert answer["errors"] == ["表 m1：gw：1 秒内没有应答"], answer
        response = await client.post("/api/services/meter/read", json={"link": "gw"},
                                     params={"return_response": "1"},
                                     headers={"Accept-Language": "zh-CN"})
        assert response.status == 200, await response.text()
        answer = (await response.json())["response"]
        assert (answer["failed"], answer["errors"]) == (["m1"], ["表 m1：gw：1 秒内没有应答"])
        # kept on the meter, read back later by a zh-CN and an en caller
        response = await client.get("/api/meters/m1", headers={"Accept-Language": "zh-CN"})
        assert response.status == 200, await response.text()
        kept = (await response.json())["live"]["last_error"]
        assert kept == "gw：1 秒内没有应答", kept
        assert_chinese(kept, {"gw"})
        response = await client.get("/api/meters/m1/live", headers={"Accept-Language": "en"})
        assert response.status == 200, await response.text()
        assert (await response.json())["last_error"] == "gw: no reply within 1s"
        # the meter's state, one and listed
        response = await client.get("/api/states/meter.m1", headers={"Accept-Language": "zh-CN"})
        assert (await response.json())["attributes"]["last_error"] == kept
        response = await client.get("/api/states", params={"domain": "meter"},
                                    headers={"Accept-Language": "zh-CN"})
        assert [item["attributes"]["last_error"] for item in (await response.json())["items"]
                ] == [kept]
        # the CLI, in the site's language
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub", "read", "m1", "-c", str(tmp_path / "hub.yaml"),
            "--port", str(http), "--data", str(tmp_path / "data"),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path)
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 1, (out, err)
        printed = json.loads(out)
        assert printed["errors"] == ["表 m1：gw：1 秒内没有应答"], printed


@pytest.mark.timeout(300)
@bounded(240)
async def test_bytes_that_are_no_frame_give_the_framing_hint_in_chinese(tmp_path: Path) -> None:
    async with silent_server(b"\x00\x01\x02") as port, \
            start_hub(tmp_path, SITE.format(http=free_port(), port=port)) as hub, \
            web_client(hub, tmp_path) as client:
        response = await client.post("/api/services/meter/read", json={"meter_id": "m1"},
                                     params={"return_response": "1"},
                                     headers={"Accept-Language": "zh-CN"})
        assert response.status == 200, await response.text()
        response = await client.get("/api/meters/m1/live", headers={"Accept-Language": "zh-CN"})
        kept = (await response.json())["last_error"]
        assert kept.startswith("gw：1 秒内没有应答；收到 3 字节，但没有一帧是 rtu 帧"), kept
        assert_chinese(kept, {"gw", "rtu", "mbap", "framing"})
        response = await client.get("/api/meters/m1/live", headers={"Accept-Language": "en"})
        kept = (await response.json())["last_error"]
        assert kept.startswith("gw: no reply within 1s; 3 bytes came back but not one rtu "
                               "frame"), kept
        assert not CHINESE.search(kept), kept


@pytest.mark.timeout(300)
@bounded(240)
async def test_why_a_read_failed_is_worded_after_a_restart(tmp_path: Path) -> None:
    """The meter's state is kept across a restart with its ``last_error`` keyed: before the
    next read, the restored state is worded for each caller (not English for everyone)."""
    async with silent_server() as port:
        text = SITE.format(http=free_port(), port=port)
        async with start_hub(tmp_path, text) as hub:
            await hub.services.call("meter", "read", {"meter_id": "m1"}, blocking=True,
                                    return_response=True)
            assert hub.states.get("meter.m1").attributes["last_error"] == \
                "gw: no reply within 1s"
        async with start_hub(tmp_path, text) as hub, \
                web_client(hub, tmp_path) as client:
            for language, said in (("zh-CN", "gw：1 秒内没有应答"),
                                   ("en", "gw: no reply within 1s")):
                response = await client.get("/api/states/meter.m1",
                                            headers={"Accept-Language": language})
                assert response.status == 200, await response.text()
                assert (await response.json())["attributes"]["last_error"] == said
