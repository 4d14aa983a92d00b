"""The server-sent event stream: the caller's scope, keep-alives, Last-Event-ID, hub stop."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from access_support import REQUEST_TIMEOUT, Site, access_site
from common import bounded, wait_for

from hub.web.api.events import FEED_KEY
from hub.web.server import WebServer


class Stream:
    """An open /api/events connection, its lines read in the background."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.lines: list[str] = []
        self.ended = False
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.response.content:
            self.lines.append(raw.decode().rstrip("\n"))
        self.ended = True

    def events(self) -> list[dict[str, Any]]:
        """The events received so far (id, event, data)."""
        found, current = [], {}
        for line in self.lines:
            if not line:
                if "event" in current:
                    found.append(current)
                current = {}
            elif line.startswith(("id: ", "event: ", "data: ")):
                key, _, value = line.partition(": ")
                current[key] = json.loads(value) if key == "data" else value
        return found


async def open_stream(site: Site, user: str, query: str = "",
                      headers: dict[str, str] | None = None) -> Stream:
    """Open the stream as ``user``."""
    response = await site.session.get(f"{site.base}/api/events{query}", headers={
        **site.bearer(user), **(headers or {})}, timeout=aiohttp.ClientTimeout(total=90))
    assert response.status == 200 and response.content_type == "text/event-stream"
    stream = Stream(response)
    await wait_for(lambda: any(line.startswith(": scope") for line in stream.lines))
    return stream


async def recharge(site: Site, account: str, reference: str) -> None:
    status, body, _ = await site.call("POST", f"/api/accounts/{account}/recharge", json={
        "amount": "1.00", "method": "cash", "reference": reference},
        headers=site.bearer("admin"))
    assert status == 200, body


def accounts_in(stream: Stream) -> set[str]:
    return {str(event["data"]["data"].get("account_id")) for event in stream.events()
            if event["event"] == "payment_received"}


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_landlord_sees_only_its_buildings_events(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        streams = {user: await open_stream(site, user)
                   for user in ("admin", "landlord_a", "landlord_b")}
        await recharge(site, "acc_a", "ra")
        await recharge(site, "acc_b", "rb")
        await wait_for(lambda: accounts_in(streams["admin"]) == {"acc_a", "acc_b"})
        await wait_for(lambda: accounts_in(streams["landlord_a"]) == {"acc_a"})
        await wait_for(lambda: accounts_in(streams["landlord_b"]) == {"acc_b"})
        await asyncio.sleep(0.3)  # nothing else arrives late
        assert accounts_in(streams["landlord_a"]) == {"acc_a"}
        text_a = "\n".join(streams["landlord_a"].lines)
        assert "acc_b" not in text_a, [ln for ln in streams["landlord_a"].lines if "acc_b" in ln]
        assert all(e["event"] not in ("call_service", "service_registered")
                   for e in streams["landlord_a"].events())
        for stream in streams.values():
            stream.response.close()
            stream.task.cancel()
        # bad input: an unknown query key, a negative close_after
        for query in ("?colour=red", "?close_after=-1"):
            status, body, _ = await site.call("GET", f"/api/events{query}",
                                              headers=site.bearer("admin"))
            assert status == 400 and body["error"]["code"] == "invalid", body


@pytest.mark.timeout(150)
@bounded(120)
async def test_keepalives_resume_after_last_event_id_and_a_clean_close_on_stop(
        tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        app = site.hub.component("web", WebServer).runner.app  # type: ignore[union-attr]
        app[FEED_KEY].keepalive = 0.1
        first = await open_stream(site, "landlord_a", "?types=payment_received")
        await wait_for(lambda: ": keep-alive" in first.lines)
        await recharge(site, "acc_a", "r1")
        await wait_for(lambda: len(first.events()) == 1)
        seen = first.events()[0]["id"]
        first.response.close()
        first.task.cancel()
        await recharge(site, "acc_a", "r2")  # missed while away
        await recharge(site, "acc_b", "r3")  # not the landlord's
        again = await open_stream(site, "landlord_a", "?types=payment_received",
                                  {"Last-Event-ID": seen})
        await wait_for(lambda: len(again.events()) == 1)
        assert again.events()[0]["data"]["data"]["account_id"] == "acc_a"
        assert int(again.events()[0]["id"]) > int(seen)
        # an id the hub never gave (another process's) is no error: it starts from now
        strange = await open_stream(site, "admin", "?types=payment_received",
                                    {"Last-Event-ID": "99999999"})
        assert strange.events() == []
        strange.response.close()
        strange.task.cancel()
        stopping = asyncio.create_task(site.hub.stop())
        await wait_for(lambda: again.ended, timeout=30)
        assert "event: close" in again.lines
        await stopping  # (access_site's own stop is then a no-op)


@pytest.mark.timeout(60)
@bounded(45)
async def test_the_stream_needs_a_user(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site, aiohttp.ClientSession(
            timeout=REQUEST_TIMEOUT) as anonymous, \
            anonymous.get(f"{site.base}/api/events") as response:
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "unauthorized"
