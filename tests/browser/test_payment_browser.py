"""The payments pages in Debian's Chromium on a 390 px phone, against a real hub process paid
through the local WeChat Pay server: finance refunds part of an order from its page (amount
typed twice, the browser's confirm accepted) and sees the refunded amount and the lower
balance. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from browser_support import PHONE, browser_page, login, running_hub, shot, text
from common import bounded, free_port
from payment_servers import wechat_server
from payment_support import Api, payments_yaml


def site(folder: Path, port: int, provider: dict[str, object]) -> str:
    """A site of one account (landlord wang, building A) paying through ``provider``."""
    return (f"site: {{name: 阳光公寓, time_zone: Asia/Shanghai, language: zh-CN}}\n"
            f"http: {{host: 127.0.0.1, port: {port}}}\n"
            "storage: {commit_interval: 0.02}\n"
            "accounts:\n"
            "  - {id: r101, name: 张三, landlord: wang, max_recharge: 500, tags: {building: A}}\n"
            + payments_yaml(folder, [provider], port=port))


@bounded(300)
async def test_finance_refunds_part_of_an_order_on_the_phone(tmp_path: Path) -> None:
    """Mutation caught: the page answering without calling payment.refund (checked: a faked
    answer leaves the refunded tile at ¥0.00 and the test fails there)."""
    async with wechat_server() as wx:
        port = free_port()
        folder = tmp_path / "site"
        async with running_hub(folder, site(folder, port, wx.config(landlord="wang"))) as base, \
                aiohttp.ClientSession() as session:
            api = Api(session, port, folder / "data")
            order = await api.service("create_order", account_id="r101", amount="50",
                                      provider="wechatpay", channel="native")
            order_id = order["order_id"]
            assert await wx.deliver(wx.pay(order_id)) == (200, "")
            async with browser_page(PHONE) as phone:
                await login(phone, base, "finance")
                await phone.goto(f"{base}/payments")
                await phone.click(f'tr[data-order="{order_id}"] a')
                await phone.wait_for_selector("#refund")
                await phone.fill("#amount", "20")
                await phone.fill("#amount_again", "20")
                await phone.fill("input[name=reason]", "退租")
                await phone.click("#refund button[type=submit]")  # the confirm is accepted
                await phone.wait_for_selector("p.flash.ok")
                assert "已退款 ¥20.00" in await text(phone, "p.flash.ok")
                assert "¥20.00" in await text(phone, "#order-refunded")
                assert "¥30.00" in await text(phone, "#order-balance")
                assert list(wx.trades[order_id].refunds.values()) == [2000]
                width = await phone.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"], f"the order is {width} px wide at 390 px"
                await shot(phone, "payment")
                for path, name in (("/payments", "payments"),
                                   ("/payments/reconciliation", "reconciliation")):
                    await phone.goto(base + path)
                    await phone.wait_for_selector("main h1")
                    width = await phone.evaluate("document.documentElement.scrollWidth")
                    assert width <= PHONE["width"], f"{path} is {width} px wide at 390 px"
                    await shot(phone, name)
