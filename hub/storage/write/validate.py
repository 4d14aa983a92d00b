"""Checks a reading must pass before it is queued (rule 9 of the counter rules)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ...metering.reading import Reading
from ..codec import to_ms


class Rejected(ValueError):
    """A reading storage will not keep; the message is the reason."""


def _number(name: str, value: Any, *, register: bool) -> Decimal:
    kind = "register" if register else "value"
    if value is None:
        raise Rejected(f"{kind} {name} is missing (null)")
    if isinstance(value, bool):
        raise Rejected(f"{kind} {name} is not a number: {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        raise Rejected(f"{kind} {name} is not a number: {str(value)[:40]!r} "
                       f"({type(value).__name__})")
    if not number.is_finite():
        raise Rejected(f"{kind} {name} is not a finite number: {number}")
    if register and number < 0:
        raise Rejected(f"register {name} is negative ({number}): a counter cannot be")
    return number


def _numbers(mapping: Mapping[str, Any], *, register: bool) -> tuple[tuple[str, Decimal], ...]:
    if type(mapping) is not dict and not isinstance(mapping, Mapping):  # dict: the usual case
        raise Rejected(f"{'registers' if register else 'values'} are not a mapping")
    out = []
    for name, value in mapping.items():
        if not isinstance(name, str) or not name:
            raise Rejected(f"point name {name!r} is not a name")
        if type(value) is Decimal and value.is_finite() and (not register or value >= 0):
            out.append((name, value))  # the usual case, checked in one line
        else:
            out.append((name, _number(name, value, register=register)))
    # a tuple of tuples of atomic values: the garbage collector stops tracking it after its
    # first pass, so a backlog of queued readings costs the full collections much less
    return tuple(out)


Numbers = tuple[tuple[str, Decimal], ...]


def check_reading(reading: Any, now_ms: int, future_ms: int,
                  oldest_ms: int) -> tuple[int, Numbers, Numbers]:
    """Return (time in ms, registers, values) of a keepable reading or raise Rejected."""
    if not isinstance(reading, Reading):
        raise Rejected(f"not a Reading: {type(reading).__name__}")
    if not isinstance(reading.meter_id, str) or not reading.meter_id:
        raise Rejected("the reading names no meter")
    ts = to_ms(reading.time)
    if ts > now_ms + future_ms:
        raise Rejected(f"time {reading.time.isoformat()} is in the future "
                       f"({(ts - now_ms) // 1000} s ahead of the hub's clock)")
    if ts < oldest_ms:
        raise Rejected(f"time {reading.time.isoformat()} is older than the readings kept "
                       "(retention_days)")
    registers = _numbers(reading.registers, register=True)
    values = _numbers(reading.values, register=False)
    if not registers and not values and not reading.status:
        raise Rejected("the reading holds nothing: no register, value or status")
    return ts, registers, values
