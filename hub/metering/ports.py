"""Link toolkit: opening serial ports and TCP connections for a :class:`~.stream.LinkProtocol`.

Public API for link plugins: a :class:`~.stream.StreamLink`'s ``open_stream`` calls
:func:`open_serial` (a local RS-485 adapter, a concentrator on a serial port) or
:func:`open_tcp` (a serial server, a DTU in TCP-server mode). Neither blocks the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import serial
import serial_asyncio_fast

from .stream import keepalive

if TYPE_CHECKING:
    from .stream import LinkProtocol

__all__ = ["open_serial", "open_tcp"]

_LOGGER = logging.getLogger(__name__)


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
    """Open a serial port (``port``, ``baud``, ``parity``... as in
    :data:`~.link_schema.SERIAL_KEYS`) for ``protocol`` without blocking the event loop."""
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


async def open_tcp(protocol: LinkProtocol, host: str, port: int) -> asyncio.BaseTransport:
    """Connect to ``host:port`` with ``protocol`` (TCP keep-alive on)."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(lambda: protocol, host, port)
    keepalive(transport.get_extra_info("socket"))
    return transport
