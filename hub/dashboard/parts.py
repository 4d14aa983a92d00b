"""The components the dashboard reads, each None when the hub runs without it (no storage:
no ledger, no control)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core import Hub
    from ..ledger import Ledger, Money
    from ..metering.service import MeteringService
    from ..prepaid import Control
    from ..storage import Storage


def metering_of(hub: Hub) -> MeteringService | None:
    """The metering service (meters, links, collection statistics)."""
    from ..metering.service import MeteringService

    return hub.component("metering", MeteringService) if hub.has_component("metering") \
        else None


def money_of(hub: Hub) -> Money | None:
    """The balances (accounts, ledger)."""
    from ..ledger import Money

    return hub.component("money", Money) if hub.has_component("money") else None


def ledger_of(hub: Hub) -> Ledger | None:
    """The ledger."""
    from ..ledger import Ledger

    return hub.component("ledger", Ledger) if hub.has_component("ledger") else None


def control_of(hub: Hub) -> Control | None:
    """Prepaid control (commands, holds, trip policy)."""
    from ..prepaid import Control

    return hub.component("control", Control) if hub.has_component("control") else None


def storage_of(hub: Hub, *, open_only: bool = False) -> Storage | None:
    """Storage (``open_only``: None while the database is not open)."""
    from ..storage import Storage

    if not hub.has_component("storage"):
        return None
    storage = hub.component("storage", Storage)
    return storage if storage.available or not open_only else None
