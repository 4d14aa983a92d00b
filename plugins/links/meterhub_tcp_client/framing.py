"""The tcp_client link's framing: the meter's frames as they are (``rtu``) or in MBAP.

:class:`FramedTransport` is what a meter model gets from the link. With ``framing: mbap`` it
wraps each Modbus RTU request in an MBAP header and unwraps the reply (:mod:`.mbap`). With
either framing, a read that got bytes back but never one frame says that the framing may be
wrong and which option sets it, instead of a bare "no reply".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from hub.i18n import Joined, Text, text_of
from hub.metering.model import FrameParser, NoReply, Transport

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .mbap import MbapParser, rtu_to_mbap

__all__ = ["FRAMINGS", "FRAMING_MBAP", "FRAMING_RTU", "FramedTransport"]

FRAMING_RTU: Final = "rtu"
FRAMING_MBAP: Final = "mbap"
FRAMINGS: Final = (FRAMING_RTU, FRAMING_MBAP)
MODBUS_TCP_PORT: Final = 502


class _Watch:
    """A parser that counts the bytes it was fed and the frames it found."""

    def __init__(self, inner: FrameParser) -> None:
        self.inner = inner
        self.fed = 0
        self.frames = 0

    def reset(self) -> None:
        self.inner.reset()

    def feed(self, data: bytes) -> list[Any]:
        self.fed += len(data)
        frames = self.inner.feed(data)
        self.frames += len(frames)
        return frames


class FramedTransport:
    """A link's transport with its framing applied (``rtu`` passes frames through)."""

    def __init__(self, inner: Transport, framing: str, link_id: str, port: int) -> None:
        self.inner = inner
        self.framing = framing
        self.link_id = link_id
        self.port = port
        self._tid = 0

    def _next_tid(self) -> int:
        self._tid = self._tid % 0xFFFF + 1
        return self._tid

    async def transact(self, request: bytes, parser: FrameParser,
                       accept: Callable[[Any], bool], timeout: float) -> Any:
        """Send ``request`` in this link's framing; the reply comes back as the model's frame."""
        inner: FrameParser = parser
        if self.framing == FRAMING_MBAP:
            tid = self._next_tid()
            request = rtu_to_mbap(request, tid)
            inner = MbapParser(parser, tid)
        watch = _Watch(inner)
        try:
            return await self.inner.transact(request, watch, accept, timeout)
        except NoReply as err:
            hint = self._hint(watch)
            if hint:
                raise NoReply(Joined((text_of(err), hint))) from err
            raise

    async def send(self, data: bytes) -> None:
        """Send a broadcast (unit 0 in MBAP) in this link's framing."""
        if self.framing == FRAMING_MBAP:
            data = rtu_to_mbap(data, self._next_tid())
        await self.inner.send(data)

    def _hint(self, watch: _Watch) -> str:
        other = FRAMING_MBAP if self.framing == FRAMING_RTU else FRAMING_RTU
        option = Text("tcp_client.option", link=self.link_id, framing=self.framing)
        if watch.fed and not watch.frames:
            return Text("tcp_client.no_frame", count=watch.fed, framing=self.framing,
                        option=option, other=other)
        if not watch.fed and self.framing == FRAMING_RTU and self.port == MODBUS_TCP_PORT:
            return Text("tcp_client.mbap_port", port=MODBUS_TCP_PORT, option=option)
        return ""
