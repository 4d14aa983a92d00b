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
from datetime import date
from decimal import Decimal
from typing import Any

import voluptuous as vol

from hub import validation as cv
from hub.billing.tariff import TariffError

from .const import BAND_REGISTERS, MAX_BANDS, MONTHLY, REGISTER_KEY, YEARLY
from .spread import Lines, Spread, moment
from .validators import tiers

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
        raise vol.Invalid(f"expected a meter register t1..t{MAX_BANDS}, "
                          f"got {cv.show_value(value)}")
    return number


REGISTERS_SCHEMA = vol.Schema({cv.slug: register_number})

# Tier surcharges on top of band prices (阶梯+峰谷): keys for tou and multi_rate.
SURCHARGE_KEYS: dict[Any, Any] = {vol.Optional("tier_surcharges"): tiers("surcharge")}
SURCHARGE_FIXED: dict[Any, Any] = {vol.Optional("tier_period"): cv.one_of(MONTHLY, YEARLY)}


def check_surcharges(version: Mapping[str, Any]) -> list[vol.Invalid]:
    """Tier surcharges need a tier period."""
    if "tier_surcharges" in version and "tier_period" not in version:
        return [vol.Invalid("tier_surcharges need tier_period: monthly or yearly",
                            path=["tier_period"])]
    return []


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
                f"band '{band}' needs the meter register that counts it: add registers: "
                f"{{{band}: t5}} (sharp, peak, flat, valley are t1..t4)", path=["registers", band]))
        elif number in owner:
            errors.append(vol.Invalid(
                f"band '{band}' would share register t{number} with band '{owner[number]}', "
                f"got t{number}", path=["registers", band]))
        else:
            owner[number] = band
    errors.extend(vol.Invalid(f"band '{band}' has no price under prices, got t{number}",
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
    registers = spread.usage.registers
    for band, (key, unit_price) in bands.items():
        total = registers.get(key)
        if total is None:
            raise TariffError(
                f"tariff '{tariff_id}' prices the meter's register {key} ({band}), but the "
                f"usage from {moment(spread.start, lines.tz).isoformat()} has no such register "
                "(does this meter count time-of-use itself?)")
        quantity = spread.share(a, b, total)
        if quantity:
            lines.put("energy", band, "kWh", unit_price, quantity, a, b, price_from,
                      spread.sources)
    priced = {key for key, _price in bands.values()}
    for key, value in registers.items():
        if value and key not in priced and _REGISTER_KEY_RE.match(key):
            raise TariffError(
                f"tariff '{tariff_id}' has no price for register {key}, which counted {value} "
                f"kWh in the usage from {moment(spread.start, lines.tz).isoformat()}")
