"""Users and tokens, and the audit log: add a user (a weak password refused), disable one
(confirmed), revoke a token (confirmed, then it stops working); the audit shows who did it."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from access_support import PASSWORD, SITE, access_site
from common import bounded
from pages_support import browser, csrf_of, page, post_form, text_of

from hub.auth import Auth
from hub.core import Context


@pytest.mark.timeout(150)
@bounded(120)
async def test_users_tokens_and_the_audit_log(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        auth = site.hub.component("auth", Auth)
        async with browser(site, "admin") as admin:
            status, html = await page(admin, site.base + "/users?lang=en")
            assert status == 200 and 'id="user-viewer"' in html
            csrf = csrf_of(html)
            status, html, _ = await post_form(admin, site.base + "/users?lang=en", {
                "csrf": csrf, "user": "clerk", "role": "operator", "building": "A",
                "password": "123"})
            assert status == 400 and await auth.user("clerk") is None
            assert 'value="123"' not in html  # a refused password is not sent back
            status, _html, _ = await post_form(admin, site.base + "/users", {
                "csrf": csrf, "user": "clerk", "role": "operator", "building": "A",
                "password": PASSWORD})
            assert status == 303
            clerk = await auth.user("clerk")
            assert clerk is not None and (clerk.role, clerk.scope) == ("operator",
                                                                      {"building": "A"})
            status, html, _ = await post_form(admin, site.base + "/users/clerk/disable",
                                              {"csrf": csrf})
            assert status == 200 and 'name="confirmed" value="1"' in html
            assert not (await auth.user("clerk")).disabled  # type: ignore[union-attr]
            await post_form(admin, site.base + "/users/clerk/disable",
                            {"csrf": csrf, "confirmed": "1"})
            assert (await auth.user("clerk")).disabled  # type: ignore[union-attr]
            # the viewer's token: revoked from the page, then refused by the API
            assert (await site.call("GET", "/api/auth/me",
                                    headers=site.bearer("viewer")))[0] == 200
            token_id = next(row.token_id for row in await auth.tokens("viewer"))
            await post_form(admin, site.base + f"/tokens/{token_id}/revoke",
                            {"csrf": csrf, "confirmed": "1"})
            assert (await site.call("GET", "/api/auth/me",
                                    headers=site.bearer("viewer")))[0] == 401
            status, html = await page(admin, site.base + "/audit?user=admin&lang=en")
            rows = text_of(html[html.index('id="audit"'):])
            assert status == 200 and "user added" in rows and "API token revoked" in rows
            assert "user disabled" in rows
        async with browser(site, "finance") as finance:
            assert (await page(finance, site.base + "/audit"))[0] == 200
            assert (await page(finance, site.base + "/users"))[0] == 403


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_audit_of_a_chosen_range_downloads_as_csv_in_the_callers_words(
        tmp_path: Path) -> None:
    """Finance picks the days (the end day included), reads the rows in its words, and
    downloads them as CSV (Excel's UTF-8 with a BOM); an impossible range is refused."""
    async with access_site(tmp_path, SITE) as site:
        await site.hub.services.call("account", "adjust", {
            "account_id": "acc_a", "amount": "-12.50", "reason": "水管维修"},
            context=Context(user_id="finance"))
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
        async with browser(site, "finance") as finance:
            status, html = await page(finance, f"{site.base}/audit?lang=zh-CN&from={today}"
                                               f"&to={today}")
            rows = text_of(html[html.index('id="audit"'):])
            assert status == 200 and "账本 · 调账" in rows and "水管维修" in rows, rows
            assert "-¥12.50" in rows
            # a range before today: nothing of today
            earlier = today - timedelta(days=3)
            _status, html = await page(finance, f"{site.base}/audit?from={earlier}&to={earlier}")
            assert "水管维修" not in html and "audit-row" not in html
            async with finance.get(f"{site.base}/audit", params={
                    "lang": "zh-CN", "from": str(today), "to": str(today),
                    "format": "csv"}) as response:
                assert response.status == 200
                assert response.headers["Content-Type"].startswith("text/csv")
                assert f"audit-{today}-{today}.csv" in response.headers["Content-Disposition"]
                body = await response.read()
            assert body.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with its BOM
            table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
            assert table[0] == ["发生时间", "用户", "类别", "操作", "账户", "表计", "单号", "金额",
                                "详情"]
            adjusted = [row for row in table[1:] if row[3] == "调账" and row[8] == "水管维修"]
            assert len(adjusted) == 1 and adjusted[0][1:3] == ["finance", "账本"], table
            assert adjusted[0][4] == "acc_a" and adjusted[0][7] == "-12.50"
            status, html = await page(finance, f"{site.base}/audit?from={today}&to={earlier}")
            assert status == 400 and "早于" in text_of(html)  # the page's language
            status, html = await page(finance, f"{site.base}/audit?from=2026-13-01")
            assert status == 400 and "from" in text_of(html)
