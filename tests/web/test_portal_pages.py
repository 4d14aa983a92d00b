"""The portal's pages on a real hub: balance and supply, the usage chart from stored
readings, bills and statements, the ledger, notices and announcements, emergency credit,
the pay button (with and without a payment service), languages — and that nothing of
another account is reachable by changing an id."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from common import bounded, settle
from payment_servers import WechatServer, alipay_server, wechat_server
from portal_support import WECHAT_UA, Portal, bars, paying_site, portal_site, store_usage

from hub.core import Context
from hub.ledger import Ledger
from hub.metering.points import unit_text
from hub.portal.usage import Series, chart_svg

D = Decimal


@pytest.mark.timeout(150)
@bounded(120)
async def test_every_view_shows_the_links_account_and_only_it(tmp_path: Path) -> None:
    async with portal_site(tmp_path) as site:
        hub = site.hub
        await store_usage(hub, "a1", ["100.00", "104.50", "110.00", "111.25"])
        await store_usage(hub, "b1", ["500.00", "777.00"])
        await hub.services.call("account", "recharge", {
            "account_id": "acc_a", "amount": "30", "method": "cash", "reference": "r-1"})
        await settle(hub)
        bill_a = (await hub.services.call("bill", "create", {"account_id": "acc_a"},
                                          return_response=True))["bill_id"]
        await hub.services.call("bill", "issue", {"bill_id": bill_a})
        bill_b = (await hub.services.call("bill", "create", {"account_id": "acc_b"},
                                          return_response=True))["bill_id"]
        await hub.services.call("bill", "issue", {"bill_id": bill_b})
        await hub.services.call("tenant", "announce", {"text": "A栋周六停水检修",
                                                       "tags": {"building": "A"}})
        await hub.services.call("tenant", "announce", {"text": "B栋电梯维护",
                                                       "tags": {"building": "B"}})
        await settle(hub)
        token = (await site.issue("acc_a"))["token"]
        balance = hub.component("ledger", Ledger).balance("acc_a")
        assert balance == D("40") + D("30") - D("11.25")  # opening + recharge - 11.25 kWh

        status, home, headers = await site.get(f"/tenant/{token}")
        assert status == 200 and headers["Cache-Control"] == "no-store"
        assert re.search(r'id="balance">¥58\.75<', home)
        assert "A栋周六停水检修" in home and "B栋电梯维护" not in home
        shown = home.replace(token, "TOKEN")  # a random token may hold "b1"
        assert "李四" not in shown and "acc_b" not in shown and 'data-meter="b1"' not in shown
        assert 'data-meter="a1"' in shown
        day = bars(home)
        assert len(day) == 30 and day[-4:] == [D("4.50"), D("5.50"), D("1.25"), D("0")]
        status, month, _ = await site.get(f"/tenant/{token}?range=month")
        assert len(bars(month)) == 12 and sum(bars(month)) == D("11.25")
        assert 'id="pay-unavailable"' in month  # no provider: said honestly

        status, page, _ = await site.get(f"/tenant/{token}/bills")
        assert status == 200 and f'data-bill="{bill_a}"' in page and bill_b not in page
        status, page, _ = await site.get(f"/tenant/{token}/bills/{bill_a}")
        assert status == 200 and bill_a in page and "张三" in page
        status, page, _ = await site.get(f"/tenant/{token}/ledger")
        assert status == 200 and page.count("data-entry=") == 5  # opening, 3 usages, recharge
        assert "¥30.00" in page
        status, page, _ = await site.get(f"/tenant/{token}/notices")
        assert status == 200 and 'data-kind="payment_received"' in page
        assert 'data-kind="bill_issued"' in page and "A栋周六停水检修" in page
        assert "B栋电梯维护" not in page

        # another account's ids, in every place a request carries one: 404
        for path in (f"/tenant/{token}/bills/{bill_b}", f"/tenant/{token}/bills/nope"):
            status, page, _ = await site.get(path)
            assert status == 404 and "李四" not in page
        status, _text, _ = await site.post(f"/tenant/{token}/pay",
                                          json={"account_id": "acc_b", "amount": "20"})
        assert status == 404


@pytest.mark.timeout(150)
@bounded(120)
async def test_emergency_credit_is_taken_once_per_period(tmp_path: Path) -> None:
    async with portal_site(tmp_path) as site:
        ledger = site.hub.component("ledger", Ledger)
        token_a = (await site.issue("acc_a"))["token"]
        token_b = (await site.issue("acc_b"))["token"]
        status, home, _ = await site.get(f"/tenant/{token_a}")
        assert 'id="emergency"' in home and "¥15.00" in home
        status, _text, headers = await site.post(f"/tenant/{token_a}/emergency")
        assert status == 303 and headers["Location"].endswith("notice=emergency_ok")
        await settle(site.hub)
        assert ledger.balance("acc_a") == D("55.00") and ledger.balance("acc_b") == D("70.00")
        entry = (await ledger.entries("acc_a", limit=1))[0]
        assert (entry.kind, entry.context.user_id) == ("emergency_credit", "@tenant:acc_a")
        status, _text, headers = await site.post(f"/tenant/{token_a}/emergency")
        assert headers["Location"].endswith("notice=emergency_refused")
        status, home, _ = await site.get(headers["Location"].partition(site.base)[2] or
                                         headers["Location"])
        assert "暂不能使用应急额度" in home
        await settle(site.hub)
        assert ledger.balance("acc_a") == D("55.00")
        # a page of another site cannot take it for the tenant
        status, _text, _ = await site.post(f"/tenant/{token_b}/emergency",
                                           headers={"Origin": "https://evil.example"})
        assert status == 403
        await settle(site.hub)
        assert ledger.balance("acc_b") == D("70.00")


@pytest.mark.timeout(180)
@bounded(150)
async def test_the_pay_button_opens_real_orders_for_this_account_and_polls_them(
        tmp_path: Path) -> None:
    extra = "portal: {amounts: [20, 50, 1000], min_amount: 5, pay_with: [wechatpay, alipay]}\n"
    async with wechat_server() as wx, alipay_server() as ali:
        # Alipay takes payments only for landlord wang's accounts: neither acc_a nor acc_b
        providers = [wx.config(), ali.config(landlord="wang")]
        async with paying_site(tmp_path, providers, extra, "min_amount: 2") as site:
            await _pay_and_poll(site, wx)
        assert not [m for m in ali.methods if m.startswith("alipay.trade")]  # never asked


async def _pay_and_poll(site: Portal, wx: WechatServer) -> None:
    token = (await site.issue("acc_a"))["token"]
    token_b = (await site.issue("acc_b"))["token"]
    status, home, _ = await site.get(f"/tenant/{token}")
    presets = re.findall(r'data-amount="([^"]+)"', home)
    assert presets == ["20.00", "50.00"]  # 1000 is above acc_a's max_recharge (500)
    # only what takes this account's payments is offered, though pay_with names alipay
    assert re.findall(r'data-provider="([^"]+)"', home) == ["wechatpay"]

    async def pay(body: dict[str, object], token: str = token,
                  **kwargs: object) -> tuple[int, dict[str, Any]]:
        status, text, _ = await site.post(f"/tenant/{token}/pay", json=body, **kwargs)
        return status, json.loads(text)

    for amount in ("4.99", "500.01", "abc", "-5"):
        status, body = await pay({"amount": amount, "provider": "wechatpay"})
        assert status == 400 and body["error"] == "请选择 ¥5.00 至 ¥500.00 之间的金额。", body
    for provider in ("unionpay", "alipay"):
        status, body = await pay({"amount": "50", "provider": provider})
        assert (status, body["error"]) == (400, "不支持该支付方式。")
    status, body = await pay({"amount": "123.45", "provider": "wechatpay"})
    assert status == 200 and body["channel"] == "native", body
    order = body["order"]
    assert "<svg" in str(order["qr_svg"]) and order["account_id"] == "acc_a"
    assert wx.trades[order["order_id"]].amount_fen == 12345  # opened at WeChat Pay
    # inside WeChat, no Official Account set up: JSAPI cannot work, said so truly
    status, body = await pay({"amount": "20", "provider": "wechatpay"},
                             headers={"User-Agent": WECHAT_UA})
    assert (status, body["error"]) == (
        409, "房东尚未开通微信内支付：请用手机浏览器打开本页面扫码支付。")
    await site.hub.services.call("account", "update", {
        "account_id": "acc_a", "changes": {"contacts": {"wechat": "oBoundTenantA"}}},
        context=Context(user_id="@test"))
    status, body = await pay({"amount": "20", "provider": "wechatpay"},
                             headers={"User-Agent": WECHAT_UA})
    assert status == 200 and body["channel"] == "jsapi", body
    jsapi = body["order"]["pay"]["jsapi"]
    assert jsapi["package"].startswith("prepay_id=wx") and jsapi["paySign"]
    assert wx.trades[body["order"]["order_id"]].openid == "oBoundTenantA"
    # WeChat Pay down: the tenant is told it did not start and nothing was charged
    wx.down = True
    status, body = await pay({"amount": "20", "provider": "wechatpay"})
    assert (status, body["error"]) == (
        502, "微信支付暂时无法发起本次支付，未扣任何费用，请稍后再试。")
    wx.down = False
    # the live poll: waiting, then credited with the new balance; another's order is 404
    order_id = str(order["order_id"])
    status, text, _ = await site.get(f"/tenant/{token}/orders/{order_id}")
    assert (status, json.loads(text)["outcome"]) == (200, "waiting")
    assert await wx.deliver(wx.pay(order_id)) == (200, "")
    await settle(site.hub)
    status, text, _ = await site.get(f"/tenant/{token}/orders/{order_id}")
    polled = json.loads(text)
    assert (polled["state"], polled["outcome"]) == ("credited", "credited")
    assert (polled["balance"], polled["balance_text"]) == ("163.45", "¥163.45")
    for path in (f"/tenant/{token_b}/orders/{order_id}", f"/tenant/{token}/orders/nope"):
        status, text, _ = await site.get(path)
        assert status == 404 and "acc_a" not in text
    # paid another amount: not credited; the tenant is told the landlord checks it
    status, body = await pay({"amount": "50", "provider": "wechatpay"})
    odd = body["order"]["order_id"]
    trade = wx.pay(odd)
    assert await wx.deliver(trade, wx.notification(trade, amount_fen=4000)) == (200, "")
    status, text, _ = await site.get(f"/tenant/{token}/orders/{odd}")
    polled = json.loads(text)
    assert (polled["state"], polled["outcome"], polled["balance"]) == ("paid", "held", "163.45")
    assert polled["paid"] == "40.00" and "problem" not in polled  # the book's words stay in
    status, body = await pay({"amount": "20", "provider": "wechatpay"},
                             headers={"Origin": "https://evil.example"})
    assert status == 403


@pytest.mark.timeout(120)
@bounded(90)
async def test_without_a_payment_service_the_page_says_so(tmp_path: Path) -> None:
    extra = "portal: {pay_with: [wechatpay]}\n"
    async with portal_site(tmp_path, extra) as site:
        token = (await site.issue("acc_a"))["token"]
        status, home, _ = await site.get(f"/tenant/{token}?lang=en")
        assert "Online payment is not set up" in home and "data-provider" not in home
        status, text, _ = await site.post(f"/tenant/{token}/pay?lang=en",
                                          json={"amount": "20", "provider": "wechatpay"})
        assert status == 503 and "not set up" in json.loads(text)["error"]


@pytest.mark.timeout(120)
@bounded(90)
async def test_the_language_comes_from_the_switch_the_config_or_the_browser(
        tmp_path: Path) -> None:
    async with portal_site(tmp_path) as site:
        token = (await site.issue("acc_a"))["token"]
        _status, page, _ = await site.get(f"/tenant/{token}")
        assert '<html lang="zh-CN">' in page and "余额" in page
        _status, page, _ = await site.get(f"/tenant/{token}",
                                          headers={"Accept-Language": "en-US,en;q=0.9"})
        assert '<html lang="en">' in page and "Balance" in page
        _status, page, headers = await site.get(f"/tenant/{token}?lang=en")
        assert "Balance" in page and "mh_lang=en" in headers["Set-Cookie"]
        _status, page, _ = await site.get(f"/tenant/{token}/ledger")  # the cookie stays
        assert '<html lang="en">' in page
    async with portal_site(tmp_path / "en", "portal: {language: en}\n") as site:
        token = (await site.issue("acc_a"))["token"]
        _status, page, _ = await site.get(f"/tenant/{token}",
                                          headers={"Accept-Language": "zh-CN"})
        assert '<html lang="en">' in page


@pytest.mark.timeout(120)
@bounded(90)
async def test_the_notices_page_reads_every_page_of_a_busy_sites_events(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.portal import views

    monkeypatch.setattr(views, "EVENTS_PAGE", 4)  # many pages, ending inside milliseconds
    async with portal_site(tmp_path) as site:
        token = (await site.issue("acc_a"))["token"]
        for number in range(1, 61):
            account = "acc_a" if number % 5 == 0 else "acc_b"
            site.hub.bus.fire("payment_received", {
                "account_id": account, "amount": D(number), "method": "cash",
                "reference": f"p{number}", "balance": D(number), "entry_id": f"e{number}"},
                context=Context(origin="test"))
        await settle(site.hub)
        _status, page, _ = await site.get(f"/tenant/{token}/notices?lang=en")
        amounts = re.findall(r"Payment received: ¥(\d+)\.00", page)
        assert amounts == [str(number) for number in range(60, 0, -5)]  # newest first, once


def test_water_is_shown_in_cubic_metres_as_people_write_them() -> None:
    # YAML, the API and files keep ASCII "m3"; a tenant's chart says m³
    water = Series("water", "m3", [("12-01", D("1.5")), ("12-02", D("2.25"))])
    svg = chart_svg(water, "用水量")
    assert "2.25 m³" in svg and "m3" not in svg
    assert unit_text("m3") == "m³" and unit_text("kWh") == "kWh"
