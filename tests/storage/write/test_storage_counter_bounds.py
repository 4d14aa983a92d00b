"""The counter rules at their exact boundaries (hub/storage/write/counters.py), the cases
tools/mutate.py found unguarded: each limit is inclusive, and a small rise faster than the
meter's rate but within the slack is counted, not taken for jitter."""

from __future__ import annotations

from decimal import Decimal

from hub.storage.const import CODE_COUNTED, CODE_JITTER, CODE_QUARANTINED, MS_PER_HOUR
from hub.storage.write.counters import Rules, Sample, classify, step

RULES = Rules(max_rate=Decimal(100))  # kW


def _pair(prev: str, new: str, ms: int) -> tuple[str, Decimal]:
    return classify(Sample(0, Decimal(prev), "d"), Sample(ms, Decimal(new), "d"), RULES)


def test_a_rise_of_exactly_rate_times_hours_plus_slack_is_counted() -> None:
    # an hour at 100 kW plus ten steps of 0.01: 100.10 is the largest plausible rise
    assert _pair("1000.00", "1100.10", MS_PER_HOUR) == (CODE_COUNTED, Decimal("100.10"))
    assert _pair("1000.00", "1100.11", MS_PER_HOUR) == (CODE_QUARANTINED, Decimal(0))


def test_a_small_rise_faster_than_the_rate_but_within_the_slack_is_counted() -> None:
    # 0.05 kWh in one second is above 100 kW (0.028 kWh), within the 0.1 slack: counted
    assert _pair("1000.00", "1000.05", 1000) == (CODE_COUNTED, Decimal("0.05"))


def test_a_rollover_of_exactly_the_allowance_is_counted() -> None:
    # 999999.90 -> 100.00 across the 6-digit wrap is 100.10: the allowance of an hour
    assert _pair("999999.90", "100.00", MS_PER_HOUR) == ("w6", Decimal("100.10"))
    assert _pair("999999.90", "100.01", MS_PER_HOUR) == (CODE_QUARANTINED, Decimal(0))


def test_a_drop_of_exactly_the_slack_is_jitter() -> None:
    assert _pair("1000.00", "999.90", MS_PER_HOUR) == (CODE_JITTER, Decimal(0))
    assert _pair("1000.00", "999.89", MS_PER_HOUR) == (CODE_QUARANTINED, Decimal(0))


def test_the_step_of_a_value_written_with_an_exponent_is_one() -> None:
    assert step(Decimal("1E+3")) == 1 and step(Decimal("1234")) == 1
    assert step(Decimal("1234.5")) == Decimal("0.1") and step(Decimal("0.001")) == Decimal(
        "0.001")
