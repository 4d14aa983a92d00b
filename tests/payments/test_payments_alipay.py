"""Alipay against the local gateway stand-in: precreate and WAP, the asynchronous
notification (RSA2, signed by the python-alipay-sdk), queries, close and refunds."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from alipay import AliPay
from common import bounded, collect, db_rows
from payment_servers import ALIPAY_APP_ID, CHINA, alipay_server, form, keys
from payment_support import book_of, call, payment_hub

from hub.exceptions import ServiceValidationError
from hub.ledger import Ledger

D = Decimal


def balance(hub) -> Decimal:  # type: ignore[no-untyped-def]
    return hub.component("ledger", Ledger).balance("r101")


async def qr_order(hub, amount: str = "50") -> dict:  # type: ignore[no-untyped-def,type-arg]
    return await call(hub, "create_order", account_id="r101", amount=amount,
                      provider="alipay", channel="precreate")


@bounded(60)
async def test_precreate_paid_by_notification_is_credited_once(tmp_path: Path) -> None:
    async with alipay_server() as ali, payment_hub(tmp_path, [ali.config()]) as hub:
        events = collect(hub, "payment_received")
        order = await qr_order(hub)
        assert order["pay"]["qr_code"].startswith("https://qr.alipay.com/")
        trade = ali.pay(order["order_id"])
        body = ali.notification(trade)
        # the SDK's own verification accepts what the stand-in sent
        sdk = AliPay(ALIPAY_APP_ID, alipay_public_key_string=keys("alipay").public,
                     app_private_key_string=keys("app").private)
        fields = form(body)
        assert sdk.verify({k: v for k, v in fields.items() if k != "sign"}, fields["sign"])
        answers = await asyncio.gather(*(ali.deliver(trade, body) for _ in range(20)))
        assert answers == [(200, "success")] * 20  # the text Alipay's documentation asks for
        assert balance(hub) == D("50.00") and len(events) == 1
        assert events[0].data["method"] == "alipay"
        assert events[0].data["reference"] == trade.transaction_id


@bounded(60)
async def test_forged_stale_and_foreign_notifications_get_fail(tmp_path: Path) -> None:
    async with alipay_server() as ali, payment_hub(tmp_path, [ali.config()]) as hub:
        order = await qr_order(hub)
        trade = ali.pay(order["order_id"])
        old = datetime.now(CHINA) - timedelta(hours=3)
        for body in (ali.notification(trade, tamper=True),
                     ali.notification(trade, notify_time=old),
                     ali.notification(trade, app_id="2021000000009999"),
                     b"total_amount=50.00&out_trade_no=" + order["order_id"].encode()):
            assert await ali.deliver(trade, body) == (400, "fail")  # Alipay retries
        assert balance(hub) == D("0.00")
        reasons = [r[0] for r in db_rows(hub.config.data_dir,
                                         "SELECT detail FROM payment_notification")]
        assert "bad signature" in reasons[0] and "replay" in reasons[1]
        assert "for app" in reasons[2] and "bad signature" in reasons[3]
        assert await ali.deliver(trade) == (200, "success")
        assert balance(hub) == D("50.00")


@bounded(60)
async def test_unknown_order_and_another_amount(tmp_path: Path) -> None:
    async with alipay_server() as ali, payment_hub(tmp_path, [ali.config()]) as hub:
        order = await qr_order(hub)
        trade = ali.pay(order["order_id"])
        stranger = type(trade)("mh-not-ours", 5000, trade.notify_url, "TRADE_SUCCESS",
                               transaction_id="2026999")
        assert await ali.deliver(stranger) == (400, "fail")
        assert await ali.deliver(trade, ali.notification(trade, amount_fen=4999)) \
            == (200, "success")
        assert balance(hub) == D("0.00")
        found = await call(hub, "order", order_id=order["order_id"])
        assert found["state"] == "paid" and "paid 49.99" in found["problem"]


@bounded(60)
async def test_wap_redirect_is_signed_and_a_lost_payment_is_queried(tmp_path: Path) -> None:
    async with alipay_server() as ali, payment_hub(
            tmp_path, [ali.config()], payments="query_after: 0s") as hub:
        order = await call(hub, "create_order", account_id="r101", amount="30",
                           provider="alipay", channel="wap",
                           return_url="https://portal.example/t/abc")
        url = urlsplit(order["pay"]["redirect_url"])
        params = dict(parse_qsl(url.query))
        assert params["method"] == "alipay.trade.wap.pay" and params["return_url"]
        content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign")
        assert ali.checker._verify(content, params["sign"])  # the SDK's RSA2 check
        await book_of(hub).check_open_orders()  # never opened at Alipay yet: nothing
        assert (await call(hub, "order", order_id=order["order_id"]))["state"] == "created"
        ali.do_alipay_trade_precreate(  # the payer opened the page: Alipay has the trade
            {"out_trade_no": order["order_id"], "total_amount": "30.00"},
            {"notify_url": "http://127.0.0.1:9/unused"})
        ali.pay(order["order_id"])
        await book_of(hub).check_open_orders()
        assert (await call(hub, "order", order_id=order["order_id"]))["state"] == "credited"
        assert balance(hub) == D("30.00")


@bounded(60)
async def test_alipay_refund_and_expiry_close(tmp_path: Path) -> None:
    async with alipay_server() as ali, payment_hub(
            tmp_path, [ali.config()], payments="query_after: 0s\norder_ttl: 0s") as hub:
        order = await qr_order(hub)
        await book_of(hub).check_open_orders()
        assert (await call(hub, "order", order_id=order["order_id"]))["state"] == "closed"
        assert "alipay.trade.close" in ali.methods
        paid = await qr_order(hub, "40")
        assert await ali.deliver(ali.pay(paid["order_id"])) == (200, "success")
        refund = await call(hub, "refund", order_id=paid["order_id"], amount="15")
        assert refund["state"] == "success" and balance(hub) == D("25.00")
        with pytest.raises(ServiceValidationError, match=r"25\.00 of 40\.00"):
            await call(hub, "refund", order_id=paid["order_id"], amount="26")
