"""The contract of tariff plugins: turn consumption into exact, traceable charge lines.

A tariff *type* (``flat``, ``multi_rate``, ``tiered``, ``tou``...) is registered by a plugin
with ``register_tariff_types``; it validates one entry of the ``tariffs:`` block and builds
a :class:`Tariff`. A tariff prices :class:`Usage` (consumption over an interval) into
:class:`ChargeLine` objects whose ``amount`` is EXACT (not rounded). Rounding happens once,
in billing: half-up to the fen per bill line. Because a tariff prices cumulative usage
exactly, prepaid can charge each reading as ``round(cost(all usage so far)) -
round(cost(usage before it))`` per line, and the sum of those charges equals the monthly
bill to the fen.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

__all__ = [
    "BAND_SHARE",
    "FEN",
    "ChargeLine",
    "MeterSchedule",
    "Occupancy",
    "SegmentPart",
    "Tariff",
    "TariffError",
    "TariffType",
    "TierHistory",
    "Usage",
    "no_history",
    "round_fen",
]

FEN = Decimal("0.01")
# ``Usage.registers[BAND_SHARE + band]``: a band's weight in an instant usage whose bands a
# re-pricing knows only as shares (a move-out re-tiers a tier period's usage that way).
BAND_SHARE = "band:"


def round_fen(amount: Decimal) -> Decimal:
    """The one rounding rule for money: half-up to the fen."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Usage:
    """Consumption of one meter over [start, end): the quantity, and per-register deltas.

    ``registers`` holds the meter's own tariff-register deltas (``energy_import_t1``..``t4``)
    when it counts TOU itself, and on an instant usage may carry ``band:<name>`` weights
    (``BAND_SHARE``): a tariff pricing tiers per band spreads the quantity over those bands;
    ``sources`` names what produced it (reading ids), for tracing.
    A usage spread over several TOU segments is apportioned linearly in time.
    """

    start: datetime
    end: datetime
    quantity: Decimal
    registers: Mapping[str, Decimal] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(  # i18n: internal (a bug: every caller gives aware times)
                "usage times must be time-zone aware")
        if self.end < self.start:
            raise ValueError(Text("billing.usage_order", start=self.start, end=self.end))
        if self.quantity < 0:
            raise ValueError(Text("billing.usage_negative", quantity=self.quantity))


@dataclass(frozen=True, slots=True)
class Occupancy:
    """When a tenant lived there: pro-rates tier thresholds and fixed monthly fees."""

    move_in: date | None = None
    move_out: date | None = None  # the last day occupied


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One priced line: quantity × unit price = amount (exact, unrounded).

    ``key`` identifies the line within its tariff (``peak``, ``tier2``, ``service_fee``...),
    ``component`` what kind of charge it is, ``price_from`` the validity start of the price
    used, ``start``/``end`` the span it covers, ``sources`` what produced it.
    """

    tariff_id: str
    component: str  # energy | water | tier_surcharge | fixed | minimum
    key: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    start: datetime
    end: datetime
    price_from: date | None = None
    sources: tuple[str, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def line_key(self) -> tuple[str, str, str, date | None]:
        """Lines with the same line key are merged and rounded together on a bill."""
        return (self.tariff_id, self.component, self.key, self.price_from)


# Consumption already used in a tier period before the usage being priced:
# ``history(tier_period_start) -> quantity``. A history may also have a method
# ``before(tier_period_start, month_first_day) -> quantity``: what the tier period had used
# before that local month (crossing-month rules ask it; without it the usage priced is taken
# to start its month).
TierHistory = Callable[[date], Decimal]


def no_history(_period_start: date) -> Decimal:
    """A tier history with nothing used yet."""
    return Decimal(0)


@dataclass(frozen=True, slots=True)
class SegmentPart:
    """The part of a usage that fell in one stretch of one band (a TOU schedule segment, or
    several adjacent ones of the same band), for tracing a bill line to the clock."""

    start: datetime
    end: datetime
    key: str  # the band
    price_from: date | None  # the price version
    quantity: Decimal  # exactly as pricing apportioned it: the parts of a band add up


@dataclass(frozen=True)
class MeterSchedule:
    """A time-of-use schedule as a meter can store it (zones, day schedules, rest days).

    ``zones``: (month, day, workday schedule) in calendar order; ``schedules``: each day
    schedule as (start second of the day, band) runs; ``weekend`` / ``holiday``: the
    schedules of rest days and public holidays; ``zone_overrides``: some zone names its own
    weekend or holiday schedule (a meter has one rest-day table); ``valid_from``: the first
    day of the price version it comes from (None: from the beginning).
    """

    zones: tuple[tuple[int, int, str], ...]
    schedules: Mapping[str, tuple[tuple[int, str], ...]]
    weekend: str | None = None
    holiday: str | None = None
    zone_overrides: bool = False
    valid_from: date | None = None


class Tariff(abc.ABC):
    """One configured tariff (an entry of ``tariffs:``)."""

    id: str
    type: str
    unit: str  # kWh or m3

    @abc.abstractmethod
    def charges(self, usage: Sequence[Usage], *, history: TierHistory = no_history,
                occupancy: Occupancy | None = None) -> list[ChargeLine]:
        """Price usage (in time order, not overlapping) into exact lines, one per line key.

        Raises :class:`TariffError` when usage falls where no price is valid.
        """

    def period_charges(self, start: date, end: date, occupancy: Occupancy | None = None,
                       anchor_day: int | None = None) -> list[ChargeLine]:
        """Fixed fees for the days [start, end] (pro-rated by occupancy), counted in months
        that begin on ``anchor_day`` (a settlement day; default: the day of ``start``)."""
        return []

    @property
    def usage_component(self) -> str | None:
        """The component of the lines that price the usage itself (``energy``...)."""
        return None

    def segments(self, usage: Usage) -> list[SegmentPart]:
        """Where a usage's band lines come from on the clock (empty: not a time-of-use
        tariff, or one priced from the meter's own registers)."""
        return []

    def meter_schedule(self, day: date) -> MeterSchedule | None:
        """The time-of-use schedule valid on ``day`` as a meter stores it (None: the
        tariff has no time-of-use schedule, or none valid that day)."""
        return None

    def minimum_charge(self, lines: Sequence[ChargeLine], start: date, end: date,
                       anchor_day: int | None = None) -> ChargeLine | None:
        """A top-up line when the total of [start, end] is below the tariff's minimum charge
        (pro-rated by day in months that begin on ``anchor_day``, as ``period_charges``)."""
        return None


class TariffType(abc.ABC):
    """A kind of tariff: its YAML schema and how to build one."""

    name: str
    description: str = ""

    @abc.abstractmethod
    def schema(self) -> Any:
        """The voluptuous schema of one ``tariffs:`` entry of this type."""

    @abc.abstractmethod
    def create(self, config: Mapping[str, Any], calendar: Any) -> Tariff:
        """Build the tariff; ``calendar`` answers holiday / make-up workday questions."""


class TariffError(Exception):
    """Usage cannot be priced (no valid price at that time, a meter without a tariff...)."""
