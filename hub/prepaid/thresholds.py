"""Balance thresholds of prepaid accounts: the events fired when a committed entry crosses one.

After each committed ledger change, with the context of what caused it:

- ``balance_low`` {account_id, level, balance, entry_id}: once per warning level crossed down;
- ``balance_exhausted`` {account_id, level, balance, entry_id}: down to 0, or to -overdraft;
- ``balance_restored`` {account_id, level, balance, entry_id}: back above that level.

An opening balance (期初余额) is where an account's balance starts, not a change from an
earlier one: it restores nothing (the account was never exhausted, and nobody paid). It fires
one event when it starts somewhere a tenant must hear of: ``balance_exhausted`` when it starts
at or below the trip level, else ``balance_low`` once, at the lowest warning level it is at or
below (B305 opening at ¥8 with levels 20 and 5 is low at 20; a later fall below 5 is a new
crossing).

Threshold events are for prepaid accounts; postpaid accounts are chased by their bills. The
watcher registers itself with the ledger's balances (``Money.register_entry_watcher``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..events import EVENT_BALANCE_EXHAUSTED, EVENT_BALANCE_LOW, EVENT_BALANCE_RESTORED
from ..ledger import in_arrears
from ..ledger.book import AccountBook
from ..ledger.money import Money
from .policy import crossings

if TYPE_CHECKING:
    from ..core import Context, Hub
    from ..ledger.accounts import Account
    from ..ledger.entries import Entry


class ThresholdWatcher:
    """Fires threshold events for the entries of prepaid accounts."""

    def __init__(self, hub: Hub, accounts: Mapping[str, Account]) -> None:
        self.hub = hub
        self.accounts = accounts
        self._levels: dict[str, Any] = {}

    def __call__(self, entry: Entry) -> None:
        """Fire the events of the levels this entry crossed (an ``EntryWatcher``)."""
        watch = self._watch(entry.account_id)
        if watch is None:
            return
        after = entry.balance
        if entry.opening:
            self._opening(entry)
            return
        before = after - entry.amount
        if not any(before > level >= after or after > level >= before for level in watch):
            return  # no level between the two balances: nothing crossed
        account = self.accounts[entry.account_id]
        crossed = crossings(before, after, account.thresholds)
        fire = self.hub.bus.fire
        base = {"account_id": entry.account_id, "balance": after, "entry_id": entry.id}
        for level in crossed.low:
            fire(EVENT_BALANCE_LOW, {**base, "level": level}, context=entry.context)
        if crossed.exhausted:
            fire(EVENT_BALANCE_EXHAUSTED, {**base, "level": account.thresholds.trip_level},
                 context=entry.context)
        if crossed.restored:
            fire(EVENT_BALANCE_RESTORED, {**base, "level": account.thresholds.trip_level},
                 context=entry.context)

    def _opening(self, entry: Entry) -> None:
        """Where an opening balance starts the account: exhausted, low once, or nothing."""
        thresholds = self.accounts[entry.account_id].thresholds
        balance = entry.balance
        base = {"account_id": entry.account_id, "balance": balance, "entry_id": entry.id}
        if in_arrears(balance, thresholds):
            self.hub.bus.fire(EVENT_BALANCE_EXHAUSTED, {**base, "level": thresholds.trip_level},
                              context=entry.context)
            return
        below = [level for level in thresholds.low if balance <= level]
        if below:
            self.hub.bus.fire(EVENT_BALANCE_LOW, {**base, "level": min(below)},
                              context=entry.context)

    def _watch(self, account_id: str) -> tuple[Decimal, ...] | None:
        """The levels a prepaid account's balance is watched at (None: not watched)."""
        found: tuple[Decimal, ...] | bool | None = self._levels.get(account_id, False)
        if found is False:
            account = self.accounts.get(account_id)
            found = None if account is None or account.billing != "prepaid" else (
                *account.thresholds.low, account.thresholds.trip_level)
            self._levels[account_id] = found
        return found if isinstance(found, tuple) else None

    def account_changed(self, account_id: str, context: Context) -> None:
        """An account's thresholds may have changed: look them up again."""
        self._levels.pop(account_id, None)


def setup_thresholds(hub: Hub) -> ThresholdWatcher | None:
    """Watch every committed entry of a prepaid account for thresholds crossed."""
    if not hub.has_component("money"):
        return None  # no storage, no ledger: no balances to watch
    money = hub.component("money", Money)
    watcher = ThresholdWatcher(hub, money.accounts)
    money.register_entry_watcher(watcher)
    if hub.has_component("accounts"):
        hub.component("accounts", AccountBook).add_listener(watcher.account_changed)
    return watcher
