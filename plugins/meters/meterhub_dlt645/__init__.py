"""MeterHub built-in plugin: DL/T 645 meters, 2007 and 1997 (codecs, models, simulator).

Its public API (``__all__``) is what a community DL/T 645 meter model needs: a point table
(:data:`PointTable`: hub point key -> data identifier), a :class:`Dlt645Model` and one
``register_meter_models`` hook. A vendor-specific data identifier is described with
:class:`DataItem` and a value format (:func:`number` for BCD numbers, e.g. ``XXXXXX.XX``)
and added with :func:`add_data_item` before a point table names it. See
docs/plugin-api.md, "DL/T 645 meter models".
"""

from __future__ import annotations

import logging
from typing import Any

from hub.hookspecs import hookimpl

from .bcd import ValueFormat, number
from .const import ERROR_BITS, RELAY_ACTION_NAMES
from .dis import DataItem, add_data_item
from .dis import item as data_item
from .models import (
    DDSY,
    DDSY1997,
    DDSY_1997_POINTS,
    DDSY_POINTS,
    DTSY,
    DTSY1997,
    DTSY_1997_POINTS,
    DTSY_POINTS,
    MODELS,
    Dlt645Model,
    PointTable,
)
from .protocol import CODEC
from .protocol1997 import CODEC_1997
from .v1997 import ERROR_BITS_1997

__all__ = [
    "DDSY",
    "DDSY1997",
    "DDSY_1997_POINTS",
    "DDSY_POINTS",
    "DTSY",
    "DTSY1997",
    "DTSY_1997_POINTS",
    "DTSY_POINTS",
    "DataItem",
    "Dlt645Model",
    "PointTable",
    "ValueFormat",
    "add_data_item",
    "data_item",
    "number",
    "register_meter_models",
    "register_protocols",
    "translations",
]

_LOGGER = logging.getLogger(__name__)


@hookimpl
def register_meter_models() -> list[Any]:
    """The DL/T 645 meter models: ddsy, dtsy (2007 prepaid), ddsy1997, dtsy1997 (1997)."""
    return list(MODELS)


@hookimpl
def register_protocols() -> list[Any]:
    """The ``dlt645`` (2007, decodes 1997 too) and ``dlt645_1997`` codecs for the frame tool."""
    return [CODEC, CODEC_1997]


@hookimpl
def translations() -> dict[str, dict[str, str]]:
    """ERR-word reasons (``dlt645.err.04``, 1997: ``dlt645_1997.err.04``) and relay actions
    (``dlt645.relay.trip``)."""
    en: dict[str, str] = {}
    zh: dict[str, str] = {}
    for bit, text, text_zh in ERROR_BITS:
        en[f"dlt645.err.{bit:02x}"], zh[f"dlt645.err.{bit:02x}"] = text, text_zh
    for bit, text, text_zh in ERROR_BITS_1997:
        en[f"dlt645_1997.err.{bit:02x}"], zh[f"dlt645_1997.err.{bit:02x}"] = text, text_zh
    for key, text, text_zh in RELAY_ACTION_NAMES.values():
        en[f"dlt645.relay.{key}"], zh[f"dlt645.relay.{key}"] = text, text_zh
    return {"en": en, "zh-CN": zh}
