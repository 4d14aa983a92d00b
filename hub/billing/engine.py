"""The billing engine (component ``billing``): monthly bills, reminders, overdue, move-out.

- **Monthly bills**: ``issue_after`` (default 2 h) after a bill period ends, every account
  with usage or an occupancy in it gets its bill, issued at once (``auto_issue``) or left a
  draft (after a stop, up to 3 periods back are billed for the usage charged in them). Fees
  alone are billed only for a period the hub watched: one that ended after the hub's first
  start (when its database was created), so a first start never bills the month before it. A
  prepaid account's bill is a statement of what was charged reading by reading plus its
  fixed fees; a postpaid account's bill is charged to its ledger when issued and is due
  ``due_days`` after the period's last day.
- **Payments**: an account's debt is given to its newest issued bills first (payments settle
  the oldest first): a bill with nothing unpaid is ``paid``, with something paid
  ``partly_paid``. Events: ``bill_issued``, ``bill_paid``.
- **Postpaid chasing**: ``bill_reminder`` {bill_id, account_id, due_date, days, amount_due} at
  each of the account's ``remind_days`` (days from the due date, e.g. -3, 0, 3, 7; after a
  long stop only the latest one due); ``bill_overdue`` once ``grace_days`` after the due date
  with money unpaid — then the account's state says ``overdue: true`` (the trip policy acts on
  it) until it is paid.
- **Move-out** in one step (:meth:`BillingEngine.move_out`): final reads, the final bill
  (fees and tiers pro-rated to the move-out day), the balance settled against the deposit,
  and a printable statement.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..core import Context
from ..events import EVENT_BILL_ISSUED, EVENT_BILL_OVERDUE, EVENT_BILL_PAID, EVENT_BILL_REMINDER
from ..i18n import Text
from ..ledger.entries import Entry, from_fen
from ..storage import from_ms, to_ms
from ..util.dt import site_time_zone
from ..util.memory import release_free_memory
from .bill_ops import BillOp, BillOutcome, BillRequest, BillStatusOp
from .bills import Bill, BillLine, allocate_payments
from .charges import ChargeBook
from .charging import FEN_ZERO, slice_usage, stored_usage
from .periods import BillPeriod, local_midnight, period_of, previous_period
from .tariff import Tariff, TariffError, Usage

if TYPE_CHECKING:
    from ..core import Hub
    from ..ledger.accounts import Account
    from ..ledger.ledger import Ledger
    from ..ledger.money import Money
    from .charger import Charger

_LOGGER = logging.getLogger(__name__)

LOOK_BACK_PERIODS = 3
# bills a bill run has in flight at once: the ledger commits them in batches of this size,
# and a run of 10,000 accounts holds one batch's work, not the whole run's
BILL_RUN_WINDOW = 2000


@dataclass(frozen=True)
class BillSettings:
    """The ``bills:`` block."""

    issue_after: timedelta = timedelta(hours=2)
    auto_issue: bool = True
    check_every: timedelta = timedelta(minutes=10)


@dataclass
class MoveOut:
    """What a move-out did: reads, the final bill, the settlement and the statement."""

    bill: Bill
    read: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    statement: str = ""


class BillingEngine:
    """Bills per account and period on the ledger's worker; the ``billing`` component."""

    def __init__(self, hub: Hub, ledger: Ledger, money: Money, charger: Charger,
                 settings: BillSettings = BillSettings()) -> None:
        self.hub = hub
        self.ledger = ledger
        self.money = money
        self.charger = charger
        self.settings = settings
        self.accounts: Mapping[str, Account] = money.accounts
        self._meters_by_account: dict[str, list[str]] = {}
        for meter_id, meter in charger.meters.items():
            if meter.get("account"):
                self._meters_by_account.setdefault(meter["account"], []).append(meter_id)
        self.open: dict[str, list[Bill]] = {}  # issued bills not fully paid, by account
        self.known: set[tuple[str, str]] = set()  # (account, period start) with a bill
        self._task: asyncio.Task[None] | None = None
        # the hub watched a period when the period ended after this (set at start)
        self.watched_since: datetime | None = None

    @property
    def book(self) -> ChargeBook:
        """The charge states (available once the ledger started)."""
        if self.charger.book is None:
            raise RuntimeError("the ledger has not started yet")  # i18n: internal (a bug)
        return self.charger.book

    def meters_of(self, account_id: str) -> list[str]:
        """The configured meters of an account."""
        return self._meters_by_account.get(account_id, [])

    def today(self) -> date:
        """Today, local, by the ledger's clock."""
        return self.ledger.clock().astimezone(site_time_zone()).date()

    # --- life-cycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Load open bills and move-outs; start the periodic check."""
        rows, keys, finals, created = await self.ledger.storage.money_read(lambda s: (
            s.bills(statuses=("issued", "partly_paid")), s.bill_keys(""), s.final_bills(),
            s.first_start_ms()))
        # the hub's first start: when its database was created (the ledger's clock when that
        # is earlier: a test's clock set in the past)
        now = self.ledger.clock()
        self.watched_since = min(from_ms(created), now) if created is not None else now
        for row in rows:
            self.open.setdefault(row.account_id, []).append(Bill.from_row(row))
        # one period text for the 10,000 accounts billed for it, not one each
        self.known = {(account, sys.intern(start)) for account, start, _kind in keys}
        for account_id, last_day in finals.items():
            self.book.moved_out[account_id] = date.fromisoformat(last_day)
        if self.settings.check_every.total_seconds() > 0:
            self._task = self.hub.create_background_task(self._loop(), "billing checks")

    async def stop(self) -> None:
        """Stop the periodic check."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("Billing check failed; it runs again in %s",
                                  self.settings.check_every)
            await asyncio.sleep(self.settings.check_every.total_seconds())

    # --- bills --------------------------------------------------------------------

    def account(self, account_id: str) -> Account:
        """A configured account, or KeyError naming it."""
        account = self.accounts.get(account_id)
        if account is None:
            raise KeyError(f"unknown account '{account_id}'")
        return account

    async def create(self, account_id: str, period: BillPeriod | None = None, *,
                     issue: bool = False, context: Context | None = None) -> Bill:
        """Make (or re-make, while a draft) an account's bill; with ``issue`` issue it."""
        account = self.account(account_id)
        period = period or previous_period(period_of(self.today(), account.settlement_day),
                                           account.settlement_day)
        outcome: BillOutcome = await self.ledger.run(BillOp(self, BillRequest(
            account, period, issue=issue, context=context)))
        return outcome.bill

    async def create_many(self, requests: Sequence[BillRequest]) -> list[Bill | Exception]:
        """Make many bills (few transactions); a failure is returned in its place."""
        return [item async for window in self._windows(requests) for item in window]

    async def _windows(self, requests: Sequence[BillRequest]
                       ) -> AsyncIterator[list[Bill | Exception]]:
        """Make the bills :data:`BILL_RUN_WINDOW` at a time; yield each window's outcomes."""
        for first in range(0, len(requests), BILL_RUN_WINDOW):
            futures = [self.ledger.submit(BillOp(self, request))
                       for request in requests[first:first + BILL_RUN_WINDOW]]
            results = await asyncio.gather(*(f for f in futures if f is not None),
                                           return_exceptions=True)
            out: list[Bill | Exception] = []
            for item in results:
                if isinstance(item, BillOutcome):
                    out.append(item.bill)
                elif isinstance(item, Exception):
                    out.append(item)
                else:
                    raise item
            yield out

    async def issue(self, bill_id: str, context: Context | None = None) -> Bill:
        """Issue a draft bill (recomputed from the charge states as it is issued)."""
        bill = await self.bill(bill_id)
        if bill is None:
            raise KeyError(f"unknown bill '{bill_id}'")
        if bill.status != "draft":
            return bill
        account = self.account(bill.account_id)
        outcome: BillOutcome = await self.ledger.run(BillOp(self, BillRequest(
            account, bill.period, kind=bill.kind, issue=True, context=context)))
        return outcome.bill

    async def bill(self, bill_id: str) -> Bill | None:
        """One bill."""
        row = await self.ledger.storage.money_read(lambda s: s.bill(bill_id))
        return Bill.from_row(row) if row else None

    async def bills(self, account_id: str | None = None, statuses: Sequence[str] = (),
                    limit: int | None = 100) -> list[Bill]:
        """Bills, newest period first."""
        rows = await self.ledger.storage.money_read(lambda s: s.bills(
            account_id=account_id, statuses=list(statuses), limit=limit))
        return [Bill.from_row(row) for row in rows]

    def bill_committed(self, op: BillOp) -> None:
        """After a BillOp's commit: events, open bills, move-out, statuses."""
        if isinstance(op.result, Exception):
            _LOGGER.error("Bill %s not made: %s", op.bill_id, op.result)
            self.hub.bus.fire("billing_error", {
                "account_id": op.request.account.id, "bill_id": op.bill_id,
                "error": str(op.result)}, context=op.request.context)
            return
        outcome: BillOutcome = op.result
        bill = outcome.bill
        if not outcome.issued_now:
            return
        self.known.add((bill.account_id, sys.intern(bill.period.start.isoformat())))
        if bill.kind == "final":
            self.book.moved_out[bill.account_id] = bill.period.last_day
        self.open.setdefault(bill.account_id, []).append(bill)
        self.hub.bus.fire(EVENT_BILL_ISSUED, {
            "bill_id": bill.bill_id, "account_id": bill.account_id, "kind": bill.kind,
            "billing": bill.billing, "period_start": bill.period.start,
            "period_end": bill.period.last_day, "total": bill.total,
            "due_date": bill.due_date}, context=op.request.context)
        self.refresh(bill.account_id)

    # --- payments, reminders, overdue ------------------------------------------------

    def on_entries(self, entries: list[Entry]) -> None:
        """Ledger changes may pay bills."""
        for account_id in {entry.account_id for entry in entries}:
            if self.open.get(account_id):
                self.refresh(account_id)

    def _unpaid_pool(self, account: Account) -> Decimal:
        balance = self.ledger.balance(account.id)
        if account.billing == "postpaid":
            return max(-balance, FEN_ZERO)
        return max(-(balance + self.book.pending_charged(account.id)), FEN_ZERO)

    def refresh(self, account_id: str, context: Context | None = None) -> None:
        """Recompute what each open bill has unpaid; store and announce changes."""
        account = self.accounts.get(account_id)
        bills = self.open.get(account_id)
        if account is None or not bills:
            return
        unpaid = allocate_payments(bills, self._unpaid_pool(account))
        today = self.today()
        grace = timedelta(days=int(account.postpaid.get("grace_days", 5)))
        changed: list[Bill] = []
        still_open: list[Bill] = []
        for bill in bills:
            owed = unpaid.get(bill.bill_id, FEN_ZERO)
            paid = bill.total - owed
            status = "paid" if owed <= 0 else "partly_paid" if paid > 0 else "issued"
            overdue = (bill.billing == "postpaid" and owed > 0 and bill.due_date is not None
                       and today > bill.due_date + grace)
            new = replace(bill, paid=paid, status=status, overdue=overdue)
            if (new.paid, new.status, new.overdue) != (bill.paid, bill.status, bill.overdue):
                changed.append(new)
                self._announce(bill, new, context)
            if status != "paid":
                still_open.append(new)
        self.open[account_id] = still_open
        if changed:
            self.ledger.submit(BillStatusOp(changed), wait=False)
            self.money.publish(account_id, None, context)

    def _announce(self, old: Bill, new: Bill, context: Context | None) -> None:
        base = {"bill_id": new.bill_id, "account_id": new.account_id}
        if new.status == "paid" and old.status != "paid":
            self.hub.bus.fire(EVENT_BILL_PAID, {**base, "total": new.total}, context=context)
        if new.overdue and not old.overdue:
            _LOGGER.warning("Bill %s of account %s is overdue: %s unpaid since %s",
                            new.bill_id, new.account_id, new.amount_due, new.due_date)
            self.hub.bus.fire(EVENT_BILL_OVERDUE, {
                **base, "due": new.due_date, "due_date": new.due_date,
                "amount_due": new.amount_due}, context=context)

    def remind(self, context: Context | None = None) -> int:
        """Fire the reminders that are due (the latest one per bill); return how many."""
        today = self.today()
        sent = 0
        changed: list[Bill] = []
        for account_id, bills in self.open.items():
            account = self.accounts.get(account_id)
            if account is None or account.billing != "postpaid":
                continue
            offsets = sorted(int(day) for day in account.postpaid.get("remind_days", ()))
            for index, bill in enumerate(bills):
                if bill.due_date is None or bill.amount_due <= 0:
                    continue
                due = [day for day in offsets if today >= bill.due_date + timedelta(days=day)
                       and day not in bill.reminders]
                if not due:
                    continue
                self.hub.bus.fire(EVENT_BILL_REMINDER, {
                    "bill_id": bill.bill_id, "account_id": account_id,
                    "due_date": bill.due_date, "days": max(due),
                    "amount_due": bill.amount_due}, context=context)
                sent += 1
                bills[index] = replace(bill, reminders=tuple(sorted({*bill.reminders, *due})))
                changed.append(bills[index])
        if changed:
            self.ledger.submit(BillStatusOp(changed), wait=False)
        return sent

    def oldest_due(self, account_id: str) -> date | None:
        """The due date of the account's oldest unpaid postpaid bill (None: nothing owed)."""
        dues = [bill.due_date for bill in self.open.get(account_id, ())
                if bill.due_date is not None and bill.amount_due > 0]
        return min(dues, default=None)

    def overdue(self, account_id: str) -> bool:
        """Whether a postpaid account has an overdue bill (the trip policy acts on it)."""
        return any(bill.overdue for bill in self.open.get(account_id, ()))

    def attributes(self, account_id: str) -> dict[str, Any]:
        """Attributes billing adds to ``account.<id>``."""
        bills = self.open.get(account_id, ())
        if not bills:  # the usual account: no generators to run
            return {"overdue": False, "amount_due": FEN_ZERO, "open_bills": 0}
        return {"overdue": any(bill.overdue for bill in bills),
                "amount_due": sum((bill.amount_due for bill in bills), FEN_ZERO),
                "open_bills": len(bills)}

    # --- the periodic check ----------------------------------------------------------

    def due_requests(self, now: datetime | None = None) -> list[BillRequest]:
        """Bills whose period ended at least ``issue_after`` ago and that do not exist yet."""
        now = now or self.ledger.clock()
        day = (now - self.settings.issue_after).astimezone(site_time_zone()).date()
        states = {(key[1], key[2]) for key in self.book.states}
        requests = []
        for account in self.accounts.values():
            moved_out = self.book.moved_out.get(account.id)
            period = previous_period(period_of(day, account.settlement_day),
                                     account.settlement_day)
            for back in range(LOOK_BACK_PERIODS):
                # an earlier period is billed late only for usage charged in it (never
                # fees alone: those months may have been billed before the hub), and fees
                # alone only for a period the hub watched (it ended after the first start)
                if (account.id, period.start.isoformat()) not in self.known and (
                        moved_out is None or period.start <= moved_out) and (
                        (account.id, period.start) in states
                        or (back == 0 and _occupied(account, period)
                            and self.watched(period))):
                    requests.append(BillRequest(account, period,
                                                issue=self.settings.auto_issue,
                                                context=Context(origin="billing")))
                period = previous_period(period, account.settlement_day)
        return requests

    def watched(self, period: BillPeriod) -> bool:
        """Whether the hub watched ``period``: it ended after the hub's first start (a
        period that ended before the hub existed is not the hub's to bill on fees alone)."""
        if self.watched_since is None:
            return True
        return period.bounds(site_time_zone())[1] > self.watched_since

    async def tick(self, now: datetime | None = None) -> dict[str, int]:
        """Make the bills that are due, refresh statuses, send reminders."""
        requests = self.due_requests(now)
        bills = failed = 0
        async for made in self._windows(requests):  # counted, not kept: a run is 10,000 bills
            bills += sum(1 for item in made if isinstance(item, Bill))
            failed += sum(1 for item in made if isinstance(item, Exception))
        for request in requests:
            if not request.issue:  # drafts: do not make them again on every check
                self.known.add((request.account.id,
                                sys.intern(request.period.start.isoformat())))
        for account_id in list(self.open):
            self.refresh(account_id)
        reminders = self.remind()
        if requests:  # a run's bills are committed and let go: their memory back to the system
            release_free_memory("the bill run")
        return {"bills": bills, "failed": failed, "reminders": reminders}

    # --- move-out ---------------------------------------------------------------------

    async def move_out(self, account_id: str, day: date | None = None, *, read: bool = True,
                       context: Context | None = None) -> MoveOut:
        """Final reads, final bill, settlement against the deposit, statement — one step."""
        from .statement import render_statement

        account = self.account(account_id)
        day = day or self.today()
        if account.move_in is not None and day < account.move_in:
            raise ValueError(Text("billing.move_out_early", day=day, move_in=account.move_in))
        if account_id in self.book.moved_out:
            raise ValueError(Text("billing.moved_out_already", account=account_id,
                                  day=self.book.moved_out[account_id]))
        context = context or Context(origin="billing")
        result_read, failed = await self._final_reads(account_id, read, context)
        await self.ledger.storage.flush()
        await asyncio.sleep(0)
        await self.ledger.drain()
        period = period_of(day, account.settlement_day)
        final = BillPeriod(period.start, day + timedelta(days=1))
        outcome: BillOutcome = await self.ledger.run(BillOp(self, BillRequest(
            account, final, kind="final", issue=True, context=context, move_out=day)))
        statement = await self.statement(outcome.bill.bill_id, "text")
        return MoveOut(outcome.bill, result_read, failed, statement or render_statement(
            outcome.bill, account, {}, self.hub.config.language, "text", self.hub.i18n))

    async def _final_reads(self, account_id: str, read: bool,
                           context: Context) -> tuple[list[str], list[str]]:
        done: list[str] = []
        failed: list[str] = []
        if not read or not self.hub.services.has("meter", "read"):
            return done, failed
        for meter_id in self.meters_of(account_id):
            try:
                response = await self.hub.services.call(
                    "meter", "read", {"meter_id": meter_id}, context=context,
                    return_response=True)
            except Exception as err:
                _LOGGER.warning("Final read of %s failed: %s", meter_id, err)
                failed.append(meter_id)
                continue
            (failed if response and response.get("failed") else done).append(meter_id)
        return done, failed

    # --- statements and traces --------------------------------------------------------

    async def statement(self, bill_id: str, fmt: str = "text",
                        language: str | None = None) -> str | None:
        """A printable statement (``text`` or ``html``) of a bill with the account's money."""
        from .statement import render_statement

        bill = await self.bill(bill_id)
        if bill is None:
            return None
        account = self.accounts.get(bill.account_id)
        tz = site_time_zone()
        start_ms = to_ms(datetime.combine(bill.period.start, datetime.min.time(), tz))
        end = datetime.combine(bill.period.end, datetime.min.time(), tz)
        end_ms = to_ms(max(end, bill.issued or end) if bill.kind == "final" else end)
        opening, kinds = await self.ledger.storage.money_read(lambda s: (
            s.balance_before(bill.account_id, start_ms),
            s.totals_by_kind(bill.account_id, start_ms, end_ms + 1)))
        summary = {"opening": from_fen(opening),
                   "movements": {kind: from_fen(value) for kind, value in sorted(kinds.items())},
                   "closing": from_fen(opening + sum(kinds.values()))}
        return render_statement(bill, account, summary, language or self.hub.config.language,
                                fmt, self.hub.i18n)

    async def trace(self, bill_id: str, line_no: int) -> list[dict[str, Any]]:
        """The readings that produced a bill line, with what each added to it."""
        bill = await self.bill(bill_id)
        if bill is None:
            raise KeyError(f"unknown bill '{bill_id}'")
        line = next((item for item in bill.lines if item.no == line_no), None)
        if line is None or line.meter_id is None:
            raise KeyError(f"bill '{bill_id}' has no line {line_no} with readings")
        period = bill.period.start.isoformat()
        rows = await self.ledger.storage.money_read(lambda s: s.applied_rows(line.meter_id or ""))
        ident = _line_ident(line.tariff_id, line.component, line.key, line.price_from)
        tz = site_time_zone()
        bounds = (local_midnight(bill.period.start, tz), local_midnight(bill.period.end, tz))
        tariffs = self.book.tariffs
        try:
            tariff = tariffs.get(line.tariff_id) if tariffs is not None else None
        except TariffError:  # a tariff since taken out of the configuration
            tariff = None
        out = []
        for row in rows:
            applied = json.loads(row.lines)
            lines = applied.get(period, {})
            if ident in lines and row.account_id == bill.account_id:
                quantity, exact, charged = lines[ident]
                item: dict[str, Any] = {"reading_id": row.reading_id, "quantity": quantity,
                                        "exact": exact, "charged": charged,
                                        "end": to_iso(row.ts)}
                usage = stored_usage(applied)
                if usage:
                    item["start"] = min(part.start for _sign, part in usage).astimezone(
                        tz).isoformat()
                if usage and tariff is not None and line.component == tariff.usage_component:
                    item["segments"] = _segments(tariff, usage, bounds, line, tz)
                out.append(item)
        return out


def _segments(tariff: Tariff, usage: Sequence[tuple[int, Usage]],
              bounds: tuple[datetime, datetime], line: BillLine,
              tz: tzinfo) -> list[dict[str, str]]:
    """The schedule stretches of a bill line's band in one reading's usage, in its period."""
    out = []
    for sign, whole in usage:
        a, b = max(whole.start, bounds[0]), min(whole.end, bounds[1])
        if a >= b:
            continue
        for part in tariff.segments(slice_usage(whole, a, b)):
            if part.key == line.key and part.price_from == line.price_from and part.quantity:
                out.append({"start": part.start.astimezone(tz).isoformat(),
                            "end": part.end.astimezone(tz).isoformat(), "band": part.key,
                            "quantity": str(part.quantity if sign > 0 else -part.quantity)})
    return out


def _line_ident(tariff_id: str, component: str, key: str, price_from: date | None) -> str:
    base = f"{tariff_id}:{component}:{key}"
    return f"{base}@{price_from.isoformat()}" if price_from else base


def to_iso(ms: int) -> str:
    """Epoch ms as local ISO text."""
    return from_ms(ms).astimezone(site_time_zone()).isoformat()


def _occupied(account: Account, period: BillPeriod) -> bool:
    return account.move_in is not None and account.move_in <= period.last_day and (
        account.move_out is None or account.move_out >= period.start)
