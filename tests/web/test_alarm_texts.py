"""An alarm's message is kept with its key in the event log and worded for whoever reads it
later: the alarms page and /api/alarms in zh-CN and en, from the stored row."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from access_support import access_site
from common import bounded, settle, wait_for
from pages_support import browser, page, text_of

from hub.core import Context
from hub.storage import Storage

# a1's under-voltage level sits above the simulator's ~220 V: its first reading raises one
SITE = """
site: {name: Alarms, time_zone: Asia/Shanghai, language: zh-CN}
http: {host: 127.0.0.1, port: 0}
metering: {read_on_start: false}
storage: {commit_interval: 0.02}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: a1, model: ddsy, link: sim1, address: "202400000001", tags: {building: A},
     alarms: {under_voltage: {below: 250}}}
"""


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_stored_alarm_is_worded_for_its_reader(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        hub = site.hub
        await hub.services.call("meter", "read", {"meter_id": "a1"}, blocking=True)
        storage = hub.component("storage", Storage)

        def raised() -> list[str]:  # the stored rows, read from the database file
            with closing(sqlite3.connect(f"file:{storage.path}?mode=ro", uri=True)) as conn:
                return [row[0] for row in conn.execute(
                    "SELECT e.data FROM event e JOIN event_type t ON t.type_key = e.type_key "
                    "WHERE t.name = 'alarm'")]
        rows = await wait_for(raised, timeout=60, step=0.2)
        assert '"$text"' in rows[0] and json.loads(rows[0])["kind"] == "under_voltage"
        # a row an older version kept as English still shows as it was
        hub.bus.fire("alarm", {"meter_id": "a1", "kind": "over_current", "phase": None,
                               "value": "61", "threshold": "60",
                               "message": "current 61 A (threshold 60 A)"},
                     context=Context(origin="test"))
        await settle(hub)
        async with browser(site, "admin") as admin:
            status, html = await page(admin, site.base + "/alarms")
            rows_text = text_of(html[html.index('id="alarms"'):])
            assert status == 200 and "欠压" in rows_text, rows_text
            assert "电压" in rows_text and "（阈值 250 V）" in rows_text, rows_text
            assert "under_voltage" not in rows_text and "threshold 250" not in rows_text
            assert "过流" in rows_text and "current 61 A (threshold 60 A)" in rows_text
            status, html = await page(admin, site.base + "/alarms?lang=en")
            assert "Under-voltage" in html and "(threshold 250 V)" in html
        for language, words in (("zh-CN", "（阈值 250 V）"), ("en", "(threshold 250 V)")):
            status, body, _ = await site.call("GET", "/api/alarms?meter_id=a1", headers={
                **site.bearer("admin"), "Accept-Language": language})
            assert status == 200, body
            messages = [item["message"] for item in body["items"]]
            assert any(m.endswith(words) for m in messages), messages
            assert not any("$text" in m for m in messages)
