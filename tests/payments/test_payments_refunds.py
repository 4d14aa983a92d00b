"""Refunds through the provider: partial and full, never more than paid on the order nor the
balance, in the ledger, notified; a refund the provider refuses is reversed; one the
provider is still working on is settled by its notification or a later query."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from common import bounded, collect, db_rows
from payment_servers import wechat_server
from payment_support import book_of, call, payment_hub

from hub.exceptions import ServiceValidationError
from hub.ledger import Ledger

D = Decimal


async def paid_order(hub, wx, amount: str = "50") -> str:  # type: ignore[no-untyped-def]
    order = await call(hub, "create_order", account_id="r101", amount=amount,
                       provider="wechatpay", channel="native")
    trade = wx.pay(order["order_id"])
    assert await wx.deliver(trade) == (200, "")
    return str(order["order_id"])


@bounded(60)
async def test_partial_then_full_refund_never_more_than_paid(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        ledger = hub.component("ledger", Ledger)
        refunded = collect(hub, "payment_refunded")
        order_id = await paid_order(hub, wx)
        first = await call(hub, "refund", order_id=order_id, amount="20", reason="move-out")
        assert first["state"] == "success" and first["amount"] == D("20.00")
        assert ledger.balance("r101") == D("30.00")
        assert wx.trades[order_id].refunds == {first["refund_id"]: 2000}
        order = await call(hub, "order", order_id=order_id)
        assert order["state"] == "partially_refunded" and order["refunded"] == D("20.00")
        with pytest.raises(ServiceValidationError, match=r"30\.00 of 50\.00 paid"):
            await call(hub, "refund", order_id=order_id, amount="30.01")
        rest = await call(hub, "refund", order_id=order_id)  # what is left
        assert rest["amount"] == D("30.00") and ledger.balance("r101") == D("0.00")
        assert (await call(hub, "order", order_id=order_id))["state"] == "refunded"
        with pytest.raises(ServiceValidationError, match=r"0\.00 of 50\.00 paid"):
            await call(hub, "refund", order_id=order_id, amount="0.01")
        assert [e.data["amount"] for e in refunded] == [D("20.00"), D("30.00")]
        rows = db_rows(hub.config.data_dir, "SELECT kind, amount, idem_key FROM ledger_entry "
                                            "WHERE kind = 'refund' ORDER BY entry_key")
        assert rows == [("refund", -2000, f"refund:{first['refund_id']}"),
                        ("refund", -3000, f"refund:{rest['refund_id']}")]
        # a replayed payment notification of the refunded order credits nothing
        trade = wx.trades[order_id]
        assert await wx.deliver(trade) == (200, "")
        assert ledger.balance("r101") == D("0.00")


@bounded(60)
async def test_a_refund_is_never_more_than_the_balance(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        order_id = await paid_order(hub, wx)
        await hub.services.call("account", "adjust", {  # 45 of it used up
            "account_id": "r101", "amount": "-45", "reason": "usage", "operator": "t"})
        with pytest.raises(ServiceValidationError, match="more than the refundable balance"):
            await call(hub, "refund", order_id=order_id, amount="10")
        assert not wx.trades[order_id].refunds  # the provider was never asked
        assert hub.component("ledger", Ledger).balance("r101") == D("5.00")
        order = await call(hub, "order", order_id=order_id)
        assert order["state"] == "credited" and order["refunded"] == D("0.00")
        done = await call(hub, "refund", order_id=order_id, amount="5")
        assert done["state"] == "success"


@bounded(60)
async def test_a_refund_the_provider_refuses_is_reversed(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        order_id = await paid_order(hub, wx)
        wx.trades[order_id].refunds["elsewhere"] = 4000  # refunded at the merchant platform
        with pytest.raises(ServiceValidationError, match=r"NOT_ENOUGH.*reversed"):
            await call(hub, "refund", order_id=order_id, amount="20")
        assert hub.component("ledger", Ledger).balance("r101") == D("50.00")
        order = await call(hub, "order", order_id=order_id)
        assert order["state"] == "credited" and order["refunded"] == D("0.00")


@bounded(60)
async def test_a_refund_in_processing_is_settled_by_its_notification_once(
        tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        refunded = collect(hub, "payment_refunded")
        order_id = await paid_order(hub, wx)
        wx.refund_status = "PROCESSING"
        answer = await call(hub, "refund", order_id=order_id, amount="10")
        assert answer["state"] == "processing" and not refunded
        assert hub.component("ledger", Ledger).balance("r101") == D("40.00")
        trade = wx.trades[order_id]
        resource = {"mchid": "1900000109", "out_trade_no": order_id,
                    "transaction_id": trade.transaction_id,
                    "out_refund_no": answer["refund_id"], "refund_id": "50000001",
                    "refund_status": "SUCCESS", "success_time": "2026-01-01T10:00:00+08:00",
                    "amount": {"total": 5000, "refund": 1000, "payer_total": 5000,
                               "payer_refund": 1000}}
        note = wx.notification(trade, event_type="REFUND.SUCCESS", resource=resource)
        assert await wx.deliver(trade, note) == (200, "")
        assert await wx.deliver(trade, note) == (200, "")
        assert [e.data["refund_id"] for e in refunded] == [answer["refund_id"]]
        order = await call(hub, "order", order_id=order_id)
        assert order["state"] == "partially_refunded" and order["refunded"] == D("10.00")
        assert hub.component("ledger", Ledger).balance("r101") == D("40.00")


@bounded(60)
async def test_a_refund_in_processing_is_settled_by_a_query(tmp_path: Path) -> None:
    async with wechat_server() as wx, payment_hub(tmp_path, [wx.config()]) as hub:
        order_id = await paid_order(hub, wx)
        wx.refund_status = "PROCESSING"
        answer = await call(hub, "refund", order_id=order_id, amount="10")
        await book_of(hub).check_open_orders()
        rows = db_rows(hub.config.data_dir, "SELECT state FROM payment_refund")
        assert rows == [("success",)], rows
        assert json.loads(json.dumps(answer, default=str))["state"] == "processing"
