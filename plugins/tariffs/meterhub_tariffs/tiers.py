"""Tiers (阶梯): consumption counted per monthly or yearly period, thresholds pro-rated.

Pro-rating: when the occupancy starts or ends inside a tier period, every threshold of that
period is multiplied by (days occupied in the period) / (days in the period) — move-in and
move-out days both count as occupied — and rounded half-up to 0.01 unit. A yearly 2880 kWh
tier for a tenant who moves in on 1 July 2025 becomes 2880 × 184 / 365 = 1451.84 kWh. With
``tier_prorate: months`` the factor is (calendar months the occupancy touches) / (months in
the period): moving in on 20 July makes it 2880 × 6 / 12 = 1440 kWh.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.billing.tariff import Occupancy, TariffError, TierHistory
from hub.i18n import Text

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import DAYS, MAX_TIERS, MONTHLY, MONTHS, THRESHOLD_STEP
from .spread import ZERO, Lines, Spread, local_date, midnight

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TierTable:
    """Cumulative upper bounds (the last is None: open-ended) and their prices."""

    bounds: tuple[Decimal | None, ...]
    prices: tuple[Decimal, ...]

    @classmethod
    def from_config(cls, tiers: Sequence[dict[str, Any]], price_key: str) -> TierTable:
        """Build from a validated tier list."""
        return cls(tuple(tier.get("up_to") for tier in tiers),
                   tuple(tier[price_key] for tier in tiers))


def period_of(day: date, period: str) -> tuple[date, date]:
    """The tier period holding ``day``: (first day, first day of the next period)."""
    if period == MONTHLY:
        start = day.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return start, following
    return date(day.year, 1, 1), date(day.year + 1, 1, 1)


class TierPeriods:
    """Which tier period holds an instant: (first day, its local midnight, the next one's).

    Shared by a tariff's counters; keeps the period found last (usage arrives in time order,
    so it is nearly always the one asked for again). Pure time arithmetic: never stale.
    """

    __slots__ = ("period", "recent", "tz")

    def __init__(self, period: str, tz: tzinfo) -> None:
        self.period = period
        self.tz = tz
        self.recent: tuple[date, int, int] | None = None

    def at(self, us: int) -> tuple[date, int, int]:
        """The tier period holding the instant ``us``."""
        recent = self.recent
        if recent is not None and recent[1] <= us < recent[2]:
            return recent
        first, following = period_of(local_date(us, self.tz), self.period)
        found = (first, midnight(first, self.tz), midnight(following, self.tz))
        self.recent = found
        return found


class TierCounter:
    """What was used in each tier period so far, while one usage list is priced."""

    __slots__ = ("_factor", "_months", "_periods", "_used", "_whole", "history", "occupancy",
                 "pending", "period", "prorate", "tariff_id", "tz")

    def __init__(self, tariff_id: str, period: str, history: TierHistory,
                 occupancy: Occupancy | None, tz: tzinfo,
                 periods: TierPeriods | None = None, prorate: str = DAYS) -> None:
        self.tariff_id = tariff_id
        self.prorate = prorate
        self.period = period
        self.history = history
        self.occupancy = occupancy
        self.tz = tz
        self._used: dict[date, Decimal] = {}
        self._months: dict[tuple[date, date], Decimal] = {}
        self.pending: Any = None  # what a pricing rule holds until the call's end
        self._factor: dict[date, tuple[int, int]] = {}
        self._periods = periods if periods is not None else TierPeriods(period, tz)
        # without move-in or move-out every period is whole: thresholds are not pro-rated
        self._whole = occupancy is None or (occupancy.move_in is None
                                            and occupancy.move_out is None)

    def cut(self, a: int, b: int) -> Iterator[tuple[int, int, date]]:
        """Split [a, b) at period starts: (start, end, period start) per part."""
        while True:
            first, _begin, edge = self._periods.at(a)
            if b <= edge:
                yield a, b, first
                return
            yield a, edge, first
            a = edge

    def allocate(self, table: TierTable, period_start: date,
                 quantity: Decimal) -> list[tuple[int, Decimal]]:
        """Put ``quantity`` on top of the period's usage: (tier index, part) per tier."""
        used = self._used.get(period_start)
        if used is None:
            used = self.history(period_start)
        self._used[period_start] = used + quantity
        parts: list[tuple[int, Decimal]] = []
        left = quantity
        for index, bound in enumerate(table.bounds):
            if bound is None:
                part = left
            else:
                room = self._scaled(bound, period_start) - used
                part = min(left, max(room, ZERO))
            if part:
                parts.append((index, part))
            used += part
            left -= part
            if not left:
                break
        return parts

    def month_start(self, period_start: date, month: date) -> Decimal:
        """The tier period's total at the start of the local month ``month`` (first day).

        From the usage this call counted when it has counted some in the period, else from
        the history: its ``before(period_start, month)`` when it has one, else all of it
        (the usage priced then starts its month).
        """
        key = (period_start, month)
        found = self._months.get(key)
        if found is None:
            found = self._used.get(period_start)
            if found is None:
                before = getattr(self.history, "before", None)
                found = before(period_start, month) if callable(before) \
                    else self.history(period_start)
            self._months[key] = found
        return found

    def threshold(self, bound: Decimal, period_start: date) -> Decimal:
        """A tier's threshold in a period, pro-rated by the occupancy."""
        return self._scaled(bound, period_start)

    def _scaled(self, bound: Decimal, period_start: date) -> Decimal:
        if self._whole:
            return bound
        factor = self._factor.get(period_start)
        if factor is None:
            factor = self._occupied(period_start)
            self._factor[period_start] = factor
        occupied, days = factor
        if occupied == days:
            return bound
        return (bound * occupied / days).quantize(THRESHOLD_STEP, rounding=ROUND_HALF_UP)

    def _occupied(self, period_start: date) -> tuple[int, int]:
        following = period_of(period_start, self.period)[1]
        days = (following - period_start).days
        first, last = period_start, following - timedelta(days=1)
        if self.occupancy is not None:
            if self.occupancy.move_in is not None:
                first = max(first, self.occupancy.move_in)
            if self.occupancy.move_out is not None:
                last = min(last, self.occupancy.move_out)
        occupied = (last - first).days + 1
        if occupied > 0 and self.prorate == MONTHS:  # calendar months touched / months
            months = (last.year - first.year) * 12 + last.month - first.month + 1
            whole = (following.year - period_start.year) * 12 \
                + following.month - period_start.month
            return months, whole
        if occupied <= 0:
            raise TariffError(
                Text("tariffs.outside_occupancy", tariff=self.tariff_id, start=period_start,
                     move_in=self.occupancy and self.occupancy.move_in,
                     move_out=self.occupancy and self.occupancy.move_out))
        return occupied, days


def add_surcharges(lines: Lines, counter: TierCounter, table: TierTable, spread: Spread,
                   a: int, b: int, unit: str, price_from: date | None) -> None:
    """Count [a, b) of a usage into its tier periods; add the per-unit surcharge lines."""
    first, _begin, edge = counter._periods.at(a)
    parts = ((a, b, first),) if b <= edge else counter.cut(a, b)
    for start, end, period_start in parts:
        quantity = spread.share(start, end)
        for index, part in counter.allocate(table, period_start, quantity):
            surcharge = table.prices[index]
            if surcharge:  # allocate gives no zero parts
                lines.put("tier_surcharge", tier_key(index), unit, surcharge, part, start, end,
                          price_from, spread.sources)


_TIER_KEYS = tuple(f"tier{index + 1}" for index in range(MAX_TIERS))


def tier_key(index: int) -> str:
    """The line key of a tier: tier1, tier2..."""
    return _TIER_KEYS[index] if index < len(_TIER_KEYS) else f"tier{index + 1}"
