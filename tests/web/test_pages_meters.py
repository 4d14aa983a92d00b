"""The meters pages and the history API: filters, search and scope; a meter's page escaped;
trip and close asked again on the server, queued as the caller, refused with a message;
consumption per hour, day, month and year from the rollups, and bad queries named."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from access_support import access_site
from common import TZ, bounded, settle, wait_for
from pages_support import browser, hidden_fields, page, post_form, section, text_of

from hub.core import Context
from hub.metering.reading import Reading
from hub.prepaid import Control
from hub.storage import Storage

SITE = """
site: {name: Meters, time_zone: Asia/Shanghai}
http: {host: 127.0.0.1, port: 0}
metering: {read_on_start: false}
storage: {commit_interval: 0.02}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: a1, name: "<script>alert(1)</script>", model: ddsy, link: sim1, address: "202400000001",
     account: acc_a, tariff: flat, tags: {building: A, floor: "1", room: "101"}}
  - {id: a2, name: A二楼, model: ddsy, link: sim1, address: "202400000003", account: acc_a2,
     tariff: flat, tags: {building: A, floor: "2", room: "201"}}
  - {id: b1, name: B一楼, model: ddsy, link: sim1, address: "202400000002", account: acc_b,
     tariff: flat, tags: {building: B, floor: "1", line: L7}}
accounts:
  - {id: acc_a, name: 甲, opening_balance: 100}
  - {id: acc_a2, name: 丙, opening_balance: 100}
  - {id: acc_b, name: 乙, opening_balance: 100}
tariffs:
  - {id: flat, type: flat, price: 1.00}
"""


def _listed(html: str) -> list[str]:
    return [part.split('"')[0] for part in html.split('data-meter="')[1:]]


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_meter_list_filters_by_tags_and_search_within_the_scope(
        tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        async with browser(site, "admin") as admin:
            _status, html = await page(admin, site.base + "/meters")
            assert _listed(html) == ["a1", "a2", "b1"]
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
            _status, html = await page(admin, site.base + "/meters?building=A")
            assert _listed(html) == ["a1", "a2"]
            _status, html = await page(admin, site.base + "/meters?building=A&floor=2")
            assert _listed(html) == ["a2"]
            _status, html = await page(admin, site.base + "/meters?line=L7")
            assert _listed(html) == ["b1"]
            _status, html = await page(admin, site.base + "/meters?q=%E4%BA%8C%E6%A5%BC")  # 二楼
            assert _listed(html) == ["a2"]
            _status, html = await page(admin, site.base + "/meters?q=acc_b")  # by account
            assert _listed(html) == ["b1"]
            # the filter offers the values there are
            assert '<option value="L7"' in html and '<option value="B"' in html
        async with browser(site, "landlord_b") as landlord_b:
            _status, html = await page(landlord_b, site.base + "/meters")
            assert _listed(html) == ["b1"]
            assert '<option value="A"' not in html  # not even the name of building A
            status, _html = await page(landlord_b, site.base + "/meters/a1")
            assert status == 404


@pytest.mark.timeout(150)
@bounded(120)
async def test_trip_is_asked_again_then_queued_as_the_caller_and_a_refusal_is_shown(
        tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        storage = site.hub.component("storage", Storage)
        async with browser(site, "operator") as operator:
            _status, html = await page(operator, site.base + "/meters/a1")
            assert 'data-action="trip"' in html and 'data-action="close"' in html
            form = hidden_fields(html, "/meters/a1/trip")
            assert form["csrf"]  # the session's token, not an empty field
            # without the browser's confirmation, the server asks (every field carried over)
            status, asked, _where = await post_form(operator, site.base + "/meters/a1/trip",
                                                    {**form, "reason": "测试"})
            assert status == 200 and 'name="confirmed" value="1"' in asked
            again = hidden_fields(asked, "/meters/a1/trip")
            assert again["csrf"] == form["csrf"] and again["reason"] == "测试"
            assert await storage.commands(meter_id="a1") == []  # nothing queued yet
            status, _html, where = await post_form(operator, site.base + "/meters/a1/trip",
                                                   {**again, "confirmed": "1"})
            assert status == 303 and where == "/meters/a1"
            commands = await storage.commands(meter_id="a1")
            assert [(c.command, c.context_user_id) for c in commands] == [("trip", "operator")]

        # a keep-on hold (保电) refuses a trip: the page says why, with a 4xx, nothing queued
        await site.hub.services.call("account", "hold", {
            "account_id": "acc_a2", "kind": "keep_on", "reason": "病人", "until": "2099-01-01"})
        async with browser(site, "admin") as admin:
            _status, html = await page(admin, site.base + "/meters/a2")
            form = hidden_fields(html, "/meters/a2/trip")
            status, html, _where = await post_form(admin, site.base + "/meters/a2/trip",
                                                   {**form, "confirmed": "1"})
            assert status == 400
            assert "acc_a2" in text_of(html[html.index('class="flash error"'):][:600])
            assert await storage.commands(meter_id="a2") == []
        async with browser(site, "viewer") as viewer:
            _status, html = await page(viewer, site.base + "/meters/a1")
            assert 'data-action="trip"' not in html  # no button a viewer could not use
            status, _html, _where = await post_form(viewer, site.base + "/meters/a1/trip",
                                                    {**form, "confirmed": "1"})
            assert status == 403


async def _history(site: Any, path: str) -> tuple[int, Any]:
    status, body, _access = await site.call("GET", path, headers=site.bearer("admin"))
    return status, body


@pytest.mark.timeout(150)
@bounded(120)
async def test_history_per_hour_day_month_and_year_from_the_rollups(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        storage = site.hub.component("storage", Storage)
        # register totals at local midnights: 2025-12-30 → 31 → 2026-01-01 → 02, then
        # 2026-02-01 (4 spread over January) → 02
        totals = [("2025-12-30", "100"), ("2025-12-31", "103"), ("2026-01-01", "110.5"),
                  ("2026-01-02", "111"), ("2026-02-01", "115"), ("2026-02-02", "116")]
        for day, total in totals:
            storage.enqueue_reading(Reading(
                "b1", datetime.fromisoformat(day).replace(tzinfo=TZ),
                {"energy_import_total": Decimal(total)}, {}, {}, device="dev-b1",
                link_id="sim1"))
        await storage.flush()
        await settle(site.hub)
        status, body = await _history(
            site, "/api/meters/b1/history?start=2025-12-01&end=2026-01-02&resolution=day")
        assert status == 200, body
        assert body["unit"] == "kWh" and body["register"] == "energy_import_total"
        assert [(p["start"][:10], p["value"]) for p in body["points"]] == [
            ("2025-12-30", "3"), ("2025-12-31", "7.5"), ("2026-01-01", "0.5")]
        assert body["points"][0]["start"] == "2025-12-30T00:00:00+08:00"  # the site's zone
        status, body = await _history(
            site, "/api/meters/b1/history?start=2025-12-01&end=2026-03-01&resolution=month")
        assert [(p["start"][:7], p["value"]) for p in body["points"]] == [
            ("2025-12", "10.5"), ("2026-01", "4.5"), ("2026-02", "1")]
        status, body = await _history(
            site, "/api/meters/b1/history?resolution=year&start=2020-01-01&end=2027-01-01")
        assert [(p["start"][:4], p["value"]) for p in body["points"]] == [
            ("2025", "10.5"), ("2026", "5.5")]
        status, body = await _history(site, "/api/meters/b1/history?resolution=hour&"
                                            "start=2025-12-30T00:00&end=2025-12-30T03:00")
        assert [p["value"] for p in body["points"]] == ["0.125"] * 3  # 3 kWh over 24 h

        # bad queries: a 400 naming the parameter, in the API's error body
        for query, field in (("resolution=week", "resolution"), ("start=yesterday", "start"),
                             ("start=2026-01-02&end=2026-01-01", "start"),
                             ("resolution=hour&start=2020-01-01&end=2026-01-01", "start"),
                             ("end=2026-13-01", "end")):
            status, body = await _history(site, f"/api/meters/b1/history?{query}")
            assert status == 400 and body["error"]["field"] == field, (query, body)
            assert body["error"]["code"] == "invalid" and body["error"]["message"]
        status, body = await _history(site, "/api/meters/nope/history")
        assert status == 404 and body["error"]["field"] == "meter_id"
        status, _body, access = await site.call("GET", "/api/meters/a1/history",
                                                headers=site.bearer("landlord_b"))
        assert status == 404 and access == "hidden"  # another landlord's meter: not found


@pytest.mark.timeout(150)
@bounded(120)
async def test_long_lists_come_in_pages_that_keep_the_filters(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hub.dashboard.meters.PAGE_SIZE", 2)
    async with access_site(tmp_path, SITE) as site, browser(site, "admin") as admin:
        _status, html = await page(admin, site.base + "/meters?q=2024")
        assert _listed(html) == ["a1", "a2"] and "1 / 2" in html
        assert 'href="/meters?q=2024&amp;page=2"' in html
        _status, html = await page(admin, site.base + "/meters?q=2024&page=2")
        assert _listed(html) == ["b1"] and 'href="/meters?q=2024&amp;page=1"' in html
        for bad in ("abc", "-3", "99"):
            status, html = await page(admin, site.base + f"/meters?page={bad}")
            assert status == 200 and _listed(html) == (["b1"] if bad == "99" else ["a1", "a2"])


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_meter_page_shows_the_command_read_back_why_and_events(tmp_path: Path) -> None:
    site_text = SITE.replace("storage: {commit_interval: 0.02}",
                             "storage: {commit_interval: 0.02}\ncontrol: {confirm_delay: 1s}")
    async with access_site(tmp_path, site_text) as site:
        control = site.hub.component("control", Control)
        await site.hub.services.call("meter", "trip", {"meter_id": "b1", "reason": "<i>欠费</i>"},
                                     context=Context(user_id="finance"))
        await wait_for(lambda: control.commands.outstanding("b1") is None, timeout=60)
        await settle(site.hub)
        async with browser(site, "admin") as admin:
            _status, html = await page(admin, site.base + "/meters/b1")
        commands = text_of(section(html, "commands"))
        assert "拉闸" in commands and "已确认" in commands and "继电器: 断电（跳闸）" in commands
        assert "<i>欠费</i>" in commands  # the reason, as text
        assert "<i>欠费</i>" not in html.replace("&lt;i&gt;欠费&lt;/i&gt;", "")
        why = text_of(section(html, "why"))
        assert "meter.trip" in why and "finance" in why
        events = text_of(section(html, "events"))
        assert events.index("命令已确认") < events.index("命令排队")  # newest first
        assert 'data-state="open"' in html


@pytest.mark.timeout(150)
@bounded(120)
async def test_pages_say_what_the_hub_wrote_in_the_callers_words(tmp_path: Path) -> None:
    """The hub's own reasons, origins, authors, read-backs, event names, roles and tags are
    shown translated (a zh-CN page showed "in arrears", "reconcile", "relay=open",
    "command_confirmed", "opening balance ... from the configuration", "ledger · adjustment",
    "admin", "building: A"); a person's own text stays as typed."""
    site_text = SITE.replace("storage: {commit_interval: 0.02}",
                             "storage: {commit_interval: 0.02}\ncontrol: {confirm_delay: 1s}")
    site_text = site_text.replace("{id: acc_b, name: 乙, opening_balance: 100}",
                                  "{id: acc_b, name: 乙, opening_balance: -5}")
    async with access_site(tmp_path, site_text) as site:
        control = site.hub.component("control", Control)
        await wait_for(lambda: control.commands.known_state("b1", "relay") == "open"
                       and control.commands.outstanding("b1") is None, timeout=60)
        await settle(site.hub)
        async with browser(site, "admin") as admin:
            _status, meter = await page(admin, site.base + "/meters/b1?lang=zh-CN")
            _status, account = await page(admin, site.base + "/accounts/acc_b")
            _status, audit = await page(admin, site.base + "/audit")
            _status, users = await page(admin, site.base + "/users")
            _status, english = await page(admin, site.base + "/meters/b1?lang=en")
        commands = text_of(section(meter, "commands"))
        assert "欠费" in commands, commands  # the reason
        # the origin: the opening balance ran out, or the check at start found it owing
        assert "余额耗尽" in commands or "启动时核对" in commands, commands
        assert "继电器: 断电（跳闸）" in commands, commands  # the read-back
        events = text_of(section(meter, "events"))
        assert "命令已确认" in events and "原因: 欠费" in events, events
        assert "楼栋: B" in text_of(meter)
        ledger = text_of(section(account, "ledger"))
        assert "配置中的期初余额" in ledger and "配置文件" in ledger, ledger
        rows = text_of(section(audit, "audit"))
        assert "账本 · 调账" in rows and "配置文件" in rows, rows
        assert '<small class="role">管理员</small>' in users and "管理员" in text_of(users)
        for html in (meter, account, audit, users):
            shown = text_of(html)
            for code in ("in arrears", "reconcile", "balance_exhausted", "relay=", "command_",
                         "opening balance", "ledger ·", "adjustment", "building:"):
                assert code not in shown, code
        commands = text_of(section(english, "commands"))
        assert "in arrears" in commands, commands
        assert "balance ran out" in commands or "check at start" in commands, commands
