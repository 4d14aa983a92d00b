"""Cash at the desk behind the provider interface: paid when recorded, the receipt number
as the payment's reference (the same key as ``meterhub account recharge``), a receipt."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from common import bounded, collect, db_rows
from payment_support import call, payment_hub

from hub.exceptions import ServiceValidationError
from hub.ledger import Ledger

D = Decimal


@bounded(60)
async def test_a_cash_recharge_is_credited_at_once_and_once_per_receipt(tmp_path: Path) -> None:
    async with payment_hub(tmp_path, [{"provider": "cash"}]) as hub:
        events = collect(hub, "payment_received")
        order = await call(hub, "create_order", account_id="r102", amount="100",
                           provider="cash", channel="counter", reference="R-0001")
        assert order["state"] == "credited" and order["transaction_id"] == "R-0001"
        assert "receipt: R-0001" in order["pay"]["receipt_lines"]
        assert hub.component("ledger", Ledger).balance("r102") == D("100.00")
        with pytest.raises(ServiceValidationError, match="'R-0001' was already recorded"):
            await call(hub, "create_order", account_id="r102", amount="100",
                       provider="cash", channel="counter", reference="R-0001")
        with pytest.raises(ServiceValidationError, match="receipt number"):
            await call(hub, "create_order", account_id="r102", amount="100",
                       provider="cash", channel="counter")
        assert hub.component("ledger", Ledger).balance("r102") == D("100.00")
        assert [e.data["method"] for e in events] == ["cash"]
        keys = db_rows(hub.config.data_dir, "SELECT idem_key FROM ledger_entry WHERE kind = "
                                            "'recharge'")
        assert keys == [("recharge:R-0001",)]  # what `meterhub account recharge` would use
        refund = await call(hub, "refund", order_id=order["order_id"], amount="30")
        assert refund["state"] == "success"
        assert hub.component("ledger", Ledger).balance("r102") == D("70.00")
        with pytest.raises(ServiceValidationError, match="no provider with a remote record"):
            await call(hub, "reconcile", provider="cash")


@bounded(60)
async def test_the_orders_service_answers_the_newest_orders(tmp_path: Path) -> None:
    async with payment_hub(tmp_path, [{"provider": "cash"}]) as hub:
        for number in range(1, 5):
            await call(hub, "create_order", account_id="r102", amount="10", provider="cash",
                       channel="counter", reference=f"R-{number}")
            await asyncio.sleep(0.01)  # distinct creation times
        found = await call(hub, "orders", account_id="r102", limit=2)
        # the newest two, newest last (not the last two of the oldest rows read)
        assert [order["transaction_id"] for order in found["orders"]] == ["R-3", "R-4"]
