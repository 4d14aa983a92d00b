"""CJ/T 188 field formats: BCD (low byte first), flows XXXXXX.XX, date-times, status ST."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from hub.metering.points import VALVE_ABNORMAL, VALVE_CLOSED, VALVE_OPEN

from .errors import Cjt188Error

_LOGGER = logging.getLogger(__name__)

FLOW_BYTES: Final = 4
TIME_BYTES: Final = 7
_FLOW_LIMIT: Final = 100 ** FLOW_BYTES


def hex_bytes(raw: bytes) -> str:
    """Bytes as spaced upper-case hex ("1F 90")."""
    return " ".join(f"{byte:02X}" for byte in raw)


def bcd_to_int(raw: bytes, what: str) -> int:
    """A low-byte-first BCD number; raises Cjt188Error naming ``what`` if a nibble is > 9."""
    value = 0
    for byte in reversed(raw):
        high, low = byte >> 4, byte & 0x0F
        if high > 9 or low > 9:
            raise Cjt188Error(f"{what} is not BCD: {hex_bytes(raw)}")
        value = value * 100 + high * 10 + low
    return value


def int_to_bcd(value: int, size: int, what: str) -> bytes:
    """``value`` as ``size`` BCD bytes, low byte first."""
    if not 0 <= value < 100 ** size:
        raise Cjt188Error(f"{what} {value} does not fit in {size} BCD bytes")
    out = bytearray()
    for _ in range(size):
        value, pair = divmod(value, 100)
        out.append((pair // 10) << 4 | pair % 10)
    return bytes(out)


def decode_flow(raw: bytes, what: str) -> Decimal:
    """4 BCD bytes XXXXXX.XX as an exact Decimal with two places."""
    if len(raw) != FLOW_BYTES:
        raise Cjt188Error(f"{what} needs {FLOW_BYTES} bytes, got {len(raw)}")
    return Decimal(bcd_to_int(raw, what)).scaleb(-2)


def to_decimal(value: Any, what: str) -> Decimal:
    """A Decimal from a Decimal, int or numeric text (never a float)."""
    if isinstance(value, bool | float):
        raise Cjt188Error(f"{what} must be a Decimal, an integer or text, got {value!r}")
    try:
        number = Decimal(value) if isinstance(value, int | str | Decimal) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise Cjt188Error(f"{what} is not a number: {value!r}")
    return number


def encode_flow(value: Any, what: str) -> bytes:
    """An amount XXXXXX.XX (0 to 999999.99, at most two decimals) as 4 BCD bytes."""
    number = to_decimal(value, what)
    hundredths = number.scaleb(2)
    if hundredths != hundredths.to_integral_value():
        raise Cjt188Error(f"{what} {number} has more than two decimals")
    if not 0 <= hundredths < _FLOW_LIMIT:
        raise Cjt188Error(f"{what} {number} is outside 0 to 999999.99")
    return int_to_bcd(int(hundredths), FLOW_BYTES, what)


def decode_time(raw: bytes, what: str = "meter time") -> datetime:
    """7 bytes ss mm hh DD MM YY CC (BCD) as a naive datetime in the meter's local time."""
    if len(raw) != TIME_BYTES:
        raise Cjt188Error(f"{what} needs {TIME_BYTES} bytes, got {len(raw)}")
    second, minute, hour, day, month, year, century = (
        bcd_to_int(raw[i:i + 1], what) for i in range(TIME_BYTES))
    try:
        return datetime(century * 100 + year, month, day, hour, minute, second)
    except ValueError as err:
        raise Cjt188Error(f"{what} is not a valid date and time: {hex_bytes(raw)} "
                          f"({err})") from None


def encode_time(when: datetime) -> bytes:
    """A datetime's wall-clock fields as 7 bytes ss mm hh DD MM YY CC."""
    century, year = divmod(when.year, 100)
    return b"".join(int_to_bcd(part, 1, "time field") for part in (
        when.second, when.minute, when.hour, when.day, when.month, year, century))


def decode_day(raw: bytes, what: str) -> int:
    """One BCD byte holding a day of the month (1..31)."""
    if len(raw) != 1:
        raise Cjt188Error(f"{what} needs 1 byte, got {len(raw)}")
    day = bcd_to_int(raw, what)
    if not 1 <= day <= 31:
        raise Cjt188Error(f"{what} {day} is not a day of the month")
    return day


def encode_day(day: int, what: str) -> bytes:
    """A day of the month as one BCD byte."""
    if not 1 <= day <= 31:
        raise Cjt188Error(f"{what} {day} is not a day of the month (1-31)")
    return int_to_bcd(day, 1, what)


# --- status ST --------------------------------------------------------------------------

ST_VALVE_MASK: Final = 0x03  # D0-D1 of the first ST byte (D0 = LSB, PROTOCOLS.md §7)
ST_BATTERY_LOW: Final = 0x04  # D2
_VALVE_BITS: Final = {0b00: VALVE_OPEN, 0b01: VALVE_CLOSED, 0b11: VALVE_ABNORMAL,
                      0b10: VALVE_ABNORMAL}  # 10 is undefined: never take it for open
_VALVE_CODES: Final = {VALVE_OPEN: 0b00, VALVE_CLOSED: 0b01, VALVE_ABNORMAL: 0b11}


@dataclass(frozen=True, slots=True)
class MeterStatus:
    """The status ST (1 or 2 bytes as on the wire); byte 0 is standard, byte 1 vendor's."""

    raw: bytes

    @property
    def valve_bits(self) -> int:
        """D0-D1 of byte 0."""
        return self.raw[0] & ST_VALVE_MASK

    @property
    def valve(self) -> str:
        """open / closed / abnormal."""
        return _VALVE_BITS[self.valve_bits]

    @property
    def battery_low(self) -> bool:
        """D2 of byte 0."""
        return bool(self.raw[0] & ST_BATTERY_LOW)

    @property
    def vendor_bits(self) -> int:
        """D3-D7 of byte 0 (vendor defined), shifted down."""
        return self.raw[0] >> 3

    @property
    def vendor_byte(self) -> int | None:
        """ST byte 1 (vendor defined), if sent."""
        return self.raw[1] if len(self.raw) > 1 else None

    @property
    def word(self) -> int:
        """ST as one number, byte 0 in the low bits."""
        return int.from_bytes(self.raw, "little")

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view."""
        return {
            "st": hex_bytes(self.raw),
            "valve": self.valve,
            "valve_bits": f"{self.valve_bits:02b}",
            "battery_low": self.battery_low,
            "vendor_bits": self.vendor_bits,
            "vendor_byte": self.vendor_byte,
        }


def decode_status(raw: bytes) -> MeterStatus:
    """ST from 1 or 2 bytes."""
    if not 1 <= len(raw) <= 2:
        raise Cjt188Error(f"status ST needs 1 or 2 bytes, got {len(raw)}")
    return MeterStatus(bytes(raw))


def encode_status(valve: str, battery_low: bool = False, vendor_bits: int = 0,
                  vendor_byte: int = 0) -> bytes:
    """Two ST bytes for a valve state (open/closed/abnormal) and flags."""
    if valve not in _VALVE_CODES:
        raise Cjt188Error(f"unknown valve state {valve!r}: expected open, closed or abnormal")
    if not 0 <= vendor_bits < 32 or not 0 <= vendor_byte < 256:
        raise Cjt188Error("vendor status bits out of range")
    first = _VALVE_CODES[valve] | (ST_BATTERY_LOW if battery_low else 0) | vendor_bits << 3
    return bytes((first, vendor_byte))
