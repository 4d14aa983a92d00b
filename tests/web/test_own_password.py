"""Passwords from the dashboard: a user changes their own (knowing the current one), an
admin sets a new one for a user who forgot theirs; sessions end as they should."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_support import PASSWORD, access_site, login
from common import bounded
from pages_support import browser, csrf_of, page, post_form, text_of

from hub.storage import Storage

NEW = "river-stone-42"


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_user_changes_their_own_password(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        async with browser(site, "landlord_a") as laptop, \
                browser(site, "landlord_a") as phone:
            status, html = await page(laptop, site.base + "/me")
            assert status == 200 and "房东" in text_of(html) and "楼栋 A" in text_of(html)
            assert '<a href="/me">landlord_a</a>' in html  # the header leads here
            form = {"csrf": csrf_of(html), "current": "wrong-one-1", "new": NEW, "again": NEW}
            status, html, _ = await post_form(laptop, site.base + "/me/password", form)
            assert status == 400 and "当前密码不正确" in text_of(html)
            form.update(current=PASSWORD, again=NEW + "x")
            status, html, _ = await post_form(laptop, site.base + "/me/password", form)
            assert status == 400 and "两次输入的密码不一致" in text_of(html)
            form.update(again=NEW)
            status, _html, location = await post_form(laptop, site.base + "/me/password",
                                                      form)
            assert (status, location) == (303, "/me")
            # this browser stays logged in (a new session); the phone's session has ended
            status, html = await page(laptop, site.base + "/me")
            assert status == 200 and "您在其他浏览器和设备上的登录已退出" in text_of(html)
            async with phone.get(site.base + "/meters", allow_redirects=False) as response:
                assert response.status in (302, 303) \
                    and response.headers["Location"].startswith("/login"), response.status
        status, _body = await login(site.session, site.base, "landlord_a")
        assert status == 401  # the old password no longer opens
        status, _body = await login(site.session, site.base, "landlord_a", NEW)
        assert status == 200
        # the wrong current password counted as a failed login (limits and audit)
        storage = site.hub.component("storage", Storage)
        failed = await storage.auth_read(lambda store: store.conn.execute(
            "SELECT COUNT(*) FROM auth_log WHERE action = 'login_failed' "
            "AND target = 'landlord_a'").fetchone()[0])
        assert failed == 2  # the wrong current password and the old one after the change


@pytest.mark.timeout(150)
@bounded(120)
async def test_an_admin_sets_a_new_password_for_a_user(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        async with browser(site, "finance") as finance, browser(site, "admin") as admin:
            status, html = await page(admin, site.base + "/users")
            assert 'action="/users/finance/password"' in html
            status, html, _ = await post_form(admin, site.base + "/users/finance/password",
                                              {"csrf": csrf_of(html), "password": "123"})
            assert status == 303  # refused, with the reason on the next page
            status, html = await page(admin, site.base + "/users")
            assert "密码至少" in text_of(html)
            status, html, _ = await post_form(admin, site.base + "/users/finance/password",
                                              {"csrf": csrf_of(html), "password": NEW})
            assert status == 303
            status, html = await page(admin, site.base + "/users")
            assert "已为 finance 设置新密码" in text_of(html)
            async with finance.get(site.base + "/reports", allow_redirects=False) as response:
                assert response.status in (302, 303)  # their session has ended
        assert (await login(site.session, site.base, "finance", NEW))[0] == 200
        # a non-admin may not set anyone's password
        async with browser(site, "landlord_a") as landlord:
            _status, html = await page(landlord, site.base + "/me")
            status, _html, _ = await post_form(landlord, site.base + "/users/finance/password",
                                               {"csrf": csrf_of(html), "password": "x" * 12})
            assert status == 403
