"""Pricing from the meter's own tariff registers (T1..T4 = 尖峰平谷, up to T63).

Shared by ``multi_rate`` and by ``tou`` with ``source: meter_registers``: each band is
priced on the delta of its register (``Usage.registers["energy_import_t<n>"]``). The bands
sharp, peak, flat and valley count on T1..T4, a band named ``t<n>`` on T<n>; any other band
names its register in ``registers:``. A register that moved but has no price is an error,
never free energy.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date, tzinfo
from decimal import Decimal
from typing import Any

import voluptuous as vol

from hub import validation as cv
from hub.billing.tariff import TariffError
from hub.i18n import Text

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .banded import (
    CROSSING_RULES,
    SHANGHAI,
    BandPricer,
    BandTiers,
    Group,
    band_shares,
    banded,
    month_parts,
)
from .const import BAND_REGISTERS, DAYS, MAX_BANDS, MONTHLY, MONTHS, REGISTER_KEY, YEARLY
from .spread import Lines, Spread, moment
from .tiers import TierCounter
from .validators import surcharge_tiers

_LOGGER = logging.getLogger(__name__)

_REGISTER_RE = re.compile(r"^t(\d{1,2})$", re.IGNORECASE)
_REGISTER_KEY_RE = re.compile(r"^energy_import_t\d+$")

Bands = Mapping[str, tuple[str, Decimal]]  # band -> (register key, unit price)


def register_number(value: Any) -> int:
    """A meter register: t1..t63 (or the number)."""
    text = cv.string(value).strip()
    match = _REGISTER_RE.match(text)
    number = int(match[1]) if match else int(text) if text.isdigit() else 0
    if not 1 <= number <= MAX_BANDS:
        raise vol.Invalid(Text("tariffs.register", limit=MAX_BANDS, value=cv.show_value(value)))
    return number


REGISTERS_SCHEMA = vol.Schema({cv.slug: register_number})

# Tier surcharges on top of band prices (阶梯+峰谷): keys for tou and multi_rate.
SURCHARGE_KEYS: dict[Any, Any] = {vol.Optional("tier_surcharges"): surcharge_tiers}
SURCHARGE_FIXED: dict[Any, Any] = {
    vol.Optional("tier_period"): cv.one_of(MONTHLY, YEARLY),
    vol.Optional("crossing_month"): cv.one_of(*CROSSING_RULES),
    vol.Optional("tier_prorate", default=DAYS): cv.one_of(DAYS, MONTHS),
}


def check_surcharges(version: Mapping[str, Any]) -> list[vol.Invalid]:
    """Tier surcharges need a tier period; per-band ones name every priced band, no other;
    a crossing-month rule needs per-band tiers, and ``shanghai`` a ``crossing`` surcharge."""
    errors: list[vol.Invalid] = []
    table = version.get("tier_surcharges")
    if table is not None and "tier_period" not in version:
        errors.append(vol.Invalid(Text("tariffs.tier_period"),
                                  path=["tier_period"]))
    rule = version.get("crossing_month")
    if table is None:
        if rule is not None:
            errors.append(vol.Invalid(Text("tariffs.crossing_needs_tiers"),
                                      path=["crossing_month"]))
        return errors
    prices = version["prices"]
    for index, tier in enumerate(table):
        by_band = tier.get("prices", tier.get("surcharge"))
        if isinstance(by_band, Mapping):
            key = "prices" if "prices" in tier else "surcharge"
            errors.extend(vol.Invalid(
                Text("tariffs.no_band_price" if key == "prices" else "tariffs.no_band_surcharge",
                     band=band, bands=", ".join(prices)),
                path=["tier_surcharges", index, key]) for band in prices if band not in by_band)
            errors.extend(vol.Invalid(Text("tariffs.band_unpriced", band=band,
                                           bands=", ".join(prices)),
                                      path=["tier_surcharges", index, key, band])
                          for band in by_band if band not in prices)
        if "crossing" in tier and index == 0:
            errors.append(vol.Invalid(Text("tariffs.first_crossing"),
                                      path=["tier_surcharges", 0, "crossing"]))
        elif rule == SHANGHAI and index > 0 and "crossing" not in tier \
                and isinstance(by_band, Mapping):
            errors.append(vol.Invalid(
                Text("tariffs.shanghai_crossing"), path=["tier_surcharges", index]))
    if rule is not None and not banded(table):
        errors.append(vol.Invalid(
            Text("tariffs.crossing_banded"), path=["crossing_month"]))
    return errors


def _conventional(band: str) -> int | None:
    if band in BAND_REGISTERS:
        return BAND_REGISTERS[band]
    match = _REGISTER_RE.match(band)
    return int(match[1]) if match and 1 <= int(match[1]) <= MAX_BANDS else None


def check_registers(prices: Mapping[str, Decimal],
                    registers: Mapping[str, int]) -> list[vol.Invalid]:
    """Every priced band has one register of its own; registers name priced bands."""
    errors: list[vol.Invalid] = []
    owner: dict[int, str] = {}
    for band in prices:
        number = registers.get(band) or _conventional(band)
        if number is None:
            errors.append(vol.Invalid(
                Text("tariffs.band_register", band=band), path=["registers", band]))
        elif number in owner:
            errors.append(vol.Invalid(
                Text("tariffs.register_shared", band=band, number=number, owner=owner[number]),
                path=["registers", band]))
        else:
            owner[number] = band
    errors.extend(vol.Invalid(Text("tariffs.register_unpriced", band=band, number=number),
                              path=["registers", band])
                  for band, number in registers.items() if band not in prices)
    return errors


def band_registers(prices: Mapping[str, Decimal], registers: Mapping[str, int]) -> Bands:
    """Band -> (register key, price) of a validated version."""
    return {band: (REGISTER_KEY.format(registers.get(band) or _conventional(band)), value)
            for band, value in prices.items()}


def price_registers(lines: Lines, tariff_id: str, bands: Bands, spread: Spread, a: int,
                    b: int, price_from: date | None) -> None:
    """Price [a, b) of a usage on its register deltas (apportioned linearly in time)."""
    for band, quantity in register_shares(tariff_id, bands, spread, a, b, lines.tz).items():
        if quantity:
            lines.put("energy", band, "kWh", bands[band][1], quantity, a, b, price_from,
                      spread.sources)


def register_shares(tariff_id: str, bands: Bands, spread: Spread, a: int, b: int,
                    tz: tzinfo) -> dict[str, Decimal]:
    """Each band's part of [a, b) of a usage, from its register's delta; a priced register
    missing or an unpriced one that counted is a TariffError."""
    registers = spread.usage.registers
    out: dict[str, Decimal] = {}
    for band, (key, _unit_price) in bands.items():
        total = registers.get(key)
        if total is None:
            raise TariffError(
                Text("tariffs.register_missing", tariff=tariff_id, register=key, band=band,
                     start=moment(spread.start, tz).isoformat()))
        out[band] = spread.share(a, b, total)
    priced = {key for key, _price in bands.values()}
    for key, value in registers.items():
        if value and key not in priced and _REGISTER_KEY_RE.match(key):
            raise TariffError(
                Text("tariffs.register_unbilled", tariff=tariff_id, register=key, value=value,
                     start=moment(spread.start, tz).isoformat()))
    return out


def price_register_tiers(lines: Lines, counter: TierCounter, tariff_id: str, bands: Bands,
                         tiers: BandTiers, spread: Spread, a: int, b: int,
                         price_from: date | None) -> None:
    """Price [a, b) of a usage per band and tier: each month's part of the counted quantity
    goes to the tiers, each tier part spread over the registers in proportion to them."""
    pricer = BandPricer.of(counter, lines, "energy", "kWh")
    prices = {band: unit_price for band, (_key, unit_price) in bands.items()}
    given = band_shares(spread.usage.registers, bands) if a == b else {}
    for start, end in month_parts(a, b, pricer.months):
        shares = given or register_shares(tariff_id, bands, spread, start, end, lines.tz)
        total = spread.share(start, end)
        if total or any(shares.values()):
            pricer.add(Group(start, end, total, shares, prices, tiers, price_from,
                             spread.sources))
