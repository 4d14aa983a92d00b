"""How stored rows name things: rollup series scopes, reading source codes, rollup units.

The writer and the queries both go by these, so they live below both.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from ..metering.reading import ReadingSource
from .const import ROLLUP_EXP

SOURCES: list[ReadingSource] = list(ReadingSource)  # a reading row's source is its index here
SOURCE_CODES = {source: index for index, source in enumerate(SOURCES)}


def meter_scope(meter_id: str) -> str:
    """The rollup scope of one meter."""
    return f"meter:{meter_id}"


def tag_scope(key: str, value: str) -> str:
    """The rollup scope of one tag value (``building=A``)."""
    return f"tag:{key}={value}"


def to_units(amount: Decimal) -> int:
    """A consumption as an integer of millionths (rounded half-even beyond 6 decimals)."""
    return int(amount.scaleb(ROLLUP_EXP).to_integral_value(ROUND_HALF_EVEN))


def from_units(units: int) -> Decimal:
    """Millionths back to a Decimal, without trailing zeros (and without exponent)."""
    value = Decimal(units).scaleb(-ROLLUP_EXP)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
