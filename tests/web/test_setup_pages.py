"""The set-up pages: add and change meters and accounts, replace a meter (confirmed), every
change through the services (refusals shown, nothing changed), within the caller's scope."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from access_support import SITE, access_site
from common import bounded
from pages_support import browser, csrf_of, page, post_form, text_of

from hub.billing.buildings import BuildingBook
from hub.ledger import AccountBook, MeterBook
from hub.metering.service import MeteringService
from hub.storage import Storage


@pytest.mark.timeout(150)
@bounded(120)
async def test_meters_added_changed_and_replaced_from_the_pages(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        book = site.hub.component("meter_book", MeterBook)
        async with browser(site, "admin") as admin:
            status, html = await page(admin, site.base + "/manage?lang=en")
            assert status == 200 and 'id="setup-a1"' in html and 'id="setup-b1"' in html
            csrf = csrf_of(html)
            # refused as check-config would: the page says why, nothing is added
            status, html, _ = await post_form(admin, site.base + "/manage/meters/new?lang=en", {
                "csrf": csrf, "id": "c1", "model": "ddsy", "link": "nolink",
                "address": "202400000003"})
            assert status == 400 and "unknown link 'nolink'" in text_of(html)
            assert "c1" not in book.entries
            status, _html, where = await post_form(admin, site.base + "/manage/meters/new", {
                "csrf": csrf, "id": "c1", "model": "ddsy", "link": "sim1",
                "address": "202400000003", "account": "acc_b", "tariff": "flat",
                "building": "B", "room": "301"})
            assert status == 303 and where == "/manage"
            assert book.entries["c1"]["account"] == "acc_b"
            assert book.entries["c1"]["tags"] == {"building": "B", "room": "301"}
            assert "c1" in site.hub.component("metering", MeteringService).meters
            status, _html, _ = await post_form(admin, site.base + "/manage/meters/c1/edit", {
                "csrf": csrf, "account": "acc_a", "tariff": "flat", "building": "B",
                "room": "302"})
            assert status == 303 and book.entries["c1"]["account"] == "acc_a"
            # a tenant moving in, and a building with its area (refusals say why)
            status, html, _ = await post_form(admin, site.base + "/manage/accounts/new?lang=en",
                                              {"csrf": csrf, "id": "acc_a", "name": "x"})
            assert status == 400 and "already exists" in text_of(html)
            status, _html, _ = await post_form(admin, site.base + "/manage/accounts/new", {
                "csrf": csrf, "id": "acc_c", "name": "丙", "area": "35", "building": "C",
                "room": "101", "move_in": "2026-11-01"})
            assert status == 303
            account = site.hub.component("accounts", AccountBook).accounts["acc_c"]
            assert (account.area, account.tags) == (Decimal(35), {"building": "C",
                                                                  "room": "101"})
            status, _html, _ = await post_form(admin, site.base + "/manage/buildings/new", {
                "csrf": csrf, "id": "C", "name": "C栋", "area": "1200", "persons": "40"})
            assert status == 303
            assert site.hub.component("buildings", BuildingBook).entries[-1]["area"] == 1200
            # a replacement asks first, then is done and says what became of the old device
            form = {"csrf": csrf, "new_address": "202400000099", "final_mode": "typed",
                    "final": "12.5"}
            status, html, _ = await post_form(admin, site.base + "/manage/meters/a1/replace",
                                              form)
            assert status == 200 and 'name="confirmed" value="1"' in html
            assert site.hub.component("metering", MeteringService).meters[
                "a1"].ref.address == "202400000001"
            status, html, _ = await post_form(admin, site.base + "/manage/meters/a1/replace",
                                              {**form, "confirmed": "1"})
            assert status == 200, text_of(html)
            assert 'id="new-device">202400000099<' in html
            assert site.hub.component("metering", MeteringService).meters[
                "a1"].ref.address == "202400000099"
            rows = await site.hub.component("storage", Storage).replacements("a1")
            assert [(r.old_device, r.user_id) for r in rows] == [("202400000001", "admin")]
            status, html, _ = await post_form(admin, site.base + "/manage/meters/a1/replace",
                                              {**form, "confirmed": "1"})
            assert status == 400 and "已是该表当前的设备" in text_of(html)
        async with browser(site, "operator") as operator:  # scoped to building A
            status, html = await page(operator, site.base + "/manage")
            assert status == 200 and 'id="setup-a1"' in html and 'id="setup-b1"' not in html
            status, _html, _ = await post_form(operator, site.base + "/manage/meters/b1/replace",
                                               {"csrf": csrf_of(html), "confirmed": "1",
                                                "new_address": "202400000098"})
            assert status == 404
            status, _html = await page(operator, site.base + "/manage/meters/new")
            assert status == 403
        async with browser(site, "viewer") as viewer:
            status, _html = await page(viewer, site.base + "/manage")
            assert status == 403
