"""Tier prices per band (阶梯+峰谷 as Shanghai publishes it) and the month that crosses a tier.

    tier_period: yearly
    crossing_month: shanghai         # or time_order (the default), proportional
    tier_surcharges:
      - {up_to: 3120, surcharge: 0}
      - {up_to: 4800, surcharge: {peak: 0.06, valley: 0.03}, crossing: 0.05}
      - {surcharge: {peak: 0.36, valley: 0.18}, crossing: 0.30}

Each kWh is priced at its band's price plus its tier's surcharge for that band, on one line
per band and tier (``peak/tier2``). Which kWh of a band are in which tier:

- ``time_order``: kWh fill the tiers in the order they were used (a kWh used after the total
  crossed 3120 is tier 2, whatever its band).
- ``proportional``: in each month the kWh of the tiers are spread over the bands in
  proportion to the bands' usage of that month (of what is priced together: a month priced at
  once, or one reading when readings are charged one by one).
- ``shanghai``: a tier entered in a month pays, for that month, its flat ``crossing``
  surcharge on the band's tier-1 price (line ``peak/tier2/crossing``); from the next month on
  its surcharges per band.

A register-based tariff (the meter counts its bands) knows no order inside a reading: each
reading's tier parts are spread over its registers in proportion to them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from hub.billing.tariff import BAND_SHARE

from .const import MONTHLY, QUANTITY_STEP
from .spread import ZERO, Lines, local_date
from .tiers import TierCounter, TierPeriods, TierTable

_LOGGER = logging.getLogger(__name__)

TIME_ORDER = "time_order"
PROPORTIONAL = "proportional"
SHANGHAI = "shanghai"
CROSSING_RULES = (TIME_ORDER, PROPORTIONAL, SHANGHAI)


def banded(table: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a validated tier_surcharges table prices tiers per band."""
    return any("prices" in tier or isinstance(tier.get("surcharge"), Mapping) for tier in table)


@dataclass(frozen=True)
class BandTiers:
    """Tier bounds, each tier's surcharge per band, its crossing surcharge, and the rule."""

    table: TierTable  # the bounds (its prices are the crossing surcharges)
    surcharges: tuple[Mapping[str, Decimal], ...]
    rule: str

    @classmethod
    def from_config(cls, tiers: Sequence[Mapping[str, Any]], prices: Mapping[str, Decimal],
                    rule: str | None) -> BandTiers:
        """Build from a validated table and the version's band prices."""
        surcharges: list[Mapping[str, Decimal]] = []
        crossing: list[Decimal] = []
        for tier in tiers:
            if "prices" in tier:
                by_band = {band: tier["prices"][band] - price for band, price in prices.items()}
            elif isinstance(tier["surcharge"], Mapping):
                by_band = dict(tier["surcharge"])
            else:
                by_band = dict.fromkeys(prices, tier["surcharge"])
            surcharges.append(by_band)
            crossing.append(tier.get("crossing", ZERO))
        bounds = tuple(tier.get("up_to") for tier in tiers)
        return cls(TierTable(bounds, tuple(crossing)), tuple(surcharges), rule or TIME_ORDER)


def band_shares(registers: Mapping[str, Decimal],
                known: Mapping[str, Any]) -> dict[str, Decimal]:
    """The ``band:<name>`` weights of an instant usage for the ``known`` bands (empty: none
    given)."""
    return {key[len(BAND_SHARE):]: value for key, value in registers.items()
            if key.startswith(BAND_SHARE) and value and key[len(BAND_SHARE):] in known}


def month_parts(a: int, b: int, months: TierPeriods) -> list[tuple[int, int]]:
    """[a, b) cut at local month starts (an instant is one part)."""
    parts: list[tuple[int, int]] = []
    while True:
        _first, _begin, edge = months.at(a)
        if b <= edge:
            parts.append((a, b))
            return parts
        parts.append((a, edge))
        a = edge


def band_key(band: str, index: int, crossing: bool = False) -> str:
    """The line key of a band in a tier: ``peak/tier2`` (``peak/tier2/crossing``)."""
    return f"{band}/tier{index + 1}" + ("/crossing" if crossing else "")


@dataclass
class Group:
    """Usage of one stretch of time: its counted quantity and its quantity per band."""

    start: int
    end: int
    total: Decimal
    bands: dict[str, Decimal]  # band -> quantity
    base: Mapping[str, Decimal]  # band -> band price
    tiers: BandTiers
    price_from: date | None
    sources: tuple[str, ...]


@dataclass
class _Month:
    period_start: date
    month: date
    groups: list[Group] = field(default_factory=list)


def split(part: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """``part`` in proportion to ``weights``, exact to 1e-9, the shares summing to ``part``."""
    whole = sum(weights, ZERO)
    if not whole:
        return [ZERO for _weight in weights]
    shares: list[Decimal] = []
    before = ZERO
    running = ZERO
    for weight in weights:
        running += weight
        upto = part if running == whole else (part * running / whole).quantize(
            QUANTITY_STEP, rounding=ROUND_HALF_EVEN)
        shares.append(upto - before)
        before = upto
    return shares


class BandPricer:
    """Prices groups of band usage into band × tier lines for one ``charges`` call."""

    def __init__(self, lines: Lines, counter: TierCounter, component: str, unit: str) -> None:
        self.lines = lines
        self.counter = counter
        self.component = component
        self.unit = unit
        self.month: _Month | None = None
        self.months = TierPeriods(MONTHLY, counter.tz)

    @classmethod
    def of(cls, counter: TierCounter, lines: Lines, component: str, unit: str) -> BandPricer:
        """The pricer of this ``charges`` call (kept on its tier counter)."""
        pricer = counter.pending
        if not isinstance(pricer, cls):
            pricer = cls(lines, counter, component, unit)
            counter.pending = pricer
        return pricer

    def add(self, group: Group) -> None:
        """Price a group now (or, proportional, with the rest of its month)."""
        counter = self.counter
        first, _begin, _edge = counter._periods.at(group.start)
        month = local_date(group.start, counter.tz).replace(day=1)
        if self.month is not None and (self.month.period_start, self.month.month) \
                != (first, month):
            self.finish()
        counter.month_start(first, month)  # fixed before the month's first usage is counted
        if group.tiers.rule != PROPORTIONAL:
            self._price(first, month, [group])
            return
        if self.month is None:
            self.month = _Month(first, month)
        self.month.groups.append(group)

    def finish(self) -> None:
        """Price the month held back by the proportional rule."""
        held, self.month = self.month, None
        if held is not None and held.groups:
            self._price(held.period_start, held.month, held.groups)

    def _price(self, period_start: date, month: date, groups: list[Group]) -> None:
        """Allocate the groups' total to tiers and spread each tier part over their bands."""
        counter = self.counter
        tiers = groups[0].tiers
        total = sum((group.total for group in groups), ZERO)
        began = counter.month_start(period_start, month)
        parts = counter.allocate(tiers.table, period_start, total)
        # (band, group index of its price version) -> quantity, in the order first used
        cells: dict[tuple[str, int], Decimal] = {}
        owners: list[Group] = []
        for group in groups:
            owner = next((i for i, g in enumerate(owners)
                          if g.price_from == group.price_from and g.tiers is group.tiers), None)
            if owner is None:
                owner = len(owners)
                owners.append(group)
            for band, quantity in group.bands.items():
                cells[(band, owner)] = cells.get((band, owner), ZERO) + quantity
        start = min(group.start for group in groups)
        end = max(group.end for group in groups)
        sources = tuple(dict.fromkeys(s for group in groups for s in group.sources))
        keys = list(cells)
        for index, part in parts:
            below = tiers.table.bounds[index - 1] if index else None  # the tier's start
            entered = below is not None and began < counter.threshold(below, period_start)
            crossing = tiers.rule == SHANGHAI and entered
            for (band, owner), share in zip(keys, split(part, [cells[k] for k in keys]),
                                            strict=True):
                if not share:
                    continue
                model = owners[owner]
                base = model.base[band]
                extra = model.tiers.table.prices[index] if crossing \
                    else model.tiers.surcharges[index][band]
                self.lines.put(self.component, band_key(band, index, crossing), self.unit,
                               base + extra, share, start, end, model.price_from, sources)
