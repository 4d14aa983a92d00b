"""DL/T 645-2007 frames as pure functions on bytes (no I/O).

Frame: ``[FE..] 68 A0..A5 68 C L DATA CS 16``; the address is 12 BCD digits sent low byte
first, DATA bytes carry +0x33 on the wire, CS is the byte sum from the first 68 through DATA.
A :class:`Frame` holds the data with the offset removed. :class:`Dlt645Parser` finds frames
in a byte stream (wake-up bytes, garbage, split and merged frames).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from .bcd import decode_datetime, encode_datetime
from .const import (
    ABNORMAL,
    BAUD_WORD,
    BROADCAST,
    DIR_REPLY,
    END,
    ERROR_BITS,
    FOLLOW_UP,
    FUNCTION_MASK,
    FUNCTION_NAMES,
    MAX_DATA,
    MAX_FRAME,
    MIN_FRAME,
    RELAY_ACTION_NAMES,
    START,
    WAKE,
    WILDCARD,
    Function,
    RelayAction,
)
from .errors import Dlt645Error

_LOGGER = logging.getLogger(__name__)

_ADD33 = bytes((b + 0x33) & 0xFF for b in range(256))
_SUB33 = bytes((b - 0x33) & 0xFF for b in range(256))
_HEX = frozenset("0123456789ABCDEF")


def add_offset(data: bytes) -> bytes:
    """Add 0x33 to every byte (mod 256), as sent on the wire."""
    return data.translate(_ADD33)


def remove_offset(data: bytes) -> bytes:
    """Subtract 0x33 from every byte (mod 256), as received."""
    return data.translate(_SUB33)


def checksum(data: bytes) -> int:
    """Byte sum mod 256."""
    return sum(data) & 0xFF


# --- addresses --------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def encode_address(address: str) -> bytes:
    """Nameplate order (12 digits, AA wildcard bytes; shorter digits padded) to wire order."""
    text = str(address).strip().upper()
    if text.isdigit() and text.isascii() and 0 < len(text) < 12:
        text = text.zfill(12)
    pairs = [text[i:i + 2] for i in range(0, len(text), 2)]
    if len(text) != 12 or not all(p == "AA" or (p.isdigit() and p.isascii()) for p in pairs):
        raise Dlt645Error(
            f"expected an address of 12 decimal digits (AA allowed as wildcard byte), "
            f"got {address!r}")
    return bytes.fromhex(text)[::-1]


def decode_address(raw: bytes) -> str:
    """Wire order (A0 first) to nameplate order."""
    return raw[::-1].hex().upper()


def address_kind(address: str) -> str:
    """``broadcast``, ``wildcard`` (has AA bytes), ``meter`` (12 digits) or ``invalid``."""
    if address == BROADCAST:
        return "broadcast"
    if address.isdigit() and len(address) == 12:
        return "meter"
    try:
        encode_address(address)
    except Dlt645Error:
        return "invalid"
    return "wildcard"


def address_matches(request: str, own: str) -> bool:
    """Whether a request address (possibly with AA wildcard bytes) selects ``own``."""
    if request == own:
        return True
    if len(request) != 12 or len(own) != 12 or "AA" not in request:
        return False
    return all(request[i:i + 2] in ("AA", own[i:i + 2]) for i in range(0, 12, 2))


# --- data identifiers -------------------------------------------------------------------


def parse_di(value: Any) -> int:
    """A DI as printed (``00010000``, ``0x0001FF00``) or an int; DI3 first."""
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= 0xFFFFFFFF:
            return value
    elif isinstance(value, str):
        text = value.strip().upper().removeprefix("0X")
        if len(text) == 8 and set(text) <= _HEX:
            return int(text, 16)
    raise Dlt645Error(f"expected a DI of 8 hex digits like 00010000, got {value!r}")


def di_bytes(di: int) -> bytes:
    """A DI in wire order (DI0 first), before the offset."""
    return di.to_bytes(4, "little")


def di_text(di: int) -> str:
    """A DI as printed: DI3..DI0 in hex."""
    return f"{di:08X}"


# --- frames -----------------------------------------------------------------------------


def error_reasons(code: int, language: str = "en",
                  bits: tuple[tuple[int, str, str], ...] = ERROR_BITS) -> list[str]:
    """Readable reasons for the bits set in an ERR byte (``en`` or ``zh-CN``; 2007 bits by
    default)."""
    zh = language.lower().startswith("zh")
    reasons = [(text_zh if zh else text) for bit, text, text_zh in bits if code & bit]
    if not reasons:
        return ["错误字为00（未给原因）" if zh else "error word 00 (no reason given)"]
    return reasons


@dataclass(frozen=True, slots=True)
class Frame:
    """One DL/T 645 frame; ``data`` has the 0x33 offset removed."""

    address: str
    control: int
    data: bytes = b""

    @property
    def function(self) -> int:
        """The function code (control D4..D0)."""
        return self.control & FUNCTION_MASK

    @property
    def is_reply(self) -> bool:
        """Sent by a meter (control D7)."""
        return bool(self.control & DIR_REPLY)

    @property
    def direction(self) -> str:
        """``request`` (master to meter) or ``reply``."""
        return "reply" if self.control & DIR_REPLY else "request"

    @property
    def is_error(self) -> bool:
        """An abnormal reply (D7 and D6 set)."""
        return self.control & 0xC0 == 0xC0

    @property
    def has_follow_up(self) -> bool:
        """More frames follow (D5 set on a normal reply)."""
        return self.control & 0xE0 == 0xA0

    @property
    def di(self) -> int | None:
        """The DI carried by reads, follow-ups and writes (None for other frames)."""
        if (self.function in _DI_FUNCTIONS and not self.is_error and len(self.data) >= 4):
            return int.from_bytes(self.data[:4], "little")
        return None

    @property
    def error_code(self) -> int | None:
        """The ERR byte of an abnormal reply (first data byte), else None."""
        if self.is_error and self.data:
            return self.data[0]
        return None

    @property
    def error_reasons(self) -> list[str]:
        """Readable reasons of an abnormal reply."""
        code = self.error_code
        return error_reasons(code) if code is not None else []

    def encode(self, preamble: bytes = b"") -> bytes:
        """The frame's bytes on the wire."""
        return encode_frame(self.address, self.control, self.data, preamble=preamble)


_DI_FUNCTIONS = frozenset((Function.READ, Function.READ_FOLLOW_UP, Function.WRITE))


def control_meaning(control: int, language: str = "en",
                    functions: Mapping[int, tuple[str, str]] = FUNCTION_NAMES) -> str:
    """What a control byte means, e.g. ``read data: normal reply`` (2007 names by default)."""
    names = functions.get(control & FUNCTION_MASK)
    zh = language.lower().startswith("zh")
    base = (names[1] if zh else names[0]) if names else (
        f"未知功能码 {control & FUNCTION_MASK:02X}" if zh
        else f"unknown function {control & FUNCTION_MASK:02X}")
    if not control & DIR_REPLY:
        kind = ("请求" if zh else "request") if not control & 0x60 else (
            "请求（保留位被置位）" if zh else "request (reserved bits set)")
    elif control & ABNORMAL:
        kind = "异常应答" if zh else "abnormal reply"
    elif control & FOLLOW_UP:
        kind = "正常应答，有后续帧" if zh else "normal reply, follow-up frames"
    else:
        kind = "正常应答" if zh else "normal reply"
    return f"{base}: {kind}"


def encode_frame(address: str | bytes, control: int, data: bytes = b"", *,
                 preamble: bytes = b"") -> bytes:
    """Build a frame; ``data`` is given without the offset."""
    addr = encode_address(address) if isinstance(address, str) else bytes(address)
    if len(addr) != 6:
        raise Dlt645Error(f"an address is 6 bytes, got {len(addr)}")
    if not 0 <= control <= 0xFF:
        raise Dlt645Error(f"control code {control} is not one byte")
    if len(data) > MAX_DATA:
        raise Dlt645Error(f"data of {len(data)} bytes exceeds {MAX_DATA}")
    body = b"\x68" + addr + bytes((START, control, len(data))) + data.translate(_ADD33)
    return preamble + body + bytes((sum(body) & 0xFF, END))


def decode_frame(data: bytes) -> Frame:
    """Decode exactly one frame (optionally after FE wake-up bytes); strict."""
    n = len(data)
    start = 0
    while start < n and data[start] == WAKE:
        start += 1
    if n - start < MIN_FRAME:
        raise Dlt645Error("frame too short")
    if data[start] != START:
        raise Dlt645Error(f"missing start byte 0x68 (got 0x{data[start]:02X})")
    if data[start + 7] != START:
        raise Dlt645Error(f"missing second start byte 0x68 (got 0x{data[start + 7]:02X})")
    end = start + MIN_FRAME + data[start + 9]
    if n < end:
        raise Dlt645Error(f"frame too short: L={data[start + 9]} needs {end - start} bytes, "
                          f"got {n - start}")
    if data[end - 1] != END:
        raise Dlt645Error("missing end byte 0x16")
    expected = sum(data[start:end - 2]) & 0xFF
    if data[end - 2] != expected:
        raise Dlt645Error(f"bad checksum: expected 0x{expected:02X}, got 0x{data[end - 2]:02X}")
    if n > end:
        raise Dlt645Error(f"{n - end} unexpected bytes after the end byte")
    return Frame(data[start + 6:start:-1].hex().upper(), data[start + 8],
                 data[start + 10:end - 2].translate(_SUB33))


class Dlt645Parser:
    """Streaming frame finder (a :class:`hub.metering.model.FrameParser`).

    Hunts for 68, checks the second 68, L, CS and 16; on a failed check drops one byte and
    rescans, so a fragment or a false 68 in garbage never hides a good frame behind it. An
    incomplete candidate is given up as soon as a complete, valid frame starts after it.
    The buffer never holds more than one maximal frame between calls.
    """

    def __init__(self, max_data: int = MAX_DATA) -> None:
        self.max_data = max_data
        self._buf = bytearray()
        self.dropped = 0  # bytes discarded as garbage

    @property
    def buffered(self) -> int:
        """Bytes held for an incomplete frame."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget any partial frame."""
        self._buf.clear()

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes; return every frame now complete."""
        buf = self._buf
        buf += data
        frames: list[Frame] = []
        pos = 0
        consumed = 0
        size = len(buf)
        while True:
            i = buf.find(START, pos)
            if i < 0:
                pos = size
                break
            end = self._check(buf, i, size)
            if end > 0:
                frames.append(_frame_at(buf, i, end))
                consumed += end - i
                pos = end
                continue
            if end == 0:  # not a frame at i
                pos = i + 1
                continue
            # incomplete at i: wait for more, unless a whole frame already follows it
            later = self._complete_after(buf, i + 1, size)
            if later is None:
                pos = i
                break
            pos = later
        if pos:
            self.dropped += pos - consumed
            del buf[:pos]
        if len(buf) > MAX_FRAME:  # cannot happen while L is one byte; belt and braces
            self.dropped += len(buf) - MAX_FRAME
            del buf[:len(buf) - MAX_FRAME]
        return frames

    def _check(self, buf: bytearray, i: int, size: int) -> int:
        """End offset of a valid frame at ``i``; 0 if none; -1 if more bytes are needed."""
        if size - i < 8:
            return -1
        if buf[i + 7] != START:
            return 0
        if size - i < 10:
            return -1
        length = buf[i + 9]
        if length > self.max_data:
            return 0
        end = i + MIN_FRAME + length
        if size < end:
            return -1
        if buf[end - 1] != END or buf[end - 2] != sum(buf[i:end - 2]) & 0xFF:
            return 0
        return end

    def _complete_after(self, buf: bytearray, pos: int, size: int) -> int | None:
        """Start of the first complete valid frame at or after ``pos``, else None."""
        while True:
            j = buf.find(START, pos)
            if j < 0:
                return None
            if self._check(buf, j, size) > 0:
                return j
            pos = j + 1


def _frame_at(buf: bytearray, i: int, end: int) -> Frame:
    return Frame(buf[i + 6:i:-1].hex().upper(), buf[i + 8],
                 bytes(buf[i + 10:end - 2].translate(_SUB33)))


# --- command layouts --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    """Password level (PA), 6-digit password and 4-byte operator code of a write/control."""

    level: int = 0x02
    password: str = "000000"
    operator: str = "00000000"

    def __post_init__(self) -> None:
        if not 0 <= self.level <= 0xFF:
            raise Dlt645Error(f"password level must be one byte, got {self.level}")
        if len(self.password) != 6 or not set(self.password.upper()) <= _HEX:
            raise Dlt645Error(f"expected a 6-digit password, got {self.password!r}")
        if len(self.operator) != 8 or not set(self.operator.upper()) <= _HEX:
            raise Dlt645Error(f"expected an operator code of 8 hex digits, got "
                              f"{self.operator!r}")

    @classmethod
    def parse(cls, level: Any = "02", password: Any = "000000",
              operator: Any = "00000000") -> Credentials:
        """From text as printed (level ``02``, password ``123456``, operator ``00000001``)."""
        level_text = str(level).strip().upper().removeprefix("0X")
        if not (1 <= len(level_text) <= 2 and set(level_text) <= _HEX):
            raise Dlt645Error(f"expected a password level of 2 hex digits like 02, got {level!r}")
        return cls(int(level_text, 16), str(password).strip().zfill(6),
                   str(operator).strip().upper().zfill(8))

    def encode(self) -> bytes:
        """PA P0 P1 P2 C0 C1 C2 C3 (low bytes first), before the offset."""
        return (bytes((self.level,)) + bytes.fromhex(self.password)[::-1]
                + bytes.fromhex(self.operator)[::-1])

    @classmethod
    def decode(cls, raw: bytes) -> Credentials:
        """From the 8 bytes of a write/control frame."""
        if len(raw) < 8:
            raise Dlt645Error(f"credentials need 8 bytes, got {len(raw)}")
        return cls(raw[0], raw[3:0:-1].hex().upper(), raw[7:3:-1].hex().upper())


@dataclass(frozen=True, slots=True)
class RelayCommand:
    """The 16 data bytes of a 0x1C frame."""

    credentials: Credentials
    action: int  # N1 (a RelayAction, or an unknown byte)
    n2: int
    valid_until: datetime | None  # None when N3..N8 is not a date-time (e.g. 99...)
    end_raw: bytes

    @property
    def action_name(self) -> str:
        """``trip``, ``close``... or ``unknown 0xNN``."""
        try:
            return RELAY_ACTION_NAMES[RelayAction(self.action)][0]
        except ValueError:
            return f"unknown 0x{self.action:02X}"


@dataclass(frozen=True, slots=True)
class WriteCommand:
    """The data of a 0x14 write frame."""

    di: int
    credentials: Credentials
    value: bytes


def read_request(address: str, di: int, extra: bytes = b"") -> bytes:
    """0x11 read of one DI (``extra``: optional N / time of load-profile reads)."""
    return encode_frame(address, Function.READ, di.to_bytes(4, "little") + extra)


def follow_up_request(address: str, di: int, seq: int) -> bytes:
    """0x12 read of follow-up frame ``seq`` (1, 2...)."""
    if not 0 <= seq <= 0xFF:
        raise Dlt645Error(f"follow-up SEQ must be 0..255, got {seq}")
    return encode_frame(address, Function.READ_FOLLOW_UP, di_bytes(di) + bytes((seq,)))


def read_address_request(address: str = WILDCARD) -> bytes:
    """0x13 read of the communication address (one meter on the bus)."""
    return encode_frame(address, Function.READ_ADDRESS)


# The largest value a writable DL/T 645-2007 identifier holds: a zone table or a day table of
# 14 three-byte entries (04010000, 04010001: p <= 14, m <= 14). The standard has no smaller
# identifier for one entry, so such a write's data field is 12 + 42 = 54 bytes, past the
# "L <= 50 for writes" its general rule states: the table identifiers are the exception.
MAX_WRITE_VALUE = 14 * 3


def write_request(address: str, di: int, value: bytes, credentials: Credentials) -> bytes:
    """0x14 write: DI, PA P0P1P2, C0..C3, value."""
    if len(value) > MAX_WRITE_VALUE:
        raise Dlt645Error(f"a write carries at most {MAX_WRITE_VALUE} value bytes, "
                          f"got {len(value)}")
    return encode_frame(address, Function.WRITE, di_bytes(di) + credentials.encode() + value)


def time_sync_request(when: datetime, address: str = BROADCAST) -> bytes:
    """0x08 broadcast time sync: ss mm hh DD MM YY (seconds first)."""
    return encode_frame(address, Function.BROADCAST_TIME, encode_datetime(when))


# Fields of a freeze time MMDDhhmm: name, first digit, lowest and highest value.
_FREEZE_FIELDS: tuple[tuple[str, int, int, int], ...] = (
    ("month", 0, 1, 12), ("day", 2, 1, 31), ("hour", 4, 0, 23), ("minute", 6, 0, 59))
FREEZE_EVERY = "99"
FREEZE_NOW = "99999999"


def check_freeze_time(at: Any) -> str:
    """A valid freeze time ``MMDDhhmm`` (DL/T 645-2007 §7.8), else Dlt645Error naming the field.

    ``99`` in the leading fields means "every": ``99DDhhmm`` monthly, ``9999hhmm`` daily,
    ``999999mm`` hourly; ``99999999`` freezes at once. The minute is always 00-59 except in
    ``99999999``, and a ``99`` never follows a field that is set (``12991230`` is refused).
    """
    text = str(at).strip()
    if len(text) != 8 or not text.isdigit() or not text.isascii():
        raise Dlt645Error(f"expected a freeze time MMDDhhmm (99 = every), got {at!r}")
    if text == FREEZE_NOW:
        return text
    wildcard = True
    for name, start, low, high in _FREEZE_FIELDS:
        field = text[start:start + 2]
        if field == FREEZE_EVERY and name != "minute":
            if not wildcard:
                raise Dlt645Error(f"freeze time {text}: {name} 99 (every) may only follow "
                                  f"fields that are 99 too")
            continue
        wildcard = False
        if not low <= int(field) <= high:
            every = ", or 99 = every" if name != "minute" else ""
            raise Dlt645Error(f"freeze time {text}: {name} {field} is out of range "
                              f"({low:02d}-{high:02d}{every})")
    return text


def freeze_request(address: str, at: str = FREEZE_NOW) -> bytes:
    """0x16 freeze at ``MMDDhhmm`` as printed (``99`` = every); sent minutes first."""
    text = check_freeze_time(at)
    return encode_frame(address, Function.FREEZE, bytes.fromhex(text)[::-1])


def change_baud_request(address: str, baud: int) -> bytes:
    """0x17 change of the communication rate (one-hot feature word Z)."""
    if baud not in BAUD_WORD:
        raise Dlt645Error(f"expected a baud rate of {', '.join(map(str, BAUD_WORD))}, "
                          f"got {baud!r}")
    return encode_frame(address, Function.CHANGE_BAUD, bytes((BAUD_WORD[baud],)))


def relay_request(address: str, action: RelayAction, valid_until: datetime,
                  credentials: Credentials) -> bytes:
    """0x1C relay / alarm / protect control: credentials, N1, N2=00, validity end time."""
    data = credentials.encode() + bytes((int(action), 0)) + encode_datetime(valid_until)
    return encode_frame(address, Function.RELAY_CONTROL, data)


def parse_relay(frame: Frame) -> RelayCommand:
    """The fields of a 0x1C request."""
    if frame.function != Function.RELAY_CONTROL or frame.is_reply:
        raise Dlt645Error(f"not a relay control request: control {frame.control:02X}")
    if len(frame.data) != 16:
        raise Dlt645Error(f"relay control carries 16 data bytes, got {len(frame.data)}")
    data = frame.data
    try:
        valid: datetime | None = decode_datetime(data[10:16])
    except Dlt645Error:
        valid = None
    return RelayCommand(Credentials.decode(data[:8]), data[8], data[9], valid, data[10:16])


def parse_write(frame: Frame) -> WriteCommand:
    """The fields of a 0x14 request."""
    if frame.function != Function.WRITE or frame.is_reply:
        raise Dlt645Error(f"not a write request: control {frame.control:02X}")
    if len(frame.data) < 12:
        raise Dlt645Error(f"a write needs at least 12 data bytes, got {len(frame.data)}")
    data = frame.data
    return WriteCommand(int.from_bytes(data[:4], "little"), Credentials.decode(data[4:12]),
                        data[12:])


def parse_time_sync(frame: Frame) -> datetime:
    """The time of a 0x08 broadcast (naive, meter-local)."""
    if len(frame.data) != 6:
        raise Dlt645Error(f"time sync carries 6 data bytes, got {len(frame.data)}")
    return decode_datetime(frame.data)


def parse_freeze(frame: Frame) -> str:
    """The MMDDhhmm of a 0x16 request, as printed."""
    if len(frame.data) != 4:
        raise Dlt645Error(f"freeze carries 4 data bytes, got {len(frame.data)}")
    text = frame.data[::-1].hex()
    if not text.isdigit():
        raise Dlt645Error(f"freeze time is not BCD: {text.upper()}")
    return check_freeze_time(text)


# --- replies (used by the simulator) ----------------------------------------------------


def reply_control(function: int, *, error: bool = False, follow_up: bool = False) -> int:
    """Control byte of a reply to ``function``."""
    return function | (0xC0 if error else (0xA0 if follow_up else 0x80))


def read_reply(address: str, di: int, value: bytes, *, follow_up: bool = False) -> bytes:
    """0x91 (or 0xB1) reply: DI + value."""
    return encode_frame(address, reply_control(Function.READ, follow_up=follow_up),
                        di_bytes(di) + value)


def follow_up_reply(address: str, di: int, value: bytes, seq: int, *,
                    follow_up: bool = False) -> bytes:
    """0x92 (or 0xB2) reply: DI + value + SEQ."""
    return encode_frame(address, reply_control(Function.READ_FOLLOW_UP, follow_up=follow_up),
                        di_bytes(di) + value + bytes((seq & 0xFF,)))


def ack_reply(address: str, function: int, data: bytes = b"") -> bytes:
    """A normal reply (``function | 0x80``), usually with no data."""
    return encode_frame(address, reply_control(function), data)


def error_reply(address: str, function: int, err: int) -> bytes:
    """An abnormal reply (``function | 0xC0``) carrying the ERR byte."""
    return encode_frame(address, reply_control(function, error=True), bytes((err,)))


def address_reply(address: str) -> bytes:
    """0x93 reply: the meter's own address as data."""
    return encode_frame(address, reply_control(Function.READ_ADDRESS), encode_address(address))

