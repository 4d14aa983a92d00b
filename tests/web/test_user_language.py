"""A user's language follows them: chosen once with the switch, it is theirs on every
device (a new browser, an API token), until this browser or a request asks for another."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_support import access_site
from common import bounded
from pages_support import browser, page

from hub.storage import Storage


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_language_chosen_is_the_users_own_on_every_device(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        async with browser(site, "landlord_a") as phone:
            status, html = await page(phone, site.base + "/meters")
            assert status == 200 and '<html lang="zh-CN">' in html
            async with phone.get(site.base + "/lang/en?next=/meters",
                                 allow_redirects=False) as switched:
                assert switched.status == 303
        async with browser(site, "landlord_a") as laptop:  # no cookie: the user's own
            status, html = await page(laptop, site.base + "/meters")
            assert status == 200 and '<html lang="en">' in html, html[:200]
            status, html = await page(laptop, site.base + "/meters?lang=zh-CN")
            assert '<html lang="zh-CN">' in html  # a request may still ask for another
        async with browser(site, "landlord_b") as other:  # another user: the site's
            status, html = await page(other, site.base + "/meters")
            assert '<html lang="zh-CN">' in html
        # the API with the user's token and no Accept-Language answers in it too
        status, body, _ = await site.call("GET", "/api/meters/b1",
                                          headers=site.bearer("landlord_a"))
        assert status == 404 and body["error"]["message"] == "not found", body
        status, body, _ = await site.call("GET", "/api/meters/b1",
                                          headers=site.bearer("landlord_b"))
        assert status == 200, body
        status, body, _ = await site.call("GET", "/api/meters/a1",
                                          headers=site.bearer("landlord_b"))
        assert body["error"]["message"] == "未找到。", body
        # kept in the database (a restart keeps it) and in the access log
        storage = site.hub.component("storage", Storage)
        user = await storage.auth_read(lambda store: store.user("landlord_a"))
        assert user is not None and user.language == "en"
        log = await storage.auth_read(lambda store: store.conn.execute(
            "SELECT action, user_id, target FROM auth_log WHERE action = 'user_language'"
        ).fetchall())
        assert log == [("user_language", "landlord_a", "landlord_a")]
