"""Time arithmetic in integer microseconds, linear apportioning of usage, line accumulation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from hub.billing.tariff import ChargeLine, Usage

from .const import QUANTITY_STEP

STEP_EXPONENT = -9
"""QUANTITY_STEP as a power of ten."""
assert Decimal(1).scaleb(STEP_EXPONENT) == QUANTITY_STEP

_LOGGER = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
ZERO = Decimal(0)
# Decimal precision while pricing: products of quantities and prices stay exact.
PRECISION = 60


def micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (true elapsed time, DST-proof)."""
    return (moment - EPOCH) // ONE_US


# moment() results by (instant, time zone): line bounds repeat (readings on the quarter hour,
# segment edges, midnights). Values are immutable, so sharing them changes nothing.
_MOMENTS: dict[tuple[int, tzinfo], datetime] = {}
_MOMENT_CACHE = 16384


def moment(us: int, tz: tzinfo) -> datetime:
    """The aware local datetime of a microsecond count."""
    key = (us, tz)
    found = _MOMENTS.get(key)
    if found is None or found.tzinfo is not tz:  # equal is not enough: the very same tzinfo
        found = (EPOCH + timedelta(microseconds=us)).astimezone(tz)
        if len(_MOMENTS) >= _MOMENT_CACHE:
            _MOMENTS.clear()
        _MOMENTS[key] = found
    return found


def local_date(us: int, tz: tzinfo) -> date:
    """The local calendar date of an instant."""
    return moment(us, tz).date()


def midnight(day: date, tz: tzinfo) -> int:
    """The instant of local midnight starting ``day``."""
    return micros(datetime.combine(day, time(0), tzinfo=tz))


def at(day: date, seconds: int, tz: tzinfo) -> int:
    """The instant of a local wall-clock time (seconds after midnight) on ``day``."""
    clock = time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    return micros(datetime.combine(day, clock, tzinfo=tz))


class Spread:
    """One usage, apportioned linearly in time: exact to QUANTITY_STEP, parts sum to the whole.

    The share of [a, b) is cum(b) - cum(a), where cum(t) is the quantity up to t rounded to
    the step; so any set of cuts gives parts that add up exactly, and a cut never moves the
    parts around it.
    """

    __slots__ = ("_steps", "end", "sources", "start", "usage")

    def __init__(self, usage: Usage) -> None:
        self.usage = usage
        self.start = micros(usage.start)
        self.end = micros(usage.end)
        self.sources = usage.sources
        self._steps: int | None = -1  # the quantity in steps (None: not whole steps), lazily

    def share(self, a: int, b: int, total: Decimal | None = None) -> Decimal:
        """The part of ``total`` (default: the quantity) used in [a, b)."""
        whole = self.usage.quantity if total is None else total
        if self.end == self.start:
            return whole if a == self.start else ZERO
        return self.cum(b, whole) - self.cum(a, whole)

    def cum(self, t: int, whole: Decimal) -> Decimal:
        """The part of ``whole`` used before ``t`` (for a usage of some length)."""
        if t <= self.start:
            return ZERO
        if t >= self.end:
            return whole
        part = whole * (t - self.start) / (self.end - self.start)
        return part.quantize(QUANTITY_STEP, rounding=ROUND_HALF_EVEN)

    def stepper(self) -> Callable[[int], int] | None:
        """``cum(t, quantity)`` in whole steps of QUANTITY_STEP, in integers (the same
        rounding: exact, half-even); None when the quantity is not whole steps, or the usage
        has no length (then only ``cum`` prices it)."""
        steps = self._steps
        if steps == -1:
            quantity = self.usage.quantity
            exponent = quantity.as_tuple().exponent
            steps = self._steps = (
                int(quantity.scaleb(-STEP_EXPONENT)) if self.end > self.start
                and quantity.is_finite() and not quantity.is_signed()
                and isinstance(exponent, int) and exponent >= STEP_EXPONENT else None)
        if steps is None:
            return None
        start, end, length = self.start, self.end, self.end - self.start

        def cum_steps(t: int) -> int:
            if t <= start:
                return 0
            if t >= end:
                return steps
            whole, rest = divmod(steps * (t - start), length)
            twice = rest + rest
            return whole + 1 if twice > length or (twice == length and whole & 1) else whole

        return cum_steps


class _Open:
    """A line being built (amount set for lines whose amount is not quantity × price)."""

    __slots__ = ("amount", "component", "detail", "end", "key", "last_sources", "price_from",
                 "quantity", "sources", "start", "unit", "unit_price")

    def __init__(self, component: str, key: str, unit: str, unit_price: Decimal,
                 price_from: date | None, start: int, end: int) -> None:
        self.component = component
        self.key = key
        self.unit = unit
        self.unit_price = unit_price
        self.price_from = price_from
        self.start = start
        self.end = end
        self.quantity = ZERO
        self.amount: Decimal | None = None
        self.sources: dict[str, None] | None = None
        self.last_sources: tuple[str, ...] = ()
        self.detail: dict[str, Any] | None = None


class Lines:
    """Charge lines being built, merged by line key; amounts stay exact."""

    __slots__ = ("_open", "tariff_id", "tz")

    def __init__(self, tariff_id: str, tz: tzinfo) -> None:
        self.tariff_id = tariff_id
        self.tz = tz
        self._open: dict[tuple[str, str, date | None], _Open] = {}

    def add(self, *, component: str, key: str, unit: str, unit_price: Decimal,
            quantity: Decimal, start: int, end: int, price_from: date | None,
            sources: tuple[str, ...] = (), amount: Decimal | None = None,
            detail: dict[str, Any] | None = None) -> None:
        """Add quantity (and its amount, default quantity × unit price) to a line."""
        if not quantity and amount is None:
            return
        line = self.put(component, key, unit, unit_price, quantity, start, end, price_from,
                        sources)
        if amount is not None:
            line.amount = amount if line.amount is None else line.amount + amount
        if detail:
            if line.detail is None:
                line.detail = {}
            line.detail.update(detail)

    def put(self, component: str, key: str, unit: str, unit_price: Decimal,
            quantity: Decimal, start: int, end: int, price_from: date | None,
            sources: tuple[str, ...]) -> _Open:
        """:meth:`add` of quantity × unit price, positional (the hot path); the line.

        The caller skips a zero quantity (``add`` without an amount adds nothing then).
        """
        found = self._open.get((component, key, price_from))
        if found is None:
            found = _Open(component, key, unit, unit_price, price_from, start, end)
            self._open[(component, key, price_from)] = found
        else:
            if start < found.start:
                found.start = start
            if end > found.end:
                found.end = end
        found.quantity += quantity
        if sources and sources is not found.last_sources:
            if found.sources is None:
                found.sources = dict.fromkeys(sources)
            else:
                found.sources.update(dict.fromkeys(sources))
            found.last_sources = sources
        return found

    def result(self) -> list[ChargeLine]:
        """The lines, in the order they were first added."""
        tariff_id, tz = self.tariff_id, self.tz
        return [
            ChargeLine(
                tariff_id, line.component, line.key, line.quantity, line.unit, line.unit_price,
                line.quantity * line.unit_price if line.amount is None else line.amount,
                moment(line.start, tz), moment(line.end, tz), line.price_from,
                tuple(line.sources) if line.sources else (),
                dict(line.detail) if line.detail else {})
            for line in self._open.values()
        ]
