"""WeChat inside WeChat: the portal opened in WeChat's browser goes through the Official
Account's OAuth (snsapi_base) on a local server that follows WeChat's API, and the openid
lands in the account's contacts — state checked against the browser (CSRF)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from common import bounded
from payment_servers import APPID as MERCHANT_APPID
from payment_servers import alipay_server, wechat_server
from portal_support import (
    APP_ID,
    APP_SECRET,
    WECHAT_UA,
    Portal,
    paying_site,
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
        # WeChat keeps the redirect: the token is not in it, the browser keeps it (a cookie)
        assert query["redirect_uri"] == f"{site.base}/tenant/back/wechat"
        assert token not in location
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
                f"/tenant/back/wechat?code=STOLEN&state={forged}", headers=UA)
            assert status == 403 and 'data-reason="state"' in page
        # the right state but from a browser without the cookie
        site.session.cookie_jar.clear()
        status, _page, _ = await site.get(f"/tenant/back/wechat?code=STOLEN&state={state}",
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


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_openid_bound_by_oauth_pays_by_jsapi_when_the_appids_agree(
        tmp_path: Path) -> None:
    async with wechat_server() as wx, alipay_server() as ali, \
            wechat_oauth(app_id=MERCHANT_APPID) as oauth:
        wx.openids[oauth.openid] = MERCHANT_APPID  # WeChat's openids are per AppID
        providers = [wx.config(), ali.config()]
        async with paying_site(tmp_path, providers, wechat_block(oauth)) as site:
            token = (await site.issue("acc_a"))["token"]
            status, answer = await _pay(site, token)
            assert (status, answer["error"]) == (409, "您的微信尚未与本页面关联，暂不能在此"
                                                      "使用微信支付：请在微信中重新打开链接后再支付。")
            status, _page, _ = await site.get(f"/tenant/{token}", headers=UA,
                                              allow_redirects=True)
            assert status == 200 and openid_of(site.hub, "acc_a") == oauth.openid
            status, answer = await _pay(site, token)
            assert status == 200 and answer["channel"] == "jsapi", answer
            jsapi = answer["order"]["pay"]["jsapi"]
            assert jsapi["appId"] == MERCHANT_APPID and jsapi["signType"] == "RSA"
            assert wx.trades[answer["order"]["order_id"]].openid == oauth.openid
            # WeChat's browser opens no Alipay page: the tenant is told where it works
            status, answer = await _pay(site, token, provider="alipay")
            assert (status, answer["error"]) == (409, "微信内无法打开支付宝：请在手机浏览器中"
                                                      "打开本页面（⋯ → 在浏览器打开）。")
            assert ali.trades == {}
            status, answer = await _pay(site, token, provider="alipay", headers={})
            assert status == 200 and answer["channel"] == "wap"


@pytest.mark.timeout(150)
@bounded(120)
async def test_an_official_account_that_is_not_the_merchants_app_is_told_truly(
        tmp_path: Path) -> None:
    async with wechat_server() as wx, wechat_oauth() as oauth:
        wx.openids[oauth.openid] = APP_ID  # an openid of another app than WeChat Pay's
        async with paying_site(tmp_path, [wx.config()], wechat_block(oauth)) as site:
            token = (await site.issue("acc_a"))["token"]
            await site.get(f"/tenant/{token}", headers=UA, allow_redirects=True)
            assert openid_of(site.hub, "acc_a") == oauth.openid
            status, answer = await _pay(site, token)
            assert (status, answer["error"]) == (409, "房东尚未开通微信内支付：请用手机浏览器"
                                                      "打开本页面扫码支付。")
            assert wx.trades == {}  # WeChat Pay would refuse it: not asked
            status, answer = await _pay(site, token, headers={})  # the phone's browser
            assert status == 200 and answer["channel"] == "native"


async def _pay(site: Portal, token: str, provider: str = "wechatpay",
               **kwargs: Any) -> tuple[int, Any]:
    kwargs.setdefault("headers", UA)
    status, text, _ = await site.post(f"/tenant/{token}/pay",
                                      json={"amount": "20", "provider": provider}, **kwargs)
    return status, json.loads(text)


@pytest.mark.timeout(150)
@bounded(120)
async def test_alipay_sends_the_tenant_back_through_a_cookie_not_the_token(
        tmp_path: Path) -> None:
    async with alipay_server() as ali, paying_site(tmp_path, [ali.config()]) as site:
        token = (await site.issue("acc_a"))["token"]
        status, text, headers = await site.post(
            f"/tenant/{token}/pay", json={"amount": "20", "provider": "alipay"})
        answer = json.loads(text)
        assert status == 200 and answer["channel"] == "wap", answer
        redirect = answer["order"]["pay"]["redirect_url"]
        assert token not in redirect  # the gateway URL Alipay keeps
        assert query_of(redirect)["return_url"] == f"{site.base}/tenant/back"
        cookie = headers["Set-Cookie"]
        for part in (f"mh_back={token}", "HttpOnly", "Path=/tenant/back", "SameSite=Lax",
                     "Max-Age=7200"):
            assert part in cookie, cookie
        order_id = answer["order"]["order_id"]
        status, _page, headers = await site.get(f"/tenant/back?out_trade_no={order_id}")
        assert status == 303 and headers["Location"] == f"/tenant/{token}?out_trade_no={order_id}"
        assert "mh_back=;" in headers["Set-Cookie"] or 'mh_back="";' in headers["Set-Cookie"]
        # used once: back again (another browser, or later) says where to look
        status, page, _ = await site.get("/tenant/back", headers={"Accept-Language": "zh-CN"})
        assert status == 200 and 'data-reason="back"' in page and "重新打开" in page
        # a revoked link's cookie opens nothing
        await site.post(f"/tenant/{token}/pay", json={"amount": "20", "provider": "alipay"})
        await site.service("tenant", "revoke", {"account_id": "acc_a"})
        status, page, _ = await site.get("/tenant/back")
        assert status == 410 and 'data-reason="revoked"' in page


PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0 Mobile Safari/537.36")
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"


@pytest.mark.timeout(150)
@bounded(120)
async def test_wechat_pay_h5_only_for_a_phone_at_a_public_address(tmp_path: Path) -> None:
    """WeChat's H5 cashier opens only in a phone browser, at the address the order names:
    a phone outside the landlord's network gets H5 (back through /tenant/back), a desktop or
    a phone on the LAN a QR code to scan, WeChat's browser JSAPI as before."""
    async with wechat_server() as wx, \
            paying_site(tmp_path, [wx.config(h5=True)], proxy=True) as site:
        token = (await site.issue("acc_a"))["token"]
        outside = {"User-Agent": PHONE_UA, "X-Forwarded-For": "114.114.114.114"}
        status, answer = await _pay(site, token, headers=outside)
        assert status == 200 and answer["channel"] == "wap", answer
        order_id = answer["order"]["order_id"]
        assert wx.trades[order_id].payer_ip == "114.114.114.114"
        redirect = answer["order"]["pay"]["redirect_url"]
        assert token not in redirect and "qr_svg" not in answer["order"]
        assert query_of(redirect)["redirect_url"] == \
            f"{site.base}/tenant/back?out_trade_no={order_id}"
        for headers in ({"User-Agent": DESKTOP_UA, "X-Forwarded-For": "114.114.114.114"},
                        {"User-Agent": PHONE_UA, "X-Forwarded-For": "192.168.1.23"},
                        {"User-Agent": PHONE_UA}):  # the proxy itself: 127.0.0.1
            status, answer = await _pay(site, token, headers=headers)
            assert status == 200 and answer["channel"] == "native", (headers, answer)
