"""The rollover rule of ``write/counters.py`` (rule 3) as written: a value below the previous
one is a wrap of an ``n``-digit register only when the delta across the wrap is at most 1 % of
``10^n`` AND plausible at the meter's rate; any other drop beyond the slack is quarantined.

A table of hand-worked cases, properties over register sizes, resolutions and elapsed times,
and the reset that must never be charged as a rollover, through real storage.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from storage_helpers import TZ, energy

from hub.storage import Storage
from hub.storage.const import CODE_JITTER, CODE_QUARANTINED, CODE_WRAP, MS_PER_HOUR
from hub.storage.write.counters import Rules, Sample, classify

D = Decimal
HOUR = MS_PER_HOUR
KW100 = Rules(max_rate=D(100))  # electricity's default limit
E = "energy_import_total"


def verdict(prev: str, new: str, hours: float, rules: Rules = KW100) -> tuple[str, Decimal]:
    return classify(Sample(0, D(prev), "d"), Sample(int(hours * HOUR), D(new), "d"), rules)


@pytest.mark.parametrize(("prev", "new", "hours", "rules", "expected"), [
    # a genuine wrap of a 6-digit register: 1000000 - 999999.99 + 0.42
    ("999999.99", "0.42", 1, KW100, ("w6", D("0.43"))),
    # a 3-digit register wrapping by 8.00: under 1 % of 1000 (10.00), plausible in an hour
    ("995.00", "3.00", 1, KW100, ("w3", D("8.00"))),
    # exactly 1 % of the range is still a wrap
    ("990.00", "0.00", 1, KW100, ("w3", D("10.00"))),
    # 11.00 across the wrap is more than 1 % of 1000: not a rollover
    ("995.00", "6.00", 10, KW100, (CODE_QUARANTINED, D(0))),
    # the reset: 500.00 to 0.50 after 10 hours would be 500.50 "across the wrap", which
    # 100 kW for 10 h (1000 kWh) allows; only the 1 % condition refuses it
    ("500.00", "0.50", 10, KW100, (CODE_QUARANTINED, D(0))),
    ("500.00", "0.50", 10, Rules(max_rate=D(100), register_digits=3),
     (CODE_QUARANTINED, D(0))),
    # the same values with a configured 6-digit register: nowhere near the wrap
    ("500.00", "0.50", 10, Rules(max_rate=D(100), register_digits=6),
     (CODE_QUARANTINED, D(0))),
    # within 1 % but faster than the meter's rate: 1.50 in 30 s allows 0.83 + 0.10 slack
    ("999999.00", "0.50", 30 / 3600, KW100, (CODE_QUARANTINED, D(0))),
    # ...and in a minute it allows 1.67 + 0.10: a wrap
    ("999999.00", "0.50", 1 / 60, KW100, ("w6", D("1.50"))),
    # the configured width wins over the digits of the value: 8 digits never wrap at 999999
    ("999999.99", "0.42", 1, Rules(max_rate=D(100), register_digits=8),
     (CODE_QUARANTINED, D(0))),
    # a step back within the slack is jitter, not a wrap and not a quarantine
    ("100.00", "99.95", 1, KW100, (CODE_JITTER, D(0))),
])
def test_rollover_rule_table(prev: str, new: str, hours: float, rules: Rules,
                             expected: tuple[str, Decimal]) -> None:
    assert verdict(prev, new, hours, rules) == expected


# --- properties ------------------------------------------------------------------------------

digits_st = st.integers(min_value=1, max_value=9)
decimals_st = st.integers(min_value=0, max_value=3)
elapsed_st = st.integers(min_value=60_000, max_value=72 * HOUR)  # one minute to three days
rate_st = st.sampled_from([D(1), D(10), D(50), D(100)])


def _value(units: int, decimals: int) -> Decimal:
    return D(units).scaleb(-decimals)


@given(digits=digits_st, decimals=decimals_st, elapsed=elapsed_st, rate=rate_st,
       configured=st.booleans(), data=st.data())
def test_a_genuine_wrap_is_counted_with_its_delta(digits: int, decimals: int, elapsed: int,
                                                  rate: Decimal, configured: bool,
                                                  data: st.DataObject) -> None:
    scale = 10 ** decimals
    modulus_units = 10 ** digits * scale
    step_value = D(1).scaleb(-decimals)
    # the most that can cross the wrap: 1 % of the range and what the rate allows
    allowed = min(D(10) ** digits / 100,
                  rate * D(elapsed) / HOUR + step_value * 10)
    most_units = int(allowed * scale)
    assume(most_units >= 1)  # not so for a 1-digit register without decimals
    crossing = data.draw(st.integers(min_value=1, max_value=most_units), label="crossing")
    after = data.draw(st.integers(min_value=0, max_value=crossing - 1), label="after wrap")
    prev = _value(modulus_units - (crossing - after), decimals)
    new = _value(after, decimals)
    rules = Rules(max_rate=rate, register_digits=digits if configured else None)
    code, delta = classify(Sample(0, prev, "d"), Sample(elapsed, new, "d"), rules)
    assert (code, delta) == (f"{CODE_WRAP}{digits}", _value(crossing, decimals))


@given(digits=digits_st, decimals=decimals_st, elapsed=elapsed_st, rate=rate_st,
       configured=st.booleans(), data=st.data())
def test_a_drop_beyond_one_percent_of_the_range_is_never_a_rollover(
        digits: int, decimals: int, elapsed: int, rate: Decimal, configured: bool,
        data: st.DataObject) -> None:
    scale = 10 ** decimals
    modulus_units = 10 ** digits * scale
    one_percent_units = modulus_units // 100  # exact: 1 % of 10^digits in steps
    step_units = 10  # the slack: ten steps
    # prev and new such that the delta across the wrap is above 1 % and the drop is
    # beyond the slack (so it is not jitter either)
    crossing = data.draw(st.integers(min_value=one_percent_units + 1,
                                     max_value=modulus_units), label="crossing")
    low = max(0, modulus_units - crossing + step_units + 1)
    assume(low <= modulus_units - 1)
    prev_units = data.draw(st.integers(min_value=low, max_value=modulus_units - 1),
                           label="prev")
    new_units = prev_units + crossing - modulus_units
    assume(new_units >= 0 and prev_units - new_units > step_units)
    prev, new = _value(prev_units, decimals), _value(new_units, decimals)
    rules = Rules(max_rate=rate, register_digits=digits if configured else None)
    # read off the value, the register would be narrower: another case
    assume(configured or len(str(int(prev))) == digits)
    code, delta = classify(Sample(0, prev, "d"), Sample(elapsed, new, "d"), rules)
    assert (code, delta) == (CODE_QUARANTINED, D(0)), (prev, new, elapsed, rate)


@given(digits=digits_st, decimals=decimals_st, rate=rate_st, data=st.data())
def test_a_wrap_faster_than_the_meter_can_run_is_not_counted(
        digits: int, decimals: int, rate: Decimal, data: st.DataObject) -> None:
    scale = 10 ** decimals
    modulus_units = 10 ** digits * scale
    one_percent_units = modulus_units // 100
    assume(one_percent_units >= 12)  # else nothing fits between the slack and 1 %
    crossing = data.draw(st.integers(min_value=11, max_value=one_percent_units),
                         label="crossing")
    after = data.draw(st.integers(min_value=0, max_value=crossing - 1), label="after wrap")
    prev = _value(modulus_units - (crossing - after), decimals)
    new = _value(after, decimals)
    slack = D(10).scaleb(-decimals)
    # the time in which the rate allows strictly less than the crossing (minus the slack)
    needed_ms = (_value(crossing, decimals) - slack) / rate * HOUR
    elapsed = data.draw(st.integers(min_value=1, max_value=max(1, int(needed_ms) - 1)),
                        label="elapsed")
    assume(rate * D(elapsed) / HOUR + slack < _value(crossing, decimals))
    code, delta = classify(Sample(0, prev, "d"), Sample(elapsed, new, "d"),
                           Rules(max_rate=rate))
    assert (code, delta) == (CODE_QUARANTINED, D(0))


# --- through storage -------------------------------------------------------------------------

async def test_a_reset_after_ten_hours_is_not_charged_as_a_rollover(storage: Storage) -> None:
    day = datetime(2024, 5, 20, tzinfo=ZoneInfo(TZ))
    async with asyncio.timeout(10):
        outcomes = await storage.add_readings([
            energy("m1", day, "499.00"),
            energy("m1", day + timedelta(hours=1), "500.00"),
            energy("m1", day + timedelta(hours=11), "0.50"),  # the meter was reset
        ])
        assert [o.verdicts[E] for o in outcomes] == ["baseline", "counted", "quarantined"]
        rows = await storage.consumption("m1", start=day, end=day + timedelta(days=1))
        assert sum((row.values.get(E, D(0)) for row in rows), D(0)) == D("1.00")
