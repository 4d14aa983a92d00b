"""Postpaid accounts: the bill is charged when issued, due, reminded, overdue, paid."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path

from bills_support import config, engine, hourly, running_hub
from common import Clock, bounded, collect, settle

from hub.ledger.ledger import Ledger

D = Decimal

CFG = config([("e1", "ddsy", "p1", "flat")], """
accounts:
  - id: p1
    name: Shop 1
    billing: postpaid
    postpaid: {due_days: 10, grace_days: 5, remind_days: [-3, 0, 3]}
tariffs:
  - {id: flat, type: flat, price: 1.00, fixed_fees: {rent: 20.00}}
""")


@bounded()
async def test_postpaid_bill_due_reminders_overdue_and_payment(tmp_path: Path) -> None:
    clock = Clock("2025-07-20T12:00")
    async with running_hub(tmp_path, CFG, clock) as hub:
        ledger = hub.component("ledger", Ledger)
        billing = engine(hub)
        seen = collect(hub, "bill_issued", "bill_reminder", "bill_overdue", "bill_paid",
                       "balance_low", "balance_exhausted")
        async with asyncio.timeout(30):
            hourly(hub, "e1", "2025-07-20T00:00", [D("2.5")] * 40)
            await settle(hub)
            assert ledger.balance("p1") == 0  # postpaid: nothing per read
            clock.set("2025-08-01T03:00")
            await billing.tick()
            await settle(hub)
        bill = await billing.bill("p1-20250701")
        assert bill is not None and bill.status == "issued"
        assert bill.total == D("120.00") and bill.due_date == date(2025, 8, 10)
        assert ledger.balance("p1") == D("-120.00")
        kinds = sorted(e.kind for e in await ledger.entries("p1", limit=None))
        assert kinds == ["charge", "fee"]
        assert [e.event_type for e in seen] == ["bill_issued"]
        seen.clear()

        async def day(text: str) -> list[tuple[str, object]]:
            clock.set(text)
            await billing.tick()
            await settle(hub)
            out = [(e.event_type, e.data.get("days")) for e in seen]
            seen.clear()
            return out

        async with asyncio.timeout(30):
            assert await day("2025-08-06T09:00") == []
            assert await day("2025-08-07T09:00") == [("bill_reminder", -3)]
            assert await day("2025-08-08T09:00") == []
            assert await day("2025-08-13T09:00") == [("bill_reminder", 3)]  # 0 was missed
            assert await day("2025-08-15T09:00") == []
            assert ledger.overdue_since("p1") == date(2025, 8, 10)
            assert await day("2025-08-16T09:00") == [("bill_overdue", None)]
            assert await day("2025-08-17T09:00") == []
        state = hub.states.get("account.p1")
        assert state is not None and state.attributes["overdue"] is True
        assert state.attributes["amount_due"] == D("120.00")
        assert state.attributes["open_bills"] == 1
        async with asyncio.timeout(30):
            await hub.services.call("account", "recharge", {
                "account_id": "p1", "amount": "100", "method": "bank", "reference": "b1"})
            await settle(hub)
            bill = await billing.bill("p1-20250701")
            assert bill is not None and bill.status == "partly_paid"
            assert bill.paid == D("100.00") and bill.overdue is True
            await hub.services.call("account", "recharge", {
                "account_id": "p1", "amount": "20", "method": "bank", "reference": "b2"})
            await settle(hub)
        bill = await billing.bill("p1-20250701")
        assert bill is not None and bill.status == "paid" and not bill.overdue
        assert [e.event_type for e in seen] == ["bill_paid"]
        assert not billing.overdue("p1") and ledger.overdue_since("p1") is None
        state = hub.states.get("account.p1")
        assert state is not None and state.attributes["overdue"] is False
        # paid: no open bill left, the state says so as an account that never had one
        assert (state.attributes["open_bills"], state.attributes["amount_due"]) == (0, D("0"))
        assert str(state.attributes["amount_due"]) == "0.00"


@bounded()
async def test_open_bills_survive_a_restart(tmp_path: Path) -> None:
    clock = Clock("2025-08-01T03:00")
    async with running_hub(tmp_path, CFG, clock) as hub:
        async with asyncio.timeout(30):
            hourly(hub, "e1", "2025-07-30T00:00", [D(1)] * 5)
            await settle(hub)
            await engine(hub).tick()
            await settle(hub)
    clock.set("2025-08-20T03:00")
    async with running_hub(tmp_path, CFG, clock) as hub:
        seen = collect(hub, "bill_overdue", "bill_issued")
        async with asyncio.timeout(30):
            summary = await engine(hub).tick()
            await settle(hub)
        assert summary["bills"] == 0  # July exists already; August is not over
        assert [e.event_type for e in seen] == ["bill_overdue"]
        assert engine(hub).overdue("p1")
