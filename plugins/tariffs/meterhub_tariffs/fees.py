"""Fixed monthly fees and minimum charges, pro-rated by day.

A bill period [start, end] is cut into months anchored on the settlement day (default: the
day of ``start``; a period from the 15th to the 14th is one month, and so is one from 30 June
to 30 July for settlement day 31: an anchor day 29–31 falls on a short month's last day). A monthly
fee counts days / days-in-that-month of each month, for the days that are in the period,
in the occupancy and in a price version; a full month is exactly the fee. Pro-rated amounts
and quantities are exact to 1e-9 (a true half fen is never mis-rounded).
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from .const import QUANTITY_STEP

_LOGGER = logging.getLogger(__name__)

ONE_DAY = timedelta(days=1)


def _anchor(year: int, month: int, day: int) -> date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def months(start: date, end: date,
           anchor_day: int | None = None) -> Iterator[tuple[date, date]]:
    """Months that overlap [start, end], each starting on ``anchor_day`` (default: the day of
    ``start``; a day past a short month's end falls on its last day): (first day, next
    first day). The first one holds ``start``."""
    day = anchor_day or start.day
    index = -1 if _anchor(start.year, start.month, day) > start else 0
    while True:
        first = _anchor(start.year, start.month + index, day)
        following = _anchor(start.year, start.month + index + 1, day)
        if first > end:
            return
        yield first, following
        index += 1


def fraction(days: int, month_days: int, value: Decimal = Decimal(1)) -> Decimal:
    """``value`` × days / month_days, exact to 1e-9 (exact when it terminates there)."""
    if days == month_days:
        return value
    return (value * days / month_days).quantize(QUANTITY_STEP, rounding=ROUND_HALF_EVEN)


def overlap(first: date, last: date, lo: date | None, hi: date | None) -> tuple[date, date]:
    """[first, last] clipped to [lo, hi] (None: unbounded); empty when first > last."""
    return (max(first, lo) if lo else first), (min(last, hi) if hi else last)
