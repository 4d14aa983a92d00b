"""``flat``: one unit price for everything.

    - {id: water, type: flat, unit: m3, price: 5.00}
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import voluptuous as vol

from hub.billing.tariff import TariffType
from hub.util.calendar import Calendar

from .base import BaseTariff, Version
from .const import UNITS
from .entry import EntrySpec, entry_schema
from .spread import Lines, Spread
from .tiers import TierCounter
from .validators import price

_LOGGER = logging.getLogger(__name__)

SPEC = EntrySpec(units=UNITS, keys={vol.Required("price"): price})


class FlatTariff(BaseTariff[Decimal]):
    """One price per kWh or m³."""

    def compile(self, entry: Mapping[str, Any]) -> Decimal:
        """The version's price."""
        result: Decimal = entry["price"]
        return result

    def price(self, version: Version[Decimal], spread: Spread, a: int, b: int, lines: Lines,
              tiers: TierCounter | None) -> None:
        """Everything at the one price."""
        quantity = spread.share(a, b)
        if quantity:
            lines.put(self.component, "usage", self.unit, version.plan, quantity, a, b,
                      version.valid_from, spread.sources)


class FlatType(TariffType):
    """The ``flat`` tariff type."""

    name = "flat"
    description = "one unit price (kWh or m3)"

    def schema(self) -> Any:
        """The YAML schema of a flat entry."""
        return entry_schema(SPEC)

    def create(self, config: Mapping[str, Any], calendar: Calendar) -> FlatTariff:
        """Build a flat tariff."""
        return FlatTariff(config, calendar)
