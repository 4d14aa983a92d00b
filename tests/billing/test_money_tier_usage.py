"""Tier usage (the history yearly tiers are priced on) is stored for every month a batch of
readings touched — also when two readings of one meter in one batch touch two months."""

from __future__ import annotations

import asyncio
from pathlib import Path

from money_support import config, consumption, meters_yaml, running_hub, settle, t

from hub.ledger.ledger import Ledger

TEXT = config(meters_yaml([("m1", "r1", "yearly")]), """
accounts: [{id: r1}]
tariffs:
  - {id: yearly, type: tiered, tier_period: yearly,
     tiers: [{up_to: 100, price: 0.50}, {price: 1.00}]}
""")


async def test_both_months_of_one_batch_are_kept_across_a_restart(tmp_path: Path) -> None:
    async with running_hub(tmp_path, TEXT) as hub:
        # two readings in quick succession: one batch; the first in January, the second in
        # February (a month change inside one ledger batch)
        consumption(hub, "m1", t("2026-01-31T22:00"), t("2026-01-31T23:00"), "60")
        consumption(hub, "m1", t("2026-02-01T00:00"), t("2026-02-01T01:00"), "30")
        await settle(hub)
        stored = await hub.component("ledger", Ledger).storage.money_read(
            lambda s: s.tier_usage("m1", "r1"))
        assert stored == {"2026-01": "60", "2026-02": "30"}
    async with running_hub(tmp_path, TEXT) as hub:
        ledger = hub.component("ledger", Ledger)
        before = ledger.balance("r1")
        # 20 kWh more in March: 90 already used this year, so 10 at 0.50 and 10 at 1.00
        consumption(hub, "m1", t("2026-03-01T00:00"), t("2026-03-01T01:00"), "20")
        async with asyncio.timeout(10):
            await settle(hub)
        assert before - ledger.balance("r1") == 15  # 10 x 0.50 + 10 x 1.00
