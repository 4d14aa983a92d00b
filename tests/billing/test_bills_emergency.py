"""Emergency credit is a loan: it is never paid out, not by a refund and not at move-out."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from bills_support import Clock, bounded, config, running_hub

from hub.exceptions import ServiceValidationError
from hub.ledger.book import AccountBook
from hub.ledger.ledger import Ledger

D = Decimal

CFG = config([("e1", "ddsy", "r1", "room")], """
accounts:
  - {id: r1, deposit: 100, move_in: 2025-03-10, emergency_credit: {amount: 15}}
tariffs:
  - {id: room, type: flat, price: 0.60}
""")


@bounded()
async def test_emergency_credit_is_not_refunded_and_is_repaid_at_move_out(
        tmp_path: Path) -> None:
    clock = Clock("2025-03-10T09:00")
    async with running_hub(tmp_path, CFG, clock) as hub:
        ledger = hub.component("ledger", Ledger)
        call = hub.services.call
        async with asyncio.timeout(30):
            await call("account", "recharge", {"account_id": "r1", "amount": "20",
                                               "method": "cash", "reference": "c-1"})
            await call("account", "emergency_credit", {"account_id": "r1"})
            assert ledger.balance("r1") == D("35.00")
            with pytest.raises(ServiceValidationError, match=r"refundable balance 20\.00"):
                await call("account", "refund", {"account_id": "r1", "amount": "21",
                                                 "method": "cash", "reference": "rf-1"})
            assert ledger.balance("r1") == D("35.00")  # nothing changed
            clock.set("2025-03-20T10:00")
            result = await call("account", "move_out", {"account_id": "r1", "read": False},
                                return_response=True)
        settlement = result["bill"]["settlement"]
        # 35.00 balance - 15.00 emergency credit repaid + 100.00 deposit = 120.00 paid back
        assert settlement["refund"] == "120.00"
        assert "emergency credit repaid  -15.00" in result["statement"]
        # the account itself records the move-out (so 公摊 and reports stop counting it)
        assert hub.component("accounts", AccountBook).accounts["r1"].move_out == date(
            2025, 3, 20)
        assert ledger.balance("r1") == D("0.00")
