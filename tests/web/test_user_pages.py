"""Users and tokens, and the audit log: add a user (a weak password refused), disable one
(confirmed), revoke a token (confirmed, then it stops working); the audit shows who did it."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_support import PASSWORD, SITE, access_site
from common import bounded
from pages_support import browser, csrf_of, page, post_form, text_of

from hub.auth import Auth


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
