"""WeChat inside WeChat: the portal opened in WeChat's browser goes through the Official
Account's OAuth (snsapi_base) on a local server that follows WeChat's API, and the openid
lands in the account's contacts — state checked against the browser (CSRF)."""

from __future__ import annotations

from pathlib import Path

import pytest
from common import bounded
from portal_support import (
    APP_ID,
    APP_SECRET,
    WECHAT_UA,
    portal_site,
    query_of,
    wechat_block,
    wechat_oauth,
)

from hub.ledger import AccountBook

UA = {"User-Agent": WECHAT_UA}


def openid_of(site_hub: object, account_id: str) -> object:
    book = site_hub.component("accounts", AccountBook)  # type: ignore[attr-defined]
    return book.accounts[account_id].contacts.get("wechat")


@pytest.mark.timeout(120)
@bounded(90)
async def test_the_oauth_redirect_binds_the_openid_to_the_links_account(
        tmp_path: Path) -> None:
    async with wechat_oauth() as oauth, portal_site(tmp_path, wechat_block(oauth)) as site:
        token = (await site.issue("acc_a"))["token"]
        # a browser that is not WeChat's sees the page at once
        assert (await site.get(f"/tenant/{token}"))[0] == 200
        status, _page, headers = await site.get(f"/tenant/{token}", headers=UA)
        assert status == 302
        location = headers["Location"]
        assert location.startswith(f"{oauth.url}/connect/oauth2/authorize?appid={APP_ID}&")
        assert location.endswith("#wechat_redirect")
        query = query_of(location)
        assert query["redirect_uri"] == f"{site.base}/tenant/{token}/wechat"
        assert query["scope"] == "snsapi_base" and len(query["state"]) >= 16
        assert APP_SECRET not in location
        # the whole round trip, as WeChat's browser follows it
        status, page, _ = await site.get(f"/tenant/{token}", headers=UA, allow_redirects=True)
        assert status == 200 and "已绑定微信" in page
        assert openid_of(site.hub, "acc_a") == oauth.openid
        assert openid_of(site.hub, "acc_b") is None
        assert oauth.exchanges[-1] == {"appid": APP_ID, "secret": APP_SECRET,
                                       "code": "CODE0001", "grant_type": "authorization_code"}
        # bound: no more redirects
        assert (await site.get(f"/tenant/{token}", headers=UA))[0] == 200


@pytest.mark.timeout(120)
@bounded(90)
async def test_a_callback_with_another_state_binds_nothing(tmp_path: Path) -> None:
    async with wechat_oauth() as oauth, portal_site(tmp_path, wechat_block(oauth)) as site:
        token = (await site.issue("acc_a"))["token"]
        _status, _page, headers = await site.get(f"/tenant/{token}", headers=UA)
        state = query_of(headers["Location"])["state"]
        oauth.codes["STOLEN"] = "oAttacker0001"
        # a forged callback (an attacker's code pushed into the tenant's browser)
        for forged in ("not-the-state", ""):
            status, page, _ = await site.get(
                f"/tenant/{token}/wechat?code=STOLEN&state={forged}", headers=UA)
            assert status == 403 and 'data-reason="state"' in page
        # the right state but from a browser without the cookie
        site.session.cookie_jar.clear()
        status, _page, _ = await site.get(f"/tenant/{token}/wechat?code=STOLEN&state={state}",
                                          headers=UA)
        assert status == 403
        assert openid_of(site.hub, "acc_a") is None and oauth.exchanges == []


@pytest.mark.timeout(120)
@bounded(90)
async def test_a_refused_code_leaves_the_page_usable(tmp_path: Path) -> None:
    async with wechat_oauth(refuse=True) as oauth, \
            portal_site(tmp_path, wechat_block(oauth)) as site:
        token = (await site.issue("acc_a"))["token"]
        status, page, _ = await site.get(f"/tenant/{token}", headers=UA, allow_redirects=True)
        assert status == 200 and "微信绑定未成功" in page and 'id="balance"' in page
        assert openid_of(site.hub, "acc_a") is None
        assert len(oauth.exchanges) == 1  # and no redirect loop: wx=skip
