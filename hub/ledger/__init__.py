"""The ledger: accounts, the account book, entries with idempotency keys, balances, audit.

The bottom of the money stack: it knows no tariff, no bill and no trip policy. What the layers
above need to add, they register at set-up through the interfaces declared here:

- :meth:`Ledger.add_listener` (an :data:`EntriesListener`): told each committed batch's entries;
- :meth:`Ledger.register_due_provider` (a :data:`DueProvider`): since when an account owes;
- :meth:`Money.register_client` (a :class:`LedgerClient`): work that starts with the ledger;
- :meth:`Money.register_entry_watcher` (an :data:`EntryWatcher`): each entry before publishing;
- :meth:`Money.register_attribute_provider` (an :data:`AttributeProvider`): state attributes;
- :meth:`AccountBook.add_listener` (an :data:`AccountListener`): accounts changed at runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from .accounts import ACCOUNT_SCHEMA, ACCOUNTS_SCHEMA, Account, check_accounts
from .batch import AuditReport, Batch, Op
from .book import AccountBook, AccountListener, setup_book
from .entries import Entry, EntryKind, LedgerError, PostRequest, PostResult, from_fen, to_fen
from .ledger import DueProvider, EntriesListener, Ledger
from .meter_book import MeterBook, MeterListener, setup_meter_book
from .money import (
    AttributeProvider,
    EntryWatcher,
    LedgerClient,
    Money,
    account_entity_id,
    load_accounts,
    setup_money,
)
from .terms import ProtectionWindows, Thresholds, TripMode, in_arrears

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "ACCOUNTS_SCHEMA", "ACCOUNT_SCHEMA", "Account", "AccountBook",
    "AccountListener", "AttributeProvider", "AuditReport", "Batch", "DueProvider",
    "EntriesListener", "Entry", "EntryKind", "EntryWatcher", "Ledger", "LedgerClient",
    "LedgerError", "MeterBook", "MeterListener", "Money", "Op", "PostRequest", "PostResult",
    "ProtectionWindows", "Thresholds",
    "TripMode", "account_entity_id", "check_accounts", "from_fen", "in_arrears", "load_accounts",
    "setup_ledger", "to_fen",
]


def setup_ledger(hub: Hub) -> Money | None:
    """Create the account book, the ledger and the balances (None without storage)."""
    setup_book(hub)
    setup_meter_book(hub)
    return setup_money(hub)


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
    """The account book, the ledger and the balances (a core plugin, below billing)."""
    setup_ledger(hub)
