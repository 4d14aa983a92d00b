"""The alarms page: recent alarms active or cleared, acknowledged once with who and when
(kept in storage), within the caller's scope."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from access_support import SITE, access_site
from common import bounded, settle
from pages_support import browser, csrf_of, page, post_form, text_of

from hub.core import Context
from hub.storage import Storage


@pytest.mark.timeout(150)
@bounded(120)
async def test_alarms_listed_and_acknowledged_with_who_and_when(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        hub = site.hub
        for meter_id, kind in (("a1", "over_voltage"), ("b1", "battery_low")):
            hub.bus.fire("alarm", {"meter_id": meter_id, "kind": kind, "phase": None,
                                   "value": Decimal("265.1"), "threshold": Decimal("264"),
                                   "message": f"{kind} on {meter_id}"},
                         context=Context(origin="test"))
        await settle(hub)
        hub.bus.fire("alarm_cleared", {"meter_id": "b1", "kind": "battery_low", "phase": None,
                                       "value": Decimal("3.6"), "threshold": Decimal("3.3")},
                     context=Context(origin="test"))
        await settle(hub)
        async with browser(site, "operator") as operator:  # building A only
            status, html = await page(operator, site.base + "/alarms?lang=en")
            assert status == 200
            rows = text_of(html[html.index('id="alarms"'):])
            assert "over_voltage on a1" in rows and "b1" not in rows
            key = html.split('name="alarm_key" value="')[1].split('"')[0]
            status, _html, _ = await post_form(operator, site.base + "/alarms/ack",
                                               {"csrf": csrf_of(html), "alarm_key": key})
            assert status == 303
            status, html = await page(operator, site.base + "/alarms?lang=en")
            acked = text_of(html[html.index('class="ack">') + 12:])
            assert acked.startswith("operator") and 'name="alarm_key"' not in html
            status, _html, _ = await post_form(operator, site.base + "/alarms/ack",
                                               {"csrf": csrf_of(html), "alarm_key": key})
            assert status == 303  # again: kept as it was
        storage = hub.component("storage", Storage)
        acks = await storage.alarm_acks([key])
        assert [(a.meter_id, a.kind, a.acked_by) for a in acks.values()] == [
            ("a1", "over_voltage", "operator")]
        assert key.split("-", 1)[1] == "a1-over_voltage"  # the API's alarm id: one record
        async with browser(site, "admin") as admin:
            status, html = await page(admin, site.base + "/alarms?lang=en")
            rows = text_of(html[html.index('id="alarms"'):])
            assert rows.index("over_voltage") < rows.index("battery_low")  # active first
            assert "cleared" in rows
            status, _html, _ = await post_form(admin, site.base + "/alarms/ack", {
                "csrf": csrf_of(html), "alarm_key": "1-b1-nope"})
            assert status == 303 and len(await storage.alarm_acks(["1-b1-nope"])) == 0
        async with browser(site, "viewer") as viewer:
            status, html = await page(viewer, site.base + "/alarms")
            assert status == 200 and 'name="alarm_key"' not in html
