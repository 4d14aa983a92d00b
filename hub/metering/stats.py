"""Collection success rates (采集成功率) per link, DTU, building and overall.

For one local day, a meter counts as *expected* once a read of it was attempted (or it
reported by itself) and as *collected* once any read of it succeeded that day. A rate over
several days is collected meter-days / expected meter-days.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from ..util.dt import as_local

if TYPE_CHECKING:
    from .service import Meter

WINDOWS = (("today", 1), ("7d", 7), ("30d", 30))
KEEP_DAYS = 31


def scopes_of(meter: Meter) -> list[str]:
    """The scopes a meter's reads count in."""
    scopes = ["overall", f"link_{meter.link.id}"]
    if meter.group != f"{meter.link.id}/{meter.link.id}":
        scopes.append(f"dtu_{meter.group.replace('/', '_')}")
    building = meter.tags.get("building")
    if building:
        scopes.append(f"building_{building}")
    return scopes


class CollectionStats:
    """Per day and scope: which meters were expected and which were collected."""

    def __init__(self) -> None:
        self._expected: dict[date, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self._collected: dict[date, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    def record(self, meter: Meter, success: bool, when: datetime) -> None:
        """Count one read outcome."""
        day = as_local(when).date()
        expected = self._expected[day]
        collected = self._collected[day]
        for scope in scopes_of(meter):
            expected[scope].add(meter.id)
            if success:
                collected[scope].add(meter.id)
        if len(self._expected) > KEEP_DAYS:
            oldest = min(self._expected)
            self._expected.pop(oldest, None)
            self._collected.pop(oldest, None)

    def rate(self, scope: str, today: date, days: int) -> Decimal | None:
        """Percent collected over the ``days`` ending ``today`` (None: nothing expected)."""
        expected = collected = 0
        for offset in range(days):
            day = today - timedelta(days=offset)
            expected += len(self._expected.get(day, {}).get(scope, ()))
            collected += len(self._collected.get(day, {}).get(scope, ()))
        if not expected:
            return None
        return (Decimal(100 * collected) / expected).quantize(Decimal("0.1"), ROUND_HALF_UP)

    def scopes(self) -> set[str]:
        """Every scope seen in the kept days."""
        return {scope for per_day in self._expected.values() for scope in per_day}

    def summary(self, today: date) -> dict[str, dict[str, Any]]:
        """Rates per scope and window, with today's counts."""
        out: dict[str, dict[str, Any]] = {}
        for scope in sorted(self.scopes()):
            entry: dict[str, Any] = {name: self.rate(scope, today, days)
                                     for name, days in WINDOWS}
            entry["expected_today"] = len(self._expected.get(today, {}).get(scope, ()))
            entry["collected_today"] = len(self._collected.get(today, {}).get(scope, ()))
            out[scope] = entry
        return out
