"""``tiered`` (阶梯): a price per tier of the consumption in a monthly or yearly period.

    - id: beijing_residential
      type: tiered
      tier_period: yearly
      tiers: [{up_to: 2880, price: 0.4883}, {up_to: 4800, price: 0.5383}, {price: 0.7883}]
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from hub import validation as cv
from hub.billing.tariff import TariffType
from hub.util.calendar import Calendar

from .base import BaseTariff, Version
from .const import DAYS, MONTHLY, MONTHS, UNITS, YEARLY
from .entry import EntrySpec, entry_schema
from .spread import Lines, Spread
from .tiers import TierCounter, TierTable, tier_key
from .validators import tiers

_LOGGER = logging.getLogger(__name__)

SPEC = EntrySpec(
    units=UNITS,
    keys={vol.Required("tiers"): tiers("price")},
    fixed_keys={vol.Required("tier_period"): cv.one_of(MONTHLY, YEARLY),
                vol.Optional("tier_prorate", default=DAYS): cv.one_of(DAYS, MONTHS)},
)


class TieredTariff(BaseTariff[TierTable]):
    """Tier prices on the consumption counted since the tier period began."""

    def __init__(self, config: Mapping[str, Any], calendar: Calendar) -> None:
        self.tier_period = config["tier_period"]
        super().__init__(config, calendar)

    def compile(self, entry: Mapping[str, Any]) -> TierTable:
        """The version's tier table."""
        return TierTable.from_config(entry["tiers"], "price")

    def price(self, version: Version[TierTable], spread: Spread, a: int, b: int,
              lines: Lines, tiers: TierCounter | None) -> None:
        """Split at period resets, then fill tiers in time order."""
        assert tiers is not None
        for start, end, period_start in tiers.cut(a, b):
            quantity = spread.share(start, end)
            for index, part in tiers.allocate(version.plan, period_start, quantity):
                lines.put(self.component, tier_key(index), self.unit,
                          version.plan.prices[index], part, start, end, version.valid_from,
                          spread.sources)  # allocate gives no zero parts


class TieredType(TariffType):
    """The ``tiered`` tariff type."""

    name = "tiered"
    description = "阶梯: tier prices per monthly or yearly period, pro-rated by occupancy"

    def schema(self) -> Any:
        """The YAML schema of a tiered entry."""
        return entry_schema(SPEC)

    def create(self, config: Mapping[str, Any], calendar: Calendar) -> TieredTariff:
        """Build a tiered tariff."""
        return TieredTariff(config, calendar)
