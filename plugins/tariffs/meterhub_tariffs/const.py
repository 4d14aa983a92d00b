"""Limits and names shared by the built-in tariff types."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

# DL/T 645-2007 limits of a meter's own TOU tables; hub-side TOU keeps to them so a tariff
# can also be programmed into a meter.
MAX_SEGMENTS: Final = 14  # per day schedule
MAX_SCHEDULES: Final = 8  # day schedules
MAX_ZONES: Final = 14  # yearly zones
MAX_BANDS: Final = 63  # rates
MAX_TIERS: Final = 10

UNIT_KWH: Final = "kWh"
UNIT_M3: Final = "m3"
UNITS: Final = (UNIT_KWH, UNIT_M3)

MONTHLY: Final = "monthly"
YEARLY: Final = "yearly"

# Linearly apportioned quantities are exact to this step (the parts of one usage always sum
# exactly to its quantity); pro-rated tier thresholds are rounded half-up to THRESHOLD_STEP.
QUANTITY_STEP: Final = Decimal("1e-9")
THRESHOLD_STEP: Final = Decimal("0.01")

# Register numbers of the conventional band names (DL/T 645: T1..T4 = 尖峰平谷).
BAND_REGISTERS: Final = {"sharp": 1, "peak": 2, "flat": 3, "valley": 4}
REGISTER_KEY: Final = "energy_import_t{}"

# Lines that price usage (what ``minimum_covers: usage`` compares the minimum with).
USAGE_COMPONENTS: Final = frozenset({"energy", "water", "tier_surcharge"})

# How tier thresholds are pro-rated for a move-in or move-out inside a tier period.
DAYS: Final = "days"
MONTHS: Final = "months"
