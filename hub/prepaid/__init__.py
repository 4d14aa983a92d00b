"""Prepaid accounts: ledger, balances, thresholds, trip policy and confirmed commands.

A core plugin: it claims the ``accounts`` block and checks that meters name real accounts.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from .accounts import ACCOUNTS_SCHEMA, check_accounts
from .book import setup_book
from .control import CONTROL_SCHEMA, setup_control
from .money import setup_money

if TYPE_CHECKING:
    from ..core import Hub


@hookimpl
def config_schema() -> dict[str, Any]:
    """Claim ``accounts`` and ``control`` (command retries, read-back timing)."""
    return {"accounts": ACCOUNTS_SCHEMA, "control": CONTROL_SCHEMA}


@hookimpl
def check_config(config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """Meters name existing accounts."""
    return check_accounts(config)


@hookimpl
def register_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """``meterhub account show|recharge|ledger|audit|hold|release``, ``meterhub control``."""
    from .cli import add_commands
    from .control_cli import add_commands as add_control_commands
    from .control_cli import add_to_account

    add_commands(subparsers)
    add_control_commands(subparsers)
    add_to_account(subparsers)


@hookimpl
def setup(hub: Hub) -> None:
    """Set up the account book, the money side (ledger, charges) and the control side."""
    setup_book(hub)
    setup_money(hub)
    setup_control(hub)
