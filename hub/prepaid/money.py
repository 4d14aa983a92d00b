"""Money side of prepaid: ledger, charge after every read, thresholds, recharges."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core import Hub


def setup_money(hub: Hub) -> None:
    """Create the ledger and the charging of consumption (filled in by issue 7)."""
