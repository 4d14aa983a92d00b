"""Checks a reading must pass before it is queued (rules 9 and 10 of the counter rules)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ...i18n import Joined, Text, text_of
from ...metering.points import SIGNED_REGISTERS
from ...metering.reading import Reading
from ..codec import to_ms
from ..messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)
from ..model import CheckedPoints


class Rejected(ValueError):
    """A reading storage will not keep; the message is the reason."""


def _number(name: str, value: Any, *, register: bool, signed: bool = False) -> Decimal:
    if value is None:
        raise Rejected(Text("storage.point_null", kind=_kind(register), name=name))
    if isinstance(value, bool):
        raise Rejected(Text("storage.point_not_number", kind=_kind(register), name=name,
                            value=repr(value)))
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        raise Rejected(Text("storage.point_not_number", kind=_kind(register), name=name,
                            value=f"{str(value)[:40]!r} ({type(value).__name__})"))
    if not number.is_finite():
        raise Rejected(Text("storage.point_not_finite", kind=_kind(register), name=name,
                            value=number))
    if register and not signed and number < 0:
        raise Rejected(Text("storage.counter_negative", name=name, value=number))
    return number


def _kind(register: bool) -> Text:
    return Text("storage.register") if register else Text("storage.value")


Numbers = tuple[tuple[str, Decimal], ...]
Flags = list[tuple[str, str]]


def _numbers(mapping: Mapping[str, Any], flagged: Flags, *,
             register: bool) -> tuple[Numbers, Numbers]:
    """(counters or values, signed registers); a point failing its rule goes to ``flagged``."""
    if type(mapping) is not dict and not isinstance(mapping, Mapping):  # dict: the usual case
        raise Rejected(Text("storage.registers_not_mapping") if register
                       else Text("storage.values_not_mapping"))
    out = []
    signed = []
    for name, value in mapping.items():
        if not isinstance(name, str) or not name:
            flagged.append((repr(name), f"point name {name!r} is not a name"))
            continue
        if register and name in SIGNED_REGISTERS:
            try:
                signed.append((name, _number(name, value, register=True, signed=True)))
            except Rejected as err:
                flagged.append((name, text_of(err)))
            continue
        if type(value) is Decimal and value.is_finite() and (not register or value >= 0):
            out.append((name, value))  # the usual case, checked in one line
            continue
        try:
            out.append((name, _number(name, value, register=register)))
        except Rejected as err:
            flagged.append((name, text_of(err)))
    # a tuple of tuples of atomic values: the garbage collector stops tracking it after its
    # first pass, so a backlog of queued readings costs the full collections much less
    return tuple(out), tuple(signed)


def check_reading(reading: Any, now_ms: int, future_ms: int,
                  oldest_ms: int) -> tuple[int, CheckedPoints]:
    """Return (time in ms, checked points) of a keepable reading or raise Rejected.

    A point that fails its rule (null, not a number, not finite, a negative counter) is
    flagged and left out; the rest of the reading is kept. A reading left with nothing is
    rejected, with the flags as its reason.
    """
    if not isinstance(reading, Reading):
        raise Rejected(f"not a Reading: {type(reading).__name__}")  # i18n: internal (a bug)
    if not isinstance(reading.meter_id, str) or not reading.meter_id:
        raise Rejected(Text("storage.no_meter"))
    ts = to_ms(reading.time)
    if ts > now_ms + future_ms:
        raise Rejected(Text("storage.future", time=reading.time.isoformat(),
                            seconds=(ts - now_ms) // 1000))
    if ts < oldest_ms:
        raise Rejected(Text("storage.too_old", time=reading.time.isoformat()))
    flagged: Flags = []
    registers, signed = _numbers(reading.registers, flagged, register=True)
    values, _none = _numbers(reading.values, flagged, register=False)
    if not registers and not signed and not values and not reading.status:
        if flagged:
            raise Rejected(Text("storage.nothing_left", reasons=Joined(why for _n, why in flagged)))
        raise Rejected(Text("storage.empty_reading"))
    return ts, CheckedPoints(registers, values, signed, tuple(flagged))
