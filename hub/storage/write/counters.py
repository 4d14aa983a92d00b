"""Counter rules: how a register's successive values become consumption, and when they don't.

A REGISTER point (``energy_import_total``, ``water_total``...) is a cumulative counter.
Consumption is the increase between two *accepted* values of the same register of the same
meter, and each accepted value is stored with a verdict code (``storage/codec.py``). The rules:

1. **Baseline** (``b``): the first value of a register, the first value after the physical
   device changed (``Reading.device``, or the meter's registered device when the reading
   names none: a *replacement*), and the first value of a confirmed reset (rule 6) start a
   new baseline. The interval before a baseline counts nothing: no negative, no spike.
2. **Counted** (``""``): a value ``v`` at or above the previous accepted value ``p`` counts
   ``v - p`` if that is plausible: at most ``max_rate × hours + slack``, where ``max_rate``
   is the meter's own limit, else its kind's (electricity 100 kW, water 50 m3/h, settable)
   and ``slack`` is ten steps of the register's resolution (0.1 for a 0.01 register).
3. **Rollover** (``w<n>``): a value below ``p`` is a wrap of an ``n``-digit register
   (999999.99 → 0.42) when the delta across the wrap, ``10^n − p + v``, is at most 1 % of
   ``10^n`` and plausible by rule 2; ``n`` is the meter's ``register_digits``, else the
   number of integer digits of ``p``. That delta is counted.
4. **Jitter** (``j``): a value below ``p`` by no more than the slack (a re-read rounding
   differently) is kept but ignored: the baseline stays ``p``, so nothing is counted twice.
5. **Quarantine** (``q``): any other value (a jump up faster than ``max_rate``, a drop that is
   not a rollover) is kept but neither counted nor used as a baseline, so one corrupted read
   never poisons the next delta.
6. **Confirmation**: when ``confirm_readings`` (default 3) quarantined values in a row are
   plausible among themselves (rules 2-3), the counter really moved (a reset to zero, a
   meter swapped without a new device id): the first of them becomes a baseline, the
   others are counted from it, and the jump itself counts nothing.
7. **Duplicates**: a second reading of a meter at the same time is ignored (the first wins).
8. **Late readings** (out of order, NB-IoT batches): a reading older than the meter's newest
   is placed between its accepted neighbours ``a`` and ``b``: it is accepted only if ``a → x``
   and ``x → b`` both pass rules 2-3 (or ``b`` is a baseline); then the consumption of
   ``a → b`` is taken out of the rollups and ``a → x`` plus ``x → b`` are put in, so nothing
   is counted twice and the hours/days in between get their true share. Otherwise it is
   quarantined. Late quarantined values never confirm a reset.
9. **Rejected before storing**: a reading without meter id, with a time more than
   ``future_tolerance`` (10 min) ahead of the hub's clock or older than ``retention_days``,
   or with nothing keepable in it at all, is rejected with its reason logged; it is not
   stored and never crashes anything.
10. **Flagged, not rejected**: one point that fails its rule (a missing (null), non-numeric
    or non-finite value, a negative counter) is left out and named with its reason in the
    stored reading's quality (``flagged``) and in the outcome; the rest of the reading is
    stored and counted. One bad register never costs the good ones.
11. **Signed registers are not counters** (``PointInfo.signed``: DL/T 645 combined active
    energy, forward minus reverse, signed by the standard): their values, negative ones
    included, are stored as read with the verdict ``s`` and never counted, never a baseline.
12. **Suspect** (``x``): a value rule 5 would quarantine, in a reading that came through a DTU
    that re-registered from a new address (its quality carries ``link_moved``), is kept but
    never joins a run that rule 6 could confirm: a link that was taken over cannot make its
    forged counter level a baseline by repeating it. Its plausible values count as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ..const import (
    CODE_BASELINE,
    CODE_COUNTED,
    CODE_JITTER,
    CODE_QUARANTINED,
    CODE_SIGNED,
    CODE_SUSPECT,
    CODE_WRAP,
    MS_PER_HOUR,
)

_ZERO: Final = Decimal(0)
_TEN: Final = Decimal(10)
_WRAP_SHARE: Final = Decimal("0.01")


@dataclass(slots=True)
class Sample:
    """One value of one register: when, what, from which physical device."""

    ts: int
    value: Decimal
    device: str


@dataclass(frozen=True, slots=True)
class Rules:
    """The limits that apply to one meter's registers."""

    max_rate: Decimal
    register_digits: int | None = None


def step(value: Decimal) -> Decimal:
    """The resolution of a decimal value (0.01 for 1234.56, 1 for 1234)."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent >= 0:
        return Decimal(1)
    return Decimal(1).scaleb(exponent)


def slack(prev: Decimal, new: Decimal) -> Decimal:
    """Ten steps of the finer resolution of two values."""
    return min(step(prev), step(new)) * _TEN


def allowance(prev: Sample, new: Sample, rules: Rules) -> Decimal:
    """The largest plausible increase between two samples."""
    hours = Decimal(new.ts - prev.ts) / MS_PER_HOUR
    return rules.max_rate * hours + slack(prev.value, new.value)


def register_digits(value: Decimal, rules: Rules) -> int:
    """The register's width in integer digits: configured, else read off the value."""
    if rules.register_digits:
        return rules.register_digits
    return max(1, len(str(int(value))))


def wrap_delta(prev: Decimal, new: Decimal, digits: int) -> Decimal:
    """The increase across a rollover of a ``digits``-digit register."""
    return Decimal(10) ** digits - prev + new


def classify(prev: Sample | None, new: Sample, rules: Rules) -> tuple[str, Decimal]:
    """Return (verdict code, counted delta) for ``new`` following accepted ``prev``."""
    if prev is None or prev.device != new.device:
        return CODE_BASELINE, _ZERO
    diff = new.value - prev.value
    if diff >= 0 and diff * MS_PER_HOUR <= rules.max_rate * (new.ts - prev.ts):
        return CODE_COUNTED, diff  # the common case, decided without the slack
    limit = allowance(prev, new, rules)
    if diff >= 0:
        if diff <= limit:
            return CODE_COUNTED, diff
        return CODE_QUARANTINED, _ZERO
    digits = register_digits(prev.value, rules)
    wrapped = wrap_delta(prev.value, new.value, digits)
    if 0 <= wrapped <= limit and wrapped <= Decimal(10) ** digits * _WRAP_SHARE:
        return f"{CODE_WRAP}{digits}", wrapped
    if -diff <= slack(prev.value, new.value):
        return CODE_JITTER, _ZERO
    return CODE_QUARANTINED, _ZERO


def is_accepted(code: str) -> bool:
    """Whether a verdict makes the value part of the counted chain."""
    return code not in (CODE_QUARANTINED, CODE_JITTER, CODE_SIGNED, CODE_SUSPECT)


def is_counted(code: str) -> bool:
    """Whether a verdict counts consumption from the previous accepted value."""
    return code == CODE_COUNTED or code.startswith(CODE_WRAP)


def delta_of(code: str, prev: Decimal, new: Decimal) -> Decimal:
    """The consumption an accepted value's verdict counted (recomputed exactly)."""
    if code == CODE_COUNTED:
        return new - prev
    if code.startswith(CODE_WRAP):
        return wrap_delta(prev, new, int(code[1:]))
    return _ZERO
