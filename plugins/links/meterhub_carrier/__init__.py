"""MeterHub built-in plugin: the ``carrier`` link (PLC meters behind a concentrator).

    links:
      - {id: plc1, type: carrier, host: 192.168.1.60, port: 8899}
      - {id: plc2, type: carrier, serial: {port: /dev/ttyUSB1, baud: 9600, parity: E},
         timeout: 20s}

The concentrator must forward DL/T 645 frames transparently; see :mod:`.link` for what a
full Q/GDW 1376.2 concentrator would add.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub import validation as cv
from hub.hookspecs import hookimpl
from hub.i18n import Text
from hub.metering.link import LinkType
from hub.metering.link_schema import SERIAL_KEYS, stream_keys

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .link import CarrierLink

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["CarrierLink", "CarrierLinkType", "register_link_types"]


def _one_way(config: dict[str, Any]) -> dict[str, Any]:
    if ("host" in config) == ("serial" in config):
        raise vol.Invalid(Text("carrier.one_way"))
    if "host" in config and "port" not in config:
        raise vol.Invalid(Text("carrier.port"), path=["port"])
    return config


class CarrierLinkType(LinkType):
    """``type: carrier``."""

    name = "carrier"
    description = ("Power-line carrier meters behind a concentrator that forwards DL/T 645 "
                   "frames transparently (TCP or serial; long timeouts)")

    def schema(self) -> Any:
        return vol.All(cv.Strict({
            vol.Required("id"): cv.identifier,
            vol.Required("type"): "carrier",
            vol.Optional("host"): cv.string,
            vol.Optional("port"): cv.port,
            vol.Optional("serial"): cv.Strict(SERIAL_KEYS),
            **stream_keys(timeout=timedelta(seconds=15), gap=timedelta(milliseconds=200)),
        }), _one_way)

    def create(self, hub: Hub, config: Mapping[str, Any]) -> CarrierLink:
        return CarrierLink(hub, config)


@hookimpl
def register_link_types() -> list[LinkType]:
    """The carrier link type."""
    return [CarrierLinkType()]
