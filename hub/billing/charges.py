"""Charging readings through the ledger: charge states, tier usage, one entry per reading.

Each ``consumption`` event (storage fires it after the reading committed) becomes a
:class:`ChargeOp` for the ledger's worker. In the worker's durable transaction it prices the
reading (hub/billing/charging.py), updates the meter's charge state and tier usage, records
the reading in ``charge_applied`` (a replayed event finds it there and changes nothing) and,
for a prepaid account, posts ONE ``charge`` entry per bill period touched, keyed
``charge:<reading id>:<period start>``. Postpaid accounts are charged by their bill instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..core import Context
from ..i18n import Text, text_of
from ..ledger.entries import EntryKind
from ..ledger.ledger import Batch, Op
from ..storage import AppliedValues, ChargeStateRow, MoneyStore, to_ms
from .charging import (
    ChargeError,
    ChargeState,
    Occupant,
    ReadingCharge,
    TierUsage,
    charge_reading,
    jstr,
    jtext,
)
from .periods import BillPeriod, next_period, period_of
from .tariff import Occupancy, Tariff, TariffError

if TYPE_CHECKING:
    from ..ledger.accounts import Account
    from .tariffs import TariffBook

_LOGGER = logging.getLogger(__name__)

_SCRATCH = "charges"

StateKey = tuple[str, str, date]  # meter, account, period start
TierKey = tuple[str, str]  # meter, account


@dataclass
class _Working:
    """A batch's changes to charge states and tier usage (applied after the commit)."""

    applied: set[str]
    seen: set[str] = field(default_factory=set)
    closing: set[StateKey] = field(default_factory=set)
    states: dict[StateKey, ChargeState] = field(default_factory=dict)
    tiers: dict[TierKey, TierUsage] = field(default_factory=dict)
    rows: list[AppliedValues] = field(default_factory=list)  # tuples: untracked by the gc
    # what storage held when the batch began for the keys its readings will look up (one
    # query each, not one per meter); nothing writes these tables before the batch's end
    stored_states: dict[StateKey, ChargeStateRow | None] = field(default_factory=dict)
    stored_tiers: dict[TierKey, dict[str, str]] = field(default_factory=dict)


class ChargeBook:
    """Committed charge states and tier usage in memory, loaded lazily from storage."""

    def __init__(self, tariffs: TariffBook | None,
                 meters: Callable[[str], Mapping[str, Any] | None],
                 accounts: Mapping[str, Account], tz: tzinfo) -> None:
        self.tariffs = tariffs
        self.meter_config = meters
        self.accounts = accounts
        self.tz = tz
        self.states: dict[StateKey, ChargeState] = {}
        self.tiers: dict[TierKey, TierUsage] = {}
        self.moved_out: dict[str, date] = {}  # account -> last day of its final bill
        self.open_by_account: dict[str, set[StateKey]] = {}
        self.on_error: Callable[[ChargeOp, Exception], None] | None = None
        self._billing: dict[str, tuple[Account, Tariff, str | None]] = {}
        self._occupants: dict[str, tuple[Account, date | None, Occupant]] = {}

    def load(self, store: MoneyStore) -> int:
        """Load every open charge state (at start-up, in a reader)."""
        for row in store.charge_states(open_only=True):
            state = ChargeState.from_row(row)
            key = (state.meter_id, state.account_id, state.period.start)
            self.states[key] = state
            self.open_by_account.setdefault(state.account_id, set()).add(key)
        return len(self.states)

    def pending_charged(self, account_id: str) -> Decimal:
        """What the account's open (not yet billed) charge states have charged."""
        return sum((self.states[key].charged for key in self.open_by_account.get(account_id, ())
                    if key in self.states), Decimal("0.00"))

    def forget_account(self, account_id: str) -> None:
        """An account changed at runtime: look its meters' billing up again next time."""
        for meter_id in [m for m, found in self._billing.items() if found[0].id == account_id]:
            del self._billing[meter_id]

    def forget_meter(self, meter_id: str) -> None:
        """A meter changed at runtime: look its account and tariff up again next time."""
        self._billing.pop(meter_id, None)

    def billing_of(self, meter_id: str, reading_id: str) -> tuple[Account, Tariff, str | None]:
        """A meter's account, tariff and tier period (ChargeError when it has none)."""
        found = self._billing.get(meter_id)
        if found is not None:
            return found
        meter = self.meter_config(meter_id)
        if meter is None:
            raise ChargeError(Text("billing.charge_unknown_meter", meter=meter_id))
        account_id = meter.get("account")
        account = self.accounts.get(account_id) if account_id else None
        if account is None:
            raise ChargeError(Text("billing.charge_no_account", meter=meter_id))
        try:
            if self.tariffs is None:
                raise TariffError(Text("billing.charge_no_tariffs", meter=meter_id))
            tariff = self.tariffs.for_meter(meter)
        except TariffError as err:
            raise ChargeError(Text("billing.charge_no_price", reason=text_of(err),
                                   reading=reading_id)) from None
        found = (account, tariff, getattr(tariff, "tier_period", None))
        self._billing[meter_id] = found
        return found

    def occupant(self, account: Account) -> Occupant:
        """What charging needs of an account (kept while the account and its move-out are)."""
        moved_out = self.moved_out.get(account.id)
        found = self._occupants.get(account.id)
        if found is None or found[0] is not account or found[1] != moved_out:
            occupant = Occupant(account.id, account.settlement_day, self.occupancy(account))
            found = self._occupants[account.id] = (account, moved_out, occupant)
        return found[2]

    def occupancy(self, account: Account) -> Occupancy | None:
        """The account's occupancy; a move-out through the final bill wins over YAML."""
        move_out = self.moved_out.get(account.id, account.move_out)
        if account.move_in is None and move_out is None:
            return None
        return Occupancy(account.move_in, move_out)

    # --- inside a batch ---------------------------------------------------------------

    def working(self, batch: Batch) -> _Working:
        """This batch's working set (created on first use, with its write and commit)."""
        found: _Working | None = batch.scratch.get(_SCRATCH)
        if found is not None:
            return found
        ops = [op for op in batch.ops if isinstance(op, ChargeOp)]
        work = _Working(applied=batch.store.applied([op.reading_id for op in ops])
                        if ops else set())
        batch.scratch[_SCRATCH] = work
        self._prefetch(batch.store, work, ops)
        now_ms = batch.now_ms  # not the batch: a closure on it would make the batch a cycle

        def write(store: MoneyStore) -> None:
            if work.rows:
                store.insert_applied_values(work.rows, now_ms)
            rows = [state.row_values() for key, state in work.states.items()
                    if key not in work.closing]
            if rows:
                store.save_charge_state_values(rows, now_ms)
            for key in work.closing:
                store.close_charge_state(key[0], key[1], key[2].isoformat(), now_ms)
            changed = [(key[0], key[1], month, str(tiers.months[month]))
                       for key, tiers in work.tiers.items() for month in tiers.changed]
            if changed:
                store.save_tier_usage(changed)

        def commit() -> None:
            open_by_account = self.open_by_account
            for key, state in work.states.items():
                keys = open_by_account.get(key[1])
                if keys is None:
                    keys = open_by_account[key[1]] = set()
                if state.closed:
                    self.states.pop(key, None)
                    keys.discard(key)
                    if not keys:  # a set keeps its size once emptied: 10,000 after a bill run
                        del open_by_account[key[1]]
                else:
                    self.states[key] = state
                    keys.add(key)
            for tier_key, tiers in work.tiers.items():
                tiers.changed = ()
                self.tiers[tier_key] = tiers

        batch.writes.append(write)
        batch.commits.append(commit)
        return work

    def _prefetch(self, store: MoneyStore, work: _Working, ops: list[ChargeOp]) -> None:
        """Load at once the stored charge states and tier usage the batch's readings need."""
        states: set[StateKey] = set()
        tiers: set[TierKey] = set()
        for op in ops:
            if op.reading_id in work.applied:
                continue
            try:
                account, _tariff, tier_period = self.billing_of(op.meter_id, op.reading_id)
            except ChargeError:
                continue  # planning the reading reports it
            if tier_period and (op.meter_id, account.id) not in self.tiers:
                tiers.add((op.meter_id, account.id))
            if account.id in self.open_by_account:
                continue  # its open states are in memory (a new period's is asked alone)
            for item in op.intervals:  # the period each interval starts in (a hint only)
                try:
                    start = period_of(item["start"].astimezone(self.tz).date(),
                                      account.settlement_day).start
                except Exception:  # a bad interval fails its own reading, later
                    continue
                if (op.meter_id, account.id, start) not in self.states:
                    states.add((op.meter_id, account.id, start))
        if states:
            found = store.charge_states_at(sorted((m, a, p.isoformat()) for m, a, p in states))
            work.stored_states = {(m, a, date.fromisoformat(p)): row
                                  for (m, a, p), row in found.items()}
        if tiers:
            work.stored_tiers = store.tier_usages(sorted(tiers))

    def close(self, work: _Working, key: StateKey, state: ChargeState) -> None:
        """Close a charge state in this batch (its bill is being issued)."""
        closed = state.copy()
        closed.closed = True
        if key not in work.states:  # unchanged in this batch: an UPDATE of the flag will do
            work.closing.add(key)
        work.states[key] = closed

    def state(self, batch: Batch, work: _Working, key: StateKey,
              period: BillPeriod) -> ChargeState:
        """The newest version of a charge state: this batch's, memory's, stored, or new."""
        found = work.states.get(key) or self.states.get(key)
        if found is not None:
            return found
        if key in work.stored_states:
            row = work.stored_states[key]
        else:
            rows = batch.store.charge_states(meter_id=key[0], account_id=key[1],
                                             period_start=key[2].isoformat())
            row = rows[0] if rows else None
        if row is not None:
            return ChargeState.from_row(row)
        return ChargeState(key[0], key[1], period)

    def tier_usage(self, batch: Batch, work: _Working, key: TierKey) -> TierUsage:
        """The newest tier usage of a meter for an account."""
        found = work.tiers.get(key) or self.tiers.get(key)
        if found is not None:
            return found
        months = work.stored_tiers.get(key)
        if months is None:
            months = batch.store.tier_usage(*key)
        return TierUsage({month: Decimal(text) for month, text in months.items()}, self.tz)


class ChargeOp(Op):
    """Charge one reading's consumption (idempotent on the reading id)."""

    __slots__ = ("book", "context", "intervals", "meter_id", "reading_id")

    def __init__(self, book: ChargeBook, meter_id: str, reading_id: str,
                 intervals: tuple[Mapping[str, Any], ...], context: Context) -> None:
        super().__init__()
        self.book = book
        self.meter_id = meter_id
        self.reading_id = reading_id
        self.intervals = intervals
        self.context = context

    def failed(self, error: BaseException) -> bool:
        """A failed transaction is retried: the consumption must not be lost."""
        return True

    def committed(self) -> None:
        """Report a reading that could not be charged."""
        if isinstance(self.result, Exception) and self.book.on_error is not None:
            self.book.on_error(self, self.result)

    def plan(self, batch: Batch) -> ReadingCharge | None:
        book = self.book
        work = book.working(batch)
        if self.reading_id in work.applied or self.reading_id in work.seen:
            return None  # a replay: charged already
        account, tariff, tier_period = book.billing_of(self.meter_id, self.reading_id)
        state_for = _StateFor(book, batch, work, self.meter_id, account)
        tier_key = (self.meter_id, account.id)
        tiers = book.tier_usage(batch, work, tier_key).copy() if tier_period else None
        occupant = book.occupant(account)
        result = charge_reading(reading_id=self.reading_id, meter_id=self.meter_id,
                                intervals=self.intervals, tariff=tariff, occupant=occupant,
                                tz=book.tz, state_for=state_for, tiers=tiers)
        if result is None:
            return None
        work.seen.add(self.reading_id)
        work.states.update(state_for.local)
        if tiers is not None:
            work.tiers[tier_key] = tiers
        work.rows.append((self.reading_id, self.meter_id, account.id, to_ms(result.end),
                          _fen(result.total), result.lines_json()))
        if account.billing == "prepaid":
            self._post(batch, result, tariff.id)
        # Only a waiter reads the result. Not keeping it for the rest of the batch (thousands
        # of readings) frees its objects at once: far less for the garbage collector to walk.
        return result if self.future is not None else None

    def _post(self, batch: Batch, result: ReadingCharge, tariff_id: str) -> None:
        head = (f'{{"reading_id":{jtext(self.reading_id)},"tariff":{_q(tariff_id)},'
                f'"end":"{result.end.isoformat()}","lines":{{')
        for period, charged in result.charged.items():
            if not charged:
                continue
            lines = ",".join([f'{_q(key)}:["{v[0]!s}","{v[2]!s}"]'
                              for key, v in result.lines[period].items()])
            start = period.start.isoformat()
            # a reading not charged before cannot have its key in the ledger: no lookup
            batch.add(result.account_id, _CHARGE, -_fen(charged),
                      f"charge:{self.reading_id}:{start}", self.context, period=start,
                      meter_id=self.meter_id, detail=head + lines + "}}")


class _StateFor:
    """``state_for`` of one reading: the working copy of the charge state of a period.

    A reading works on copies (kept in ``local``) that the batch takes only when the whole
    reading was charged. (A small object rather than a closure: fewer objects per reading.)
    """

    __slots__ = ("account", "batch", "book", "local", "meter_id", "moved_out", "work")

    def __init__(self, book: ChargeBook, batch: Batch, work: _Working, meter_id: str,
                 account: Account) -> None:
        self.book = book
        self.batch = batch
        self.work = work
        self.meter_id = meter_id
        self.account = account
        self.moved_out = book.moved_out.get(account.id)
        self.local: dict[StateKey, ChargeState] = {}

    def __call__(self, period: BillPeriod) -> ChargeState:
        account, moved_out, local = self.account, self.moved_out, self.local
        for _hop in range(24):
            if moved_out is not None and period.start > moved_out:
                raise ChargeError(Text("billing.charge_moved_out", account=account.id,
                                       day=moved_out, meter=self.meter_id))
            key = (self.meter_id, account.id, period.start)
            state = local.get(key)
            if state is None:
                state = self.book.state(self.batch, self.work, key, period).copy()
            if not state.closed:
                local[key] = state
                return state
            period = next_period(period, account.settlement_day)  # billed: next period
        raise ChargeError(Text("billing.charge_no_period", meter=self.meter_id))


def _fen(amount: Decimal) -> int:
    return int(amount.scaleb(2))


_q = jstr  # a JSON string literal
_CHARGE = str(EntryKind.CHARGE)
