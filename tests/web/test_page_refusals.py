"""A dashboard page's refusal that is not shown as the error page — a form's action, an htmx
fragment, the login form left open too long — says why in the reader's language, not in the
English a handler wrote for the log."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from access_support import PASSWORD, SITE, access_site
from common import bounded
from pages_support import browser, csrf_of, page, text_of

ZH_SITE = SITE.replace("site: {name: Access, time_zone: Asia/Shanghai}",
                       "site: {name: Access, time_zone: Asia/Shanghai, language: zh-CN}")


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_refused_action_or_fragment_is_worded_for_the_reader(tmp_path: Path) -> None:
    async with access_site(tmp_path, ZH_SITE) as site, browser(site, "admin") as admin:
        _status, html = await page(admin, site.base + "/accounts/acc_a")
        csrf = csrf_of(html)
        # a form posted to an account that is not there (removed meanwhile)
        async with admin.post(site.base + "/accounts/nope/recharge",
                              data={"csrf": csrf, "amount": "10"},
                              allow_redirects=False) as response:
            assert response.status == 404, await response.text()
            assert await response.text() == "未知的账户 'nope'"
        # an htmx fragment of a meter that is not there, in the page's other language
        status, text = await page(admin, site.base + "/meters/nope/live?lang=en",
                                  headers={"HX-Request": "true"})
        assert (status, text) == (404, "unknown meter 'nope'")
        # a page's GET still answers the error page, in the layout
        status, html = await page(admin, site.base + "/meters/nope",
                                  headers={"Accept": "text/html"})
        assert status == 404 and "<nav" in html and "nope" not in text_of(html)
        # an unknown report, asked by a script (not a browser's page)
        status, text = await page(admin, site.base + "/reports?report=nope")
        assert status == 404 and text.startswith("未知的报表 'nope'（现有报表："), text


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_login_form_left_open_too_long_is_shown_again_with_why(
        tmp_path: Path) -> None:
    async with access_site(tmp_path, ZH_SITE) as site, aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            headers={"Origin": site.base}) as session:
        async with session.get(site.base + "/login") as response:
            assert response.status == 200
        # the browser lost the form's cookie (restarted): the token no longer matches
        session.cookie_jar.clear()
        async with session.post(site.base + "/login", data={
                "csrf": "from-the-old-page", "user": "admin", "password": PASSWORD},
                allow_redirects=False) as response:
            assert response.status == 403
            html = await response.text()
        assert "登录页面已过期：请重新输入用户名和密码" in text_of(html), text_of(html)
        assert 'name="password"' in html and "mh_login" in response.cookies
        # the form shown again works
        async with session.post(site.base + "/login", data={
                "csrf": csrf_of(html), "user": "admin", "password": PASSWORD},
                allow_redirects=False) as response:
            assert response.status == 303, await response.text()
            assert "CSRF" not in await response.text()
