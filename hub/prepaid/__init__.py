"""Prepaid accounts: ledger, balances, thresholds, trip policy and confirmed commands.

A core plugin: it claims the ``accounts`` block and checks that meters name real accounts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from .accounts import ACCOUNTS_SCHEMA, check_accounts
from .control import setup_control
from .money import setup_money

if TYPE_CHECKING:
    from ..core import Hub


@hookimpl
def config_schema() -> dict[str, Any]:
    """Claim ``accounts``."""
    return {"accounts": ACCOUNTS_SCHEMA}


@hookimpl
def check_config(config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """Meters name existing accounts."""
    return check_accounts(config)


@hookimpl
def setup(hub: Hub) -> None:
    """Set up the money side (ledger, charges) and the control side (trips, commands)."""
    setup_money(hub)
    setup_control(hub)
