"""Run status words 1..7 (04000501..07) decoded into named flags.

Status word 3 is the relay / prepaid word: bit 4 relay actual state (1 = open), bit 6 relay
command state (1 = trip), bit 7 pre-trip alarm, bits 8-9 meter type, bit 12 protect (保电).
Words 4/5/6 are the phase A/B/C fault words, 7 the combined-phase word.
"""

from __future__ import annotations

import logging
from typing import Any

from hub.metering.points import RELAY_CLOSED, RELAY_OPEN

_LOGGER = logging.getLogger(__name__)

WORD1_BITS: tuple[tuple[int, str], ...] = (
    (1, "demand_method"),
    (2, "clock_battery_low"),
    (3, "reading_battery_low"),
    (4, "active_power_reverse"),
    (5, "reactive_power_reverse"),
)

PHASE_FAULT_BITS: tuple[tuple[int, str], ...] = (
    (0, "loss_of_voltage"),
    (1, "under_voltage"),
    (2, "over_voltage"),
    (3, "loss_of_current"),
    (4, "over_current"),
    (5, "overload"),
    (6, "reverse_flow"),
    (7, "phase_break"),
)

WORD7_BITS: tuple[tuple[int, str], ...] = (
    (0, "voltage_reverse_sequence"),
    (1, "current_reverse_sequence"),
    (2, "voltage_unbalance"),
    (3, "current_unbalance"),
    (4, "auxiliary_power_lost"),
    (5, "power_down"),
    (6, "demand_over_limit"),
)

SUPPLY = ("mains", "auxiliary", "battery", "unknown")
METER_TYPE = ("non_prepaid", "energy_prepaid", "money_prepaid", "reserved")
PHASE_OF_WORD = {4: "a", 5: "b", 6: "c"}

# status word 3 bits
RELAY_OPEN_BIT = 1 << 4
TRIP_COMMANDED_BIT = 1 << 6
PRE_TRIP_ALARM_BIT = 1 << 7
PROTECT_BIT = 1 << 12


def _bit(word: int, n: int) -> bool:
    return bool(word >> n & 1)


def decode_word3(word: int) -> dict[str, Any]:
    """Flags of status word 3 (operation class: relay, prepaid, protect)."""
    return {
        "second_segment_table": _bit(word, 0),
        "supply": SUPPLY[word >> 1 & 3],
        "programming_allowed": _bit(word, 3),
        "relay_open": _bit(word, 4),
        "second_zone_table": _bit(word, 5),
        "trip_commanded": _bit(word, 6),
        "pre_trip_alarm": _bit(word, 7),
        "meter_type": METER_TYPE[word >> 8 & 3],
        "second_price_set": _bit(word, 10),
        "second_step_set": _bit(word, 11),
        "protected": _bit(word, 12),
        "identity_authenticated": _bit(word, 13),
        "local_account_opened": not _bit(word, 14),
        "remote_account_opened": not _bit(word, 15),
    }


def decode_word(n: int, word: int) -> dict[str, Any]:
    """Named flags of status word ``n`` (1..7); word 2 has no names here (raw only)."""
    if n == 1:
        return {name: _bit(word, bit) for bit, name in WORD1_BITS}
    if n == 3:
        return decode_word3(word)
    if n in PHASE_OF_WORD:
        return {name: _bit(word, bit) for bit, name in PHASE_FAULT_BITS}
    if n == 7:
        return {name: _bit(word, bit) for bit, name in WORD7_BITS}
    return {}


def hub_status(n: int, word: int) -> dict[str, Any]:
    """Status entries for a ReadResult: raw word plus the hub's decoded keys."""
    out: dict[str, Any] = {f"status_word_{n}": word}
    flags = decode_word(n, word)
    if n == 1:
        out["battery_low"] = flags["clock_battery_low"] or flags["reading_battery_low"]
        out["active_power_reverse"] = flags["active_power_reverse"]
    elif n == 3:
        out["relay"] = RELAY_OPEN if flags["relay_open"] else RELAY_CLOSED
        out["relay_command"] = "trip" if flags["trip_commanded"] else "close"
        out["pre_trip_alarm"] = flags["pre_trip_alarm"]
        out["protect"] = flags["protected"]
        out["meter_type"] = flags["meter_type"]
    elif n in PHASE_OF_WORD:
        phase = PHASE_OF_WORD[n]
        out.update({f"{name}_{phase}": value for name, value in flags.items()})
    elif n == 7:
        out.update(flags)
    return out


def encode_word3(*, relay_open: bool, trip_commanded: bool, pre_trip_alarm: bool = False,
                 protected: bool = False, meter_type: str = "non_prepaid",
                 supply: str = "mains") -> int:
    """Build status word 3 from flags (used by the simulator)."""
    word = SUPPLY.index(supply) << 1 | METER_TYPE.index(meter_type) << 8
    if relay_open:
        word |= RELAY_OPEN_BIT
    if trip_commanded:
        word |= TRIP_COMMANDED_BIT
    if pre_trip_alarm:
        word |= PRE_TRIP_ALARM_BIT
    if protected:
        word |= PROTECT_BIT
    return word


def encode_flags(bits: tuple[tuple[int, str], ...], flags: dict[str, bool]) -> int:
    """Build a word from named flags (unknown names are an error)."""
    names = {name: bit for bit, name in bits}
    word = 0
    for name, value in flags.items():
        if name not in names:
            raise KeyError(f"unknown status flag {name!r}")
        if value:
            word |= 1 << names[name]
    return word
