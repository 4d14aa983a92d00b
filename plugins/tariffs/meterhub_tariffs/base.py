"""What every built-in tariff shares: price versions, the pricing loop, fees and minimums."""

from __future__ import annotations

import abc
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Any, Generic, TypeVar

from hub.billing.tariff import (
    ChargeLine,
    Occupancy,
    Tariff,
    TariffError,
    TierHistory,
    Usage,
    no_history,
    round_fen,
)
from hub.i18n import Text
from hub.util.calendar import Calendar

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import DAYS, UNIT_KWH, USAGE_COMPONENTS
from .fees import ONE_DAY, fraction, months, overlap
from .spread import PRECISION, Lines, Spread, midnight, moment
from .tiers import TierCounter, TierPeriods

_LOGGER = logging.getLogger(__name__)

_P = TypeVar("_P")


@dataclass(frozen=True)
class Version(Generic[_P]):
    """One price version: its validity (instants and dates) and its compiled prices."""

    index: int
    start: int | None  # local midnight of valid_from
    end: int | None  # local midnight after valid_until / the next version's valid_from
    valid_from: date | None
    valid_until: date | None  # last day, inclusive (derived from the next version too)
    fixed_fees: Mapping[str, Decimal]
    minimum_charge: Decimal | None
    plan: _P

    def covers(self, us: int) -> bool:
        """Whether the instant lies in this version's validity."""
        return (self.start is None or self.start <= us) and (self.end is None or us < self.end)

    def describe(self) -> str:
        """'from 2025-01-01 until 2025-06-30' for messages."""
        parts = [f"from {self.valid_from}" if self.valid_from else "",
                 f"until {self.valid_until}" if self.valid_until else ""]
        return " ".join(part for part in parts if part) or "always"


class BaseTariff(Tariff, Generic[_P]):
    """A tariff built from a validated entry: versions, then a type-specific plan each."""

    tier_period: str | None = None  # set by types that count tiers

    def __init__(self, config: Mapping[str, Any], calendar: Calendar) -> None:
        self.id = config["id"]
        self.type = config["type"]
        self.unit = config["unit"]
        self.name: str = config.get("name") or self.id
        self.calendar = calendar
        self.tz = calendar.time_zone
        self.component = "energy" if self.unit == UNIT_KWH else "water"
        self.minimum_covers: str = config.get("minimum_covers", "all")
        self.tier_prorate: str = config.get("tier_prorate", DAYS)
        self.versions: list[Version[_P]] = []
        entries = config["versions"]
        for index, entry in enumerate(entries):
            start_day: date | None = entry.get("valid_from")
            until: date | None = entry.get("valid_until")
            if index + 1 < len(entries):
                next_start = entries[index + 1]["valid_from"] - ONE_DAY
                until = next_start if until is None else min(until, next_start)
            self.versions.append(Version(
                index=index,
                start=midnight(start_day, self.tz) if start_day else None,
                end=midnight(until + ONE_DAY, self.tz) if until else None,
                valid_from=start_day, valid_until=until,
                fixed_fees=dict(entry.get("fixed_fees") or {}),
                minimum_charge=entry.get("minimum_charge"),
                plan=self.compile(entry)))
        # one version valid at all times: usage needs no split at price changes
        first = self.versions[0] if len(self.versions) == 1 else None
        self._always = first if first is not None and first.start is None \
            and first.end is None else None
        self._tier_periods = (TierPeriods(self.tier_period, self.tz) if self.tier_period
                              else None)

    @abc.abstractmethod
    def compile(self, entry: Mapping[str, Any]) -> _P:
        """Turn one validated version into what ``price`` uses."""

    @abc.abstractmethod
    def price(self, version: Version[_P], spread: Spread, a: int, b: int, lines: Lines,
              tiers: TierCounter | None) -> None:
        """Price the part [a, b) of a usage that lies inside one version."""

    # --- usage ------------------------------------------------------------------------

    def charges(self, usage: Sequence[Usage], *, history: TierHistory = no_history,
                occupancy: Occupancy | None = None) -> list[ChargeLine]:
        """Price usage into exact lines, split at price changes, tier periods and bands."""
        with localcontext() as ctx:
            ctx.prec = PRECISION
            lines = Lines(self.id, self.tz)
            tiers = (TierCounter(self.id, self.tier_period, history, occupancy, self.tz,
                                 self._tier_periods, self.tier_prorate)
                     if self.tier_period else None)
            always = self._always
            previous: Usage | None = None
            for item in usage:
                if previous is not None and item.start < previous.end:
                    raise TariffError(
                        Text("tariffs.usage_order", tariff=self.id,
                             start=item.start.isoformat(), end=previous.end.isoformat()))
                spread = Spread(item)
                if always is not None:
                    self.price(always, spread, spread.start, spread.end, lines, tiers)
                else:
                    for version, a, b in self._versions_over(spread.start, spread.end):
                        self.price(version, spread, a, b, lines, tiers)
                previous = item
            if tiers is not None and tiers.pending is not None:
                tiers.pending.finish()  # what a rule held back to the end (a month)
            return lines.result()

    def _versions_over(self, a: int, b: int) -> Iterator[tuple[Version[_P], int, int]]:
        cursor = a
        while True:
            version = next((v for v in self.versions if v.covers(cursor)), None)
            if version is None:
                raise TariffError(
                    Text("tariffs.no_price_at", tariff=self.id,
                         at=moment(cursor, self.tz).isoformat(), prices=self._validity()))
            end = b if version.end is None else min(b, version.end)
            yield version, cursor, end
            if end >= b:
                return
            cursor = end

    def _validity(self) -> str:
        return "; ".join(version.describe() for version in self.versions)

    # --- price changes (for re-pricing a tier period) ------------------------------------

    def price_changes(self, first: date, last: date) -> list[date]:
        """The days in (first, last] on which a price version starts, in time order."""
        return [version.valid_from for version in self.versions
                if version.valid_from is not None and first < version.valid_from <= last]

    @property
    def usage_component(self) -> str | None:
        """The component whose lines add up exactly to the usage priced, per price version.

        None when a tariff's usage lines come from the meter's own registers (their sum need
        not be the quantity that tiers count).
        """
        return self.component

    # --- fixed fees and minimum charge -------------------------------------------------

    def _days(self, start: date, end: date, lo: date | None, hi: date | None,
              anchor_day: int | None = None,
              ) -> Iterator[tuple[Version[_P], int, int, date, date]]:
        """(version, days, month length, first, last) for each month piece of [start, end]."""
        for first_day, following in months(start, end, anchor_day):
            month_days = (following - first_day).days
            first, last = overlap(first_day, following - ONE_DAY, start, end)
            first, last = overlap(first, last, lo, hi)
            day = first
            while day <= last:
                version = next((v for v in self.versions
                                if (v.valid_from is None or v.valid_from <= day)
                                and (v.valid_until is None or day <= v.valid_until)), None)
                if version is None:
                    raise TariffError(Text("tariffs.no_price_on", tariff=self.id, day=day,
                                           prices=self._validity()))
                v_first, v_last = overlap(day, last, version.valid_from, version.valid_until)
                yield version, (v_last - v_first).days + 1, month_days, v_first, v_last
                day = v_last + ONE_DAY

    def period_charges(self, start: date, end: date, occupancy: Occupancy | None = None,
                       anchor_day: int | None = None) -> list[ChargeLine]:
        """Monthly fixed fees for [start, end], pro-rated by day (see ``fees``)."""
        if not any(v.fixed_fees for v in self.versions):
            return []
        lo = occupancy.move_in if occupancy else None
        hi = occupancy.move_out if occupancy else None
        with localcontext() as ctx:
            ctx.prec = PRECISION
            lines = Lines(self.id, self.tz)
            for version, days, month_days, first, last in self._days(start, end, lo, hi,
                                                                     anchor_day):
                for name, fee in version.fixed_fees.items():
                    lines.add(component="fixed", key=name, unit="month", unit_price=fee,
                              quantity=fraction(days, month_days),
                              amount=fraction(days, month_days, fee),
                              start=midnight(first, self.tz),
                              end=midnight(last + ONE_DAY, self.tz),
                              price_from=version.valid_from)
            return lines.result()

    def minimum_charge(self, lines: Sequence[ChargeLine], start: date, end: date,
                       anchor_day: int | None = None) -> ChargeLine | None:
        """Top the period's rounded total of this tariff's lines up to its minimum charge."""
        if not any(v.minimum_charge for v in self.versions):
            return None
        with localcontext() as ctx:
            ctx.prec = PRECISION
            minimum = Decimal(0)
            for version, days, month_days, _first, _last in self._days(start, end, None, None,
                                                                       anchor_day):
                if version.minimum_charge:
                    minimum += fraction(days, month_days, version.minimum_charge)
            merged: dict[tuple[Any, ...], Decimal] = {}
            covered = USAGE_COMPONENTS if self.minimum_covers == "usage" else None
            for line in lines:
                if line.tariff_id == self.id and line.component != "minimum" \
                        and (covered is None or line.component in covered):
                    merged[line.line_key] = merged.get(line.line_key, Decimal(0)) + line.amount
            top_up = round_fen(minimum) - sum((round_fen(a) for a in merged.values()),
                                              Decimal(0))
        if top_up <= 0:
            return None
        return ChargeLine(
            tariff_id=self.id, component="minimum", key="minimum", quantity=Decimal(1),
            unit="", unit_price=top_up, amount=top_up,
            start=moment(midnight(start, self.tz), self.tz),
            end=moment(midnight(end + timedelta(days=1), self.tz), self.tz),
            detail={"minimum": round_fen(minimum), "covers": self.minimum_covers})
