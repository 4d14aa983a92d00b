"""The ``rs485`` link: meters sharing one RS-485 bus on a local serial port.

One request at a time on the bus, a guard gap between exchanges, optional ``FE`` wake-up
bytes. The port is opened off the event loop (pyserial-asyncio-fast); a USB adapter that is
unplugged fails the pending exchange and is reopened with backoff once it is back, while
other buses carry on.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import serial
import serial_asyncio_fast

from .schema import bits_per_byte
from .stream import StreamLink

if TYPE_CHECKING:
    from hub.core import Hub

    from .stream import LinkProtocol

_LOGGER = logging.getLogger(__name__)

MIN_GAP = 0.01  # seconds
GAP_CHARS = 12  # default guard gap in character times (55 ms at 2400 bit/s)


def _is_pty(port: str) -> bool:
    """Whether ``port`` is (a link to) a pseudo-terminal, i.e. a simulated bus."""
    return os.path.realpath(port).startswith("/dev/pts/")


def _open_port(config: Mapping[str, Any]) -> serial.Serial:
    """Open the port with its settings (blocking: runs in a worker thread)."""
    port = str(config["port"])
    parity = str(config.get("parity", "E"))
    if parity != "N" and _is_pty(port):
        # a pty has no UART: Linux refuses parity on it, and there is nothing to check
        _LOGGER.debug("Port %s is a pseudo-terminal (simulated bus): parity not applied",
                      port)
        parity = "N"
    return serial.Serial(
        port, baudrate=int(config.get("baud", 2400)), parity=parity,
        bytesize=int(config.get("data_bits", 8)), stopbits=float(config.get("stop_bits", 1)),
        timeout=0, write_timeout=0, exclusive=True,
    )


async def open_serial(protocol: LinkProtocol, config: Mapping[str, Any]
                      ) -> asyncio.BaseTransport:
    """Open a serial port for ``protocol`` without blocking the event loop."""
    loop = asyncio.get_running_loop()
    opening = loop.run_in_executor(None, _open_port, config)
    try:
        port = await asyncio.shield(opening)
    except asyncio.CancelledError:  # the thread still opens it: close it when it has
        opening.add_done_callback(_close_opened)
        raise
    try:
        transport, _ = await serial_asyncio_fast.connection_for_serial(
            loop, lambda: protocol, port)
    except BaseException:
        await loop.run_in_executor(None, port.close)
        raise
    return transport


def _close_opened(opening: asyncio.Future[Any]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


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
