"""Modbus/TCP (MBAP) framing of the Modbus RTU frames a meter model speaks, through pymodbus.

A Modbus/TCP gateway (port 502) wants ``tid pid=0 length unit PDU`` instead of ``slave PDU
CRC``: :func:`rtu_to_mbap` wraps a model's RTU request with pymodbus's socket framer, and
:class:`MbapParser` unwraps the gateway's replies back to RTU frames (CRC added) for the
model's own parser, so the model never knows which framing its link uses.
"""

from __future__ import annotations

from typing import Any

from pymodbus.framer import FramerRTU, FramerSocket
from pymodbus.pdu import DecodePDU

from hub.i18n import Text
from hub.metering.model import FrameParser, ProtocolError

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

__all__ = ["MBAP_HEADER", "MbapParser", "rtu_to_mbap"]

MBAP_HEADER = 7  # tid (2) + protocol id (2) + length (2) + unit id (1)
MAX_PDU = 253  # Modbus application data unit limit
_MIN_RTU = 4  # slave, function, CRC (2)

_SOCKET = FramerSocket(DecodePDU(is_server=False))
_RTU = FramerRTU(DecodePDU(is_server=False))


def _split_rtu(frame: bytes) -> tuple[int, bytes]:
    """Slave address and PDU of an RTU frame with a good CRC, else ProtocolError."""
    if len(frame) < _MIN_RTU or not FramerRTU.check_CRC(
            frame[:-2], int.from_bytes(frame[-2:], "big")):
        raise ProtocolError(Text("tcp_client.not_rtu"))
    return frame[0], frame[1:-2]


def rtu_to_mbap(request: bytes, tid: int) -> bytes:
    """The MBAP frame of an RTU request: transaction ``tid``, unit id = the slave address."""
    unit, pdu = _split_rtu(request)
    return _SOCKET.encode(pdu, unit, tid & 0xFFFF)


class MbapParser:
    """Finds the MBAP replies of one transaction; feeds them to ``inner`` as RTU frames.

    Replies to other transactions (late answers) are skipped; bytes that cannot be MBAP (a
    protocol id other than 0, an impossible length) are counted in ``garbage`` and dropped.
    """

    def __init__(self, inner: FrameParser, tid: int) -> None:
        self.inner = inner
        self.tid = tid & 0xFFFF
        self.garbage = 0
        self._buffer = bytearray()

    def reset(self) -> None:
        """Forget partial frames."""
        self._buffer.clear()
        self.inner.reset()

    def feed(self, data: bytes) -> list[Any]:
        """Add bytes; return the inner parser's frames of every complete reply."""
        buf = self._buffer
        buf.extend(data)
        frames: list[Any] = []
        while len(buf) >= MBAP_HEADER:
            pid = int.from_bytes(buf[2:4], "big")
            length = int.from_bytes(buf[4:6], "big")
            if pid != 0 or not 2 <= length <= MAX_PDU + 1:
                self.garbage += 1  # not a header here: slide one byte
                del buf[0]
                continue
            size = 6 + length
            if len(buf) < size:
                break
            adu = bytes(buf[:size])
            del buf[:size]
            _used, unit, tid, pdu = _SOCKET.decode(adu)
            if tid != self.tid:
                continue
            frames.extend(self.inner.feed(_RTU.encode(pdu, unit, 0)))
        return frames
