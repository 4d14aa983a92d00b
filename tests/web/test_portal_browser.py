"""The portal in a real browser (Debian's Chromium, headless, driven by Playwright) at a
phone's 390 px: balance, usage chart and bills are seen; the pay button opens a real
WeChat Pay Native order at the provider's local stand-in and shows its QR code, the
stand-in's notification credits it and "paid" with the new balance arrives live; the door
sheet's QR codes decode (OpenCV) to the links. Screenshots are kept in test-artifacts/portal/
(git-ignored)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
from common import bounded, settle
from payment_servers import APPID as MERCHANT_APPID
from payment_servers import wechat_server
from playwright.async_api import Browser, Page, async_playwright
from portal_support import (
    WECHAT_UA,
    paying_site,
    portal_site,
    store_usage,
    wechat_block,
    wechat_oauth,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "portal"
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}


@asynccontextmanager
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless (never a browser downloaded by ``playwright install``)."""
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            yield found
        finally:
            await found.close()


async def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


def decode_all(png: bytes) -> set[str]:
    """Every QR code OpenCV finds in a screenshot."""
    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_COLOR)
    # a white margin (a cropped code's quiet zone), then the single-code detector when the
    # multi-code one finds nothing: OpenCV missed a card's code now and then without them
    image = cv2.copyMakeBorder(image, 40, 40, 40, 40, cv2.BORDER_CONSTANT,
                               value=(255, 255, 255))
    detector = cv2.QRCodeDetector()
    found, texts, _points, _codes = detector.detectAndDecodeMulti(image)
    decoded = {text for text in texts if text} if found else set()
    if not decoded:
        text, _points, _code = detector.detectAndDecode(image)
        decoded = {text} if text else set()
    return decoded


@pytest.mark.timeout(240)
@bounded(200)
async def test_a_tenant_sees_balance_chart_and_bills_and_pays_at_390px(
        tmp_path: Path) -> None:
    extra = "portal: {amounts: [20, 50, 100]}\n"
    async with wechat_server() as wx, paying_site(tmp_path, [wx.config()], extra) as site, \
            browser() as chromium:
        await store_usage(site.hub, "a1", ["100.00", "103.00", "109.00", "110.50"])
        bill = (await site.hub.services.call("bill", "create", {"account_id": "acc_a"},
                                             return_response=True))["bill_id"]
        await site.hub.services.call("bill", "issue", {"bill_id": bill})
        await settle(site.hub)
        url = (await site.issue("acc_a"))["url"]
        context = await chromium.new_context(viewport=PHONE, device_scale_factor=2,
                                             is_mobile=True, locale="zh-CN")
        page = await context.new_page()
        await page.goto(url)
        assert await page.locator("#balance").inner_text() == "¥29.50"  # 40 - 10.5 kWh
        chart = page.locator("#usage svg.usage-chart")
        assert await chart.count() == 1
        box = await chart.bounding_box()
        assert box is not None and 300 <= box["width"] <= 390  # fits the phone's width
        heights = [float(h) for h in await page.locator("#usage rect.bar").evaluate_all(
            "bars => bars.map(b => b.getBBox().height)")]
        assert len(heights) == 30 and heights[-3] > heights[-4] > heights[-2] > 0
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing sticks out sideways
        await shot(page, "home-zh")
        # pay 50: WeChat Pay's Native QR code appears; WeChat Pay notifies; "paid" live
        await page.locator("button.amount", has_text="¥50.00").click()
        await page.locator("button.pay").click()
        await page.locator("#pay-result svg").wait_for(timeout=20_000)
        assert await page.locator("#pay-result p").first.inner_text() == "请扫码使用微信支付付款"
        assert await page.locator("#pay-status").inner_text() == "等待支付结果…"
        [(order_id, trade)] = wx.trades.items()
        assert trade.amount_fen == 5000 and trade.state == "NOTPAY"
        await shot(page, "pay-qr")
        qr = await page.locator("#pay-result svg").screenshot(path=str(ARTIFACTS / "qr.png"))
        assert decode_all(qr) == {"weixin://wxpay/bizpayurl?pr=native"}  # the code_url
        assert await wx.deliver(wx.pay(order_id)) == (200, "")
        await page.locator("#pay-status", has_text="支付成功").wait_for(timeout=30_000)
        assert await page.locator("#balance").inner_text() == "¥79.50"
        assert await page.locator("#pay-result svg").count() == 0  # nothing left to scan
        await shot(page, "paid")
        await page.goto(url + "/bills?lang=en")
        row = page.locator(f'tr[data-bill="{bill}"]')
        assert await row.count() == 1 and "¥" in await row.inner_text()
        await shot(page, "bills-en")
        await page.locator(f'tr[data-bill="{bill}"] a').click()
        assert bill in await page.content()
        # revoked by the landlord: the tenant is told so, in plain words
        await site.service("tenant", "revoke", {"account_id": "acc_a"})
        await page.goto(url)
        assert "revoked by your landlord" in await page.locator("#closed").inner_text()
        await shot(page, "revoked-en")
        await context.close()


BRIDGE = """
window.bridgeCalls = [];
window.WeixinJSBridge = {invoke: function (name, params, done) {
  window.bridgeCalls.push({name: name, params: params}); window.bridgeDone = done; }};
"""


@pytest.mark.timeout(240)
@bounded(200)
async def test_inside_wechat_the_bound_openid_pays_through_wechats_own_sheet(
        tmp_path: Path) -> None:
    async with wechat_server() as wx, wechat_oauth(app_id=MERCHANT_APPID) as oauth:
        wx.openids[oauth.openid] = MERCHANT_APPID
        async with paying_site(tmp_path, [wx.config()], wechat_block(oauth)) as site, \
                browser() as chromium:
            url = (await site.issue("acc_a"))["url"]
            context = await chromium.new_context(viewport=PHONE, device_scale_factor=2,
                                                 is_mobile=True, locale="zh-CN",
                                                 user_agent=WECHAT_UA)
            await context.add_init_script(BRIDGE)  # WeChat's browser has the bridge
            page = await context.new_page()
            await page.goto(url)  # through WeChat's OAuth (the local server) and back
            assert "已绑定微信" in await page.locator("#notice").inner_text()
            # pay 20: WeChat's pay sheet is opened with the order's JSAPI parameters
            await page.locator("button.amount", has_text="¥20.00").click()
            await page.locator("button.pay").click()
            await page.wait_for_function("window.bridgeCalls.length == 1", timeout=20_000)
            [call] = await page.evaluate("window.bridgeCalls")
            assert call["name"] == "getBrandWCPayRequest"
            assert call["params"]["appId"] == MERCHANT_APPID
            [(order_id, trade)] = wx.trades.items()
            assert trade.openid == oauth.openid and trade.amount_fen == 2000
            await page.evaluate("window.bridgeDone({err_msg: 'get_brand_wcpay_request:ok'})")
            assert await wx.deliver(wx.pay(order_id)) == (200, "")
            await page.locator("#pay-status", has_text="支付成功").wait_for(timeout=30_000)
            assert await page.locator("#balance").inner_text() == "¥60.00"  # 40 + 20
            await shot(page, "paid-in-wechat")
            # the tenant closes WeChat's sheet: told so, and nothing is waited for
            await page.locator("button.pay").click()
            await page.wait_for_function("window.bridgeCalls.length == 2", timeout=20_000)
            await page.evaluate(
                "window.bridgeDone({err_msg: 'get_brand_wcpay_request:cancel'})")
            await page.locator("#pay-status", has_text="已取消支付").wait_for(timeout=10_000)
            await context.close()


@pytest.mark.timeout(240)
@bounded(200)
async def test_the_door_sheet_renders_and_each_code_decodes_to_its_link(
        tmp_path: Path) -> None:
    async with portal_site(tmp_path) as site, browser() as chromium:
        status, made = await site.service("tenant", "sheet", {})
        assert status == 200, made
        html, urls = made["response"]["html"], made["response"]["urls"]
        assert sorted(urls) == ["acc_a", "acc_b"]
        assert html.count("<svg") == 2 and "房东电话：13800138000" in html
        assert re.search(r">\s*101\s*<", html) and re.search(r">\s*201\s*<", html)
        page = await (await chromium.new_context(viewport={"width": 800, "height": 1100},
                                                 device_scale_factor=2)).new_page()
        await page.set_content(html)
        png = await page.screenshot(full_page=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "door-sheet.png").write_bytes(png)
        decoded = set()
        for account in ("acc_a", "acc_b"):  # each card alone, so one code per image
            card = page.locator(f'.door[data-account="{account}"] svg')
            decoded |= decode_all(await card.screenshot())
        assert decoded == set(urls.values())
        # the printed links are live, and printing again replaced them
        for url in urls.values():
            assert (await site.get(url.partition(site.base)[2]))[0] == 200
        _status, again = await site.service("tenant", "sheet", {"account_ids": ["acc_a"]})
        assert (await site.get(urls["acc_a"].partition(site.base)[2]))[0] == 410
        assert again["response"]["urls"]["acc_a"] != urls["acc_a"]


def test_the_qr_code_of_a_link_is_an_inline_svg() -> None:
    from hub.portal.sheet import qr_svg

    url = "https://hub.example.com/tenant/" + "Ab_-9" * 9
    svg = qr_svg(url, scale=6, title="101")
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "<title>101</title>" in svg
    assert not svg.startswith("<?xml")
    head = svg.split(">", 1)[0]
    assert "viewBox=" in head and "width=" not in head  # it scales to the card, not clipped


PHONE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0 Mobile Safari/537.36")


@pytest.mark.timeout(240)
@bounded(200)
async def test_a_phone_browser_pays_in_wechats_h5_cashier_and_comes_back(
        tmp_path: Path) -> None:
    """WeChat Pay H5 in Chromium as a phone outside the landlord's network: the "continue to
    pay" link opens WeChat's cashier with only the hub's origin as Referer (WeChat checks the
    site, the token must not leave), and WeChat's return lands on the tenant's own page,
    which follows the order to "paid"."""
    async with wechat_server() as wx, \
            paying_site(tmp_path, [wx.config(h5=True)], proxy=True) as site, \
            browser() as chromium:
        url = (await site.issue("acc_a"))["url"]
        token = url.rsplit("/", 1)[1]
        context = await chromium.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="zh-CN",
            user_agent=PHONE_UA, extra_http_headers={"X-Forwarded-For": "114.114.114.114"})
        page = await context.new_page()
        await page.goto(url)
        await page.locator("button.amount", has_text="¥20.00").click()
        await page.locator("button.pay").click()
        link = page.locator("#pay-result a.button")
        await link.wait_for(timeout=20_000)
        await shot(page, "pay-h5")
        await link.click()
        await page.locator("h1", has_text="微信支付").wait_for(timeout=20_000)
        [visit] = wx.h5_visits
        assert visit["referer"] == f"{site.base}/"  # the origin only
        [(order_id, trade)] = wx.trades.items()
        assert trade.payer_ip == "114.114.114.114" and trade.amount_fen == 2000
        assert await wx.deliver(wx.pay(order_id)) == (200, "")
        await page.goto(visit["redirect_url"])  # WeChat sends the phone back
        assert page.url.endswith(f"/tenant/{token}?out_trade_no={order_id}")
        await page.locator("#pay-status", has_text="支付成功").wait_for(timeout=30_000)
        assert await page.locator("#balance").inner_text() == "¥60.00"  # 40 + 20
        await context.close()
