"""Bill work inside the ledger's transactions: compute, issue, settle, update statuses.

A bill is computed and issued by the same worker that charges readings, in one durable
transaction with its ledger entries, so a reading is either in the bill's charge states or
goes to the next period — never both, never neither. Issuing closes the account's charge
states of that period (later usage of the period is charged in the next one), posts the
bill's entries (keyed ``bill:<bill id>:<line no>``) and, for a move-out, settles the balance
against the deposit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from ..core import Context
from ..i18n import Text, text_of
from ..ledger.entries import EntryKind, PostRequest, from_fen
from ..ledger.ledger import Batch, Op, post_entry
from ..storage import MoneyStore, from_ms
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .bills import (
    Bill,
    BillError,
    BillLine,
    MeterBilling,
    band_totals,
    bill_id_for,
    compute_bill,
    move_out_tier_lines,
    tier_parts,
    tier_period_end,
    tier_period_start,
)
from .charges import ChargeBook
from .charging import ChargeState
from .periods import BillPeriod
from .tariff import Occupancy, Tariff, TariffError

if TYPE_CHECKING:
    from ..ledger.accounts import Account
    from .engine import BillingEngine

_LOGGER = logging.getLogger(__name__)


@dataclass
class BillRequest:
    """Make (and maybe issue) one account's bill for one period."""

    account: Account
    period: BillPeriod
    kind: str = "monthly"  # monthly | final
    issue: bool = False
    context: Context | None = None
    move_out: date | None = None  # final bills: the last day occupied


@dataclass
class BillOutcome:
    """What a BillOp did."""

    bill: Bill
    issued_now: bool = False
    existed: bool = False


def due_date(account: Account, period: BillPeriod) -> date | None:
    """A postpaid bill is due ``due_days`` after its period's last day."""
    if account.billing != "postpaid":
        return None
    return period.last_day + timedelta(days=int(account.postpaid.get("due_days", 10)))


class BillOp(Op):
    """Compute a bill from the charge states; with ``issue``, issue it and post its entries."""

    def __init__(self, engine: BillingEngine, request: BillRequest) -> None:
        super().__init__()
        self.engine = engine
        self.request = request
        self.bill_id = bill_id_for(request.account.id, request.period, request.kind)

    def idem_keys(self) -> tuple[str, ...]:
        return ()

    def plan(self, batch: Batch) -> BillOutcome:
        request = self.request
        stored = batch.store.bill(self.bill_id)
        if stored is not None and stored.status != "draft":
            return BillOutcome(Bill.from_row(stored), existed=True)
        book = self.engine.book
        work = book.working(batch)
        states = self._states(batch, book)
        meters = self._meters(book, states)
        bill = compute_bill(
            bill_id=self.bill_id, account_id=request.account.id,
            account_name=request.account.name, kind=request.kind,
            billing=request.account.billing, period=request.period,
            settlement_day=request.account.settlement_day,
            meters=meters, occupancy=self._occupancy(book),
            due_date=due_date(request.account, request.period),
            extra=self._retier(batch, book, meters))
        now = from_ms(batch.now_ms)
        created_ts = stored.created_ts if stored is not None else batch.now_ms
        if not request.issue:
            bill = replace(bill, created=from_ms(created_ts))
            row = bill.to_row(created_ts=created_ts, updated_ts=batch.now_ms,
                              context=request.context)
            batch.writes.append(lambda store: store.save_bills([row]))
            return BillOutcome(bill, existed=stored is not None)
        for meter_id, state in states.items():
            book.close(work, (meter_id, request.account.id, request.period.start), state)
        self._post_lines(batch, bill)
        settlement = self._settle(batch, bill) if request.kind == "final" else {}
        bill = replace(bill, status="issued", issued=now, created=from_ms(created_ts),
                       settlement=settlement)
        row = bill.to_row(created_ts=created_ts, updated_ts=batch.now_ms,
                          context=request.context)
        batch.writes.append(lambda store: store.save_bills([row]))
        return BillOutcome(bill, issued_now=True, existed=stored is not None)

    def committed(self) -> None:
        """Tell the engine (events, open bills, moved-out accounts)."""
        self.engine.bill_committed(self)

    # --- parts ------------------------------------------------------------------------

    def _states(self, batch: Batch, book: ChargeBook) -> dict[str, ChargeState]:
        request = self.request
        start = request.period.start
        states = {row.meter_id: ChargeState.from_row(row) for row in batch.store.charge_states(
            account_id=request.account.id, period_start=start.isoformat())}
        work = book.working(batch)
        for meter_id in set(states) | set(self.engine.meters_of(request.account.id)):
            newer = work.states.get((meter_id, request.account.id, start))
            if newer is not None:
                states[meter_id] = newer
        return {meter_id: state for meter_id, state in states.items()
                if not (state.closed and self.request.issue)}

    def _meters(self, book: ChargeBook,
                states: Mapping[str, ChargeState]) -> list[MeterBilling]:
        account_id = self.request.account.id
        out = []
        for meter_id in sorted(set(states) | set(self.engine.meters_of(account_id))):
            out.append(MeterBilling(meter_id, self._tariff(book, meter_id, states.get(meter_id)),
                                    states.get(meter_id)))
        return out

    def _tariff(self, book: ChargeBook, meter_id: str, state: ChargeState | None) -> Tariff:
        if book.tariffs is None:
            raise BillError(Text("billing.no_tariffs", meter=meter_id))
        config = book.meter_config(meter_id)
        try:
            if config is not None and config.get("tariff"):
                return book.tariffs.for_meter(config)
            if state is not None and state.lines:
                return book.tariffs.get(next(iter(state.lines.values())).tariff_id)
            return book.tariffs.for_meter(config or {"id": meter_id})
        except TariffError as err:
            raise BillError(Text("billing.bill_no_tariff", reason=text_of(err),
                                 account=self.request.account.id,
                                 period=self.request.period)) from None

    def _retier(self, batch: Batch, book: ChargeBook,
                meters: list[MeterBilling]) -> list[BillLine]:
        """Move-out: tiers charged with full thresholds are re-tiered, pro-rated."""
        request = self.request
        if request.move_out is None:
            return []
        charged_with = book.occupancy(request.account)
        final = Occupancy(request.account.move_in, request.move_out)
        if charged_with == final:
            return []
        lines: list[BillLine] = []
        work = book.working(batch)
        account_id = request.account.id
        for meter in meters:
            tier_period = getattr(meter.tariff, "tier_period", None)
            if not tier_period:
                continue
            start = tier_period_start(request.move_out, tier_period)
            tiers = book.tier_usage(batch, work, (meter.meter_id, account_id))
            parts = tier_parts(
                tariff=meter.tariff, tier_period=tier_period, tier_start=start,
                first=max(start, final.move_in or start), last=request.move_out,
                months=tiers.months,
                states=partial(self._all_states, batch, meter.meter_id))
            bands = band_totals(meter.tariff.id, self._all_states(batch, meter.meter_id),
                                start, tier_period_end(start, tier_period))
            lines += move_out_tier_lines(
                meter_id=meter.meter_id, tariff=meter.tariff, parts=parts, tier_start=start,
                charged_with=charged_with, final=final, tz=book.tz, bands=bands)
        return lines

    def _all_states(self, batch: Batch, meter_id: str) -> list[ChargeState]:
        """Every charge state of a meter for the account, this batch's where it changed."""
        account_id = self.request.account.id
        states = {date.fromisoformat(row.period_start): ChargeState.from_row(row)
                  for row in batch.store.charge_states(meter_id=meter_id,
                                                       account_id=account_id)}
        for (meter, account, start), state in self.engine.book.working(batch).states.items():
            if meter == meter_id and account == account_id:
                states[start] = state
        return [states[start] for start in sorted(states)]

    def _occupancy(self, book: ChargeBook) -> Occupancy | None:
        account = self.request.account
        move_out = self.request.move_out or book.moved_out.get(account.id, account.move_out)
        if account.move_in is None and move_out is None:
            return None
        return Occupancy(account.move_in, move_out)

    def _post_lines(self, batch: Batch, bill: Bill) -> None:
        postpaid = bill.billing == "postpaid"
        for line in bill.lines:
            if not line.amount or (line.is_consumption and not postpaid):
                continue  # prepaid consumption was charged reading by reading
            kind = (EntryKind.ADJUSTMENT if line.amount < 0 else
                    EntryKind.FEE if line.component in ("fixed", "minimum") else
                    EntryKind.CHARGE)
            post_entry(batch, PostRequest(
                bill.account_id, kind, -line.amount, f"bill:{bill.bill_id}:{line.no}",
                context=self.request.context, meter_id=line.meter_id,
                period=bill.period.start,
                reason=Text("billing.reason_credit_line")
                if kind is EntryKind.ADJUSTMENT else None,
                detail_json=(f'{{"bill_id":{_q(bill.bill_id)},"line":{line.no},'
                             f'"tariff":{_q(line.tariff_id)},"component":{_q(line.component)},'
                             f'"key":{_q(line.key)},"quantity":"{line.quantity}",'
                             f'"unit_price":"{line.unit_price}"}}')),
                fresh=True)  # a bill's lines are posted once, when it is issued

    def _settle(self, batch: Batch, bill: Bill) -> dict[str, Any]:
        account = self.request.account
        before = batch.balance(account.id)
        deposit = account.deposit
        if deposit > 0:
            post_entry(batch, PostRequest(
                account.id, EntryKind.DEPOSIT, deposit, f"deposit:{bill.bill_id}",
                context=self.request.context, detail={"bill_id": bill.bill_id}))
        owed = batch.emergency_outstanding(account.id)
        if owed > 0:  # emergency credit is a loan: repaid before anything is paid back
            post_entry(batch, PostRequest(
                account.id, EntryKind.EMERGENCY_REPAY, -from_fen(owed),
                f"emergency_repay:moveout:{bill.bill_id}", context=self.request.context,
                reason=Text("billing.reason_credit_repaid"),
                detail={"bill_id": bill.bill_id}))
        after = batch.balance(account.id)
        refund = Decimal("0.00")
        if after > 0:
            refund = from_fen(after)
            post_entry(batch, PostRequest(
                account.id, EntryKind.REFUND, -refund, f"moveout_refund:{bill.bill_id}",
                context=self.request.context, reason=Text("billing.reason_paid_back"),
                detail={"bill_id": bill.bill_id}))
        return {"move_out": (self.request.move_out or bill.period.last_day).isoformat(),
                "balance_before": str(from_fen(before)), "deposit": str(deposit),
                "refund": str(refund), "debt": str(from_fen(max(0, -after))),
                "balance_after": str(from_fen(batch.balance(account.id)))}


_q = json.dumps  # a JSON string literal


class BillStatusOp(Op):
    """Store new statuses, payments, reminders and overdue flags of issued bills."""

    def __init__(self, bills: list[Bill]) -> None:
        super().__init__()
        self.bills = bills

    def plan(self, batch: Batch) -> int:
        rows = [bill.status_row(batch.now_ms) for bill in self.bills]

        def write(store: MoneyStore) -> None:
            store.update_bill_status(rows)

        batch.writes.append(write)
        return len(rows)
