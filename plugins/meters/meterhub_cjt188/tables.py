"""CJ/T 188 identifiers as data: meter types, control functions, unit codes and DIs.

Sources and confidence are in PROTOCOLS.md §3; a new DI or unit is a new row here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from .const import (
    DI_ADDRESS,
    DI_CLOCK,
    DI_CURRENT,
    DI_SET_TIME,
    DI_VALVE,
    FUNC_READ_ADDRESS,
    FUNC_READ_DATA,
    FUNC_READ_KEY_VERSION,
    FUNC_WRITE_ADDRESS,
    FUNC_WRITE_DATA,
    FUNC_WRITE_SYNC,
    TYPE_ANY,
    VALVE_CODE_CLOSE,
    VALVE_CODE_EXERCISE,
    VALVE_CODE_HALF_OPEN,
    VALVE_CODE_OPEN,
)

_LOGGER = logging.getLogger(__name__)

# --- meter types (T) -------------------------------------------------------------------

METER_TYPES: Final[dict[int, str]] = {
    0x10: "cold water",
    0x11: "domestic hot water",
    0x12: "drinking water",
    0x13: "reclaimed water",
    0x20: "heat meter (heating)",
    0x21: "heat meter (cooling)",
    0x22: "heat meter (heating and cooling)",
    0x30: "gas",
    0x40: "electricity",
    TYPE_ANY: "any type (wildcard)",
}

_FAMILIES: Final = {0x10: "water", 0x20: "heat", 0x30: "gas", 0x40: "electricity"}


def meter_family(meter_type: int) -> str | None:
    """water / heat / gas / electricity / any for a valid type byte, else None."""
    if meter_type == TYPE_ANY:
        return "any"
    return _FAMILIES.get(meter_type & 0xF0) if (meter_type & 0x0F) <= 0x09 else None


def meter_type_name(meter_type: int) -> str:
    """A readable name for a type byte (known ones by name, the rest by family)."""
    if meter_type in METER_TYPES:
        return METER_TYPES[meter_type]
    family = meter_family(meter_type)
    return f"{family} meter (type {meter_type:02X})" if family else f"unknown ({meter_type:02X})"


# --- control functions -----------------------------------------------------------------

FUNCTIONS: Final[dict[int, str]] = {
    FUNC_READ_DATA: "read data",
    FUNC_READ_ADDRESS: "read address",
    FUNC_WRITE_DATA: "write data",
    FUNC_READ_KEY_VERSION: "read key version",
    FUNC_WRITE_ADDRESS: "write address",
    FUNC_WRITE_SYNC: "write machine-electric sync",
}


# --- units ---------------------------------------------------------------------------


class Quantity(StrEnum):
    """What a unit measures."""

    ENERGY_J = "energy (joule based)"
    ENERGY_WH = "energy (watt-hour based)"
    POWER = "power"
    VOLUME = "volume"
    FLOW_RATE = "flow rate"


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit code: its symbol, and the exact factor to its quantity's base unit."""

    code: int
    symbol: str
    quantity: Quantity
    base: str
    factor: Decimal

    def to_base(self, value: Decimal) -> Decimal:
        """The value in the base unit (m3, m3/h, kWh, kJ, kW), exactly."""
        return value * self.factor


def _unit(code: int, symbol: str, quantity: Quantity, base: str, factor: str) -> Unit:
    return Unit(code, symbol, quantity, base, Decimal(factor))


_J, _WH, _P = Quantity.ENERGY_J, Quantity.ENERGY_WH, Quantity.POWER
_V, _F = Quantity.VOLUME, Quantity.FLOW_RATE

UNITS: Final[dict[int, Unit]] = {u.code: u for u in (
    _unit(0x01, "J", _J, "kJ", "0.001"),
    _unit(0x02, "Wh", _WH, "kWh", "0.001"),
    _unit(0x05, "kWh", _WH, "kWh", "1"),
    _unit(0x08, "MWh", _WH, "kWh", "1000"),
    _unit(0x0A, "MWh x100", _WH, "kWh", "100000"),
    _unit(0x0B, "kJ", _J, "kJ", "1"),
    _unit(0x0E, "MJ", _J, "kJ", "1000"),
    _unit(0x11, "GJ", _J, "kJ", "1000000"),
    _unit(0x13, "GJ x100", _J, "kJ", "100000000"),
    _unit(0x14, "W", _P, "kW", "0.001"),
    _unit(0x17, "kW", _P, "kW", "1"),
    _unit(0x1A, "MW", _P, "kW", "1000"),
    _unit(0x29, "L", _V, "m3", "0.001"),
    _unit(0x2C, "m3", _V, "m3", "1"),
    _unit(0x32, "L/h", _F, "m3/h", "0.001"),
    _unit(0x35, "m3/h", _F, "m3/h", "1"),
)}

UNIT_M3: Final = UNITS[0x2C]
UNIT_LITRE: Final = UNITS[0x29]


def unit_by_symbol(symbol: str) -> Unit | None:
    """Find a unit by its symbol ("m3", "L", "kWh"...)."""
    wanted = symbol.strip().replace("³", "3")
    return next((u for u in UNITS.values() if u.symbol.lower() == wanted.lower()), None)


# --- data identifiers ------------------------------------------------------------------


class Layout(StrEnum):
    """How a DI's payload (after DI and SER) is laid out."""

    NONE = "none"  # no payload
    METERING = "metering"  # 901F: flow+unit, settlement+unit, time, ST (water and gas)
    FLOW = "flow"  # 4 BCD XXXXXX.XX + unit
    DAY = "day"  # 1 BCD day of month
    TIME = "time"  # 7 bytes ss mm hh DD MM YY CC
    VALVE = "valve"  # 1 byte valve action
    ADDRESS = "address"  # 7-byte address
    UNIT_FLOW = "unit_flow"  # unit + 4 BCD (KingDa A016; other vendors may differ [L])
    RAW = "raw"  # vendor defined / not decoded


@dataclass(frozen=True, slots=True)
class DiInfo:
    """One data identifier: its number as printed (0x901F), name and payload layout."""

    di: int
    name: str
    write: bool
    layout: Layout
    reply_layout: Layout = Layout.NONE  # for reads: what the reply carries


def _read(di: int, name: str, layout: Layout) -> DiInfo:
    return DiInfo(di, name, False, Layout.NONE, layout)


def _write(di: int, name: str, layout: Layout) -> DiInfo:
    return DiInfo(di, name, True, layout)


_ORDINALS = ("1st", "2nd", "3rd", *(f"{n}th" for n in range(4, 13)))

_DIS: Final[list[DiInfo]] = [
    _read(DI_CURRENT, "current metering data", Layout.METERING),
    *(_read(0xD120 + n, f"cumulative flow at the {_ORDINALS[n]} previous settlement date",
            Layout.FLOW) for n in range(12)),
    _read(0x8102, "price table", Layout.RAW),
    _read(0x8103, "settlement day", Layout.DAY),
    _read(0x8104, "reading day", Layout.DAY),
    _read(0x8105, "purchased amount", Layout.RAW),
    _read(0x8106, "key version", Layout.RAW),
    _read(DI_ADDRESS, "read address", Layout.NONE),
    _read(DI_CLOCK, "real-time clock", Layout.TIME),
    _write(0xA010, "price table", Layout.RAW),
    _write(0xA011, "settlement day", Layout.DAY),
    _write(0xA012, "reading day", Layout.DAY),
    _write(0xA013, "purchase amount", Layout.RAW),
    _write(0xA014, "new key", Layout.RAW),
    _write(DI_SET_TIME, "standard time", Layout.TIME),
    _write(0xA016, "machine-electric sync (set base reading)", Layout.UNIT_FLOW),
    _write(DI_VALVE, "valve control", Layout.VALVE),
    _write(0xA018, "address", Layout.ADDRESS),
    _write(0xA019, "factory enable", Layout.RAW),
    # 2018 additions, named in the order PROTOCOLS.md lists them (numbering unverified [L]).
    _write(0xA101, "enter verification mode (2018)", Layout.RAW),
    _write(0xA102, "exit verification mode (2018)", Layout.RAW),
    _write(0xA103, "communication parameters (2018)", Layout.RAW),
    _write(0xA104, "freeze parameters (2018)", Layout.RAW),
    _write(0xA105, "alarm remaining volume (2018)", Layout.RAW),
    _write(0xA106, "alarm remaining money (2018)", Layout.RAW),
    _write(0xA107, "modify key (2018)", Layout.RAW),
]

DIS: Final[dict[int, DiInfo]] = {info.di: info for info in _DIS}

# 2018 record families known only by their high byte [L].
_DI_RANGES: Final = {
    0xD2: "history record (2018)",
    0xD3: "timed-freeze record (2018)",
    0xD4: "instant-freeze record (2018)",
}


def di_info(di: int) -> DiInfo | None:
    """The table row of a DI (exact, then the 2018 record ranges), or None."""
    info = DIS.get(di)
    if info is not None:
        return info
    family = _DI_RANGES.get(di >> 8)
    return _read(di, f"{family} {di & 0xFF:02X}", Layout.RAW) if family else None


# --- A017 valve actions ------------------------------------------------------------------

VALVE_ACTIONS: Final[dict[int, str]] = {
    VALVE_CODE_OPEN: "open",
    VALVE_CODE_CLOSE: "close",
    VALVE_CODE_EXERCISE: "exercise",
    VALVE_CODE_HALF_OPEN: "half-open",
}
