"""Transports over byte streams: the request/reply discipline every stream link shares.

A serial bus, a DTU's TCP connection and a TCP client all come down to the same thing: one
request at a time, an optional gap between frames, a timeout, and replies found by a protocol
parser in whatever bytes arrive (garbage, other meters' answers, wake-up bytes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .model import FrameParser, NoReply

__all__ = ["READ_CHUNK", "StreamTransport"]

_LOGGER = logging.getLogger(__name__)

READ_CHUNK = 4096


class StreamTransport:
    """A :class:`~hub.metering.model.Transport` over an asyncio stream pair.

    Requests are serialised with a lock; ``gap`` seconds pass between the end of one
    exchange and the next request (RS485 turnaround); bytes that arrived between exchanges
    are dropped before a new request goes out, so a late reply is never taken for the next.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        gap: float = 0.0,
        preamble: bytes = b"",
        name: str = "stream",
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.gap = gap
        self.preamble = preamble
        self.name = name
        self._lock = asyncio.Lock()
        self._last_done = 0.0
        self.requests = 0
        self.timeouts = 0
        self.bytes_in = 0
        self.bytes_out = 0

    async def _wait_gap(self) -> None:
        if self.gap <= 0:
            return
        loop = asyncio.get_running_loop()
        wait = self._last_done + self.gap - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)

    def _drain_stale(self) -> None:
        buffered = getattr(self.reader, "_buffer", None)
        if buffered:
            buffered.clear()  # StreamReader keeps unread bytes in a bytearray

    async def transact(
        self,
        request: bytes,
        parser: FrameParser,
        accept: Callable[[Any], bool],
        timeout: float,
    ) -> Any:
        """Send a request and return the first accepted frame, or raise NoReply."""
        async with self._lock:
            await self._wait_gap()
            self._drain_stale()
            parser.reset()
            self.requests += 1
            try:
                payload = self.preamble + request
                self.writer.write(payload)
                self.bytes_out += len(payload)
                await self.writer.drain()
                async with asyncio.timeout(timeout):
                    while True:
                        chunk = await self.reader.read(READ_CHUNK)
                        if not chunk:
                            raise NoReply(Text("metering.closed_waiting", link=self.name))
                        self.bytes_in += len(chunk)
                        for frame in parser.feed(chunk):
                            if accept(frame):
                                return frame
                            _LOGGER.debug("%s: skipped a frame that is not the answer: %r",
                                          self.name, frame)
            except TimeoutError:
                self.timeouts += 1
                raise NoReply(Text("metering.no_reply", link=self.name,
                                   seconds=f"{timeout:g}")) from None
            finally:
                self._last_done = asyncio.get_running_loop().time()

    async def send(self, data: bytes) -> None:
        """Send bytes that expect no reply (broadcasts)."""
        async with self._lock:
            await self._wait_gap()
            payload = self.preamble + data
            self.writer.write(payload)
            self.bytes_out += len(payload)
            await self.writer.drain()
            self._last_done = asyncio.get_running_loop().time()
