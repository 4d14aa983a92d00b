"""CJ/T 188 constants: frame bytes, control-code bits, meter types, DI byte order."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Final

_LOGGER = logging.getLogger(__name__)

PROTOCOL: Final = "cjt188"

START: Final = 0x68
END: Final = 0x16
WAKE_UP: Final = 0xFE  # preamble byte, not part of the checksum

ADDRESS_BYTES: Final = 7
ADDRESS_DIGITS: Final = 14
HEADER_LEN: Final = 11  # 68 T A0..A6 C L
OVERHEAD: Final = 13  # header + CS + 16
MAX_DATA: Final = 255
MAX_FRAME: Final = OVERHEAD + MAX_DATA

BROADCAST_ADDRESS: Final = "AAAAAAAAAAAAAA"  # wildcard: read-address, write-address
TYPE_ANY: Final = 0xAA
TYPE_COLD_WATER: Final = 0x10

# Control code bits: D7 direction (1 = reply), D6 abnormal, D5 follow-up, D4..D0 function.
C_REPLY: Final = 0x80
C_ABNORMAL: Final = 0x40
C_FOLLOW_UP: Final = 0x20
C_FUNCTION: Final = 0x1F

FUNC_READ_DATA: Final = 0x01
FUNC_READ_ADDRESS: Final = 0x03
FUNC_WRITE_DATA: Final = 0x04
FUNC_READ_KEY_VERSION: Final = 0x09
FUNC_WRITE_ADDRESS: Final = 0x15
FUNC_WRITE_SYNC: Final = 0x16

# Data identifiers the hub itself uses (as numbers, high byte first as printed).
DI_CURRENT: Final = 0x901F
DI_CLOCK: Final = 0x907F
DI_ADDRESS: Final = 0x810A
DI_SET_TIME: Final = 0xA015
DI_VALVE: Final = 0xA017

# A017 payload bytes.
VALVE_CODE_OPEN: Final = 0x55
VALVE_CODE_CLOSE: Final = 0x99
VALVE_CODE_EXERCISE: Final = 0xAA  # vendor extra (活动阀门)
VALVE_CODE_HALF_OPEN: Final = 0x77  # vendor extra (KingDa)


class DiOrder(StrEnum):
    """How a meter puts a DI on the wire: ``1F 90`` (low byte first) or ``90 1F``."""

    LO_FIRST = "lo_first"
    HI_FIRST = "hi_first"

    @property
    def other(self) -> DiOrder:
        """The opposite order."""
        return DiOrder.HI_FIRST if self is DiOrder.LO_FIRST else DiOrder.LO_FIRST

    @property
    def option(self) -> str:
        """The spelling used in a meter's YAML options (DI 901F as it appears on the wire)."""
        return "1F90" if self is DiOrder.LO_FIRST else "901F"


_ORDER_WORDS: Final = {
    "1f90": DiOrder.LO_FIRST, "lo_first": DiOrder.LO_FIRST, "lo": DiOrder.LO_FIRST,
    "low_first": DiOrder.LO_FIRST, "little": DiOrder.LO_FIRST,
    "901f": DiOrder.HI_FIRST, "hi_first": DiOrder.HI_FIRST, "hi": DiOrder.HI_FIRST,
    "high_first": DiOrder.HI_FIRST, "big": DiOrder.HI_FIRST,
}


def parse_di_order(value: object) -> DiOrder | None:
    """Read a DI order in any accepted spelling ("1F90", "lo_first", "901F"...); None if not."""
    if isinstance(value, DiOrder):
        return value
    if not isinstance(value, str):
        return None
    return _ORDER_WORDS.get(value.strip().replace(" ", "").replace("-", "_").lower())


DI_ORDER_CHOICES: Final = "1F90 (lo_first) or 901F (hi_first)"
