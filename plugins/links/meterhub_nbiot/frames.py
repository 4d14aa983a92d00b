"""Frame helpers of the ``nbiot`` link: meter addresses in raw frames, and two transports.

A meter model builds its command frames through a :class:`~hub.metering.model.Transport`.
The NB-IoT link has no live line to a sleeping meter, so it hands the model one of two
transports: :class:`CaptureTransport` only records the request bytes (they then go to the
meter through CTWing or OneNET), :class:`WindowTransport` sends them to a UDP meter in its
receive window right after its uplink and waits there for the meter's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Final

from hub.i18n import Text
from hub.metering.model import FrameParser, NoReply

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

Address = tuple[str, int]

_START: Final = 0x68
_WAKE_UP: Final = 0xFE
WINDOW_QUEUE: Final = 16  # datagrams held for one receive window


def frame_addresses(data: bytes) -> list[str]:
    """The meter addresses a DL/T 645 or CJ/T 188 frame in ``data`` could carry.

    Skips FE wake-up bytes and anything before the first ``68``. A second ``68`` seven
    bytes on means DL/T 645 (6-byte address); CJ/T 188 has one ``68``, a type byte and a
    7-byte address. Addresses are in nameplate order (upper-case hex), as meters are
    configured; both readings are returned when the bytes allow both.
    """
    start = 0
    while start < len(data) and data[start] == _WAKE_UP:
        start += 1
    start = data.find(bytes((_START,)), start)
    if start < 0:
        return []
    found: list[str] = []
    if len(data) >= start + 12 and data[start + 7] == _START:
        found.append(data[start + 1:start + 7][::-1].hex().upper())
    if len(data) >= start + 13:
        found.append(data[start + 2:start + 9][::-1].hex().upper())
    return found


class Captured(Exception):
    """Raised by CaptureTransport with the request bytes the model built."""

    def __init__(self, request: bytes) -> None:
        super().__init__(f"captured {len(request)} bytes")
        self.request = request


class CaptureTransport:
    """A transport that records the first request and stops the model there."""

    async def transact(self, request: bytes, parser: FrameParser,
                       accept: Callable[[Any], bool], timeout: float) -> Any:
        """Record ``request`` (raises Captured)."""
        raise Captured(bytes(request))

    async def send(self, data: bytes) -> None:
        """Record ``data`` (raises Captured)."""
        raise Captured(bytes(data))


class WindowTransport:
    """Request and reply with a UDP meter during its receive window.

    ``sendto`` sends a datagram to the meter; datagrams the meter sends meanwhile are
    ``put`` here by the link. Those the model does not take as the reply (a new report
    sent in the same window, say) go to ``other`` so that nothing the meter says is lost.
    """

    def __init__(self, sendto: Callable[[bytes], None], other: Callable[[bytes], None],
                 timeout: float) -> None:
        self._sendto = sendto
        self._other = other
        self.timeout = timeout
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(WINDOW_QUEUE)
        self.exchanges = 0

    def put(self, data: bytes) -> None:
        """A datagram from the meter arrived (dropped when the window is flooded)."""
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(data)

    async def transact(self, request: bytes, parser: FrameParser,
                       accept: Callable[[Any], bool], timeout: float) -> Any:
        """Send ``request``; return the first frame ``accept`` takes, or raise NoReply."""
        parser.reset()
        self._sendto(bytes(request))
        self.exchanges += 1
        wait = min(timeout, self.timeout) if timeout > 0 else self.timeout
        try:
            async with asyncio.timeout(wait):
                while True:
                    data = await self._queue.get()
                    for frame in parser.feed(data):
                        if accept(frame):
                            return frame
                    self._other(data)
        except TimeoutError:
            raise NoReply(Text("nbiot.window_silent", seconds=f"{wait:g}")) from None

    async def send(self, data: bytes) -> None:
        """Send bytes that get no answer."""
        self._sendto(bytes(data))
