"""Prepaid accounts: ledger, balances, thresholds, trip policy and confirmed commands.

A core plugin: it claims the ``accounts`` block and checks that meters name real accounts.
"""

from __future__ import annotations

from typing import Any

from ..hookspecs import hookimpl
from .accounts import ACCOUNTS_SCHEMA, check_accounts


@hookimpl
def config_schema() -> dict[str, Any]:
    """Claim ``accounts``."""
    return {"accounts": ACCOUNTS_SCHEMA}


@hookimpl
def check_config(config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """Meters name existing accounts."""
    return check_accounts(config)
