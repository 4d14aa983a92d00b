"""MeterHub built-in plugin: the ``tcp_client`` link (a serial server or DTU in TCP-server mode).

    links:
      - {id: gw1, type: tcp_client, host: 192.168.1.50, port: 26, timeout: 2s, gap: 50ms}
      - {id: mb1, type: tcp_client, host: 192.168.1.51, port: 502, framing: mbap}

``framing``: ``rtu`` (the default) sends the meters' own frames as they are on the bus
(DL/T 645, CJ/T 188, Modbus RTU: a transparent serial server or DTU); ``mbap`` is Modbus/TCP
for Modbus meters behind a Modbus/TCP gateway (MBAP header, unit id = the meter's address,
no CRC).
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
from hub.metering.link_schema import stream_keys

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .framing import FRAMING_RTU, FRAMINGS
from .link import TcpClientLink

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["TcpClientLink", "TcpClientLinkType", "register_link_types"]


class TcpClientLinkType(LinkType):
    """``type: tcp_client``."""

    name = "tcp_client"
    description = "A serial server or DTU in TCP-server mode that the hub connects to"

    def schema(self) -> Any:
        return cv.Strict({
            vol.Required("id"): cv.identifier,
            vol.Required("type"): "tcp_client",
            vol.Required("host"): cv.string,
            vol.Required("port"): cv.port,
            vol.Optional("framing", default=FRAMING_RTU): vol.In(
                FRAMINGS, msg=Text("tcp_client.framing_choice", names=", ".join(FRAMINGS))),
            **stream_keys(gap=timedelta(milliseconds=50)),
        })

    def create(self, hub: Hub, config: Mapping[str, Any]) -> TcpClientLink:
        return TcpClientLink(hub, config)


@hookimpl
def register_link_types() -> list[LinkType]:
    """The tcp_client link type."""
    return [TcpClientLinkType()]
