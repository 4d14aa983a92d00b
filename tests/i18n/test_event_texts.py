"""The hub's messages inside live events (a read that failed on a real link: its error) are
worded for each caller of ``/api/events`` — zh-CN or en — while the event's data on the bus,
which automations read, keeps the English text."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from common import bounded, collect, free_port, start_hub, web_client
from test_metering_messages import SITE


def events_of(body: str) -> list[dict[str, Any]]:
    """The ``data:`` of each server-sent event in a stream's text."""
    return [json.loads(line.removeprefix("data: ")) for line in body.splitlines()
            if line.startswith("data: {") and line != "data: {}"]


@pytest.mark.timeout(200)
@bounded(150)
async def test_a_live_events_messages_are_worded_for_the_caller(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"  # nothing listens there: the link cannot open
    async with start_hub(tmp_path, SITE.format(port=address.rsplit(":")[1])) as hub, \
            web_client(hub, tmp_path) as client:  # its feed keeps the events from now on
        fired = collect(hub, "read_failed")
        async with asyncio.timeout(60):
            answer = await hub.services.call("meter", "read", {"meter_id": "m1"},
                                             return_response=True)
        assert answer["failed"] == ["m1"]
        assert fired and "is not open" in fired[0].data["error"]  # English on the bus
        errors = await stream_errors(client)
        assert errors["zh-CN"].startswith(f"gw：{address} 未打开："), errors
        assert "is not open" not in errors["zh-CN"], errors
        assert f"{address} is not open" in errors["en"], errors


async def stream_errors(client: Any) -> dict[str, str]:
    """The kept ``read_failed`` event's error as the stream sends it to each language."""
    errors = {}
    for language in ("zh-CN", "en"):  # what the stream kept, then the stream ends
        response = await client.get(
            "/api/events", params={"types": "read_failed", "close_after": "0"},
            headers={"Last-Event-ID": "0", "Accept-Language": language})
        assert response.status == 200
        found = events_of(await response.text())
        assert [event["event_type"] for event in found] == ["read_failed"], found
        errors[language] = found[0]["data"]["error"]
    return errors
