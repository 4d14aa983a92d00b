"""Money side of prepaid: the ledger, charging after every read, thresholds and states.

``setup_money`` builds the ``ledger`` component (:class:`~.ledger.Ledger`), charges every
``consumption`` event of a meter that has an account (:mod:`.charges`), keeps a state
``account.<id>`` per account (the balance, with levels, overdraft, arrears, emergency credit
and the last entry) and fires, after each committed ledger change, with the context of what
caused it:

- ``balance_low`` {account_id, level, balance, entry_id}: once per warning level crossed down;
- ``balance_exhausted`` {account_id, level, balance, entry_id}: down to 0, or to -overdraft;
- ``balance_restored`` {account_id, level, balance, entry_id}: back above that level;
- ``payment_received`` {account_id, amount, method, reference, balance, entry_id};
- ``billing_error`` {meter_id, account_id, reading_id, error}: a reading that was not charged.

Threshold events are for prepaid accounts; postpaid accounts are chased by their bills.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..core import Context, Event
from ..storage import from_ms
from ..util.dt import site_time_zone
from ..util.ids import slugify
from .accounts import Account
from .charges import ChargeBook, ChargeOp
from .entries import Entry, EntryKind, PostRequest
from .ledger import Ledger
from .policy import crossings, in_arrears

if TYPE_CHECKING:
    from ..core import Hub
    from ..storage import Storage

_LOGGER = logging.getLogger(__name__)

EVENT_BALANCE_LOW = "balance_low"
EVENT_BALANCE_EXHAUSTED = "balance_exhausted"
EVENT_BALANCE_RESTORED = "balance_restored"
EVENT_PAYMENT_RECEIVED = "payment_received"
EVENT_BILLING_ERROR = "billing_error"
EVENT_CONSUMPTION = "consumption"

LEDGER_STAGE_ORDER = 15  # after storage, before links and metering: up while readings flow
LEDGER_STOP_TIMEOUT = 60.0  # what is queued is charged and committed before storage closes
_ERROR_LOG_EVERY = 3600.0

AttributeProvider = Callable[[str], Mapping[str, Any]]


def account_entity_id(account_id: str) -> str:
    """The entity id of an account's balance state."""
    return f"account.{slugify(account_id)}"


class Money:
    """Glue of the money side: consumption in, thresholds, events and states out."""

    def __init__(self, hub: Hub, ledger: Ledger, accounts: Mapping[str, Account],
                 meters: Mapping[str, Mapping[str, Any]]) -> None:
        self.hub = hub
        self.ledger = ledger
        self.accounts = accounts
        self.meters = meters
        self.book: ChargeBook | None = None
        self.attribute_providers: list[AttributeProvider] = []
        self._errors_logged: dict[tuple[str, str], float] = {}
        self._levels: dict[str, Any] = {}
        self._statics: dict[str, tuple[str, dict[str, Any]]] = {}
        self._early: list[Event] = []
        self._time_text: tuple[int | None, str] = (None, "")  # an entry time and its text
        ledger.listeners.append(self.on_entries)

    # --- life-cycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Load the ledger's totals and the open charge states; publish every account."""
        from ..billing.tariffs import TariffBook

        tariffs = (self.hub.component("tariffs", TariffBook)
                   if self.hub.has_component("tariffs") else None)
        book = ChargeBook(tariffs, self.meters.get, self.accounts, site_time_zone())
        book.on_error = self._charge_failed
        count = await self.ledger.storage.money_read(book.load)
        self.book = book
        await self.ledger.start(spawn=self.hub.create_background_task)
        _LOGGER.debug("Ledger started: %d accounts, %d open charge states",
                      len(self.accounts), count)
        await self._post_opening_balances()
        for account_id in self.accounts:
            self.publish(account_id, None)
        early, self._early = self._early, []
        for event in early:
            self.on_consumption(event)
        await self._catch_up(book)

    async def _post_opening_balances(self, account_ids: list[str] | None = None,
                                     context: Context | None = None) -> None:
        """Post each account's opening balance (期初余额) once, ever: those of hub.yaml at
        start-up, that of an account created at runtime at once (``account_ids``)."""
        if account_ids is None:
            accounts = list(self.accounts.values())
            source, reason, operator = ("accounts.opening_balance",
                                        "opening balance (期初余额) from the configuration",
                                        "config")
        else:
            accounts = [self.accounts[i] for i in account_ids if i in self.accounts]
            source, reason = ("account.create",
                              "opening balance (期初余额) given when the account was created")
            operator = (context.user_id if context else None) or source
        requests = [
            PostRequest(account.id, EntryKind.ADJUSTMENT, account.opening_balance,
                        f"opening:{account.id}", context or Context(origin="config"),
                        {"source": source}, reason, operator)
            for account in accounts if account.opening_balance]
        if not requests:
            return
        for result in await self.ledger.post_many(requests):
            if isinstance(result, Exception):
                _LOGGER.error("Opening balance not posted: %s", result)

    async def _catch_up(self, book: ChargeBook) -> int:
        """Charge readings stored before a crash whose consumption was never charged.

        Storage fires ``consumption`` after each commit; a crash between that commit and
        the ledger's leaves readings stored but not charged. For every charged meter, the
        readings newer than its last charged one are re-counted from their stored
        verdicts and charged (idempotently, by reading id). Meters never charged before
        are not back-charged.
        """
        storage = self.ledger.storage
        cursors = await storage.money_read(lambda s: s.last_applied())
        cursors = {meter: ts for meter, ts in cursors.items() if self.billed(
            {"meter_id": meter})}
        found = await storage.money_read(lambda s: s.uncharged(cursors)) if cursors else {}
        count = 0
        context = Context(origin="ledger_recovery")
        for meter_id, readings in found.items():
            for reading_id, _ts, counted in readings:
                if not counted:
                    continue
                intervals = tuple({"register": register, "start": from_ms(start),
                                   "end": from_ms(end), "quantity": quantity}
                                  for register, start, end, quantity in counted)
                self.ledger.submit(ChargeOp(book, meter_id, reading_id, intervals, context),
                                   wait=False)
                count += 1
        if count:
            _LOGGER.warning("Charging %d readings that were stored before the last stop but "
                            "not charged (the hub stopped in between)", count)
            await self.ledger.drain()
        return count

    async def stop(self) -> None:
        """Commit readings still queued in storage, charge them, stop the ledger."""
        try:
            await self.ledger.storage.flush()
        except Exception as err:  # storage unavailable: nothing more can be written anyway
            _LOGGER.warning("Storage could not flush before the ledger stopped: %s", err)
        await self.ledger.stop()

    # --- consumption ----------------------------------------------------------------

    def billed(self, data: Mapping[str, Any]) -> bool:
        """Event filter: consumption of meters that belong to an account."""
        meter = self.meters.get(data.get("meter_id", ""))
        return meter is not None and meter.get("account") is not None

    def on_consumption(self, event: Event) -> None:
        """Queue a reading's consumption for charging (after its commit)."""
        if self.book is None:
            self._early.append(event)  # before start-up finished: charged once it has
            return
        data = event.data
        self.ledger.submit(ChargeOp(self.book, data["meter_id"], data["reading_id"],
                                    tuple(data["intervals"]), event.context), wait=False)

    def _charge_failed(self, op: ChargeOp, error: Exception) -> None:
        meter = self.meters.get(op.meter_id) or {}
        key = (op.meter_id, str(error))
        now = time.monotonic()
        if now - self._errors_logged.get(key, -_ERROR_LOG_EVERY) >= _ERROR_LOG_EVERY:
            self._errors_logged[key] = now
            _LOGGER.error("Reading %s of meter %s not charged: %s", op.reading_id, op.meter_id,
                          error)
        self.hub.bus.fire(EVENT_BILLING_ERROR, {
            "meter_id": op.meter_id, "account_id": meter.get("account"),
            "reading_id": op.reading_id, "error": str(error)}, context=op.context)

    # --- after every committed change ----------------------------------------------

    def on_entries(self, entries: list[Entry]) -> None:
        """Fire threshold and payment events per entry; update each touched account once."""
        last: dict[str, Entry] = {}
        fire = self.hub.bus.fire
        for entry in entries:
            last[entry.account_id] = entry
            if entry.kind == EntryKind.RECHARGE:
                fire(EVENT_PAYMENT_RECEIVED, {
                    "account_id": entry.account_id, "amount": entry.amount,
                    "method": entry.detail.get("method"),
                    "reference": entry.detail.get("reference"), "balance": entry.balance,
                    "entry_id": entry.id}, context=entry.context)
            watch = self._watch(entry.account_id)
            if watch is None:
                continue
            after = entry.balance
            before = after - entry.amount
            if not any(before > level >= after or after > level >= before for level in watch):
                continue  # no level between the two balances: nothing crossed
            account = self.accounts[entry.account_id]
            crossed = crossings(before, after, account.thresholds)
            base = {"account_id": entry.account_id, "balance": after, "entry_id": entry.id}
            for level in crossed.low:
                fire(EVENT_BALANCE_LOW, {**base, "level": level}, context=entry.context)
            if crossed.exhausted:
                fire(EVENT_BALANCE_EXHAUSTED, {**base, "level": account.thresholds.trip_level},
                     context=entry.context)
            if crossed.restored:
                fire(EVENT_BALANCE_RESTORED, {**base, "level": account.thresholds.trip_level},
                     context=entry.context)
        for account_id, entry in last.items():
            self.publish(account_id, entry)

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
        """An account was changed or created at runtime: charge, watch and show it anew."""
        self._statics.pop(account_id, None)
        self._levels.pop(account_id, None)
        if self.book is not None:
            self.book.forget_account(account_id)
        self.publish(account_id, None, context)

    def on_account_created(self, event: Event) -> None:
        """An account created at runtime gets its opening balance at once."""
        if self.book is not None:
            self.hub.create_task(self._post_opening_balances([event.data["account_id"]],
                                                             event.context),
                                 f"opening balance of {event.data['account_id']}")

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
                    "levels": [str(level) for level in account.thresholds.low],
                    "overdraft": account.thresholds.overdraft,
                    "trip_level": account.thresholds.trip_level, "deposit": account.deposit})
            found = self._statics[account_id] = (account_entity_id(account_id), attributes)
        return found

    def publish(self, account_id: str, entry: Entry | None,
                context: Context | None = None) -> None:
        """Set ``account.<id>``: the balance, with what explains it."""
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
        for provider in self.attribute_providers:
            try:
                attributes.update(provider(account_id))
            except Exception:
                _LOGGER.exception("Attribute provider %s failed", provider)
        self.hub.states.set(entity_id, balance, attributes,
                            context=entry.context if entry is not None else context)


def load_accounts(hub: Hub) -> dict[str, Account]:
    """The accounts in force, by id: the shared, live mapping of the account book (YAML plus
    runtime changes) when there is one, else the YAML accounts."""
    from .book import AccountBook

    if hub.has_component("accounts"):
        return hub.component("accounts", AccountBook).accounts
    return {entry["id"]: Account.from_config(entry) for entry in hub.config.block("accounts")
            or []}


def setup_money(hub: Hub) -> None:
    """Create the ledger, charge every read, keep balances, thresholds and services."""
    from ..storage import Storage
    from .services import register_services

    if not hub.has_component("storage"):
        _LOGGER.warning("No storage: the ledger, charges and account services are off")
        return
    storage: Storage = hub.component("storage", Storage)
    accounts = load_accounts(hub)
    meters = {meter["id"]: meter for meter in hub.config.block("meters") or []}
    ledger = Ledger(storage, accounts)
    money = Money(hub, ledger, accounts, meters)
    if hub.has_component("accounts"):
        from .book import EVENT_ACCOUNT_UPDATED, AccountBook

        hub.component("accounts", AccountBook).listeners.append(money.account_changed)
        hub.bus.listen(EVENT_ACCOUNT_UPDATED, money.on_account_created,
                       lambda data: data.get("fields") == ["*"])
    hub.add_component("ledger", ledger)
    hub.add_component("money", money)
    hub.bus.listen(EVENT_CONSUMPTION, money.on_consumption, money.billed)
    register_services(hub, ledger, money)
    hub.add_stage("ledger", order=LEDGER_STAGE_ORDER, start=money.start, stop=money.stop,
                  stop_timeout=LEDGER_STOP_TIMEOUT)
