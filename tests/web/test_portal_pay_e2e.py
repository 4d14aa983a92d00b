"""The portal and the payments together, end to end against a real hub process: the tenant
opens the link, pays through WeChat Pay (Native) and Alipay (WAP) at their local stand-ins
(payment_servers.py), the stand-in notifies as the provider documents, the balance goes up,
the simulated meter's relay closes, tenant and landlord are told at a real local receiver,
and the portal's poll says ``credited`` with the new balance; a lost notification is made
good by the order query (WeChat Pay's and Alipay's), seen from the portal's poll."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from common import bounded, free_port, wait_for
from payment_servers import alipay_server, wechat_server
from payment_support import Api, e2e_yaml, hub_process, messages, told_both, until
from receiver import receiver


class Tenant:
    """The tenant's phone: the portal link's pages over HTTP."""

    def __init__(self, session: aiohttp.ClientSession, base: str, path: str) -> None:
        self.session, self.base, self.path = session, base, path

    async def page(self, query: str = "") -> str:
        async with self.session.get(f"{self.base}{self.path}{query}") as resp:
            assert resp.status == 200
            return await resp.text()

    async def pay(self, amount: str, provider: str) -> tuple[int, Any]:
        async with self.session.post(f"{self.base}{self.path}/pay",
                                     json={"amount": amount, "provider": provider}) as resp:
            return resp.status, await resp.json()

    async def poll(self, order_id: str) -> Any:
        async with self.session.get(f"{self.base}{self.path}/orders/{order_id}") as resp:
            assert resp.status == 200
            return await resp.json()

    async def credited(self, order_id: str) -> Any:
        answer = await self.poll(order_id)
        return answer if answer["outcome"] == "credited" else None


@pytest.mark.timeout(360)
@bounded(300)
async def test_the_tenant_pays_by_wechat_and_alipay_from_the_portal_and_sees_it_live(
        tmp_path: Path) -> None:
    async with wechat_server() as wx, alipay_server() as ali, receiver() as inbox:
        port = free_port()
        config = e2e_yaml(
            tmp_path / "site", [wx.config(landlord="wang"), ali.config(landlord="wang")],
            port=port, inbox=inbox, extra='portal: {phone: "13800138000"}\n',
            payments="query_after: 3s\nquery_every: 1s\npresets: [20, 50, 100, 1000]\n"
                     "min_amount: 0.50")
        data = tmp_path / "data"
        async with hub_process(config, data, tmp_path / "hub.log"), \
                aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            api = Api(session, port, data)
            link = await api.service("link", "tenant", account_id="r101")
            tenant = Tenant(session, api.base, urlsplit(link["url"]).path)
            await until(lambda: api.relay("r101_e", "open"))  # no money: the power is off
            home = await tenant.page()
            # the providers and presets come from payments: (no portal.pay_with/amounts)
            assert re.findall(r'data-provider="([^"]+)"', home) == ["wechatpay", "alipay"]
            assert re.findall(r'data-amount="([^"]+)"', home) == ["20.00", "50.00", "100.00"]
            assert "¥0.50 至 ¥500.00" in home  # payments' min_amount and the account's max
            assert 'id="balance">¥0.00<' in home

            # 1. WeChat Pay, Native: the QR code, the notification, the poll says credited
            status, answer = await tenant.pay("50", "wechatpay")
            assert status == 200 and answer["channel"] == "native", answer
            order = answer["order"]
            assert order["pay"]["code_url"].startswith("weixin://") and "<svg" in order["qr_svg"]
            assert answer["scan"] == "请扫码使用微信支付付款"
            assert (await tenant.poll(order["order_id"]))["outcome"] == "waiting"
            trade = wx.pay(order["order_id"])
            assert await wx.deliver(trade) == (200, "")
            polled = await until(lambda: tenant.credited(order["order_id"]))
            assert (polled["balance"], polled["balance_text"]) == ("50.00", "¥50.00")
            assert polled["state"] == "credited" and "problem" not in polled
            await until(lambda: api.relay("r101_e", "closed"))
            await told_both(inbox, "¥50.00")

            # 2. Alipay, WAP: the signed gateway URL, back to the portal, which follows it
            status, answer = await tenant.pay("20", "alipay")
            assert status == 200 and answer["channel"] == "wap", answer
            order = answer["order"]
            redirect = order["pay"]["redirect_url"]
            assert redirect.startswith(ali.url)
            back = parse_qs(urlsplit(redirect).query)["return_url"][0]
            assert back == f"{api.base}/tenant/back"  # Alipay keeps it: no token in it
            assert tenant.path.rsplit("/", 1)[1] not in redirect
            async with session.get(redirect) as resp:  # the tenant's browser at Alipay
                assert resp.status == 200 and "收银台" in await resp.text()
            assert await ali.deliver(ali.pay(order["order_id"])) == (200, "success")
            # Alipay sends this browser back, naming the order: its own page follows it
            async with session.get(f"{back}?out_trade_no={order['order_id']}&method="
                                   "alipay.trade.wap.pay.return") as resp:
                assert resp.status == 200 and resp.url.path == tenant.path
                returned = await resp.text()
            assert f"var resume = {json.dumps(order['order_id'])};" in returned
            polled = await until(lambda: tenant.credited(order["order_id"]))
            assert polled["balance"] == "70.00"

            # 3. WeChat Pay paid, the notification lost: the order query credits it
            status, answer = await tenant.pay("100", "wechatpay")
            assert status == 200, answer
            quiet = answer["order"]["order_id"]
            wx.pay(quiet)
            polled = await until(lambda: tenant.credited(quiet), timeout=90)
            assert polled["balance"] == "170.00"
            assert ("GET", f"/v3/pay/transactions/out-trade-no/{quiet}") in wx.requests
            # 4. Alipay paid at the cashier, the notification lost: alipay.trade.query
            status, answer = await tenant.pay("30", "alipay")
            assert status == 200, answer
            quiet = answer["order"]["order_id"]
            async with session.get(answer["order"]["pay"]["redirect_url"]) as resp:
                assert resp.status == 200
            ali.pay(quiet)
            polled = await until(lambda: tenant.credited(quiet), timeout=90)
            assert polled["balance"] == "200.00" and "alipay.trade.query" in ali.methods
            await wait_for(lambda: sum("到账" in m for m in messages(inbox, "tenant"))
                           >= 4, timeout=60)
            home = await tenant.page()
            assert 'id="balance">¥200.00<' in home
