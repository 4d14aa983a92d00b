"""An account's terms as configured: trip mode, protection windows, warning levels, overdraft.

Plain values the account carries (the ledger publishes them with the balance); prepaid control
decides with them (``hub.prepaid.policy``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from ..util.dt import as_local

__all__ = ["ProtectionWindows", "Thresholds", "TripMode", "in_arrears"]


class TripMode(StrEnum):
    """What happens when an account runs out of money."""

    IMMEDIATE = "immediate"  # trip at once
    NEVER = "never"  # alarm only
    DELAYED = "delayed"  # every day at a set local time, trip those still in arrears


@dataclass(frozen=True, slots=True)
class ProtectionWindows:
    """Times in which no trip is sent: nights, weekends, public holidays, listed dates."""

    nights: tuple[time, time] | None = None  # (from, to), may wrap midnight
    weekends: bool = False
    holidays: bool = False
    dates: frozenset[date] = frozenset()

    def protects(self, when: datetime, is_holiday: Callable[[date], bool],
                 is_workday: Callable[[date], bool]) -> bool:
        """Whether ``when`` (any zone; judged in the site's) falls in a protection window."""
        local = as_local(when)
        day = local.date()
        if day in self.dates:
            return True
        if self.holidays and is_holiday(day):
            return True
        if self.weekends and local.weekday() >= 5 and not is_workday(day):
            return True
        if self.nights is not None:
            start, end = self.nights
            now_t = local.time()
            if start <= end:
                return start <= now_t < end
            return now_t >= start or now_t < end
        return False

    def next_open(self, when: datetime, is_holiday: Callable[[date], bool],
                  is_workday: Callable[[date], bool], step: timedelta = timedelta(minutes=1),
                  limit: timedelta = timedelta(days=31)) -> datetime | None:
        """The first instant at or after ``when`` outside every window (None within limit)."""
        cursor = when
        end = when + limit
        while cursor < end:
            if not self.protects(cursor, is_holiday, is_workday):
                return cursor
            cursor = _next_boundary(cursor, step)
        return None


def _next_boundary(cursor: datetime, step: timedelta) -> datetime:
    seconds = step.total_seconds()
    epoch = cursor.timestamp()
    return cursor + timedelta(seconds=seconds - (epoch % seconds) if epoch % seconds else seconds)

@dataclass(frozen=True, slots=True)
class Thresholds:
    """Low-balance warning levels (yuan, descending) and the overdraft limit."""

    low: tuple[Decimal, ...] = (Decimal(20), Decimal(5))
    overdraft: Decimal = Decimal(0)  # 透支额度: trip at -overdraft, not at 0

    @property
    def trip_level(self) -> Decimal:
        """The balance at or below which an account is exhausted."""
        # no overdraft: the (shared) zero itself, not a new Decimal for each account's state
        return -self.overdraft if self.overdraft else self.overdraft



def in_arrears(balance: Decimal, thresholds: Thresholds) -> bool:
    """Whether an account is at or below its trip level."""
    return balance <= thresholds.trip_level

