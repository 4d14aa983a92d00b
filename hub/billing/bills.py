"""Bills: per account and bill period, lines from the charge states plus fixed fees.

A bill's lines are, per meter: every line of its charge state (the exact cumulative amount,
rounded half-up to the fen — the same rounding the per-read charges used, so for a prepaid
account the bill's consumption equals the sum of the charges of the period to the fen), the
tariff's fixed fees for the period (pro-rated by occupancy) and its minimum charge. Each line
keeps its tariff, price version, quantity, unit price, span and how many readings fed it (the
readings themselves are in ``charge_applied``: see ``BillingEngine.trace``). Computing a bill
twice from the same charge states gives the identical lines and digest.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, localcontext
from functools import cached_property
from itertools import pairwise
from typing import Any

from ..i18n import Text
from ..storage import BillRow, from_ms
from .charging import FEN_ZERO, ZERO, ChargeState, LineTotal
from .periods import BillPeriod, month_key, period_of
from .tariff import BAND_SHARE, ChargeLine, Occupancy, Tariff, Usage, round_fen

_LOGGER = logging.getLogger(__name__)

CONSUMPTION_COMPONENTS = frozenset({"energy", "water", "tier_surcharge"})


class BillError(Exception):
    """A bill cannot be made (a meter without a tariff, no price...); says why."""


def bill_id_for(account_id: str, period: BillPeriod, kind: str) -> str:
    """``<account>-<YYYYMMDD>`` for a monthly bill, with ``-final`` for a move-out."""
    base = f"{account_id}-{period.start:%Y%m%d}"
    return f"{base}-final" if kind == "final" else base


@dataclass(frozen=True)
class BillLine:
    """One bill line: quantity × unit price, rounded once to the fen, with its trace."""

    no: int
    meter_id: str | None
    tariff_id: str
    component: str
    key: str
    price_from: date | None
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    exact: Decimal
    start: datetime | None = None
    end: datetime | None = None
    readings: int = 0  # readings that added to the line (see BillingEngine.trace)
    note: str = ""

    @property
    def is_consumption(self) -> bool:
        """Whether the line prices usage (charged per read for prepaid accounts)."""
        return self.component in CONSUMPTION_COMPONENTS

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (numbers as exact text)."""
        return {
            "no": self.no, "meter_id": self.meter_id, "tariff_id": self.tariff_id,
            "component": self.component, "key": self.key,
            "price_from": self.price_from.isoformat() if self.price_from else None,
            "quantity": _plain(self.quantity), "unit": self.unit,
            "unit_price": str(self.unit_price), "amount": str(self.amount),
            "exact": _plain(self.exact),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "readings": self.readings, "note": self.note,
        }

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> BillLine:
        """Read what :meth:`as_dict` wrote."""
        return cls(
            no=item["no"], meter_id=item["meter_id"], tariff_id=item["tariff_id"],
            component=item["component"], key=item["key"],
            price_from=date.fromisoformat(item["price_from"]) if item["price_from"] else None,
            quantity=Decimal(item["quantity"]), unit=item["unit"],
            unit_price=Decimal(item["unit_price"]), amount=Decimal(item["amount"]),
            exact=Decimal(item["exact"]),
            start=datetime.fromisoformat(item["start"]) if item["start"] else None,
            end=datetime.fromisoformat(item["end"]) if item["end"] else None,
            readings=item.get("readings", 0), note=item.get("note", ""))


@dataclass(frozen=True)
class Bill:
    """A bill (or, for prepaid accounts, a statement) of one account for one period."""

    bill_id: str
    account_id: str
    account_name: str
    kind: str  # monthly | final
    billing: str  # prepaid | postpaid
    period: BillPeriod  # for a final bill it ends the day after the move-out
    lines: tuple[BillLine, ...]
    total: Decimal
    due_date: date | None = None
    status: str = "draft"  # draft | issued | partly_paid | paid
    paid: Decimal = FEN_ZERO
    overdue: bool = False
    issued: datetime | None = None
    created: datetime | None = None
    reminders: tuple[int, ...] = ()
    settlement: Mapping[str, Any] = field(default_factory=dict)

    @property
    def consumption(self) -> Decimal:
        """The lines that price usage (for prepaid: what the per-read charges add up to)."""
        return sum((line.amount for line in self.lines if line.is_consumption), FEN_ZERO)

    @property
    def fees(self) -> Decimal:
        """Fixed fees and the minimum-charge top-up."""
        return sum((line.amount for line in self.lines if not line.is_consumption), FEN_ZERO)

    @property
    def amount_due(self) -> Decimal:
        """What is still unpaid."""
        return self.total - self.paid

    def core(self) -> dict[str, Any]:
        """What the digest covers: the account, the period and the lines."""
        return {"bill_id": self.bill_id, "account_id": self.account_id, "kind": self.kind,
                "billing": self.billing, "period_start": self.period.start.isoformat(),
                "period_end": self.period.last_day.isoformat(),
                "lines": [line.as_dict() for line in self.lines], "total": str(self.total),
                "due_date": self.due_date.isoformat() if self.due_date else None}

    @cached_property
    def core_text(self) -> str:
        """The canonical JSON of :meth:`core` (sorted keys, no spaces)."""
        return json.dumps(self.core(), sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"))

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`core` (equal bills, equal digests)."""
        return hashlib.sha256(self.core_text.encode()).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict with status and payments."""
        return {**self.core(), "account_name": self.account_name, "status": self.status,
                "paid": str(self.paid), "amount_due": str(self.amount_due),
                "overdue": self.overdue, "consumption": str(self.consumption),
                "fees": str(self.fees),
                "issued": self.issued.isoformat() if self.issued else None,
                "created": self.created.isoformat() if self.created else None,
                "reminders": list(self.reminders), "settlement": dict(self.settlement),
                "digest": self.digest}

    def to_row(self, *, created_ts: int, updated_ts: int, context: Any = None) -> BillRow:
        """The storage row (money in fen)."""
        extra = json.dumps({"account_name": self.account_name,
                            "settlement": dict(self.settlement)}, ensure_ascii=False,
                           separators=(",", ":"))
        return BillRow(
            bill_id=self.bill_id, account_id=self.account_id, kind=self.kind,
            billing=self.billing, period_start=self.period.start.isoformat(),
            period_end=self.period.last_day.isoformat(), status=self.status,
            total=_fen(self.total), paid=_fen(self.paid),
            due_date=self.due_date.isoformat() if self.due_date else None,
            overdue=self.overdue, reminders=json.dumps(list(self.reminders)),
            content=f'{{"core":{self.core_text},"extra":{extra}}}',
            digest=self.digest, created_ts=created_ts,
            issued_ts=int(self.issued.timestamp() * 1000) if self.issued else None,
            updated_ts=updated_ts,
            context_id=getattr(context, "id", None),
            context_parent_id=getattr(context, "parent_id", None),
            context_user_id=getattr(context, "user_id", None))

    def status_row(self, updated_ts: int) -> tuple[Any, ...]:
        """(status, paid fen, overdue, reminders, updated, bill id) for a status update."""
        return (self.status, _fen(self.paid), int(self.overdue),
                json.dumps(list(self.reminders)), updated_ts, self.bill_id)

    @classmethod
    def from_row(cls, row: BillRow) -> Bill:
        """Build from a storage row."""
        content = json.loads(row.content)
        core, extra = content["core"], content["extra"]
        start = date.fromisoformat(row.period_start)
        end = date.fromisoformat(row.period_end) + timedelta(days=1)
        return cls(
            bill_id=row.bill_id, account_id=row.account_id,
            account_name=extra.get("account_name", row.account_id), kind=row.kind,
            billing=row.billing, period=BillPeriod(start, end),
            lines=tuple(BillLine.from_dict(item) for item in core["lines"]),
            total=Decimal(row.total).scaleb(-2),
            due_date=date.fromisoformat(row.due_date) if row.due_date else None,
            status=row.status, paid=Decimal(row.paid).scaleb(-2), overdue=row.overdue,
            issued=from_ms(row.issued_ts) if row.issued_ts else None,
            created=from_ms(row.created_ts), reminders=tuple(json.loads(row.reminders)),
            settlement=extra.get("settlement") or {})


def _fen(amount: Decimal) -> int:
    return int(amount.scaleb(2))


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class MeterBilling:
    """One meter of the account: its tariff and its charge state for the period (if any)."""

    meter_id: str
    tariff: Tariff
    state: ChargeState | None


def _state_lines(state: ChargeState) -> list[tuple[str, LineTotal]]:
    return sorted(state.lines.items())


def _as_charge_line(total: LineTotal, period: BillPeriod) -> ChargeLine:
    start = total.start or datetime.combine(period.start, datetime.min.time())
    return ChargeLine(tariff_id=total.tariff_id, component=total.component, key=total.key,
                      quantity=total.quantity, unit=total.unit, unit_price=total.unit_price,
                      amount=total.amount, start=start, end=total.end or start,
                      price_from=total.price_from)


def fee_window(period: BillPeriod, settlement_day: int) -> tuple[date, date]:
    """The days a tariff's monthly fees are counted over for a bill period: its whole
    settlement period (cut where a final bill ends it). The tariff counts them in months that
    begin on the settlement day, so a settlement period is ONE month whatever its length
    (from 30 June to 30 July for settlement day 31 is 31 days), a fully occupied period pays
    exactly one month's fee, and a partly occupied one pays occupied days / period days.
    """
    full = period_of(period.start, settlement_day)
    return full.start, min(full.last_day, period.last_day)


def period_fees(tariff: Tariff, period: BillPeriod, settlement_day: int,
                occupancy: Occupancy | None,
                priced: Sequence[ChargeLine]) -> tuple[list[ChargeLine], ChargeLine | None]:
    """A bill period's fixed fees and minimum-charge top-up for one meter's tariff.

    The fees are counted over the period's :func:`fee_window`, pro-rated by the occupancy;
    the minimum over the occupied part of the window, against the usage lines ``priced`` and
    the fees. Nothing when the occupancy does not touch the window. ``meterhub tariff quote
    --period`` uses this too, so a quote shows the fees exactly as a bill does.
    """
    window_start, window_end = fee_window(period, settlement_day)
    first, last = window_start, window_end
    if occupancy is not None:
        first = max(first, occupancy.move_in or first)
        last = min(last, occupancy.move_out or last)
    if first > last:
        return [], None
    fees = tariff.period_charges(window_start, window_end, occupancy, settlement_day)
    return fees, tariff.minimum_charge([*priced, *fees], first, last, settlement_day)


def compute_bill(*, bill_id: str, account_id: str, account_name: str, kind: str,
                 billing: str, period: BillPeriod, settlement_day: int,
                 meters: Sequence[MeterBilling], occupancy: Occupancy | None,
                 due_date: date | None, extra: Sequence[BillLine] = ()) -> Bill:
    """Build a bill from charge states and tariffs (pure: same input, same bill)."""
    lines: list[BillLine] = []
    for meter in sorted(meters, key=lambda m: m.meter_id):
        priced: list[ChargeLine] = []
        if meter.state is not None:
            for _ident, total in _state_lines(meter.state):
                amount = round_fen(total.amount)
                if amount != total.charged:
                    raise BillError(Text("billing.state_inconsistent", meter=meter.meter_id,
                                         period=period, line=_ident, charged=total.charged,
                                         amount=amount))
                if not total.quantity and not amount:
                    continue
                priced.append(_as_charge_line(total, period))
                lines.append(BillLine(
                    len(lines) + 1, meter.meter_id, total.tariff_id, total.component, total.key,
                    total.price_from, total.quantity, total.unit, total.unit_price, amount,
                    total.amount, total.start, total.end, total.readings))
        fees, minimum = period_fees(meter.tariff, period, settlement_day, occupancy, priced)
        for fee in fees:
            lines.append(_from_charge_line(len(lines) + 1, meter.meter_id, fee,
                                           _fee_note(fee)))
        if minimum is not None:
            lines.append(_from_charge_line(len(lines) + 1, meter.meter_id, minimum,
                                           f"minimum charge {minimum.detail.get('minimum')}"))
    lines.extend(extra)
    numbered = tuple(line if line.no == index else replace(line, no=index)
                     for index, line in enumerate(lines, start=1))
    total_amount = sum((line.amount for line in numbered), FEN_ZERO)
    return Bill(bill_id, account_id, account_name, kind, billing, period, numbered,
                total_amount, due_date)


def _from_charge_line(no: int, meter_id: str, line: ChargeLine, note: str) -> BillLine:
    return BillLine(no, meter_id, line.tariff_id, line.component, line.key, line.price_from,
                    line.quantity, line.unit, line.unit_price, round_fen(line.amount),
                    line.amount, line.start, line.end, 0, note)


def _fee_note(line: ChargeLine) -> str:
    return "monthly fee" if line.quantity == 1 else "monthly fee, pro-rated by day"


def tier_period_start(day: date, tier_period: str) -> date:
    """The first day of the tier period (calendar month or year) holding ``day``."""
    return day.replace(day=1) if tier_period == "monthly" else date(day.year, 1, 1)


def tier_period_end(start: date, tier_period: str) -> date:
    """The first day of the tier period after the one starting on ``start``."""
    if tier_period == "monthly":
        return _next_month(start)
    return date(start.year + 1, 1, 1)


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _month_keys(start: date, end: date) -> Iterator[str]:
    """``YYYY-MM`` of every month from ``start``'s up to (not including) ``end``'s."""
    day = start.replace(day=1)
    while day < end:
        yield month_key(day)
        day = _next_month(day)


def tier_parts(*, tariff: Tariff, tier_period: str, tier_start: date, first: date,
               last: date, months: Mapping[str, Decimal],
               states: Callable[[], Iterable[ChargeState]]) -> list[tuple[date, Decimal]]:
    """A tier period's usage of one meter and tenant, cut where the tariff's price changes.

    Returns (first day, quantity) per part, in time order: the part from ``first`` (the tier
    period's start or the move-in) and one from each day in (first, last] on which a price
    version starts; parts without usage are left out. The tier usage (``months``: ``YYYY-MM``
    -> quantity, the history the readings were charged with) gives the whole, and the usage
    before a price change on the 1st of a month. For a change inside a month the charge states
    (``states()``, every period of this meter and tenant) tell: their usage lines carry the
    price version, so what was priced at a version from that day on is taken off the whole.
    """
    with localcontext() as ctx:
        ctx.prec = 60
        end = tier_period_end(tier_start, tier_period)
        total = sum((months.get(key, ZERO) for key in _month_keys(tier_start, end)), ZERO)
        find = getattr(tariff, "price_changes", None)
        changes: list[date] = list(find(first, last)) if callable(find) else []
        loaded: list[ChargeState] | None = None
        marks: list[tuple[date, Decimal]] = [(first, ZERO)]
        for day in changes:
            if day.day == 1:
                before = sum((months.get(key, ZERO) for key in _month_keys(tier_start, day)),
                             ZERO)
            else:
                if loaded is None:
                    loaded = list(states())
                before = total - _priced_from(tariff, day, loaded, end)
            marks.append((day, before))
        marks.append((end, total))
        parts: list[tuple[date, Decimal]] = []
        for (day, before), (following, upto) in pairwise(marks):
            quantity = upto - before
            if quantity < 0:
                raise BillError(Text("billing.retier_disagree", tariff=tariff.id,
                                     start=tier_start, total=total, quantity=quantity,
                                     first=day, last=following))
            if quantity:
                parts.append((day, quantity))
        return parts


def _priced_from(tariff: Tariff, day: date, states: Iterable[ChargeState],
                 end: date) -> Decimal:
    """The usage the charge states priced at price versions starting on ``day`` or later."""
    component = getattr(tariff, "usage_component", None)
    if component is None:
        raise BillError(Text("billing.retier_registers", tariff=tariff.id, day=day))
    used = ZERO
    for state in states:
        if state.period.start >= end:
            continue
        for line in state.lines.values():
            if (line.tariff_id == tariff.id and line.component == component
                    and line.price_from is not None and line.price_from >= day):
                used += line.quantity
    return used


# Every register a tariff may price, with no delta: re-priced tier usage has a quantity only
# (register-based band lines come out empty and are the same both ways anyway).
_NO_REGISTERS: Mapping[str, Decimal] = {f"energy_import_t{number}": ZERO
                                        for number in range(1, 64)}


def band_totals(tariff_id: str, states: Iterable[ChargeState], tier_start: date,
                end: date) -> dict[str, Decimal]:
    """Each band's usage in a tier period, from the per-band tier lines (``peak/tier2``) of
    the charge states that overlap it; empty for a tariff without tiers per band."""
    totals: dict[str, Decimal] = {}
    for state in states:
        if state.period.end <= tier_start or state.period.start >= end:
            continue
        for line in state.lines.values():
            if line.tariff_id == tariff_id and "/tier" in line.key \
                    and line.component in CONSUMPTION_COMPONENTS:
                band = line.key.split("/", 1)[0]
                totals[band] = totals.get(band, ZERO) + line.quantity
    return totals


def move_out_tier_lines(*, meter_id: str, tariff: Tariff,
                        parts: Sequence[tuple[date, Decimal]], tier_start: date,
                        charged_with: Occupancy | None, final: Occupancy,
                        tz: tzinfo, bands: Mapping[str, Decimal] | None = None,
                        ) -> list[BillLine]:
    """Re-tier a tier period's usage with thresholds pro-rated to the move-out.

    Readings were charged with the occupancy known then (no move-out yet: full thresholds).
    The tier period's usage, as :func:`tier_parts` cut it at price changes, is priced both
    ways, each part at the start of its price version and on top of the parts before it (the
    order the readings filled the tiers in); the difference per line (tier, price version) is
    the correction, rounded half-up to the fen. Band prices are the same both ways, so only
    tier lines and tier surcharges differ. For a tariff pricing tiers per band, ``bands``
    (:func:`band_totals`) spreads each part over the bands in proportion to the tier
    period's band usage: which band's kWh change tier is known no finer than that.
    """
    registers: Mapping[str, Decimal] = _NO_REGISTERS
    if bands:
        registers = {**_NO_REGISTERS, **{BAND_SHARE + band: quantity
                                         for band, quantity in bands.items()}}
    usage: list[Usage] = []
    for day, quantity in parts:
        at = datetime.combine(day, time(0), tzinfo=tz)
        usage.append(Usage(at, at, quantity, registers, ("move-out",)))
    if not usage:
        return []
    before = {_ident(line): line for line in tariff.charges(usage, occupancy=charged_with)}
    after = {_ident(line): line for line in tariff.charges(usage, occupancy=final)}
    out: list[BillLine] = []
    for ident in sorted(set(before) | set(after), key=_ident_order):
        new, old = after.get(ident), before.get(ident)
        model = new or old
        assert model is not None
        quantity = (new.quantity if new else Decimal(0)) - (old.quantity if old else Decimal(0))
        exact = (new.amount if new else Decimal(0)) - (old.amount if old else Decimal(0))
        if not quantity and not exact:
            continue
        out.append(BillLine(0, meter_id, model.tariff_id, "tier_adjustment", model.key,
                            model.price_from, quantity, model.unit, model.unit_price,
                            round_fen(exact), exact, None, None, 0,
                            f"{model.component} re-tiered for the move-out (thresholds "
                            f"pro-rated from {tier_start})"))
    return out


def _ident(line: ChargeLine) -> tuple[str, str, date | None]:
    return (line.component, line.key, line.price_from)


def _ident_order(ident: tuple[str, str, date | None]) -> tuple[str, str, date]:
    return (ident[0], ident[1], ident[2] or date.min)  # the first version may have no date


def allocate_payments(bills: Sequence[Bill], unpaid_pool: Decimal) -> dict[str, Decimal]:
    """What each issued bill still has unpaid: the debt goes to the newest bills first.

    Payments settle the oldest bills first, so of an account's debt ``unpaid_pool`` the
    newest bill takes as much as its total, then the one before it, and so on.
    """
    remaining = max(unpaid_pool, FEN_ZERO)
    unpaid: dict[str, Decimal] = {}
    for bill in sorted(bills, key=lambda b: (b.period.start, b.bill_id), reverse=True):
        share = min(max(bill.total, FEN_ZERO), remaining)
        unpaid[bill.bill_id] = share
        remaining -= share
    return unpaid
