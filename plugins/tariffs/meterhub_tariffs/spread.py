"""Time arithmetic in integer microseconds, linear apportioning of usage, line accumulation."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from hub.billing.tariff import ChargeLine, Usage

from .const import QUANTITY_STEP

_LOGGER = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
ZERO = Decimal(0)
# Decimal precision while pricing: products of quantities and prices stay exact.
PRECISION = 60


def micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (true elapsed time, DST-proof)."""
    return (moment - EPOCH) // ONE_US


def moment(us: int, tz: tzinfo) -> datetime:
    """The aware local datetime of a microsecond count."""
    return (EPOCH + timedelta(microseconds=us)).astimezone(tz)


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

    __slots__ = ("end", "sources", "start", "usage")

    def __init__(self, usage: Usage) -> None:
        self.usage = usage
        self.start = micros(usage.start)
        self.end = micros(usage.end)
        self.sources = usage.sources

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


@dataclass
class _Open:
    component: str
    key: str
    unit: str
    unit_price: Decimal
    price_from: date | None
    start: int
    end: int
    quantity: Decimal = ZERO
    amount: Decimal | None = None  # set for lines whose amount is not quantity × price
    sources: dict[str, None] = field(default_factory=dict)
    last_sources: tuple[str, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)


class Lines:
    """Charge lines being built, merged by line key; amounts stay exact."""

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
        line = self._open.get((component, key, price_from))
        if line is None:
            line = _Open(component, key, unit, unit_price, price_from, start, end)
            self._open[(component, key, price_from)] = line
        line.quantity += quantity
        if amount is not None:
            line.amount = amount if line.amount is None else line.amount + amount
        if start < line.start:
            line.start = start
        if end > line.end:
            line.end = end
        if sources and sources is not line.last_sources:
            line.sources.update(dict.fromkeys(sources))
            line.last_sources = sources
        if detail:
            line.detail.update(detail)

    def result(self) -> list[ChargeLine]:
        """The lines, in the order they were first added."""
        return [
            ChargeLine(
                tariff_id=self.tariff_id, component=line.component, key=line.key,
                quantity=line.quantity, unit=line.unit, unit_price=line.unit_price,
                amount=line.quantity * line.unit_price if line.amount is None else line.amount,
                start=moment(line.start, self.tz),
                end=moment(line.end, self.tz), price_from=line.price_from,
                sources=tuple(line.sources), detail=dict(line.detail))
            for line in self._open.values()
        ]
