"""A refund the provider (a real local WeChat Pay server) refuses: the refusal kept on the
refund and the reversal's reason kept in the ledger are worded for whoever reads them later —
the refusal answered, the ledger over the API (zh-CN and en), the order's and the account's
pages; a refund error kept before (plain English) still shows as it was."""

from __future__ import annotations

import html
import json
import re
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from common import bounded, start_hub, wait_for, web_client
from payment_servers import wechat_server
from payment_support import call, payment_hub

from hub.exceptions import ServiceValidationError
from hub.i18n import Joined, localize
from hub.ledger import Ledger

sys.path.insert(0, str(Path(__file__).parents[1] / "payments"))  # a paid order
sys.path.insert(0, str(Path(__file__).parents[1] / "billing"))  # a share group
from test_payments_refunds import paid_order
from test_share_invoice import CONFIG as SHARE_CONFIG

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
            for language, words in (("zh-CN", "拒绝了这笔退款"), ("en", "refused the refund")):
                response = await client.get("/api/audit", params={"account": "r101"},
                                            headers={"Accept-Language": language})
                details = [row["detail"] for row in (await response.json())["items"]
                           if row["action"] == "reversal"]
                assert len(details) == 1 and words in details[0], details
            response = await client.get("/audit?lang=zh-CN&account=r101")
            shown = text_of_page(await response.text())
            assert "拒绝了这笔退款" in shown and "$text" not in shown, shown
    # the command line, on the database (no hub runs), in the site's language
    config = tmp_path / "hub.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "time_zone: Asia/Shanghai}", "time_zone: Asia/Shanghai, language: zh-CN}"),
        encoding="utf-8")
    printed = subprocess.run(
        [sys.executable, "-m", "hub", "audit", "--account", "r101", "-c", str(config),
         "--data", str(tmp_path / "data")], capture_output=True, text=True, timeout=120,
        cwd=tmp_path, check=False)
    assert printed.returncode == 0, printed.stderr
    details = [row["detail"] for row in json.loads(printed.stdout) if row["action"] == "reversal"]
    assert len(details) == 1 and "拒绝了这笔退款" in details[0], printed.stdout
    with sqlite3.connect(tmp_path / "data" / "meterhub.db") as db:  # a row kept before
        db.execute("UPDATE payment_refund SET error = 'refused by the provider (old row)'")
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub, \
            web_client(hub, tmp_path) as client:
        response = await client.get(f"/payments/orders/{order_id}?lang=zh-CN")
        assert "refused by the provider (old row)" in text_of_page(await response.text())


@pytest.mark.timeout(150)
@bounded(120)
async def test_an_invoice_shares_ledger_reason_is_worded_where_it_is_read(
        tmp_path: Path) -> None:
    async with start_hub(tmp_path, SHARE_CONFIG) as hub, web_client(hub, tmp_path) as client:
        response = await client.post("/api/services/share/split", params={
            "return_response": "1"}, json={"group": "water", "amount": "99.99",
                                           "start": "2026-10-01", "end": "2026-12-31",
                                           "invoice": "SW-2026-Q4", "post": True})
        assert response.status == 200, await response.text()
        reasons = {}
        for language in ("zh-CN", "en"):
            response = await client.get("/api/accounts/r1/ledger",
                                        headers={"Accept-Language": language})
            reasons[language] = [entry["reason"] for entry in (await response.json())["items"]
                                 if entry["kind"] == "share"]
        assert reasons == {"zh-CN": ["公摊发票 SW-2026-Q4"], "en": ["invoice SW-2026-Q4"]}
        response = await client.get("/accounts/r1?lang=zh-CN")
        shown = text_of_page(await response.text())
        assert "公摊发票 SW-2026-Q4" in shown and "invoice SW-2026-Q4" not in shown, shown


OPENING_SITE = """
site: {name: Opening, time_zone: Asia/Shanghai, language: zh-CN}
http: {host: 127.0.0.1, port: 0}
storage: {commit_interval: 0.02}
accounts:
  - {id: r1, name: 甲, opening_balance: 50.00}
"""


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_hubs_own_ledger_reasons_are_worded(tmp_path: Path) -> None:
    """Opening balances (from hub.yaml, from account.create) are kept keyed: the ledger over
    the API words them for its reader."""
    async with start_hub(tmp_path, OPENING_SITE) as hub:
        await hub.services.call("account", "create", {"account": {
            "id": "r2", "name": "乙", "opening_balance": "20.00"}}, blocking=True)
        ledger = hub.component("ledger", Ledger)  # the opening balance is posted right after
        await wait_for(lambda: ledger.balance("r2") == Decimal("20.00"), timeout=60)
        async with web_client(hub, tmp_path) as client:
            for account_id, chinese, english in (
                    ("r1", "配置中的期初余额", "opening balance (期初余额) from the configuration"),
                    ("r2", "开户时录入的期初余额",
                     "opening balance (期初余额) given when the account was created")):
                for language, words in (("zh-CN", chinese), ("en", english)):
                    response = await client.get(f"/api/accounts/{account_id}/ledger",
                                                headers={"Accept-Language": language})
                    assert response.status == 200, await response.text()
                    reasons = [entry["reason"] for entry in (await response.json())["items"]]
                    assert reasons == [words], (account_id, language, reasons)
