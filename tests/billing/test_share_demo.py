"""The demo site's share group splits real, non-zero amounts from the first start."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from analysis_support import open_storage
from common import TZ

from hub.billing.analysis.base import Catalog, Period
from hub.billing.analysis.service import Analysis
from hub.billing.sharing import ShareGroup
from hub.bootstrap import prepare
from hub.config import DEMO_CONFIG
from hub.ledger.accounts import Account


async def test_the_demo_lift_group_splits_300_by_area(tmp_path: Path) -> None:
    prepared = prepare(DEMO_CONFIG, data_dir=tmp_path / "data")
    assert prepared.problems == []
    config = prepared.config
    accounts = {entry["id"]: Account.from_config(entry) for entry in config.block("accounts")}
    catalog = Catalog.from_config(config.block("meters"), prepared.plugins.registries)
    groups = [ShareGroup.from_config(entry, catalog) for entry in config.block("share_groups")]
    async with open_storage(tmp_path / "db.sqlite", datetime(2026, 12, 7, tzinfo=TZ)) as storage:
        # a fresh database: no readings at all, as right after the first start
        analysis = Analysis(storage, catalog, accounts, groups=groups)
        allocation = await analysis.share_preview("lift_a", Period.month(2026, 11))
    shares = {line.account_id: line.amount for line in allocation.lines}
    assert len(shares) == 20 and all(key.startswith("r_a") for key in shares)
    assert all(amount > 0 for amount in shares.values())
    assert sum(shares.values()) == Decimal("300.00") == allocation.cost
    # building A: 4 floors of 18 + 22 + 26 + 30 + 34 m² = 520 m²; A104 has 30: 17.307... →
    # 17.30 or 17.31 (largest remainder), A101 18 m²: 10.384... → 10.38 or 10.39
    assert shares["r_a104"] in (Decimal("17.30"), Decimal("17.31"))
    assert shares["r_a101"] in (Decimal("10.38"), Decimal("10.39"))
