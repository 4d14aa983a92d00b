"""Prepaid control: thresholds, trip policy, holds, protection windows and confirmed commands.

A core plugin: it claims the ``accounts`` block and checks that meters name real accounts. It
sets up the ledger first (:func:`hub.ledger.setup_ledger`: the core plugins set up in a fixed
order and this one's comes before billing's), then the thresholds on its balances, the
``account.*`` money services and control.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..ledger import ACCOUNTS_SCHEMA, check_accounts, setup_ledger
from .commands import CommandQueue, CommandRefused, ControlSettings
from .control import CONTROL_SCHEMA, Control, setup_control
from .holds import HoldBook
from .policy import Decision, Hold, HoldKind, crossings, decide, manual_refusal
from .services import register_services
from .thresholds import ThresholdWatcher, setup_thresholds
from .trips import Trigger, TripPolicy

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "CONTROL_SCHEMA", "CommandQueue", "CommandRefused", "Control", "ControlSettings",
    "Decision", "Hold", "HoldBook", "HoldKind", "ThresholdWatcher", "Trigger", "TripPolicy",
    "crossings", "decide", "manual_refusal",
]


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
    """Set up the ledger (account book, ledger, balances), thresholds, services and control."""
    money = setup_ledger(hub)
    if money is not None:
        setup_thresholds(hub)
        register_services(hub, money.ledger, money)
    setup_control(hub)

