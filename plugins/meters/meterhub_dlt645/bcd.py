"""DL/T 645 value formats: packed BCD, low byte first, with the sign rule; dates and times.

Sign rule: in signed formats bit 7 of the most significant byte (the last on the wire) is
the sign and the remaining bits are BCD. Values are exact ``Decimal``; never float.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from .errors import Dlt645Error

_LOGGER = logging.getLogger(__name__)


def bcd_digits(raw: bytes) -> str:
    """Return the digits of low-byte-first packed BCD; reject a nibble above 9."""
    text = raw[::-1].hex()
    if not text.isdigit():
        raise Dlt645Error(f"not BCD: {raw.hex(' ').upper()}")
    return text


def digits_bcd(text: str, size: int) -> bytes:
    """Pack a string of exactly ``2 * size`` decimal digits as low-byte-first BCD."""
    if len(text) != 2 * size or not text.isdigit() or not text.isascii():
        raise Dlt645Error(f"expected {2 * size} decimal digits, got {text!r}")
    return bytes.fromhex(text)[::-1]


def bcd_byte(value: int) -> int:
    """One byte of BCD for 0..99."""
    if not 0 <= value <= 99:
        raise Dlt645Error(f"{value} does not fit one BCD byte")
    return (value // 10) << 4 | value % 10


def byte_bcd(value: int) -> int:
    """The number 0..99 in one BCD byte; reject a nibble above 9."""
    high, low = value >> 4, value & 0x0F
    if high > 9 or low > 9:
        raise Dlt645Error(f"not BCD: {value:02X}")
    return high * 10 + low


def decode_number(raw: bytes, decimals: int, signed: bool) -> Decimal:
    """Decode a BCD number (sign rule applied when ``signed``)."""
    negative = False
    if signed and raw and raw[-1] & 0x80:
        negative = True
        raw = raw[:-1] + bytes((raw[-1] & 0x7F,))
    text = raw[::-1].hex()
    if not text.isdigit():
        raise Dlt645Error(f"not BCD: {raw.hex(' ').upper()}")
    if decimals:
        text = f"{text[:-decimals]}.{text[-decimals:]}"
    return Decimal(f"-{text}" if negative else text)


def encode_number(value: Decimal | int | str, size: int, decimals: int, signed: bool) -> bytes:
    """Encode an exact number; raise if it has too many decimals or does not fit."""
    if isinstance(value, float | bool):
        raise Dlt645Error(f"expected an exact number (Decimal, int or text), got {value!r}")
    try:
        number = Decimal(value)
    except (ArithmeticError, ValueError, TypeError):
        raise Dlt645Error(f"expected a number, got {value!r}") from None
    if not number.is_finite():
        raise Dlt645Error(f"expected a finite number, got {value!r}")
    scaled = number.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise Dlt645Error(f"{value} has more than {decimals} decimals")
    magnitude = abs(int(scaled))
    negative = number.is_signed()
    if negative and not signed:
        raise Dlt645Error(f"{value} is negative but the format is unsigned")
    digits = 2 * size
    limit = 10 ** digits if not signed else 8 * 10 ** (digits - 1)
    if magnitude >= limit:
        raise Dlt645Error(f"{value} does not fit {digits} digits with {decimals} decimals")
    raw = bytearray(bytes.fromhex(f"{magnitude:0{digits}d}")[::-1])
    if negative:
        raw[-1] |= 0x80
    return bytes(raw)


def decode_datetime(raw: bytes) -> datetime:
    """Decode ss mm hh DD MM YY (6 bytes, seconds first) into a naive local datetime."""
    if len(raw) != 6:
        raise Dlt645Error(f"a date-time needs 6 bytes, got {len(raw)}")
    ss, mm, hh, dd, mo, yy = (byte_bcd(b) for b in raw)
    try:
        return datetime(2000 + yy, mo, dd, hh, mm, ss)
    except ValueError:
        raise Dlt645Error(f"not a date-time: {raw[::-1].hex().upper()} (YYMMDDhhmmss)") from None


def encode_datetime(when: datetime) -> bytes:
    """Encode a (local, naive or aware) datetime as ss mm hh DD MM YY."""
    if not 2000 <= when.year <= 2099:
        raise Dlt645Error(f"year {when.year} is outside 2000..2099")
    return bytes(bcd_byte(v) for v in (when.second, when.minute, when.hour, when.day,
                                       when.month, when.year - 2000))


class DateWeek(NamedTuple):
    """A meter date with its weekday (0 = Sunday ... 6 = Saturday)."""

    date: date
    weekday: int


def weekday_of(day: date) -> int:
    """DL/T 645 weekday: 0 = Sunday."""
    return day.isoweekday() % 7


class Kind(StrEnum):
    """How a format's bytes are read."""

    NUMBER = "number"  # BCD number, optionally signed, with implied decimals
    DATE_WEEK = "date_week"  # YYMMDDWW, sent WW first
    TIME = "time"  # hhmmss, sent ss first
    DATETIME = "datetime"  # YYMMDDhhmmss, sent ss first
    BITS = "bits"  # binary bit field (status words), low byte first
    DIGITS = "digits"  # BCD digit string (addresses, meter numbers)


@dataclass(frozen=True, slots=True)
class ValueFormat:
    """One value's layout on the wire (after the 0x33 offset is removed)."""

    kind: Kind
    size: int
    decimals: int = 0
    signed: bool = False
    pattern: str = field(default="", compare=False)

    def decode(self, raw: bytes) -> Any:
        """Decode exactly ``size`` bytes."""
        if len(raw) != self.size:
            raise Dlt645Error(f"{self.pattern} needs {self.size} bytes, got {len(raw)}")
        kind = self.kind
        if kind is Kind.NUMBER:
            return decode_number(raw, self.decimals, self.signed)
        if kind is Kind.BITS:
            return int.from_bytes(raw, "little")
        if kind is Kind.DIGITS:
            return bcd_digits(raw)
        if kind is Kind.TIME:
            ss, mm, hh = (byte_bcd(b) for b in raw)
            if hh > 23 or mm > 59 or ss > 59:
                raise Dlt645Error(f"not a time: {hh:02d}:{mm:02d}:{ss:02d}")
            return time(hh, mm, ss)
        if kind is Kind.DATE_WEEK:
            ww, dd, mo, yy = (byte_bcd(b) for b in raw)
            if ww > 6:
                raise Dlt645Error(f"not a weekday: {ww}")
            try:
                return DateWeek(date(2000 + yy, mo, dd), ww)
            except ValueError:
                raise Dlt645Error(f"not a date: 20{yy:02d}-{mo:02d}-{dd:02d}") from None
        return decode_datetime(raw)

    def encode(self, value: Any) -> bytes:
        """Encode a value of this format into ``size`` bytes."""
        kind = self.kind
        if kind is Kind.NUMBER:
            return encode_number(value, self.size, self.decimals, self.signed)
        if kind is Kind.BITS:
            if not isinstance(value, int) or not 0 <= value < 1 << (8 * self.size):
                raise Dlt645Error(f"expected a {8 * self.size}-bit word, got {value!r}")
            return value.to_bytes(self.size, "little")
        if kind is Kind.DIGITS:
            return digits_bcd(str(value), self.size)
        if kind is Kind.TIME:
            if not isinstance(value, time | datetime):
                raise Dlt645Error(f"expected a time, got {value!r}")
            return bytes(bcd_byte(v) for v in (value.second, value.minute, value.hour))
        if kind is Kind.DATE_WEEK:
            day = value.date if isinstance(value, DateWeek) else value
            if isinstance(day, datetime):
                day = day.date()
            if not isinstance(day, date) or not 2000 <= day.year <= 2099:
                raise Dlt645Error(f"expected a date in 2000..2099, got {value!r}")
            week = value.weekday if isinstance(value, DateWeek) else weekday_of(day)
            return bytes(bcd_byte(v) for v in (week, day.day, day.month, day.year - 2000))
        if not isinstance(value, datetime):
            raise Dlt645Error(f"expected a date-time, got {value!r}")
        return encode_datetime(value)

    def render(self, value: Any) -> str:
        """Render a decoded value as exact, JSON-friendly text."""
        if self.kind is Kind.BITS:
            return f"0x{value:0{2 * self.size}X}"
        if self.kind is Kind.DATE_WEEK:
            return str(value.date.isoformat())
        if isinstance(value, date | time):
            return value.isoformat()
        return str(value)


def fit(value: Decimal, fmt: ValueFormat, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round to the format's decimals and clamp into its range."""
    step = Decimal(1).scaleb(-fmt.decimals)
    digits = 2 * fmt.size
    top = (Decimal(8 * 10 ** (digits - 1)) if fmt.signed else Decimal(10 ** digits)) * step
    value = value.quantize(step, rounding=rounding)
    return max(min(value, top - step), -(top - step) if fmt.signed else Decimal(0))


def number(pattern: str, *, signed: bool = False) -> ValueFormat:
    """A BCD number format from its pattern, e.g. ``XXXXXX.XX`` (4 bytes, 2 decimals)."""
    digits = pattern.count("X") + pattern.count("N")
    if digits % 2:
        raise ValueError(f"pattern {pattern} has an odd number of digits")
    decimals = len(pattern.partition(".")[2])
    return ValueFormat(Kind.NUMBER, digits // 2, decimals, signed, pattern)


DATE_WEEK = ValueFormat(Kind.DATE_WEEK, 4, pattern="YYMMDDWW")
TIME = ValueFormat(Kind.TIME, 3, pattern="hhmmss")
DATETIME = ValueFormat(Kind.DATETIME, 6, pattern="YYMMDDhhmmss")
WORD = ValueFormat(Kind.BITS, 2, pattern="XXXX (bits)")
BYTE_BITS = ValueFormat(Kind.BITS, 1, pattern="XX (bits)")
ADDRESS_DIGITS = ValueFormat(Kind.DIGITS, 6, pattern="NNNNNNNNNNNN")
TOU_ZONE = ValueFormat(Kind.DIGITS, 3, pattern="MMDDNN")  # zone start and its day table
TOU_SEGMENT = ValueFormat(Kind.DIGITS, 3, pattern="hhmmNN")  # segment start and its rate
SWITCH_TIME = ValueFormat(Kind.DIGITS, 5, pattern="YYMMDDhhmm")
HOLIDAY = ValueFormat(Kind.DIGITS, 4, pattern="YYMMDDNN")  # a public holiday and its day table
