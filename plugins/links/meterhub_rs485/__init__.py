"""MeterHub built-in plugin: the ``rs485`` link (meters on a local serial RS-485 bus).

    links:
      - {id: bus1, type: rs485, port: /dev/ttyUSB0, baud: 2400, parity: E}
      - {id: bus2, type: rs485, port: /dev/serial/by-id/usb-FTDI_...-port0, baud: 9600,
         parity: N, gap: 20ms, timeout: 1s, wakeup: 4}

``gap`` is the guard time between exchanges (default 12 character times, at least 10 ms);
``wakeup`` the number of ``FE`` bytes sent before each request; ``timeout`` the wait for a
reply (default: ``metering.timeout``). Use a stable ``/dev/serial/by-id/...`` path: an adapter
that is unplugged and plugged back is reopened by itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from hub import validation as cv
from hub.hookspecs import hookimpl
from hub.metering.link import LinkType
from hub.metering.link_schema import SERIAL_KEYS, stream_keys

from .link import Rs485Link

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["Rs485Link", "Rs485LinkType", "register_link_types"]


class Rs485LinkType(LinkType):
    """``type: rs485``."""

    name = "rs485"
    description = "Meters on a serial RS-485 bus (port, baud, parity; one request at a time)"

    def schema(self) -> Any:
        return cv.Strict({
            vol.Required("id"): cv.identifier,
            vol.Required("type"): "rs485",
            **SERIAL_KEYS,
            **stream_keys(),
        })

    def create(self, hub: Hub, config: Mapping[str, Any]) -> Rs485Link:
        return Rs485Link(hub, config)


@hookimpl
def register_link_types() -> list[LinkType]:
    """The rs485 link type."""
    return [Rs485LinkType()]
