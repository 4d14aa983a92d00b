"""The balances of the ledger: opening balances, payments and one state per account.

``setup_money`` builds the ``ledger`` component (:class:`~.ledger.Ledger`) and the ``money``
component (:class:`Money`): it keeps a state ``account.<id>`` per account (the balance, with
levels, overdraft, arrears, emergency credit and the last entry) and fires, after each
committed ledger change, with the context of what caused it:

- ``payment_received`` {account_id, amount, method, reference, balance, entry_id}.

What the layers above add, they register here at set-up: billing's charging of readings
starts with the ledger (:meth:`Money.register_client`, a :class:`LedgerClient`), prepaid's
thresholds watch each entry (:meth:`Money.register_entry_watcher`: ``balance_low``,
``balance_exhausted``, ``balance_restored``), and billing and control add attributes to the
account's state (:meth:`Money.register_attribute_provider`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..core import Context, Event
from ..events import EVENT_ACCOUNT_UPDATED, EVENT_PAYMENT_RECEIVED
from ..i18n import Text
from ..util.ids import slugify
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .accounts import Account
from .book import AccountBook
from .entries import Entry, EntryKind, PostRequest, opening_key
from .ledger import Ledger
from .terms import in_arrears

if TYPE_CHECKING:
    from ..core import Hub
    from ..storage import Storage

_LOGGER = logging.getLogger(__name__)


LEDGER_STOP_TIMEOUT = 60.0  # what is queued is charged and committed before storage closes

AttributeProvider = Callable[[str], Mapping[str, Any]]
"""More attributes of an account's state, by account id (billing's bills, control's holds)."""
EntryWatcher = Callable[[Entry], None]
"""Looks at each committed entry before its account's state is published (thresholds)."""


class LedgerClient(Protocol):
    """Work that starts with the ledger (billing's charging of readings)."""

    async def before_start(self) -> None:
        """Load what it needs; the ledger's worker starts after this."""

    async def after_start(self) -> None:
        """Catch up, once the ledger runs and every account is published."""


def account_entity_id(account_id: str) -> str:
    """The entity id of an account's balance state."""
    return f"account.{slugify(account_id)}"


class Money:
    """Glue of the balances: opening balances, payment events and account states."""

    def __init__(self, hub: Hub, ledger: Ledger, accounts: Mapping[str, Account]) -> None:
        self.hub = hub
        self.ledger = ledger
        self.accounts = accounts
        self.started = False
        self._clients: list[LedgerClient] = []
        self._watchers: list[EntryWatcher] = []
        self._attribute_providers: list[AttributeProvider] = []
        self._statics: dict[str, tuple[str, dict[str, Any]]] = {}
        self._levels: dict[tuple[str, ...], list[str]] = {}  # 10,000 accounts, a few lists
        self._time_text: tuple[int | None, str] = (None, "")  # an entry time and its text
        ledger.add_listener(self.on_entries)

    # --- what the layers above register -------------------------------------------------

    def register_client(self, client: LedgerClient) -> None:
        """Start ``client`` with the ledger (see :class:`LedgerClient`)."""
        self._clients.append(client)

    def register_entry_watcher(self, watcher: EntryWatcher) -> None:
        """Show ``watcher`` every committed entry, before the account's state is published."""
        self._watchers.append(watcher)

    def register_attribute_provider(self, provider: AttributeProvider) -> None:
        """Add ``provider``'s attributes to every account state published."""
        self._attribute_providers.append(provider)

    # --- life-cycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Start the clients and the ledger; post opening balances; publish every account."""
        for client in self._clients:
            await client.before_start()
        self.started = True
        await self.ledger.start(spawn=self.hub.create_background_task)
        _LOGGER.debug("Ledger started: %d accounts", len(self.accounts))
        await self._post_opening_balances()
        # account states are never saved (storage.rebuild_states_of): each is rebuilt here
        # from its running total and newest entry, committed together, so none is stale
        last = await self.ledger.last_entries()
        for account_id in self.accounts:
            entry = last.get(account_id)
            self.publish(account_id, entry, at=entry.time if entry is not None else None)
        for client in self._clients:
            await client.after_start()

    async def _post_opening_balances(self, account_ids: list[str] | None = None,
                                     context: Context | None = None) -> None:
        """Post each account's opening balance (期初余额) once, ever: those of hub.yaml at
        start-up, that of an account created at runtime at once (``account_ids``)."""
        if account_ids is None:
            accounts = list(self.accounts.values())
            source, reason, operator = ("accounts.opening_balance",
                                        Text("ledger.reason_opening_config"), "config")
        else:
            accounts = [self.accounts[i] for i in account_ids if i in self.accounts]
            source, reason = ("account.create", Text("ledger.reason_opening_created"))
            operator = (context.user_id if context else None) or source
        requests = [
            PostRequest(account.id, EntryKind.ADJUSTMENT, account.opening_balance,
                        opening_key(account.id), context or Context(origin="config"),
                        {"source": source}, reason, operator)
            for account in accounts if account.opening_balance]
        if not requests:
            return
        for result in await self.ledger.post_many(requests):
            if isinstance(result, Exception):
                _LOGGER.error("Opening balance not posted: %s", result)

    async def stop(self) -> None:
        """Commit readings still queued in storage, charge them, stop the ledger."""
        try:
            await self.ledger.storage.flush()
        except Exception as err:  # storage unavailable: nothing more can be written anyway
            _LOGGER.warning("Storage could not flush before the ledger stopped: %s", err)
        await self.ledger.stop()

    # --- after every committed change ----------------------------------------------

    def on_entries(self, entries: list[Entry]) -> None:
        """Fire payment events per entry, show it to the watchers; publish each account once."""
        last: dict[str, Entry] = {}
        fire = self.hub.bus.fire
        watchers = self._watchers
        for entry in entries:
            last[entry.account_id] = entry
            if entry.kind == EntryKind.RECHARGE:
                fire(EVENT_PAYMENT_RECEIVED, {
                    "account_id": entry.account_id, "amount": entry.amount,
                    "method": entry.detail.get("method"),
                    "reference": entry.detail.get("reference"), "balance": entry.balance,
                    "entry_id": entry.id}, context=entry.context)
            for watcher in watchers:
                watcher(entry)
        for account_id, entry in last.items():
            self.publish(account_id, entry)

    def account_changed(self, account_id: str, context: Context) -> None:
        """An account was changed or created at runtime: show it anew."""
        self._statics.pop(account_id, None)
        self.publish(account_id, None, context)

    def on_account_created(self, event: Event) -> None:
        """An account created at runtime gets its opening balance at once."""
        if self.started:
            self.hub.create_task(self._post_opening_balances([event.data["account_id"]],
                                                             event.context),
                                 f"opening balance of {event.data['account_id']}")

    def _levels_text(self, account: Account) -> list[str]:
        """An account's warning levels as text: one list for equal levels (read-only)."""
        text = tuple(str(level) for level in account.thresholds.low)
        return self._levels.setdefault(text, list(text))

    def _static(self, account_id: str) -> tuple[str, dict[str, Any]]:
        """An account's entity id and the attributes that change only with the account."""
        found = self._statics.get(account_id)
        if found is None:
            account = self.accounts.get(account_id)
            attributes: dict[str, Any] = {"account_id": account_id}
            if account is not None:
                attributes.update({
                    "friendly_name": account.name, "name": account.name,
                    "billing": account.billing,
                    "levels": self._levels_text(account),
                    "overdraft": account.thresholds.overdraft,
                    "trip_level": account.thresholds.trip_level, "deposit": account.deposit,
                    "tags": dict(account.tags), "landlord": account.landlord})
            found = self._statics[account_id] = (account_entity_id(account_id), attributes)
        return found

    def publish(self, account_id: str, entry: Entry | None,
                context: Context | None = None, at: datetime | None = None) -> None:
        """Set ``account.<id>``: the balance, with what explains it (changed ``at``: now)."""
        entity_id, static = self._static(account_id)
        account = self.accounts.get(account_id)
        balance = self.ledger.balance(account_id)
        attributes = dict(static)
        attributes["in_arrears"] = (account is not None and account.billing == "prepaid"
                                    and in_arrears(balance, account.thresholds))
        attributes["emergency_credit_used"] = self.ledger.emergency_used(account_id)
        if entry is not None:
            if entry.ts != self._time_text[0]:  # a batch's entries share their time
                self._time_text = (entry.ts, entry.time.isoformat())
            attributes["last_entry"] = {"id": entry.id, "kind": entry.kind,
                                        "amount": entry.amount, "time": self._time_text[1]}
        else:
            current = self.hub.states.get(entity_id)
            if current is not None and "last_entry" in current.attributes:
                attributes["last_entry"] = current.attributes["last_entry"]
        for provider in self._attribute_providers:
            try:
                attributes.update(provider(account_id))
            except Exception:
                _LOGGER.exception("Attribute provider %s failed", provider)
        self.hub.states.set(entity_id, balance, attributes,
                            context=entry.context if entry is not None else context,
                            timestamp=at)


def load_accounts(hub: Hub) -> dict[str, Account]:
    """The accounts in force, by id: the shared, live mapping of the account book (YAML plus
    runtime changes) when there is one, else the YAML accounts."""
    if hub.has_component("accounts"):
        return hub.component("accounts", AccountBook).accounts
    return {entry["id"]: Account.from_config(entry) for entry in hub.config.block("accounts")
            or []}


def setup_money(hub: Hub) -> Money | None:
    """Create the ledger and the balances (None without storage: the ledger is off)."""
    from ..storage import Storage

    if not hub.has_component("storage"):
        _LOGGER.warning("No storage: the ledger, charges and account services are off")
        return None
    storage: Storage = hub.component("storage", Storage)
    accounts = load_accounts(hub)
    ledger = Ledger(storage, accounts)
    money = Money(hub, ledger, accounts)
    if hub.has_component("accounts"):
        hub.component("accounts", AccountBook).add_listener(money.account_changed)
        hub.bus.listen(EVENT_ACCOUNT_UPDATED, money.on_account_created,
                       lambda data: data.get("fields") == ["*"])
    storage.rebuild_states_of("account")  # Money.start publishes them from the ledger
    hub.add_component("ledger", ledger)
    hub.add_component("money", money)
    # up before the links: a reading may arrive as soon as a link is open
    hub.add_stage("ledger", start=money.start, stop=money.stop, requires=("storage",),
                  after=("accounts",), before=("links",),
                  stop_timeout=LEDGER_STOP_TIMEOUT)
    return money
