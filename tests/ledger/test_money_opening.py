"""Opening balances (期初余额) from YAML are posted once, ever — not again on a restart."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from money_support import config, running_hub

from hub.ledger.ledger import Ledger

ACCOUNTS = """
accounts:
  - {id: r1, opening_balance: 30.50}
  - {id: r2, opening_balance: -12.00}
  - {id: r3}
"""


async def test_opening_balance_is_posted_once_across_restarts(tmp_path: Path) -> None:
    text = config(ACCOUNTS)
    for _restart in range(2):
        async with running_hub(tmp_path, text) as hub:
            ledger = hub.component("ledger", Ledger)
            async with asyncio.timeout(10):
                await ledger.drain()
            assert ledger.balance("r1") == Decimal("30.50")
            assert ledger.balance("r2") == Decimal("-12.00")
            assert ledger.balance("r3") == Decimal("0.00")
            state = hub.states.get("account.r2")
            assert state is not None and state.attributes["in_arrears"] is True
    async with running_hub(tmp_path, text) as hub:
        ledger = hub.component("ledger", Ledger)
        entries = await ledger.entries("r1")
        assert [(e.kind, e.amount, e.key) for e in entries] == [
            ("adjustment", Decimal("30.50"), "opening:r1")]
