"""The notifications page and ``GET /api/notifications``: what the outbox sent and what it
could not deliver, with why, worded for the reader, within the reader's scope.

Real deliveries: two tenants' messages to a local receiver that takes them, the landlord's to
one that answers 500 (given up after its one retry); read from the stored outbox rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from access_support import SITE, access_site
from common import bounded, collect, wait_for
from pages_support import browser, page, text_of
from receiver import receiver


def site_text(ok: str, refusing: str) -> str:
    return SITE.replace(
        "site: {name: Access, time_zone: Asia/Shanghai}",
        "site: {name: Access, time_zone: Asia/Shanghai, language: zh-CN}").replace(
        "  - {id: acc_a, name: 甲}",
        f'  - {{id: acc_a, name: 甲, contacts: {{notify: ["{ok}"]}}}}').replace(
        "  - {id: acc_b, name: 乙}",
        f'  - {{id: acc_b, name: 乙, contacts: {{notify: ["{ok}"]}}}}') + (
        "notify:\n"
        f'  landlord: {{urls: "{refusing}", timeout: 5, retries: 1, retry_delay: 0.05,'
        " max_retry_delay: 0.1}\n")


@pytest.mark.timeout(200)
@bounded(150)
async def test_sent_and_failed_messages_are_shown_with_why(tmp_path: Path) -> None:
    async with receiver() as ok, receiver(plan=[500, 500]) as refusing, \
            access_site(tmp_path, site_text(ok.url("tenant"), refusing.url("landlord"))) \
            as site:
        hub = site.hub
        sent, failed = collect(hub, "notify_sent"), collect(hub, "notify_failed")
        await hub.services.call("notify", "tenant", {"account_id": "acc_a",
                                                     "message": "甲：本月电费已出账"})
        await hub.services.call("notify", "tenant", {"account_id": "acc_b",
                                                     "message": "乙：本月电费已出账"})
        await hub.services.call("notify", "landlord", {"message": "全站：今晚停电检修"})
        await wait_for(lambda: len(sent) == 2 and len(failed) == 1, timeout=60)
        assert len(refusing.received) == 2  # refused, tried again, refused: given up

        async with browser(site, "admin") as admin:
            status, html = await page(admin, site.base + "/notifications")
            assert status == 200, html
            shown = text_of(html[html.index('id="notifications"'):])
            assert "甲：本月电费已出账" in shown and "乙：本月电费已出账" in shown, shown
            assert "全站：今晚停电检修" in shown and shown.count("已发送") == 2, shown
            assert "未送达" in shown and "apprise 发送失败：" in shown, shown
            assert "已尝试 2 次" in shown, shown
            assert "1 条未送达" in text_of(html), text_of(html)
            assert 'href="/notifications"' in html  # in the navigation
            # the overview says some were not delivered, and links to them
            status, html = await page(admin, site.base + "/")
            tile = re.search(r'id="tile-undelivered"[^>]*>(.*?)</a>', html, re.S)
            assert tile and text_of(tile[1]) == "未送达的消息 1 最近 7 天：查看原因", html
            assert 'href="/notifications?state=failed&amp;days=7"' in html
            status, html = await page(admin, site.base + "/notifications?state=failed")
            shown = text_of(html[html.index('id="notifications"'):])
            assert "全站：今晚停电检修" in shown and "甲：" not in shown, shown
            status, html = await page(admin, site.base + "/accounts/acc_b")
            assert 'href="/notifications?account_id=acc_b"' in html  # the account's messages
            status, html = await page(admin, site.base + "/notifications?account_id=acc_b")
            shown = text_of(html[html.index('id="notifications"'):])
            assert "乙：本月电费已出账" in shown and "甲：" not in shown, shown
            assert "全站" not in shown, shown
            status, html = await page(admin, site.base + "/notifications?lang=en")
            shown = text_of(html[html.index('id="notifications"'):])
            assert "not delivered" in shown and "apprise: " in shown, shown
            assert "发送失败" not in shown, shown

        # a landlord of building A: its tenant's message only, not B's, not the site's
        async with browser(site, "landlord_a") as landlord:
            status, html = await page(landlord, site.base + "/notifications")
            assert status == 200, html
            shown = text_of(html[html.index('id="notifications"'):])
            assert "甲：本月电费已出账" in shown, shown
            assert "乙：" not in shown and "全站" not in shown, shown
            status, html = await page(landlord, site.base + "/")
            assert 'id="tile-undelivered"' not in html  # the site's failure is not theirs
        async with browser(site, "viewer") as viewer:
            status, _html = await page(viewer, site.base + "/notifications")
            assert status == 403

        # the API: the same rows, the error worded for the caller
        for language, words in (("zh-CN", "apprise 发送失败："), ("en", "apprise: ")):
            status, body, _ = await site.call(
                "GET", "/api/notifications", params={"state": "failed"},
                headers={**site.bearer("admin"), "Accept-Language": language})
            assert status == 200, body
            assert [(item["notifier"], item["state"], item["attempts"])
                    for item in body["items"]] == [("landlord", "failed", 2)], body
            assert body["items"][0]["error"].startswith(words), body
        status, body, _ = await site.call("GET", "/api/notifications",
                                          headers=site.bearer("landlord_b"))
        assert status == 200, body
        assert [(item["account_id"], item["message"]) for item in body["items"]] == [
            ("acc_b", "乙：本月电费已出账")], body
        status, body, _ = await site.call("GET", "/api/notifications",
                                          headers=site.bearer("viewer"))
        assert status == 403, body
