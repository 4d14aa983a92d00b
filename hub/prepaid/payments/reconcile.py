"""The daily reconciliation: what each provider says was paid against the order book.

Per merchant account and (site-local) day: the provider's daily bill where it offers one,
else a query of every order created that day. Three kinds of difference are reported:

- paid but not credited: the provider has the money, the account does not. The
  reconciliation credits it itself, through the same path as a notification (once: the
  transaction id is the ledger's key), and says so in the report;
- credited but not paid: an order credited that the provider does not know as paid;
- amount differs: paid with another amount than the order's (never credited by itself).

A day's report is kept (``payment_reconciliation``, replaced when the day is run again)
for the dashboard; a report with differences fires ``payment_mismatch``, the landlord's
alarm.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ...events import EVENT_PAYMENT_MISMATCH
from ...ledger import from_fen
from ...storage import OrderRow, from_ms, to_ms
from ...util.dt import site_time_zone
from .provider import BillLine, Payment, PaymentState, ProviderError

if TYPE_CHECKING:
    from .book import Merchant, PaymentBook

_LOGGER = logging.getLogger(__name__)

CREDITED = ("credited", "partially_refunded", "refunded")


@dataclass
class Report:
    """One day of one merchant account."""

    day: str
    provider: str
    landlord: str
    source: str = "query"  # bill | query
    orders: int = 0
    paid: int = 0  # fen the provider says was paid
    credited: int = 0  # fen the order book credited
    paid_not_credited: list[dict[str, Any]] = field(default_factory=list)
    credited_not_paid: list[dict[str, Any]] = field(default_factory=list)
    amount_differs: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def differences(self) -> int:
        """How many orders disagree."""
        return (len(self.paid_not_credited) + len(self.credited_not_paid)
                + len(self.amount_differs))

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly (money as yuan text)."""
        return {"day": self.day, "provider": self.provider, "landlord": self.landlord,
                "source": self.source, "orders": self.orders,
                "paid": str(from_fen(self.paid)), "credited": str(from_fen(self.credited)),
                "differences": self.differences, "paid_not_credited": self.paid_not_credited,
                "credited_not_paid": self.credited_not_paid,
                "amount_differs": self.amount_differs, "errors": self.errors}


def day_bounds(day: date) -> tuple[int, int]:
    """The site-local day as [start, end) epoch milliseconds."""
    start = datetime.combine(day, time(0), site_time_zone())
    return to_ms(start), to_ms(start + timedelta(days=1))


def seconds_to_next(now: datetime, at: time) -> float:
    """Seconds from ``now`` to the next site-local ``at``."""
    local = now.astimezone(site_time_zone())
    target = datetime.combine(local.date(), at, site_time_zone())
    if target <= local:
        target += timedelta(days=1)
    return max(1.0, (target - local).total_seconds())


def _line(row: OrderRow, **more: Any) -> dict[str, Any]:
    return {"order_id": row.order_id, "account_id": row.account_id,
            "amount": str(from_fen(row.amount_fen)), "transaction_id": row.transaction_id,
            **more}


async def _provider_payments(book: PaymentBook, merchant: Merchant, day: date,
                             rows: list[OrderRow], report: Report) -> dict[str, Payment]:
    """What the provider says was paid, by order id: its bill, else one query per order."""
    api = merchant.provider
    lines: list[BillLine] | None = await api.daily_bill(day)
    if lines is not None:
        report.source = "bill"
        return {line.order_id: Payment(line.order_id, PaymentState.PAID, line.transaction_id,
                                       line.amount_fen) for line in lines
                if line.refund_id is None}
    found: dict[str, Payment] = {}
    for row in rows:
        try:
            payment = await api.query_order(row.order_id)
        except ProviderError as err:
            report.errors.append(f"{row.order_id}: {err}")
            continue
        if payment.state == PaymentState.PAID:
            found[row.order_id] = payment
    return found


async def reconcile_merchant(book: PaymentBook, merchant: Merchant, day: date) -> Report:
    """Compare one merchant account's day with the order book; credit what is missing."""
    report = Report(day.isoformat(), merchant.provider_name, merchant.landlord)
    start, end = day_bounds(day)
    rows = await book.storage.payments_read(lambda s: s.orders(
        provider=merchant.provider_name, merchant=merchant.landlord, start_ts=start,
        end_ts=end, limit=1_000_000))
    by_id = {row.order_id: row for row in rows}
    paid = await _provider_payments(book, merchant, day, rows, report)
    for order_id in paid.keys() - by_id.keys():  # in the bill, created another day
        found = await book.read(order_id)
        # a merchant account shared by two landlord entries has one bill: each order
        # belongs to the report of the entry it was made for
        if found is not None and (found.provider, found.merchant) == (
                merchant.provider_name, merchant.landlord):
            by_id[order_id] = found
    report.orders = len(by_id)
    for order_id, row in sorted(by_id.items()):
        payment = paid.get(order_id)
        if row.state in CREDITED:
            report.credited += row.amount_fen
        if payment is None:
            in_day = row.paid_ts is not None and start <= row.paid_ts < end
            if row.state in CREDITED and (report.source == "query" or in_day):
                report.credited_not_paid.append(_line(row))
            continue
        report.paid += payment.amount_fen or 0
        if payment.amount_fen != row.amount_fen:
            report.amount_differs.append(_line(row, paid=str(from_fen(payment.amount_fen or 0))))
            if row.state in ("created", "closed"):  # keep what the provider said on the order
                await book.apply_payment(order_id, payment, "reconciliation")
            continue
        if row.state not in CREDITED:
            outcome = await book.apply_payment(order_id, payment, "reconciliation")
            report.paid_not_credited.append(_line(
                row, transaction_id=payment.transaction_id, outcome=outcome))
            if outcome in ("credited", "duplicate"):
                report.credited += row.amount_fen
    for order_id in paid.keys() - by_id.keys():
        report.errors.append(f"{order_id}: paid at {merchant.provider_name}, not in the order "
                             "book")
    return report


async def _save(book: PaymentBook, report: Report, text: str) -> None:
    now = to_ms(book.clock())
    await book.storage.payments_write(lambda s: s.save_reconciliation(
        report.day, report.provider, report.landlord, now, report.differences, text))


async def reconcile_all(book: PaymentBook, day: date, provider: str | None = None,
                        landlord: str | None = None) -> list[dict[str, Any]]:
    """Reconcile every merchant account (or those named) for ``day``; keep and answer the
    reports; fire ``payment_mismatch`` for each with differences."""
    reports = []
    for merchant in book.merchants.values():
        if not merchant.provider.remote:
            continue  # cash: the order book is the only record
        if provider is not None and merchant.provider_name != provider:
            continue
        if landlord is not None and merchant.landlord != landlord:
            continue
        try:
            report = await reconcile_merchant(book, merchant, day)
        except ProviderError as err:  # the bill could not be had: kept, said, tried next night
            _LOGGER.warning("Payment reconciliation %s %s of %s not done: %s",
                            merchant.provider_name, merchant.landlord or "(all)", day, err)
            report = Report(day.isoformat(), merchant.provider_name, merchant.landlord,
                            source="bill", errors=[str(err)])
        text = json.dumps(report.as_dict(), ensure_ascii=False)
        await _save(book, report, text)
        if report.differences:
            _LOGGER.warning("Payment reconciliation %s %s of %s: %d differences", report.provider,
                            report.landlord or "(all)", report.day, report.differences)
            book.hub.bus.fire(EVENT_PAYMENT_MISMATCH, {
                "provider": report.provider, "landlord": report.landlord, "day": report.day,
                "paid_not_credited": [x["order_id"] for x in report.paid_not_credited],
                "credited_not_paid": [x["order_id"] for x in report.credited_not_paid],
                "amount_differs": [x["order_id"] for x in report.amount_differs]})
        reports.append(report.as_dict())
    return reports


async def stored_reports(book: PaymentBook, start: date, end: date) -> list[dict[str, Any]]:
    """The kept reports of days in [start, end] (the dashboard's data)."""
    rows = await book.storage.payments_read(lambda s: s.reconciliations(start.isoformat(),
                                                                         end.isoformat()))
    out = []
    for _day, _provider, _landlord, ts, _differences, text in rows:
        report: dict[str, Any] = json.loads(text)
        report["reconciled_at"] = from_ms(ts).isoformat()
        out.append(report)
    return out
