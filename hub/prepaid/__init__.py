"""Prepaid control: thresholds, trip policy, holds, protection windows and confirmed commands.

A core plugin above the ledger and billing: it claims the ``control`` block and sets up the
thresholds on the ledger's balances, the ``account.*`` money services and control.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..ledger import Money
from .commands import CommandQueue, CommandRefused, ControlSettings
from .control import CONTROL_SCHEMA, Control, setup_control
from .holds import HoldBook
from .policy import Decision, Hold, HoldKind, crossings, decide, manual_refusal
from .replacement import MeterReplacement, setup_replacement
from .services import register_services
from .thresholds import ThresholdWatcher, setup_thresholds
from .trips import Trigger, TripPolicy

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "CONTROL_SCHEMA", "CommandQueue", "CommandRefused", "Control", "ControlSettings",
    "Decision", "Hold", "HoldBook", "HoldKind", "MeterReplacement", "ThresholdWatcher", "Trigger",
    "TripPolicy",
    "crossings", "decide", "manual_refusal",
]


@hookimpl
def config_schema() -> dict[str, Any]:
    """Claim ``control`` (command retries, read-back timing)."""
    return {"control": CONTROL_SCHEMA}


@hookimpl
def register_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """``meterhub account show|recharge|ledger|audit|hold|release``, ``meterhub control``."""
    from .cli import add_commands
    from .control_cli import add_commands as add_control_commands
    from .control_cli import add_to_account
    from .meter_cli import add_commands as add_meter_commands

    add_commands(subparsers)
    add_meter_commands(subparsers)
    add_control_commands(subparsers)
    add_to_account(subparsers)


@hookimpl
def setup(hub: Hub) -> None:
    """Thresholds on the ledger's balances, the money services and control."""
    if hub.has_component("money"):  # the ledger is up (it needs storage)
        money = hub.component("money", Money)
        setup_thresholds(hub)
        register_services(hub, money.ledger, money)
    setup_control(hub)
    control = hub.component("control", Control) if hub.has_component("control") else None
    setup_replacement(hub, control.commands if control is not None else None)

