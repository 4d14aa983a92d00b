"""MeterHub built-in plugin: DL/T 645-2007 meters (codec, models ddsy/dtsy, simulator)."""

from __future__ import annotations

import logging
from typing import Any

from hub.hookspecs import hookimpl

from .const import ERROR_BITS, RELAY_ACTION_NAMES
from .models import MODELS
from .protocol import CODEC

_LOGGER = logging.getLogger(__name__)


@hookimpl
def register_meter_models() -> list[Any]:
    """The DL/T 645 meter models: ddsy (single-phase prepaid), dtsy (three-phase prepaid)."""
    return list(MODELS)


@hookimpl
def register_protocols() -> list[Any]:
    """The ``dlt645`` codec for ``meterhub frame decode|encode``."""
    return [CODEC]


@hookimpl
def translations() -> dict[str, dict[str, str]]:
    """ERR-word reasons (``dlt645.err.04``) and relay actions (``dlt645.relay.trip``)."""
    en: dict[str, str] = {}
    zh: dict[str, str] = {}
    for bit, text, text_zh in ERROR_BITS:
        en[f"dlt645.err.{bit:02x}"], zh[f"dlt645.err.{bit:02x}"] = text, text_zh
    for key, text, text_zh in RELAY_ACTION_NAMES.values():
        en[f"dlt645.relay.{key}"], zh[f"dlt645.relay.{key}"] = text, text_zh
    return {"en": en, "zh-CN": zh}
