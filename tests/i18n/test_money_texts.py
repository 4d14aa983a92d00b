"""A refund the provider (a real local WeChat Pay server) refuses: the refusal kept on the
refund and the reversal's reason kept in the ledger are worded for whoever reads them later —
the refusal answered, the ledger over the API (zh-CN and en), the order's and the account's
pages; a refund error kept before (plain English) still shows as it was."""

from __future__ import annotations

import html
import re
import sqlite3
import sys
from pathlib import Path

import pytest
from common import bounded, web_client
from payment_servers import wechat_server
from payment_support import call, payment_hub

from hub.exceptions import ServiceValidationError
from hub.i18n import Joined, localize

sys.path.insert(0, str(Path(__file__).parents[1] / "payments"))  # a paid order
from test_payments_refunds import paid_order

CJK = re.compile(r"[\u4e00-\u9fff]")
HUB_ENGLISH = ("refused the refund", "ledger entry was reversed", "refund rf")
"""What the hub itself wrote in English (the provider's own words are its values)."""


def text_of_page(page: str) -> str:
    """A page's visible text."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_refused_refund_is_worded_where_it_is_read(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        order_id = await paid_order(hub, wx)
        wx.trades[order_id].refunds["elsewhere"] = 4000  # refunded at the merchant platform
        with pytest.raises(ServiceValidationError) as refused:
            await call(hub, "refund", order_id=order_id, amount="20", reason="退租")
        answered = localize(Joined(refused.value.errors), "zh-CN")
        assert "拒绝了这笔退款" in answered and "退款的记账已冲回" in answered, answered
        assert not any(words in answered for words in HUB_ENGLISH), answered
        async with web_client(hub, tmp_path) as client:
            reasons = {}
            for language in ("zh-CN", "en"):
                response = await client.get("/api/accounts/r101/ledger",
                                            headers={"Accept-Language": language})
                assert response.status == 200, await response.text()
                reasons[language] = [entry["reason"] for entry in (await response.json())[
                    "items"] if entry["kind"] == "reversal"]
            assert len(reasons["zh-CN"]) == 1 and "拒绝了这笔退款" in reasons["zh-CN"][0], reasons
            assert not any(words in reasons["zh-CN"][0] for words in HUB_ENGLISH), reasons
            assert "wechatpay refused the refund" in reasons["en"][0], reasons
            assert not CJK.search(reasons["en"][0]), reasons
            for path in (f"/payments/orders/{order_id}", "/accounts/r101"):
                for language in ("zh-CN", "en"):
                    response = await client.get(f"{path}?lang={language}")
                    assert response.status == 200, await response.text()
                    page = await response.text()
                    assert "$text" not in page, path
                    shown = text_of_page(page)
                    if language == "zh-CN":
                        assert "拒绝了这笔退款" in shown, (path, shown)
                        assert not any(words in shown for words in HUB_ENGLISH), path
                    else:
                        assert "wechatpay refused the refund" in shown, (path, shown)
    with sqlite3.connect(tmp_path / "data" / "meterhub.db") as db:  # a row kept before
        db.execute("UPDATE payment_refund SET error = 'refused by the provider (old row)'")
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub, \
            web_client(hub, tmp_path) as client:
        response = await client.get(f"/payments/orders/{order_id}?lang=zh-CN")
        assert "refused by the provider (old row)" in text_of_page(await response.text())
