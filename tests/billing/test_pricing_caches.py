"""Caches and shortcuts of pricing and charging never change a result.

A tariff keeps day plans, tier periods and local times of instants it has seen; TOU prices the
usual reading (one usage in one segment) without its general loop; charge states share the
lines a reading did not touch and remember their JSON; tier usage remembers the month it
counted in last. Each must give exactly what the long way gives (same Decimal digits too),
across segment edges, midnight, month ends, price changes and DST.
"""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tariff_support import BEIJING_TOU, GUANGDONG, D, build, seg

from hub.billing.charging import ChargeState, TierUsage, jstr, jtext
from hub.billing.periods import BillPeriod
from hub.billing.tariff import ChargeLine, Occupancy, Tariff, Usage
from hub.util.calendar import Calendar
from meterhub_tariffs.base import BaseTariff
from meterhub_tariffs.spread import ZERO
from meterhub_tariffs.tou import TouTariff

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")

MONTHLY_TOU: dict[str, Any] = {
    "id": "tou_m", "type": "tou",
    "prices": {"peak": "0.5583", "flat": "0.4883", "valley": "0.3000"},
    "schedules": {"day": seg("00:00 valley", "07:00 flat", "10:00 peak", "15:00 flat",
                             "18:00 peak", "21:00 flat", "23:00 valley")},
    "tier_period": "monthly",
    "tier_surcharges": [{"up_to": 1, "surcharge": "0"}, {"up_to": 3, "surcharge": "0.05"},
                        {"surcharge": "0.30"}],
}
# the same with a price change on 1 August: usage is split at the change, never cached across
VERSIONED_TOU: dict[str, Any] = {
    **{key: value for key, value in MONTHLY_TOU.items() if key != "prices"}, "id": "tou_v",
    "versions": [{"valid_from": "2025-01-01",
                  "prices": {"peak": "0.5583", "flat": "0.4883", "valley": "0.3000"}},
                 {"valid_from": "2025-08-01",
                  "prices": {"peak": "0.6", "flat": "0.5", "valley": "0.31"}}],
}


def exact(lines: list[ChargeLine]) -> list[tuple[Any, ...]]:
    """Every field as written out: Decimal digits, instants with their time zone."""
    def show(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat(), str(value.tzinfo)
        if isinstance(value, (Decimal, date)):
            return str(value)
        return value
    return [tuple((field.name, show(getattr(line, field.name)))
                  for field in dataclasses.fields(line)) for line in lines]


def readings(tz: ZoneInfo, start: str, count: int, minutes: int = 15) -> list[Usage]:
    """Consecutive readings from a local time, with varied quantities."""
    first = datetime.fromisoformat(start).replace(tzinfo=tz)
    return [Usage(first + timedelta(minutes=minutes * n),
                  first + timedelta(minutes=minutes * (n + 1)),
                  D(1 + (n * 37) % 97) / 100, {}, (f"r{n}",)) for n in range(count)]


SPANS = [
    ("2025-07-01T06:00", 12, 15),  # a segment edge at 07:00, inside and across
    ("2025-07-01T06:50", 3, 20),  # readings that straddle 07:00 and 07:30
    ("2025-07-31T23:00", 8, 15),  # midnight and a month end (a new tier period)
    ("2025-07-31T23:50", 2, 20),  # across the month end itself
    ("2025-10-25T23:00", 16, 15),  # Berlin's DST end (02:00-03:00 twice)
    ("2025-03-30T01:00", 8, 15),  # Berlin's DST start (02:00-03:00 missing)
]


@pytest.mark.parametrize("tz", [SHANGHAI, BERLIN], ids=str)
@pytest.mark.parametrize("entry", [MONTHLY_TOU, VERSIONED_TOU, BEIJING_TOU],
                         ids=lambda entry: entry["id"])
def test_a_warm_tariff_prices_each_reading_like_a_fresh_one_and_like_the_long_way(
        tz: ZoneInfo, entry: dict[str, Any]) -> None:
    warm = build(entry, Calendar(time_zone=tz))
    used = {date(2025, 7, 1): D("0.95"), date(2025, 8, 1): D("2.9")}
    for start, count, minutes in SPANS:
        for usage in readings(tz, start, count, minutes):
            period = usage.start.astimezone(tz).date().replace(day=1)
            past = used.get(period, D(0))

            def history(_start: date, past: Decimal = past) -> Decimal:
                return past

            for occupancy in (None, Occupancy(date(2025, 3, 20), date(2025, 10, 26))):
                fresh = build(entry, Calendar(time_zone=tz))
                lines = warm.charges([usage], history=history, occupancy=occupancy)
                assert exact(lines) == exact(fresh.charges([usage], history=history,
                                                           occupancy=occupancy))
                assert isinstance(fresh, BaseTariff)
                long_way = BaseTariff.charges(fresh, [usage], history=history,
                                              occupancy=occupancy)
                assert exact(lines) == exact(long_way)
            used[period] = past + usage.quantity


def test_a_fast_priced_reading_keeps_the_usual_digits() -> None:
    tariff: Tariff = build(MONTHLY_TOU)
    usage = Usage(datetime(2025, 7, 1, 0, 15, tzinfo=SHANGHAI),
                  datetime(2025, 7, 1, 0, 30, tzinfo=SHANGHAI), D("0.50"), {}, ("r", "r"))
    lines = tariff.charges([usage], history=lambda _start: D("0.9"))
    assert [(line.key, str(line.quantity), str(line.amount), line.sources) for line in lines] \
        == [("valley", "0.50", "0.150000", ("r",)), ("tier2", "0.40", "0.0200", ("r",))]


def test_a_charge_state_copy_never_changes_the_original_nor_writes_stale_json() -> None:
    tariff = build(MONTHLY_TOU)
    period = BillPeriod(date(2025, 7, 1), date(2025, 8, 1))
    state = ChargeState("m1", "a1", period)
    usage = readings(SHANGHAI, "2025-07-01T00:00", 2)
    for line in tariff.charges([usage[0]]):
        state.apply(line, 1)
    before = state.to_row()
    copy = state.copy()
    for line in tariff.charges([usage[1]]):
        copy.apply(line, 1)
    assert state.to_row() == before
    row = copy.to_row()
    assert row != before
    assert {key: ChargeState.from_row(row).lines[key].quantity for key in copy.lines} == \
        {key: line.quantity for key, line in copy.lines.items()}
    assert json.loads(row.lines)["tou_m:energy:valley"][6] == str(
        usage[0].quantity + usage[1].quantity)
    copy.apply(tariff.charges([usage[1]])[0], -1)  # a withdrawal puts the first total back
    assert json.loads(copy.to_row().lines) == json.loads(before.lines) | {
        "tou_m:energy:valley": json.loads(copy.to_row().lines)["tou_m:energy:valley"]}
    assert copy.lines["tou_m:energy:valley"].amount == state.lines["tou_m:energy:valley"].amount


def test_a_charge_state_row_is_its_lines_written_out_after_every_change() -> None:
    # the same tariff with its prices written otherwise: equal Decimals, other digits
    other = {**MONTHLY_TOU, "prices": {"peak": "0.55830", "flat": "0.4883", "valley": "0.3"}}
    period = BillPeriod(date(2025, 7, 1), date(2025, 8, 1))
    usages = readings(SHANGHAI, "2025-07-01T05:50", 30, 25)  # bands change at 07:00, 10:00
    for meter, entry in (("m1", MONTHLY_TOU), ("m2", other), ("m3", MONTHLY_TOU)):
        tariff, state = build(entry), ChargeState(meter, "a1", period)
        for n, usage in enumerate(usages):
            for line in tariff.charges([usage], history=lambda _start: D("0.5")):
                state.apply(line, -1 if n % 7 == 6 else 1)  # every 7th a withdrawal
            written = json.loads(state.row_values()[6])
            assert written == {key: line.to_json() for key, line in state.lines.items()}, n


def test_a_late_reading_moves_the_start_a_charge_state_row_writes() -> None:
    # readings out of time order: a line's start moves back with a late one, and the row
    # must write the new start, not the one remembered from the line it replaced
    tariff = build(MONTHLY_TOU)
    period = BillPeriod(date(2025, 7, 1), date(2025, 8, 1))
    usages = readings(SHANGHAI, "2025-07-01T00:10", 40, 25)
    usages.reverse()  # each one earlier than the last
    state = ChargeState("m1", "a1", period)
    starts = []
    for n, usage in enumerate(usages):
        for line in tariff.charges([usage], history=lambda _start: D("0.5")):
            state.apply(line, 1)
        written = json.loads(state.row_values()[6])
        assert written == {key: line.to_json() for key, line in state.lines.items()}, n
        starts.append(min(item[9] for item in written.values()))
    assert len(set(starts)) > 10  # the start did move back, again and again


def long_usages(tz: ZoneInfo, seed: int) -> list[Usage]:
    """Usage over hours to days (readings far apart), quantities of 0 to 9 decimals, and two
    that put a cut exactly half a step between two steps (half-even: down, then up)."""
    rng = random.Random(seed)
    usages = [Usage(datetime(2025, 7, 1, tzinfo=tz), datetime(2025, 7, 3, tzinfo=tz),
                    D(steps).scaleb(-9), {}, ("tie",)) for steps in (1, 3)]
    for n in range(150):
        start = datetime(2025, 3, 28, tzinfo=tz) + timedelta(minutes=rng.randrange(0, 300_000))
        end = start + timedelta(seconds=rng.randrange(3_600, 10 * 86_400), microseconds=n)
        quantity = D(rng.randrange(0, 10**7)).scaleb(-rng.randrange(0, 10))
        usages.append(Usage(start, end, quantity, {}, (f"r{n}",)))
    return usages


@pytest.mark.parametrize("tz", [SHANGHAI, BERLIN], ids=str)
@pytest.mark.parametrize("entry", [MONTHLY_TOU, GUANGDONG], ids=lambda entry: entry["id"])
def test_usage_over_many_segments_is_apportioned_exactly_as_each_cut_rounds(
        tz: ZoneInfo, entry: dict[str, Any]) -> None:
    tariff = build(entry, Calendar(time_zone=tz))
    assert isinstance(tariff, TouTariff)
    for usage in long_usages(tz, len(entry["id"])):
        by_band: dict[str, Decimal] = {}
        for part in tariff.segments(usage):  # each cut rounded on its own, in Decimals
            by_band[part.key] = by_band.get(part.key, ZERO) + part.quantity
        lines = tariff.charges([usage], history=lambda _start: D("0.5"))
        energy = {line.key: str(line.quantity) for line in lines if line.component == "energy"}
        assert energy == {band: str(quantity) for band, quantity in by_band.items()
                          if quantity}, usage


def test_tier_usage_counts_each_month_in_any_time_zone_order() -> None:
    shanghai, berlin = TierUsage({}, SHANGHAI), TierUsage({}, BERLIN)
    spans = [("2025-07-31T23:00", 1, 30), ("2025-07-31T23:30", 1, 60),
             ("2025-08-01T00:30", 1, 15)]
    for start, count, minutes in spans:
        for tiers, tz in ((shanghai, SHANGHAI), (berlin, BERLIN)):
            for usage in readings(tz, start, count, minutes):
                tiers.add(usage, 1)
    for tiers in (shanghai, berlin):
        assert tiers.months == {"2025-07": D("0.01") + D("0.005"),
                                "2025-08": D("0.005") + D("0.01")}
        assert tiers.changed == ("2025-07", "2025-08")
        assert tiers.history("monthly")(date(2025, 8, 1)) == D("0.015")
        assert tiers.history("yearly")(date(2025, 1, 1)) == D("0.030")


@pytest.mark.parametrize("text", ["rd1", "", 'a"b', "a\\b", "tab\there", "\x00\x1f", "\x7f",
                                  "电表", "\u2028", "line\nbreak", "/"])
def test_json_string_literals_are_what_json_writes(text: str) -> None:
    assert jtext(text) == jstr(text) == json.dumps(text, ensure_ascii=False)
