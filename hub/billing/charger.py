"""Charging every read: each ``consumption`` event of a meter with an account becomes a charge.

The :class:`Charger` (component ``charging``) starts with the ledger — it registers itself
with the ``money`` component as a :class:`~hub.ledger.money.LedgerClient` — and queues a
:class:`~.charges.ChargeOp` on the ledger's worker for every ``consumption`` event (storage
fires it after the reading committed). A reading that cannot be charged fires
``billing_error`` {meter_id, account_id, reading_id, error}.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core import Context, Event
from ..events import EVENT_BILLING_ERROR, EVENT_CONSUMPTION
from ..ledger.book import AccountBook
from ..ledger.meter_book import MeterBook
from ..ledger.money import Money
from ..storage import from_ms
from ..util.dt import site_time_zone
from .charges import ChargeBook, ChargeOp
from .tariffs import TariffBook

if TYPE_CHECKING:
    from ..core import Hub
    from ..ledger.accounts import Account
    from ..ledger.ledger import Ledger

_LOGGER = logging.getLogger(__name__)

_ERROR_LOG_EVERY = 3600.0


class Charger:
    """Consumption in, charges on the ledger out; the ``charging`` component."""

    def __init__(self, hub: Hub, ledger: Ledger, accounts: Mapping[str, Account],
                 meters: Mapping[str, Mapping[str, Any]]) -> None:
        self.hub = hub
        self.ledger = ledger
        self.accounts = accounts
        self.meters = meters
        self.book: ChargeBook | None = None
        self._errors_logged: dict[tuple[str, str], float] = {}
        self._early: list[Event] = []

    # --- with the ledger (a LedgerClient) ----------------------------------------------

    async def before_start(self) -> None:
        """Load the open charge states (before the ledger's worker starts)."""
        tariffs = (self.hub.component("tariffs", TariffBook)
                   if self.hub.has_component("tariffs") else None)
        book = ChargeBook(tariffs, self.meters.get, self.accounts, site_time_zone())
        book.on_error = self._charge_failed
        count = await self.ledger.storage.money_read(book.load)
        self.book = book
        _LOGGER.debug("Charging: %d open charge states", count)

    async def after_start(self) -> None:
        """Charge what came before start-up finished, and what a crash left uncharged."""
        assert self.book is not None
        early, self._early = self._early, []
        for event in early:
            self.on_consumption(event)
        await self._catch_up(self.book)

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

    def account_changed(self, account_id: str, context: Context) -> None:
        """An account changed at runtime: look its meters' billing up again."""
        if self.book is not None:
            self.book.forget_account(account_id)

    def meter_changed(self, meter_id: str, context: Context) -> None:
        """A meter changed at runtime (account, tariff): look its billing up again."""
        if self.book is not None:
            self.book.forget_meter(meter_id)

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


def setup_charging(hub: Hub) -> Charger | None:
    """Charge every read of a meter with an account, starting with the ledger."""
    if not hub.has_component("money"):
        return None  # no storage, no ledger: nothing is charged
    money = hub.component("money", Money)
    meter_book = (hub.component("meter_book", MeterBook) if hub.has_component("meter_book")
                  else None)
    meters: Mapping[str, Mapping[str, Any]] = (
        meter_book.entries if meter_book is not None  # runtime meters and changes too
        else {meter["id"]: meter for meter in hub.config.block("meters") or []})
    charger = Charger(hub, money.ledger, money.accounts, meters)
    if meter_book is not None:
        meter_book.add_listener(charger.meter_changed)
    money.register_client(charger)
    if hub.has_component("accounts"):
        hub.component("accounts", AccountBook).add_listener(charger.account_changed)
    hub.add_component("charging", charger)
    hub.bus.listen(EVENT_CONSUMPTION, charger.on_consumption, charger.billed)
    return charger
