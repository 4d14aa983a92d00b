"""MeterHub built-in plugin: cjt188 meters (codec, models, simulator).

CJ/T 188 water meters with valves: ``cjt188_water`` on RS-485 / M-Bus and ``nb_water``
(NB-IoT, reports on its own schedule), plus the ``cjt188`` frame tool codec.
"""

from __future__ import annotations

import logging
from typing import Any

from hub.hookspecs import hookimpl

from .models import Cjt188WaterModel, NbWaterModel
from .protocol import Cjt188Codec

_LOGGER = logging.getLogger(__name__)

__all__ = ["Cjt188Codec", "Cjt188WaterModel", "NbWaterModel"]


@hookimpl
def register_meter_models() -> list[Any]:
    """The CJ/T 188 water meter models."""
    return [NbWaterModel(), Cjt188WaterModel()]


@hookimpl
def register_protocols() -> list[Any]:
    """The ``cjt188`` codec for ``meterhub frame``."""
    return [Cjt188Codec()]
