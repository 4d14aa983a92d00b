"""Properties: splitting usage never changes the exact cost; TOU matches a closed form;
prepaid's per-reading charges telescope to the bill."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from common import TZ
from hypothesis import given, settings
from hypothesis import strategies as st
from tariff_support import BEIJING_TOU, GUANGDONG, PARK, D, build, history, seg

from hub.billing.tariff import ChargeLine, Usage, round_fen

TIERS = [{"up_to": 2880, "price": "0.4883"}, {"up_to": 4800, "price": "0.5383"},
         {"price": "0.7883"}]
TARIFFS: dict[str, dict[str, Any]] = {
    "flat": {"id": "flat", "type": "flat", "versions": [
        {"valid_from": "2025-01-01", "price": "0.5883"},
        {"valid_from": "2025-07-01", "price": "0.6011"}]},
    "tiered_yearly": {"id": "ty", "type": "tiered", "tier_period": "yearly", "tiers": TIERS},
    "tiered_monthly": {"id": "tm", "type": "tiered", "unit": "m3", "tier_period": "monthly",
                       "tiers": [{"up_to": 15, "price": 5}, {"up_to": 21, "price": 7},
                                 {"price": 9}]},
    "multi_rate": {"id": "mr", "type": "multi_rate", "tier_period": "monthly",
                   "tier_surcharges": [{"up_to": 300, "surcharge": 0}, {"surcharge": "0.05"}],
                   "prices": {"sharp": "1.2", "peak": "1.0", "flat": "0.62", "valley": "0.3"}},
    "tou": GUANGDONG,
    "tou_tiers": BEIJING_TOU,
    "tou_park": PARK,
    "tou_registers": {**GUANGDONG, "id": "tr", "source": "meter_registers"},
}
BUILT = {name: build(entry) for name, entry in TARIFFS.items()}
# starts near a price change and zone change (1 July), a year reset, National Day 2025
BASES = [datetime(2025, 6, 30, 18, tzinfo=TZ), datetime(2025, 12, 31, 18, tzinfo=TZ),
         datetime(2025, 9, 30, 18, tzinfo=TZ)]
MICRO = Decimal("0.000001")


def constant_usage(start: datetime, a: int, b: int, rate: int, regs: list[int]) -> Usage:
    """Usage over [start+a s, start+b s) of a constant load: rate µkWh per second."""
    seconds = b - a
    registers = {f"energy_import_t{n + 1}": r * seconds * MICRO for n, r in enumerate(regs)}
    return Usage(start + timedelta(seconds=a), start + timedelta(seconds=b),
                 rate * seconds * MICRO, registers)


def by_line(lines: list[ChargeLine]) -> dict[Any, tuple[Decimal, Decimal]]:
    out: dict[Any, tuple[Decimal, Decimal]] = {}
    for line in lines:
        quantity, amount = out.get(line.line_key, (D(0), D(0)))
        out[line.line_key] = (quantity + line.quantity, amount + line.amount)
    return out


@pytest.mark.parametrize("name", sorted(TARIFFS))
@settings(max_examples=40, deadline=None)
@given(base=st.sampled_from(BASES),
       length=st.integers(1, 4 * 86400), rate=st.integers(0, 5000),
       regs=st.lists(st.integers(0, 2000), min_size=4, max_size=4),
       cuts=st.lists(st.floats(0, 1), max_size=4),
       used=st.sampled_from([0, 2000, 2870, 4000, 4790, 6000]) | st.integers(0, 5000))
def test_splitting_usage_anywhere_never_changes_the_exact_cost(
        name: str, base: datetime, length: int, rate: int, regs: list[int], cuts: list[float],
        used: int) -> None:
    tariff = BUILT[name]
    points = sorted({0, length, *(int(length * c) for c in cuts)})
    whole = [constant_usage(base, 0, length, rate, regs)]
    parts = [constant_usage(base, a, b, rate, regs) for a, b in pairwise(points)]
    past = history(y2025_01_01=str(used), y2025_12_01=str(used // 20))
    assert by_line(tariff.charges(whole, history=past)) == \
        by_line(tariff.charges(parts, history=past))


# Band hours per schedule, counted by hand from the schedules in test_tariff_tou.
HOURS = {
    "summer": {"valley": 8, "flat": 9, "peak": 4, "sharp": 3},
    "normal": {"valley": 8, "flat": 9, "peak": 7},
    "weekend": {"valley": 10, "flat": 14},
    "holiday": {"valley": 24},
}
PRICES = {"sharp": D("1.38125"), "peak": D("1.105"), "flat": D("0.65"), "valley": D("0.247")}
# National Day 2025 (State Council notice): 1–8 October off, 28 Sep and 11 Oct worked
HOLIDAYS = {date(2025, 10, d) for d in range(1, 9)}
WORKED = {date(2025, 9, 28), date(2025, 10, 11)}
ZONED = build({**GUANGDONG, "id": "zoned",
               "schedules": {**GUANGDONG["schedules"],
                             "weekend": seg("00:00 valley", "08:00 flat", "22:00 valley"),
                             "holiday": seg("00:00 valley")},
               "weekend_schedule": "weekend", "holiday_schedule": "holiday"})


def schedule_of(day: date) -> str:
    if day in HOLIDAYS:
        return "holiday"
    if day.weekday() >= 5 and day not in WORKED:
        return "weekend"
    return "summer" if day < date(2025, 10, 1) else "normal"


@settings(max_examples=40, deadline=None)
@given(first=st.integers(0, 20), days=st.integers(1, 10), power=st.integers(1, 50000),
       cuts=st.lists(st.integers(1, 10 * 2400 - 1), max_size=6))
def test_tou_cost_of_a_constant_load_is_the_closed_form(
        first: int, days: int, power: int, cuts: list[int]) -> None:
    kw = power * Decimal("0.001")
    start = datetime(2025, 9, 20, tzinfo=TZ) + timedelta(days=first)
    step = 36  # seconds: kw × 36 s = kw/100 kWh stays a short decimal
    end_steps = days * 2400
    points = sorted({0, end_steps, *(c for c in cuts if c < end_steps)})
    usage = [Usage(start + timedelta(seconds=a * step), start + timedelta(seconds=b * step),
                   kw * (b - a) / 100) for a, b in pairwise(points)]
    schedules = [schedule_of(start.date() + timedelta(days=n)) for n in range(days)]
    expected = sum((kw * hours * PRICES[band]
                    for name in schedules for band, hours in HOURS[name].items()), D(0))
    assert sum((line.amount for line in ZONED.charges(usage)), D(0)) == expected


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(TARIFFS)),
       readings=st.lists(st.tuples(st.integers(1, 20000), st.integers(0, 300000),
                                   st.lists(st.integers(0, 100000), min_size=4, max_size=4)),
                         min_size=1, max_size=8))
def test_per_reading_prepaid_charges_telescope_to_the_bill(
        name: str, readings: list[tuple[int, int, list[int]]]) -> None:
    tariff = BUILT[name]
    usage: list[Usage] = []
    moment = datetime(2025, 6, 30, 20, tzinfo=TZ)
    for seconds, milli, regs in readings:
        end = moment + timedelta(seconds=seconds * 10)
        usage.append(Usage(moment, end, milli * Decimal("0.001"),
                           {f"energy_import_t{n + 1}": r * Decimal("0.001")
                            for n, r in enumerate(regs)}))
        moment = end

    def rounded(lines: list[ChargeLine]) -> dict[Any, Decimal]:
        return {key: round_fen(amount) for key, (_q, amount) in by_line(lines).items()}

    charged: dict[Any, Decimal] = defaultdict(Decimal)
    before: dict[Any, Decimal] = {}
    for n in range(1, len(usage) + 1):
        now = rounded(tariff.charges(usage[:n]))
        for key in now.keys() | before.keys():
            charge = now.get(key, D(0)) - before.get(key, D(0))
            assert charge >= 0, "a later reading never refunds an earlier charge"
            charged[key] += charge
        before = now
    bill = rounded(tariff.charges(usage))
    assert {k: v for k, v in charged.items() if v or k in bill} == bill
    assert sum(charged.values(), D(0)) == sum(bill.values(), D(0))


@pytest.mark.parametrize("name", ["tou", "tou_tiers", "tou_park"])
@settings(max_examples=40, deadline=None)
@given(base=st.sampled_from(BASES), offset=st.integers(0, 86400),
       length=st.integers(1, 3 * 86400), quantity=st.integers(1, 10**9))
def test_segments_add_up_to_the_band_lines_and_follow_the_schedule(
        name: str, base: datetime, offset: int, length: int, quantity: int) -> None:
    """A TOU usage's schedule stretches carry exactly its band lines' quantities (per band
    and price version), cover it without gaps, and each lies inside its band's segments."""
    tariff = BUILT[name]
    start = base + timedelta(seconds=offset)
    usage = Usage(start, start + timedelta(seconds=length), quantity * MICRO)
    parts = tariff.segments(usage)
    assert parts[0].start == usage.start and parts[-1].end == usage.end
    assert all(a.end == b.start for a, b in pairwise(parts))
    summed: dict[tuple[str, date | None], Decimal] = defaultdict(Decimal)
    for part in parts:
        summed[(part.key, part.price_from)] += part.quantity
        probe = part.start + (part.end - part.start) / 2
        one = tariff.charges([Usage(probe, probe + (part.end - part.start) / 4, D(1))])
        assert [line.key for line in one if line.component == "energy"] == [part.key]
    energy = {(line.key, line.price_from): line.quantity
              for line in tariff.charges([usage]) if line.component == "energy"}
    assert {key: value for key, value in summed.items() if value} == energy
    assert sum(summed.values()) == usage.quantity


def test_a_zero_length_usage_is_one_segment_at_its_band() -> None:
    at = datetime(2025, 7, 2, 10, 30, tzinfo=TZ)
    usage = Usage(at, at, D("0.5"))
    parts = BUILT["tou"].segments(usage)
    lines = [line for line in BUILT["tou"].charges([usage]) if line.component == "energy"]
    assert [(p.start, p.end, p.key, p.quantity) for p in parts] == [
        (at, at, lines[0].key, D("0.5"))]


def test_segments_of_a_register_priced_or_flat_tariff_are_empty() -> None:
    usage = Usage(BASES[0], BASES[0] + timedelta(hours=30), D(12))
    assert BUILT["tou_registers"].segments(usage) == []
    assert BUILT["flat"].segments(usage) == []
