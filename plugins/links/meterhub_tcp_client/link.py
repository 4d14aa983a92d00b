"""The ``tcp_client`` link: the hub connects out to a DTU or serial server in TCP-server mode.

The device on the other end (a USR/ZLAN serial server, a DTU set to TCP server) bridges the
socket to an RS-485 bus, so the link behaves like a local bus: one request at a time, a guard
gap, a timeout. A refused or dropped connection is retried with exponential backoff.
With ``framing: mbap`` the other end is a Modbus/TCP gateway: Modbus RTU requests travel in
MBAP frames (see :mod:`.framing`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.metering.model import MeterRef
from hub.metering.ports import open_tcp
from hub.metering.stream import StreamLink

from .framing import FRAMING_RTU, FramedTransport

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.metering.stream import LinkProtocol


class TcpClientLink(StreamLink):
    """A bus reached through a TCP connection the hub opens."""

    type_name = "tcp_client"

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(hub, config)
        self.host: str = config["host"]
        self.port: int = int(config["port"])
        self.framing: str = config.get("framing", FRAMING_RTU)
        self.framed = FramedTransport(self.transport, self.framing, self.id, self.port)

    def endpoint(self) -> str:
        """``host:port``."""
        return f"{self.host}:{self.port}"

    async def open_stream(self, protocol: LinkProtocol) -> asyncio.BaseTransport:
        """Connect."""
        return await open_tcp(protocol, self.host, self.port)

    def transport_for(self, meter: MeterRef) -> FramedTransport:  # type: ignore[override]
        """The link's transport in its framing, or LinkUnavailable while not connected."""
        super().transport_for(meter)
        return self.framed

    def status(self) -> dict[str, Any]:
        """The stream link's status and the framing."""
        return {**super().status(), "framing": self.framing}
