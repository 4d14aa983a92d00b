"""The built-in tariff types: flat, multi_rate, tiered (阶梯) and tou (尖峰平谷).

Registered through the ``meterhub`` entry-point group exactly as a community plugin would be;
the YAML reference is docs/tariffs.md.
"""

from __future__ import annotations

import logging

from hub.billing.tariff import TariffType
from hub.hookspecs import hookimpl

from .flat import FlatType
from .multi_rate import MultiRateType
from .tiered import TieredType
from .tou import TouType

_LOGGER = logging.getLogger(__name__)

__all__ = ["FlatType", "MultiRateType", "TieredType", "TouType", "register_tariff_types"]


@hookimpl
def register_tariff_types() -> list[TariffType]:
    """flat, multi_rate, tiered and tou."""
    return [FlatType(), MultiRateType(), TieredType(), TouType()]
