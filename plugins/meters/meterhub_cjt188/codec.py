"""CJ/T 188 frames as pure functions on bytes: build, check, decode, and a stream parser.

Layout (PROTOCOLS.md §3.2): ``[FE..] 68 T A0..A6 C L DATA CS 16``; the address goes low
byte first, DATA is ``DI(2) SER(1) payload`` with no 0x33 offset, CS is the byte sum from
the 68 to the last DATA byte. The DI's byte order varies by vendor: it is a parameter
when encoding, and both orders are accepted when decoding.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.validation import show_value

from .const import (
    ADDRESS_DIGITS,
    BROADCAST_ADDRESS,
    C_ABNORMAL,
    C_FOLLOW_UP,
    C_FUNCTION,
    C_REPLY,
    DI_ADDRESS,
    DI_CURRENT,
    DI_SET_TIME,
    DI_VALVE,
    END,
    FUNC_READ_ADDRESS,
    FUNC_READ_DATA,
    FUNC_WRITE_DATA,
    HEADER_LEN,
    MAX_DATA,
    MAX_FRAME,
    OVERHEAD,
    START,
    TYPE_ANY,
    TYPE_COLD_WATER,
    VALVE_CODE_CLOSE,
    VALVE_CODE_OPEN,
    WAKE_UP,
    DiOrder,
)
from .errors import Cjt188Error
from .fields import encode_time, hex_bytes
from .tables import di_info, meter_family

_LOGGER = logging.getLogger(__name__)

__all__ = [
    "Body",
    "Cjt188Error",
    "Cjt188Parser",
    "Frame",
    "checksum",
    "decode_di",
    "decode_frame",
    "encode_di",
    "normalize_address",
    "read_address_request",
    "read_request",
    "time_request",
    "valve_request",
    "write_request",
]

_HEX_DIGITS = frozenset("0123456789ABCDEF")


# --- addresses, checksum, DI ---------------------------------------------------------


def normalize_address(value: Any) -> str:
    """14 upper-case hex digits from up to 14 hex/decimal digits (left-padded with 0)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Cjt188Error(f"expected up to {ADDRESS_DIGITS} hex digits, got {show_value(value)}")
    text = str(value).strip().replace(" ", "").upper()
    if not text or len(text) > ADDRESS_DIGITS or not set(text) <= _HEX_DIGITS:
        raise Cjt188Error(f"expected up to {ADDRESS_DIGITS} hex digits, got {show_value(value)}")
    return text.rjust(ADDRESS_DIGITS, "0")


def address_to_wire(address: str) -> bytes:
    """A normalised 14-digit address as 7 bytes, low byte (last two digits) first."""
    return bytes.fromhex(normalize_address(address))[::-1]


def address_from_wire(raw: bytes | bytearray) -> str:
    """7 wire bytes as the 14-digit address in nameplate order."""
    return bytes(raw[::-1]).hex().upper()


def checksum(data: bytes | bytearray) -> int:
    """Sum of the bytes mod 256 (pass the frame from its 68 up to the byte before CS)."""
    return sum(data) & 0xFF


def encode_di(di: int, order: DiOrder) -> bytes:
    """A DI (0x901F as printed) as 2 wire bytes in ``order``."""
    if not 0 <= di <= 0xFFFF:
        raise Cjt188Error(f"DI must be 4 hex digits, got {di!r}")
    high, low = di >> 8, di & 0xFF
    return bytes((low, high) if order is DiOrder.LO_FIRST else (high, low))


def decode_di(raw: bytes, prefer: DiOrder = DiOrder.LO_FIRST) -> tuple[int, DiOrder]:
    """The DI in 2 wire bytes, whichever order names a known DI (``prefer`` tried first)."""
    if len(raw) != 2:
        raise Cjt188Error(f"a DI needs 2 bytes, got {len(raw)}")
    readings = {DiOrder.LO_FIRST: raw[1] << 8 | raw[0], DiOrder.HI_FIRST: raw[0] << 8 | raw[1]}
    for order in (prefer, prefer.other):
        if di_info(readings[order]) is not None:
            return readings[order], order
    lo, hi = readings[DiOrder.LO_FIRST], readings[DiOrder.HI_FIRST]
    raise Cjt188Error(f"unknown DI {hex_bytes(raw)} (neither {lo:04X} nor {hi:04X} is a "
                      "known CJ/T 188 data identifier)")


# --- frames ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Body:
    """DATA split into its parts: DI (None in a bare error reply), SER and the rest."""

    di: int | None
    order: DiOrder | None
    ser: int | None
    payload: bytes


@dataclass(frozen=True, slots=True)
class Frame:
    """One CJ/T 188 frame: meter type, address (nameplate order), control code, DATA."""

    meter_type: int
    address: str
    control: int
    data: bytes = b""

    @property
    def function(self) -> int:
        """D4..D0 of the control code (01 read data, 03 read address, 04 write...)."""
        return self.control & C_FUNCTION

    @property
    def is_reply(self) -> bool:
        """D7: sent by a meter."""
        return bool(self.control & C_REPLY)

    @property
    def is_abnormal(self) -> bool:
        """D6: the meter refused (error reply)."""
        return bool(self.control & C_ABNORMAL)

    @property
    def follow_up(self) -> bool:
        """D5: more frames follow."""
        return bool(self.control & C_FOLLOW_UP)

    @property
    def direction(self) -> str:
        """request (master to meter) or reply."""
        return "reply" if self.is_reply else "request"

    def body(self, prefer: DiOrder = DiOrder.LO_FIRST) -> Body:
        """Split DATA by L: ``DI SER payload``, or ``SER ST`` in an abnormal reply."""
        data = self.data
        if self.is_abnormal:
            if len(data) >= 4:
                try:
                    di, order = decode_di(data[:2], prefer)
                except Cjt188Error:
                    pass
                else:
                    return Body(di, order, data[2], data[3:])
            if not data:
                return Body(None, None, None, b"")
            return Body(None, None, data[0], data[1:])
        if len(data) < 3:
            raise Cjt188Error(f"too short for DI and SER: L={len(data)}")
        di, order = decode_di(data[:2], prefer)
        return Body(di, order, data[2], data[3:])

    def encode(self) -> bytes:
        """The frame's bytes (no wake-up preamble)."""
        if not 0 <= self.meter_type <= 0xFF or not 0 <= self.control <= 0xFF:
            raise Cjt188Error("meter type and control code must be single bytes")
        if len(self.data) > MAX_DATA:
            raise Cjt188Error(f"DATA of {len(self.data)} bytes exceeds {MAX_DATA}")
        head = bytes((START, self.meter_type)) + address_to_wire(self.address)
        head += bytes((self.control, len(self.data))) + self.data
        return head + bytes((checksum(head), END))


def _examine(buf: bytes | bytearray, start: int) -> Frame | int | str:
    """The frame whose 68 is at ``start``, else the length it needs (int) or why not (str)."""
    avail = len(buf) - start
    if avail >= 2 and meter_family(buf[start + 1]) is None:
        return (f"wrong meter type {buf[start + 1]:02X} (expected 10-19, 20-29, 30-39, "
                "40-49 or AA)")
    if avail < HEADER_LEN:
        return OVERHEAD
    total = OVERHEAD + buf[start + 10]
    if avail < total:
        return total
    cs_at = start + total - 2
    if buf[cs_at + 1] != END:
        return f"missing end byte 16 (got {buf[cs_at + 1]:02X})"
    expected = checksum(buf[start:cs_at])
    if buf[cs_at] != expected:
        return f"bad checksum: expected {expected:02X}, got {buf[cs_at]:02X}"
    return Frame(buf[start + 1], address_from_wire(buf[start + 2:start + 9]),
                 buf[start + 9], bytes(buf[start + HEADER_LEN:cs_at]))


def decode_frame(data: bytes) -> Frame:
    """Exactly one frame, optionally after FE wake-up bytes; anything else is an error."""
    start = 0
    while start < len(data) and data[start] == WAKE_UP:
        start += 1
    if start == len(data):
        raise Cjt188Error(f"too short: {len(data)} bytes and no frame")
    if data[start] != START:
        raise Cjt188Error(f"missing start byte 68 (got {data[start]:02X} at offset {start})")
    result = _examine(data, start)
    if isinstance(result, str):
        raise Cjt188Error(result)
    got = len(data) - start
    if isinstance(result, int):
        if got < HEADER_LEN:
            raise Cjt188Error(f"too short: {got} bytes, a frame has at least {OVERHEAD}")
        raise Cjt188Error(f"too short: L={data[start + 10]} needs {result} bytes, got {got}")
    extra = got - OVERHEAD - len(result.data)
    if extra:
        raise Cjt188Error(f"{extra} extra byte{'s' if extra > 1 else ''} after the end byte 16")
    return result


# --- the stream parser -----------------------------------------------------------------


class Cjt188Parser:
    """Finds frames in a byte stream: wake-up bytes, garbage, split and merged frames.

    It hunts for 68, checks the meter type as soon as it arrives, then length, 16 and CS.
    A candidate that is still incomplete is given up when a complete valid frame starts
    after it, so a false 68 in garbage never holds back a real frame. The buffer never
    holds more than one incomplete frame (at most ``MAX_FRAME`` bytes).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.discarded = 0  # bytes dropped as garbage (wake-up bytes included)
        self.rejected = 0  # candidates dropped (bad type, CS, end byte...)
        self.last_error = ""

    @property
    def buffered(self) -> int:
        """Bytes held for an incomplete frame."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget any partial frame."""
        self._buf.clear()

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes; return every frame now complete, in order."""
        buf = self._buf
        buf += data
        frames: list[Frame] = []
        pos = 0
        while True:
            start = buf.find(START, pos)
            if start < 0:
                self.discarded += len(buf) - pos
                pos = len(buf)
                break
            self.discarded += start - pos
            result = _examine(buf, start)
            if isinstance(result, Frame):
                frames.append(result)
                pos = start + OVERHEAD + len(result.data)
            elif isinstance(result, str):
                self._reject(result)
                pos = start + 1
                self.discarded += 1
            else:
                later = self._complete_after(start)
                if later is None:
                    pos = start
                    break
                self._reject("dropped an incomplete frame: a complete one followed it")
                self.discarded += later - start
                pos = later
        del buf[:pos]
        if len(buf) > MAX_FRAME:  # cannot happen by construction; keep the bound anyway
            self.discarded += len(buf) - MAX_FRAME
            del buf[:len(buf) - MAX_FRAME]
        return frames

    def _complete_after(self, start: int) -> int | None:
        """The offset of the first complete valid frame after ``start``, if any."""
        buf = self._buf
        at = buf.find(START, start + 1)
        while at >= 0:
            if isinstance(_examine(buf, at), Frame):
                return at
            at = buf.find(START, at + 1)
        return None

    def _reject(self, reason: str) -> None:
        self.rejected += 1
        self.last_error = reason
        _LOGGER.debug("cjt188 parser: %s", reason)


# --- request builders ----------------------------------------------------------------


def _check_ser(ser: int) -> int:
    if isinstance(ser, bool) or not isinstance(ser, int) or not 0 <= ser <= 0xFF:
        raise Cjt188Error(f"SER must be 0-255, got {ser!r}")
    return ser


def _check_type(meter_type: int) -> int:
    if not isinstance(meter_type, int) or not 0 <= meter_type <= 0xFF \
            or meter_family(meter_type) is None:
        raise Cjt188Error(f"wrong meter type {meter_type!r} (expected 10-19, 20-29, 30-39, "
                          "40-49 or AA)")
    return meter_type


def request(address: str, function: int, di: int, payload: bytes = b"", *, ser: int = 0,
            order: DiOrder = DiOrder.LO_FIRST, meter_type: int = TYPE_COLD_WATER) -> bytes:
    """A request frame: ``DI SER payload`` for ``function`` to one meter."""
    data = encode_di(di, order) + bytes((_check_ser(ser),)) + payload
    return Frame(_check_type(meter_type), normalize_address(address), function, data).encode()


def read_request(address: str, di: int = DI_CURRENT, *, ser: int = 0,
                 order: DiOrder = DiOrder.LO_FIRST,
                 meter_type: int = TYPE_COLD_WATER) -> bytes:
    """Read data (control 01) of one DI, 901F by default."""
    return request(address, FUNC_READ_DATA, di, ser=ser, order=order, meter_type=meter_type)


def read_address_request(*, address: str = BROADCAST_ADDRESS, ser: int = 0,
                         order: DiOrder = DiOrder.LO_FIRST, meter_type: int = TYPE_ANY) -> bytes:
    """Read address (control 03, DI 810A), to the wildcard address by default."""
    return request(address, FUNC_READ_ADDRESS, DI_ADDRESS, ser=ser, order=order,
                   meter_type=meter_type)


def write_request(address: str, di: int, payload: bytes, *, ser: int = 0,
                  order: DiOrder = DiOrder.LO_FIRST,
                  meter_type: int = TYPE_COLD_WATER) -> bytes:
    """Write data (control 04) of one DI."""
    return request(address, FUNC_WRITE_DATA, di, payload, ser=ser, order=order,
                   meter_type=meter_type)


def valve_request(address: str, open_valve: bool, *, ser: int = 0,
                  order: DiOrder = DiOrder.LO_FIRST,
                  meter_type: int = TYPE_COLD_WATER) -> bytes:
    """Valve control: write A017 = 55 (open) or 99 (close)."""
    code = VALVE_CODE_OPEN if open_valve else VALVE_CODE_CLOSE
    return write_request(address, DI_VALVE, bytes((code,)), ser=ser, order=order,
                         meter_type=meter_type)


def time_request(address: str, when: datetime, *, ser: int = 0,
                 order: DiOrder = DiOrder.LO_FIRST,
                 meter_type: int = TYPE_COLD_WATER) -> bytes:
    """Set the meter clock: write A015 = ss mm hh DD MM YY CC (``when``'s wall clock)."""
    return write_request(address, DI_SET_TIME, encode_time(when), ser=ser, order=order,
                         meter_type=meter_type)

