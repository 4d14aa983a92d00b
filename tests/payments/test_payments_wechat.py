"""WeChat Pay v3 against the local stand-in: orders, notifications (good and bad), queries.

Notifications are built as WeChat Pay documents them (AEAD_AES_256_GCM resource, the body
signed with the platform key) and are first checked with the wechatpayv3 SDK's own code.
"""

from __future__ import annotations

import asyncio
import base64
import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import pytest
from common import bounded, collect, db_rows
from payment_servers import (
    API_V3_KEY,
    WechatServer,
    keys,
    wechat_server,
)
from payment_support import book_of, call, payment_hub
from wechatpayv3.utils import aes_decrypt, load_public_key, rsa_verify

from hub.exceptions import ServiceValidationError
from hub.ledger import Ledger

D = Decimal


def balance(hub, account: str = "r101") -> Decimal:  # type: ignore[no-untyped-def]
    return hub.component("ledger", Ledger).balance(account)


async def native_order(hub, amount: str = "50") -> dict:  # type: ignore[no-untyped-def,type-arg]
    return await call(hub, "create_order", account_id="r101", amount=amount,
                      provider="wechatpay", channel="native")


def sdk_accepts(headers: dict[str, str], body: bytes) -> dict:  # type: ignore[type-arg]
    """The wechatpayv3 SDK's verification and decryption of a notification."""
    assert rsa_verify(headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"], body.decode(),
                      headers["Wechatpay-Signature"], load_public_key(keys("platform").public))
    resource = json.loads(body)["resource"]
    return json.loads(aes_decrypt(resource["nonce"], resource["ciphertext"],
                                  resource["associated_data"], API_V3_KEY))


@bounded(60)
async def test_native_order_paid_by_notification_is_credited_once(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        events = collect(hub, "payment_received", "payment_order")
        order = await native_order(hub)
        assert order["state"] == "created" and order["pay"]["code_url"].startswith("weixin://")
        assert ("POST", "/v3/pay/transactions/native") in wx.requests  # signed, accepted
        trade = wx.pay(order["order_id"])
        note = wx.notification(trade)
        assert sdk_accepts(*note)["transaction_id"] == trade.transaction_id
        assert await wx.deliver(trade, note) == (200, "")
        assert balance(hub) == D("50.00")
        found = await call(hub, "order", order_id=order["order_id"])
        assert found["state"] == "credited" and found["transaction_id"] == trade.transaction_id
        # the ledger entry: the transaction id is its key, the order its context
        rows = db_rows(hub.config.data_dir, "SELECT idem_key, origin FROM ledger_entry "
                                            "WHERE kind = 'recharge'")
        assert rows == [(f"recharge:{trade.transaction_id}", f"payment:{order['order_id']}")]
        # a replay later: acknowledged, nothing more credited
        assert await wx.deliver(trade, wx.notification(trade)) == (200, "")
        assert balance(hub) == D("50.00")
        assert [e.data["amount"] for e in events if e.event_type == "payment_received"] \
            == [D("50.00")]
        states = [e.data["state"] for e in events if e.event_type == "payment_order"]
        assert states == ["created", "paid", "credited"]


@bounded(90)
async def test_the_same_notification_20_times_in_parallel_credits_once(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        events = collect(hub, "payment_received")
        order = await native_order(hub, "12.34")
        trade = wx.pay(order["order_id"])
        note = wx.notification(trade)
        answers = await asyncio.gather(*(wx.deliver(trade, note) for _ in range(20)))
        assert answers == [(200, "")] * 20
        assert balance(hub) == D("12.34")
        assert len(events) == 1
        rows = db_rows(hub.config.data_dir, "SELECT COUNT(*) FROM ledger_entry WHERE kind = "
                                            "'recharge'")
        assert rows == [(1,)]


async def _refused(wx: WechatServer, trade, note) -> str:  # type: ignore[no-untyped-def]
    status, text = await wx.deliver(trade, note)
    assert status == 500  # WeChat Pay retries on 4xx/5xx ...
    answer = json.loads(text)
    assert answer["code"] == "FAIL"  # ... with JSON code/message
    return str(answer["message"])


@bounded(60)
async def test_forged_stale_and_foreign_notifications_are_refused(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        order = await native_order(hub)
        trade = wx.pay(order["order_id"])
        forged = wx.notification(trade, sign_key=keys("merchant").private)
        assert "bad signature" in await _refused(wx, trade, forged)
        stale = wx.notification(trade, timestamp=int(trade.paid_at.timestamp()) - 3600)
        assert "replay" in await _refused(wx, trade, stale)
        wrong_key = wx.notification(trade, api_v3_key="x" * 32)
        assert "decrypted" in await _refused(wx, trade, wrong_key)
        other = wx.transaction(trade)
        other["mchid"] = "1900000999"
        assert "merchant" in await _refused(wx, trade, wx.notification(trade, resource=other))
        headers, body = wx.notification(trade)
        tampered = body.replace(b'"event_type"', b'"event_type" ', 1)
        assert "bad signature" in await _refused(wx, trade, (headers, tampered))
        assert balance(hub) == D("0.00")
        log = db_rows(hub.config.data_dir, "SELECT outcome FROM payment_notification")
        assert log == [("refused",)] * 5
        # the genuine one still counts
        assert await wx.deliver(trade) == (200, "")
        assert balance(hub) == D("50.00")


@bounded(60)
async def test_an_amount_that_differs_is_recorded_not_credited(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        alarms = collect(hub, "payment_mismatch")
        order = await native_order(hub)
        trade = wx.pay(order["order_id"])
        assert await wx.deliver(trade, wx.notification(trade, amount_fen=1)) == (200, "")
        assert balance(hub) == D("0.00")
        found = await call(hub, "order", order_id=order["order_id"])
        assert found["state"] == "paid" and "paid 0.01 for an order of 50.00" in found["problem"]
        assert [a.data["amount_differs"] for a in alarms] == [[order["order_id"]]]


@bounded(60)
async def test_a_notification_before_its_order_is_stored_is_retried(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        order = await native_order(hub)
        trade = wx.pay(order["order_id"])
        storage = book_of(hub).storage
        row = await storage.payments_read(lambda s: s.order(order["order_id"]))
        assert row is not None
        # as if the notification came first: the order is not in the book yet
        await storage.payments_write(lambda s: s.conn.execute(
            "DELETE FROM payment_order WHERE order_id = ?", (row.order_id,)))
        assert "unknown order" in await _refused(wx, trade, wx.notification(trade))
        assert balance(hub) == D("0.00")
        await storage.payments_write(lambda s: s.add_order(row))  # now it is stored
        assert await wx.deliver(trade) == (200, "")  # WeChat Pay's retry
        assert balance(hub) == D("50.00")


@bounded(60)
async def test_lost_notification_is_recovered_by_the_order_query(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(
            tmp_path, [wx.config()], payments="query_after: 0s") as hub:
        order = await native_order(hub)
        book = book_of(hub)
        await book.check_open_orders()  # not paid yet: still open
        assert (await call(hub, "order", order_id=order["order_id"]))["state"] == "created"
        trade = wx.pay(order["order_id"])  # paid; its notification never arrives
        await book.check_open_orders()
        found = await call(hub, "order", order_id=order["order_id"])
        assert found["state"] == "credited" and found["transaction_id"] == trade.transaction_id
        assert balance(hub) == D("50.00")
        # the late notification after all: acknowledged, not credited again
        assert await wx.deliver(trade) == (200, "")
        await book.check_open_orders()
        assert balance(hub) == D("50.00")


@bounded(60)
async def test_expired_orders_are_closed_and_a_payment_after_is_still_credited_once(
        tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(
            tmp_path, [wx.config()], payments="query_after: 0s\norder_ttl: 0s") as hub:
        order = await native_order(hub)
        await book_of(hub).check_open_orders()
        assert (await call(hub, "order", order_id=order["order_id"]))["state"] == "closed"
        assert wx.trades[order["order_id"]].state == "CLOSED"  # closed at WeChat Pay too
        wx.trades[order["order_id"]].state = "NOTPAY"  # the payer had paid in the same second
        trade = wx.pay(order["order_id"])
        assert await wx.deliver(trade) == (200, "")
        assert await wx.deliver(trade) == (200, "")
        assert balance(hub) == D("50.00")


@bounded(60)
async def test_jsapi_needs_the_openid_and_answers_signed_bridge_parameters(
        tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        with pytest.raises(ServiceValidationError, match="openid"):
            await call(hub, "create_order", account_id="r101", amount="20",
                       provider="wechatpay", channel="jsapi")
        order = await call(hub, "create_order", account_id="r101", amount="20",
                           provider="wechatpay", channel="jsapi", openid="o-tenant-1")
        bridge = order["pay"]["jsapi"]
        assert bridge["package"].startswith("prepay_id=wx") and bridge["signType"] == "RSA"
        # paySign over appId, timeStamp, nonceStr, package (one per line), merchant key
        assert rsa_verify(f"{bridge['appId']}\n{bridge['timeStamp']}", bridge["nonceStr"],
                          bridge["package"], bridge["paySign"],
                          load_public_key(keys("merchant").public))
        assert wx.trades[order["order_id"]].openid == "o-tenant-1"


@bounded(60)
async def test_orders_outside_the_account_limits_or_channels_are_refused(
        tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        for data, words in (
                ({"amount": "501"}, "outside this account's limits 1.00 to 500.00"),
                ({"amount": "0.50"}, "outside this account's limits"),
                ({"channel": "precreate"}, "offers jsapi, native, not 'precreate'"),
                ({"provider": "alipay"}, "'alipay' takes no payments"),
                ({"account_id": "r999"}, "unknown account 'r999'")):
            request = {"account_id": "r101", "amount": "50", "provider": "wechatpay",
                       "channel": "native", **data}
            with pytest.raises(ServiceValidationError) as err:
                await call(hub, "create_order", **request)
            assert words in str(err.value.errors), err.value.errors
        assert not wx.trades
        assert db_rows(hub.config.data_dir, "SELECT COUNT(*) FROM payment_order") == [(0,)]


def test_platform_signature_cross_check_rejects_a_changed_byte() -> None:
    """The SDK's verifier refuses what we refuse: a changed byte of a signed body."""
    server = WechatServer()
    trade = server.trades.setdefault("o1", __import__("payment_servers").Trade(
        "o1", 100, "http://x", "SUCCESS", transaction_id="4200"))
    headers, body = server.notification(trade)
    sdk_accepts(headers, body)
    signature = base64.b64decode(headers["Wechatpay-Signature"])
    assert not rsa_verify(headers["Wechatpay-Timestamp"], headers["Wechatpay-Nonce"],
                          body.decode() + " ", base64.b64encode(signature).decode(),
                          load_public_key(keys("platform").public))


@bounded(60)
async def test_an_h5_order_sends_the_phone_to_wechats_cashier_and_back(tmp_path: Path) -> None:
    """WeChat Pay H5 (the WAP channel) once the merchant has it (``h5: true``): the payer's
    address in scene_info, h5_url with an encoded redirect_url that names the order."""
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config(h5=True)]) as hub:
        back = "https://hub.example/tenant/back"
        order = await call(hub, "create_order", account_id="r101", amount="30",
                           provider="wechatpay", channel="wap", payer_ip="114.114.114.114",
                           return_url=back)
        assert ("POST", "/v3/pay/transactions/h5") in wx.requests  # signed, accepted
        assert wx.trades[order["order_id"]].payer_ip == "114.114.114.114"
        url = order["pay"]["redirect_url"]
        assert url.startswith(f"{wx.url}/h5pay?prepay_id=wx")
        encoded = url.split("&redirect_url=", 1)[1]
        assert "/" not in encoded and ":" not in encoded  # URL-encoded, as WeChat asks
        assert unquote(encoded) == f"{back}?out_trade_no={order['order_id']}"
        trade = wx.pay(order["order_id"])
        assert await wx.deliver(trade) == (200, "")
        assert balance(hub) == D("30.00")
        # no address: refused before an order is opened (WeChat checks it against the phone's)
        opened = len(wx.requests)
        with pytest.raises(ServiceValidationError, match="payer_ip: wechatpay's page"):
            await call(hub, "create_order", account_id="r101", amount="30",
                       provider="wechatpay", channel="wap", return_url=back)
        assert len(wx.requests) == opened
        with pytest.raises(ServiceValidationError, match="IP"):
            await call(hub, "create_order", account_id="r101", amount="30",
                       provider="wechatpay", channel="wap", payer_ip="not-an-ip")


@bounded(60)
async def test_without_h5_a_wechat_pay_merchant_takes_no_wap_order(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        with pytest.raises(ServiceValidationError, match="wap"):
            await call(hub, "create_order", account_id="r101", amount="30",
                       provider="wechatpay", channel="wap", payer_ip="114.114.114.114")
        assert not any(path.endswith("/h5") for _method, path in wx.requests)
