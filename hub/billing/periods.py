"""Bill periods: monthly from an account's settlement day, cut short by move-in and move-out.

A period runs from local midnight of one settlement day to local midnight of the next. A
settlement day 29–31 in a shorter month falls on that month's last day: with day 31 the
periods are 31 Jan – 27 Feb, 28 Feb – 30 Mar, 31 Mar – 29 Apr... (start inclusive, end
exclusive). Day 1 gives calendar months.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

ONE_DAY = timedelta(days=1)


def anchor(year: int, month: int, day: int) -> date:
    """The settlement day ``day`` in a month (month may run past 12 or below 1)."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True, order=True)
class BillPeriod:
    """[start, end) in local dates: start inclusive, end exclusive."""

    start: date
    end: date

    @property
    def last_day(self) -> date:
        """The period's last day (inclusive)."""
        return self.end - ONE_DAY

    def contains(self, day: date) -> bool:
        """Whether ``day`` lies in the period."""
        return self.start <= day < self.end

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """The period's first and past-the-end instants (local midnights)."""
        return local_midnight(self.start, tz), local_midnight(self.end, tz)

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.last_day.isoformat()}"


@lru_cache(maxsize=4096)
def local_midnight(day: date, tz: tzinfo) -> datetime:
    """Local midnight starting ``day``."""
    return datetime.combine(day, time(0), tzinfo=tz)


@lru_cache(maxsize=4096)
def period_of(day: date, settlement_day: int) -> BillPeriod:
    """The bill period holding ``day``."""
    this = anchor(day.year, day.month, settlement_day)
    if day >= this:
        return BillPeriod(this, anchor(day.year, day.month + 1, settlement_day))
    return BillPeriod(anchor(day.year, day.month - 1, settlement_day), this)


def period_at(moment: datetime, settlement_day: int, tz: tzinfo) -> BillPeriod:
    """The bill period holding an instant (judged in local time)."""
    return period_of(moment.astimezone(tz).date(), settlement_day)


def next_period(period: BillPeriod, settlement_day: int) -> BillPeriod:
    """The period after ``period``."""
    return period_of(period.end, settlement_day)


def previous_period(period: BillPeriod, settlement_day: int) -> BillPeriod:
    """The period before ``period``."""
    return period_of(period.start - ONE_DAY, settlement_day)


def periods_between(start: datetime, end: datetime, settlement_day: int,
                    tz: tzinfo) -> Iterator[tuple[BillPeriod, datetime, datetime]]:
    """Cut [start, end) at period boundaries: (period, part start, part end) per part."""
    period = period_at(start, settlement_day, tz)
    cursor = start
    while True:
        edge = local_midnight(period.end, tz)
        if end <= edge or edge <= cursor:
            yield period, cursor, end
            return
        yield period, cursor, edge
        cursor = edge
        period = next_period(period, settlement_day)


def month_key(day: date) -> str:
    """``YYYY-MM`` of a date (the tier-usage bucket)."""
    return f"{day.year:04d}-{day.month:02d}"
