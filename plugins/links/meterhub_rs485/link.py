"""The ``rs485`` link: meters sharing one RS-485 bus on a local serial port.

One request at a time on the bus, a guard gap between exchanges, optional ``FE`` wake-up
bytes. The port is opened off the event loop (pyserial-asyncio-fast); a USB adapter that is
unplugged fails the pending exchange and is reopened with backoff once it is back, while
other buses carry on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.metering.link_schema import bits_per_byte
from hub.metering.ports import open_serial
from hub.metering.stream import StreamLink

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.metering.stream import LinkProtocol

MIN_GAP = 0.01  # seconds
GAP_CHARS = 12  # default guard gap in character times (55 ms at 2400 bit/s)


class Rs485Link(StreamLink):
    """A serial RS-485 bus: one exchange at a time, reopened when the port comes back."""

    type_name = "rs485"

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(hub, config)
        self.baud = int(config.get("baud", 2400))
        self.bits_per_byte = bits_per_byte(config)
        if config.get("gap") is None:
            self.gap = max(MIN_GAP, self.wire_time(GAP_CHARS))

    def endpoint(self) -> str:
        """The port and its settings."""
        config = self.config
        stop = float(config.get("stop_bits", 1))
        return (f"port {config['port']} ({self.baud} {config.get('data_bits', 8)}"
                f"{config.get('parity', 'E')}{stop:g})")

    def wire_time(self, nbytes: int) -> float:
        """Seconds ``nbytes`` take on the bus at its speed."""
        return nbytes * self.bits_per_byte / self.baud

    async def open_stream(self, protocol: LinkProtocol) -> asyncio.BaseTransport:
        """Open the serial port."""
        return await open_serial(protocol, self.config)
