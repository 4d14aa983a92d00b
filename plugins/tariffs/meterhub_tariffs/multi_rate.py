"""``multi_rate``: a price per meter register (the meter counts sharp/peak/flat/valley itself).

    - id: shop_4rate
      type: multi_rate
      prices: {sharp: 1.2, peak: 1.0, flat: 0.62, valley: 0.3}
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from hub.billing.tariff import TariffType
from hub.util.calendar import Calendar

from .banded import BandTiers, banded
from .base import BaseTariff, Version
from .const import UNIT_KWH
from .entry import EntrySpec, entry_schema
from .registers import (
    REGISTERS_SCHEMA,
    SURCHARGE_FIXED,
    SURCHARGE_KEYS,
    Bands,
    band_registers,
    check_registers,
    check_surcharges,
    price_register_tiers,
    price_registers,
)
from .spread import Lines, Spread
from .tiers import TierCounter, TierTable, add_surcharges
from .validators import band_prices

_LOGGER = logging.getLogger(__name__)


def _check(version: dict[str, Any]) -> None:
    errors = check_registers(version["prices"], version["registers"]) + check_surcharges(version)
    if errors:
        raise vol.MultipleInvalid(errors)


SPEC = EntrySpec(
    units=(UNIT_KWH,),
    keys={vol.Required("prices"): band_prices,
          vol.Optional("registers", default={}): REGISTERS_SCHEMA, **SURCHARGE_KEYS},
    fixed_keys=SURCHARGE_FIXED,
    check=_check,
)


@dataclass(frozen=True)
class RegisterPlan:
    """Band prices on registers, and tier surcharges if any."""

    bands: Bands
    surcharges: TierTable | None
    band_tiers: BandTiers | None = None  # tier surcharges per band


class MultiRateTariff(BaseTariff[RegisterPlan]):
    """Prices on the meter's own tariff registers."""

    def __init__(self, config: Mapping[str, Any], calendar: Calendar) -> None:
        self.tier_period = config.get("tier_period")
        super().__init__(config, calendar)

    @property
    def usage_component(self) -> str | None:
        """None: the lines are the meter's register deltas (see BaseTariff)."""
        return None

    def compile(self, entry: Mapping[str, Any]) -> RegisterPlan:
        """The version's band registers and surcharges."""
        surcharges = entry.get("tier_surcharges")
        bands = band_registers(entry["prices"], entry["registers"])
        if surcharges and banded(surcharges):
            return RegisterPlan(bands, None, BandTiers.from_config(
                surcharges, entry["prices"], entry.get("crossing_month")))
        return RegisterPlan(bands, TierTable.from_config(surcharges, "surcharge")
                            if surcharges else None)

    def price(self, version: Version[RegisterPlan], spread: Spread, a: int, b: int,
              lines: Lines, tiers: TierCounter | None) -> None:
        """Registers at their band prices, then tier surcharges on the quantity."""
        plan = version.plan
        if plan.band_tiers is not None and tiers is not None:
            price_register_tiers(lines, tiers, self.id, plan.bands, plan.band_tiers, spread,
                                 a, b, version.valid_from)
            return
        price_registers(lines, self.id, version.plan.bands, spread, a, b, version.valid_from)
        if version.plan.surcharges is not None and tiers is not None:
            add_surcharges(lines, tiers, version.plan.surcharges, spread, a, b, self.unit,
                           version.valid_from)


class MultiRateType(TariffType):
    """The ``multi_rate`` tariff type."""

    name = "multi_rate"
    description = "a price per meter tariff register (T1..T4 = sharp/peak/flat/valley)"

    def needs_meter_registers(self, config: Mapping[str, Any]) -> bool:
        """A multi-rate tariff always reads the meter's TOU registers."""
        return True

    def schema(self) -> Any:
        """The YAML schema of a multi-rate entry."""
        return entry_schema(SPEC)

    def create(self, config: Mapping[str, Any], calendar: Calendar) -> MultiRateTariff:
        """Build a multi-rate tariff."""
        return MultiRateTariff(config, calendar)
