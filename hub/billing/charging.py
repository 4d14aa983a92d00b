"""Charging each reading: exact cumulative charges per meter and bill period, rounded per line.

A :class:`ChargeState` holds, for one meter in one bill period, the EXACT cumulative amount of
every bill line (``line_id``: tariff, component, key, price version) and what was already
charged for it, rounded half-up to the fen. A reading's usage is priced by the meter's tariff
and added; the reading is charged, per line, ``round(new cumulative) − round(old
cumulative)``. So the charges of a period always add up to its bill (each line rounded once)
to the fen, whatever the number of readings.

Usage comes from storage's ``consumption`` intervals: the tariff's quantity register
(``energy_import_total`` for kWh; ``water_total`` for m3; combined energy is a signed register
that storage never counts)
gives the quantity, the meter's own tariff registers (``energy_import_t1``..) go to
``Usage.registers``; other registers (export...) are not billed. A withdrawn interval (a late
reading re-split it; negative quantity) is priced like usage and subtracted.

**Tier history rule.** Tiered tariffs need the usage already counted in their tier period
(a calendar month or year). It is kept per meter, per account and per local calendar month
(:class:`TierUsage`, persisted as ``tier_usage``): the history of a tier period is the sum of
its months, i.e. everything charged for that meter and tenant in the period so far (usage is
charged as it arrives; a late reading's withdrawal comes off the top first). Usage is split at
local month boundaries linearly in time, exactly as the tariff apportions it. A new tenant
(another account) starts a fresh history, as the tariff's pro-rating expects.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache
from typing import Any

from ..storage import ChargeStateRow, ChargeStateValues
from .periods import BillPeriod, local_midnight, month_key, period_of, periods_between
from .tariff import ChargeLine, Occupancy, Tariff, TierHistory, Usage, no_history, round_fen

_LOGGER = logging.getLogger(__name__)

ZERO = Decimal(0)
FEN_ZERO = Decimal("0.00")
QUANTITY_STEP = Decimal("1e-9")
# Exact arithmetic for cumulative amounts (products of 1e-9 quantities and 5-decimal prices).
EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN)

QUANTITY_REGISTERS: Mapping[str, tuple[str, ...]] = {
    "kWh": ("energy_import_total",),
    "m3": ("water_total",),
}
TARIFF_REGISTER = re.compile(r"^energy_import_t\d{1,2}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# the key, beside the periods, under which a reading's applied lines keep the usage priced
USAGE_KEY = "usage"
_US = timedelta(microseconds=1)


class ChargeError(Exception):
    """A reading cannot be charged (no tariff, no price, account moved out); says why."""


def line_id(line: ChargeLine) -> str:
    """The id of a bill line within a charge state: tariff:component:key[@price_from]."""
    parts = (line.tariff_id, line.component, line.key, line.price_from)
    found = _LINE_IDS.get(parts)
    if found is None:
        base = f"{line.tariff_id}:{line.component}:{line.key}"
        found = f"{base}@{line.price_from.isoformat()}" if line.price_from else base
        if len(_LINE_IDS) >= 4096:
            _LINE_IDS.clear()
        _LINE_IDS[parts] = found
    return found


_LINE_IDS: dict[tuple[str, str, str, date | None], str] = {}  # line ids repeat: made once


# The JSON writers below put Decimals in f-strings as ``{value!s}``: the same text as
# ``{value}`` (Decimal.__format__ with no spec is str), in a third of the time.


def _quoted(text: str) -> str:
    return f'"{text}"'


@lru_cache(maxsize=8192)
def jstr(text: str) -> str:
    """A JSON string literal (cached: line ids, tariff ids and keys repeat)."""
    return json.dumps(text, ensure_ascii=False)


_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')  # nothing json.dumps(ensure_ascii=False) escapes


def jtext(text: str) -> str:
    """A JSON string literal of a text that does not repeat (a reading id): not cached."""
    return f'"{text}"' if _PLAIN.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _US


def _share(usage: Usage, whole: Decimal, a: datetime, b: datetime) -> Decimal:
    """The part of ``whole`` used in [a, b), linear in time, exact to 1e-9 (parts add up)."""
    start, end = _us(usage.start), _us(usage.end)

    def cum(t: int) -> Decimal:
        if t <= start:
            return ZERO
        if t >= end:
            return whole
        return EXACT.divide(EXACT.multiply(whole, Decimal(t - start)),
                            Decimal(end - start)).quantize(QUANTITY_STEP, ROUND_HALF_EVEN)

    if end == start:
        return whole
    return EXACT.subtract(cum(_us(b)), cum(_us(a)))


def slice_usage(usage: Usage, a: datetime, b: datetime) -> Usage:
    """The part [a, b) of a usage, with its proportional quantity and registers."""
    if a <= usage.start and b >= usage.end:
        return usage
    return Usage(max(a, usage.start), min(b, usage.end), _share(usage, usage.quantity, a, b),
                 {name: _share(usage, value, a, b) for name, value in usage.registers.items()},
                 usage.sources)


def usages_from_intervals(intervals: Iterable[Mapping[str, Any]], unit: str,
                          sources: tuple[str, ...] = ()) -> tuple[list[Usage], list[Usage]]:
    """Turn consumption intervals into usage: (counted, withdrawn), each in time order."""
    items = list(intervals)
    if len(items) == 1:  # the common case: one register, one interval
        item = items[0]
        if item["register"] in QUANTITY_REGISTERS.get(unit, ()):
            amount = Decimal(item["quantity"])
            if not amount:
                return [], []
            usage = Usage(item["start"], item["end"], abs(amount), {}, sources)
            return ([], [usage]) if amount < 0 else ([usage], [])
    present = {item["register"] for item in items}
    quantity_register = next((name for name in QUANTITY_REGISTERS.get(unit, ())
                              if name in present), None)
    spans: dict[tuple[int, datetime, datetime], list[Any]] = {}
    for item in items:
        register = item["register"]
        is_quantity = register == quantity_register
        if not is_quantity and not TARIFF_REGISTER.match(register):
            continue
        amount = Decimal(item["quantity"])
        sign = -1 if amount < 0 else 1
        slot = spans.setdefault((sign, item["start"], item["end"]), [ZERO, {}])
        if is_quantity:
            slot[0] += abs(amount)
        else:
            slot[1][register] = slot[1].get(register, ZERO) + abs(amount)
    counted: list[Usage] = []
    withdrawn: list[Usage] = []
    for (sign, start, end), (quantity, registers) in sorted(
            spans.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        if not quantity and not any(registers.values()):
            continue
        (withdrawn if sign < 0 else counted).append(Usage(start, end, quantity, registers,
                                                          sources))
    return counted, withdrawn


# The start of a line's JSON up to its unit price, by what it is written from: the same for
# a line id of every meter on a tariff (one text shared, built once). Never stale: the key is
# everything the text shows.
_HEADS: dict[tuple[str, str, str, date | None, str, str], str] = {}


@dataclass(slots=True)
class LineTotal:
    """One bill line of a charge state: exact cumulative quantity and amount, and charged.

    Never changed once in a ChargeState (copies share it; :meth:`ChargeState.apply` puts a
    new one in its place), so its JSON is written once.
    """

    tariff_id: str
    component: str
    key: str
    price_from: date | None
    unit: str
    unit_price: Decimal
    quantity: Decimal = ZERO
    amount: Decimal = ZERO
    charged: Decimal = FEN_ZERO
    start: datetime | None = None
    end: datetime | None = None
    readings: int = 0  # readings that added to this line
    # json_text() once written: a LineTotal in a ChargeState is never changed (apply puts a
    # new one in its place), so a line the reading did not touch is not written out again
    _text: str | None = field(default=None, init=False, repr=False, compare=False)
    # the start in epoch microseconds once written: a line's start rarely moves, so apply()
    # hands it on to the LineTotal that replaces this one while the start stays the same
    _start_us: int | None = field(default=None, init=False, repr=False, compare=False)

    def to_json(self) -> list[Any]:
        """A compact JSON list."""
        return [self.tariff_id, self.component, self.key,
                self.price_from.isoformat() if self.price_from else None, self.unit,
                str(self.unit_price), str(self.quantity), str(self.amount), str(self.charged),
                _us(self.start) if self.start else None, _us(self.end) if self.end else None,
                self.readings]

    def json_text(self) -> str:
        """:meth:`to_json` as text, written without the json module (hot path)."""
        text = self._text
        if text is None:
            price = str(self.unit_price)  # the key: 0.3 and 0.30 are equal, not written alike
            parts = (self.tariff_id, self.component, self.key, self.price_from, self.unit, price)
            head = _HEADS.get(parts)
            if head is None:
                head = (f'[{jstr(self.tariff_id)},{jstr(self.component)},{jstr(self.key)},'
                        f'{_quoted(self.price_from.isoformat()) if self.price_from else "null"},'
                        f'{jstr(self.unit)},"{price}",')
                if len(_HEADS) >= 4096:
                    _HEADS.clear()
                _HEADS[parts] = head
            start = self._start_us
            if start is None and self.start:
                start = self._start_us = _us(self.start)
            text = self._text = (
                f'{head}"{self.quantity!s}","{self.amount!s}","{self.charged!s}",'
                f'{start if start is not None else "null"},'
                f'{_us(self.end) if self.end else "null"},{self.readings}]')
        return text

    @classmethod
    def from_json(cls, item: Sequence[Any]) -> LineTotal:
        """Read what :meth:`to_json` wrote."""
        return cls(item[0], item[1], item[2], date.fromisoformat(item[3]) if item[3] else None,
                   item[4], Decimal(item[5]), Decimal(item[6]), Decimal(item[7]),
                   Decimal(item[8]),
                   _EPOCH + timedelta(microseconds=item[9]) if item[9] is not None else None,
                   _EPOCH + timedelta(microseconds=item[10]) if item[10] is not None else None,
                   item[11] if len(item) > 11 else 0)


@dataclass(slots=True)
class ChargeState:
    """A meter's exact charges in one bill period for one account."""

    meter_id: str
    account_id: str
    period: BillPeriod
    lines: dict[str, LineTotal] = field(default_factory=dict)
    readings: int = 0
    closed: bool = False

    def copy(self) -> ChargeState:
        """An independent copy (a batch works on copies until it commits).

        Its lines are shared: :meth:`apply` never changes a LineTotal, it puts a new one in
        its place, so only the lines a reading touches are ever copied.
        """
        return ChargeState(self.meter_id, self.account_id, self.period, dict(self.lines),
                           self.readings, self.closed)

    def apply(self, line: ChargeLine, sign: int) -> tuple[str, Decimal]:
        """Add (sign 1) or take off (sign -1) a priced line; return its id and charge change."""
        ident = line_id(line)
        old = self.lines.get(ident)
        if old is None:
            tariff_id, component, key, price_from = (line.tariff_id, line.component, line.key,
                                                     line.price_from)
            unit, unit_price = line.unit, line.unit_price
            quantity, amount, was_charged = ZERO, ZERO, FEN_ZERO
            start: datetime | None = None
            end: datetime | None = None
            readings = 0
        else:
            tariff_id, component, key, price_from = (old.tariff_id, old.component, old.key,
                                                     old.price_from)
            unit, unit_price = old.unit, old.unit_price
            quantity, amount, was_charged = old.quantity, old.amount, old.charged
            start, end, readings = old.start, old.end, old.readings
        if sign > 0:
            readings += 1
            quantity = EXACT.add(quantity, line.quantity)
            amount = EXACT.add(amount, line.amount)
            if start is None or line.start < start:
                start = line.start
            if end is None or line.end > end:
                end = line.end
        else:
            quantity = EXACT.subtract(quantity, line.quantity)
            amount = EXACT.subtract(amount, line.amount)
        charged = round_fen(amount)
        total = self.lines[ident] = LineTotal(tariff_id, component, key, price_from, unit,
                                              unit_price, quantity, amount, charged, start,
                                              end, readings)
        if old is not None and start is old.start:
            total._start_us = old._start_us
        return ident, charged - was_charged

    @property
    def charged(self) -> Decimal:
        """Everything charged in this state (the sum of its rounded lines)."""
        return sum((line.charged for line in self.lines.values()), FEN_ZERO)

    def to_row(self) -> ChargeStateRow:
        """The storage row."""
        values = self.row_values()
        return ChargeStateRow(*values[:4], self.closed, *values[5:])

    def row_values(self) -> ChargeStateValues:
        """:meth:`to_row` as a plain tuple (the hot path: no object per state)."""
        return (self.meter_id, self.period.start.isoformat(), self.period.end.isoformat(),
                self.account_id, 1 if self.closed else 0, self.readings,  # int: binds fastest
                "{" + ",".join([f"{jstr(key)}:{line.json_text()}"
                                for key, line in self.lines.items()]) + "}")

    @classmethod
    def from_row(cls, row: ChargeStateRow) -> ChargeState:
        """Build from a storage row."""
        lines = {key: LineTotal.from_json(item) for key, item in json.loads(row.lines).items()}
        return cls(row.meter_id, row.account_id,
                   BillPeriod(date.fromisoformat(row.period_start),
                              date.fromisoformat(row.period_end)),
                   lines, row.readings, row.closed)


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


@lru_cache(maxsize=1024)
def _month_keys(year: int, month: int, count: int) -> tuple[str, ...]:
    """``YYYY-MM`` of ``count`` months from year-month on."""
    return tuple(month_key(date(year + (month - 1 + step) // 12, (month - 1 + step) % 12 + 1, 1))
                 for step in range(count))


# Per time zone: (first day, first day of the next month, its key, local midnight of the
# next month) of the month last counted in. Pure calendar arithmetic: never stale.
_MONTHS: dict[tzinfo, tuple[date, date, str, datetime]] = {}


class _MonthsHistory:
    """A tier history from usage per month: the period's total, or its total before a month."""

    __slots__ = ("count", "months")

    def __init__(self, months: Mapping[str, Decimal], count: int) -> None:
        self.months = months
        self.count = count

    def __call__(self, period_start: date) -> Decimal:
        return self._sum(period_start, self.count)

    def before(self, period_start: date, month: date) -> Decimal:
        """The period's usage in the months before ``month`` (crossing-month rules)."""
        steps = (month.year - period_start.year) * 12 + month.month - period_start.month
        return self._sum(period_start, max(0, min(steps, self.count)))

    def _sum(self, period_start: date, count: int) -> Decimal:
        total = ZERO
        months = self.months
        for key in _month_keys(period_start.year, period_start.month, count):
            total += months.get(key, ZERO)
        return total


class TierUsage:
    """Usage per local month of one meter for one account (see the tier history rule)."""

    __slots__ = ("changed", "months", "tz")

    def __init__(self, months: Mapping[str, Decimal], tz: tzinfo) -> None:
        # dict.copy() of texts and numbers stays untracked by the garbage collector
        self.months = months.copy() if type(months) is dict else dict(months)
        self.tz = tz
        self.changed: tuple[str, ...] = ()  # the months changed (a tuple: untracked too)

    def copy(self) -> TierUsage:
        """An independent copy (with the months changed so far, still to be saved)."""
        twin = TierUsage(self.months, self.tz)
        twin.changed = self.changed
        return twin

    def history(self, tier_period: str | None) -> TierHistory:
        """The tariff's history function: usage already counted in a tier period."""
        if tier_period is None:
            return no_history
        return _MonthsHistory(self.months, 1 if tier_period == "monthly" else 12)

    def add(self, usage: Usage, sign: int) -> None:
        """Count (or, sign -1, take off) a usage's quantity in its local months."""
        if not usage.quantity:
            return
        tz = self.tz
        day = usage.start.astimezone(tz).date()
        month = _MONTHS.get(tz)  # the month of the last usage counted (nearly always this one)
        if month is None or not month[0] <= day < month[1] or month[3].tzinfo is not tz:
            first = day.replace(day=1)
            following = _next_month(first)
            month = (first, following, month_key(first), local_midnight(following, tz))
            _MONTHS[tz] = month
        if usage.end <= month[3]:  # within one month: no split
            key = month[2]
            self.months[key] = EXACT.add(self.months.get(key, ZERO),
                                         usage.quantity if sign > 0 else -usage.quantity)
            if key not in self.changed:
                self.changed += (key,)
            return
        first = month[0]
        cursor = usage.start
        while True:
            following = (first + timedelta(days=32)).replace(day=1)
            edge = local_midnight(following, self.tz)
            part_end = min(edge, usage.end)
            share = (usage.quantity if cursor == usage.start and part_end >= usage.end
                     else _share(usage, usage.quantity, cursor, part_end))
            key = month_key(first)
            self.months[key] = EXACT.add(self.months.get(key, ZERO),
                                         share if sign > 0 else -share)
            if key not in self.changed:
                self.changed += (key,)
            if usage.end <= edge:
                return
            cursor, first = edge, following


@dataclass(slots=True)
class ReadingCharge:
    """What one reading changed: per bill period, per line (quantity, exact, charged)."""

    reading_id: str
    meter_id: str
    account_id: str
    end: datetime
    lines: dict[BillPeriod, dict[str, tuple[Decimal, Decimal, Decimal]]] = field(
        default_factory=dict)
    charged: dict[BillPeriod, Decimal] = field(default_factory=dict)
    # the usage priced: (1 counted | -1 withdrawn, start, end, quantity), for tracing
    usage: tuple[tuple[int, Usage], ...] = ()

    @property
    def total(self) -> Decimal:
        """Everything charged for this reading (positive: the tenant owes it)."""
        return sum(self.charged.values(), FEN_ZERO)

    def lines_json(self) -> str:
        """The per-period lines as compact JSON (quantity, exact amount, charged)."""
        parts = []
        for period, lines in self.lines.items():
            inner = ",".join([f'{jstr(key)}:["{v[0]!s}","{v[1]!s}","{v[2]!s}"]'
                              for key, v in lines.items()])
            parts.append(f'"{period.start.isoformat()}":{{{inner}}}')
        if self.usage:
            spans = ",".join([f'[{sign},{_us(item.start)},{_us(item.end)},"{item.quantity!s}"]'
                              for sign, item in self.usage])
            parts.append(f'"{USAGE_KEY}":[{spans}]')
        return "{" + ",".join(parts) + "}"


@dataclass(frozen=True)
class Occupant:
    """What charging needs to know of an account."""

    account_id: str
    settlement_day: int
    occupancy: Occupancy | None = None


def charge_reading(*, reading_id: str, meter_id: str, intervals: Sequence[Mapping[str, Any]],
                   tariff: Tariff, occupant: Occupant, tz: tzinfo,
                   state_for: Callable[[BillPeriod], ChargeState],
                   tiers: TierUsage | None) -> ReadingCharge | None:
    """Price one reading's intervals into the charge states; None when nothing is billable.

    ``state_for(period)`` returns the working charge state the usage of ``period`` goes to
    (raising ChargeError when there is none, e.g. after a move-out). Raises TariffError when
    the tariff cannot price the usage; then nothing was changed that the caller keeps.
    """
    counted, withdrawn = usages_from_intervals(intervals, tariff.unit, (reading_id,))
    if not counted and not withdrawn:
        return None
    tier_period: str | None = getattr(tariff, "tier_period", None)
    history = tiers.history(tier_period) if tiers is not None else no_history
    result = ReadingCharge(reading_id, meter_id, occupant.account_id,
                           counted[0].end if len(counted) == 1 and not withdrawn
                           else max(u.end for u in (*counted, *withdrawn)),
                           usage=((1, counted[0]),) if len(counted) == 1 and not withdrawn
                           else (*((-1, u) for u in withdrawn), *((1, u) for u in counted)))
    touched: set[int] = set()
    for sign, usages in ((-1, withdrawn), (1, counted)):
        for usage in usages:
            for period, a, b in _parts(usage, occupant.settlement_day, tz):
                part = slice_usage(usage, a, b)
                state = state_for(period)
                if tiers is not None and sign < 0:
                    tiers.add(part, -1)
                lines = tariff.charges([part], history=history, occupancy=occupant.occupancy)
                if tiers is not None and sign > 0:
                    tiers.add(part, 1)
                if id(state) not in touched:
                    touched.add(id(state))
                    state.readings += 1
                _record(result, state, lines, sign)
    return result


def _parts(usage: Usage, settlement_day: int,
           tz: tzinfo) -> Iterable[tuple[BillPeriod, datetime, datetime]]:
    period = period_of(usage.start.astimezone(tz).date(), settlement_day)
    if usage.end <= local_midnight(period.end, tz):
        return ((period, usage.start, usage.end),)
    return periods_between(usage.start, usage.end, settlement_day, tz)


def _record(result: ReadingCharge, state: ChargeState, lines: Sequence[ChargeLine],
            sign: int) -> None:
    bucket = result.lines.setdefault(state.period, {})
    charged = result.charged.get(state.period, FEN_ZERO)
    for line in lines:
        ident, delta = state.apply(line, sign)
        quantity, amount, was = bucket.get(ident, _NOTHING)
        # tuples, not lists: they hold only numbers, so the collector stops tracking them
        bucket[ident] = (EXACT.add(quantity, line.quantity if sign > 0 else -line.quantity),
                         EXACT.add(amount, line.amount if sign > 0 else -line.amount),
                         was + delta)
        charged += delta
    result.charged[state.period] = charged


_NOTHING = (ZERO, ZERO, FEN_ZERO)


def stored_usage(lines: Mapping[str, Any]) -> list[tuple[int, Usage]]:
    """The usage a reading's applied lines were priced from (empty for rows written before
    it was kept): (1 counted | -1 withdrawn, usage)."""
    return [(int(sign), Usage(_EPOCH + timedelta(microseconds=start),
                              _EPOCH + timedelta(microseconds=end), Decimal(quantity)))
            for sign, start, end, quantity in lines.get(USAGE_KEY, ())]
