"""Time-of-use (尖峰平谷) tariffs: segments, yearly zones, weekends, holidays and 调休."""

from __future__ import annotations

from typing import Any

import pytest
import voluptuous as vol
import yaml
from tariff_support import (
    BEIJING_TOU,
    GUANGDONG,
    PARK,
    D,
    build,
    exact_total,
    history,
    lines_by_key,
    rounded_total,
    seg,
    use,
)

from hub.billing.tariff import TariffError


def quantities(lines: Any) -> dict[str, D]:
    return {key: value[0] for key, value in lines_by_key(lines).items()}


def test_summer_day_with_sharp_peaks() -> None:
    lines = build(GUANGDONG).charges([use("2025-07-01T00:00", "2025-07-02T00:00", "24")])
    assert lines_by_key(lines) == {
        "valley": (D(8), D("0.247"), D("1.976")),
        "flat": (D(9), D("0.65"), D("5.85")),
        "peak": (D(4), D("1.105"), D("4.420")),
        "sharp": (D(3), D("1.38125"), D("4.14375")),
    }
    assert exact_total(lines) == D("16.38975")
    assert rounded_total(lines) == D("16.39")


def test_zone_change_and_month_boundary_inside_one_usage() -> None:
    lines = build(GUANGDONG).charges([use("2025-06-30T00:00", "2025-07-02T00:00", "48")])
    # 30 June (normal): valley 8, flat 9, peak 7; 1 July (summer): valley 8, flat 9, peak 4,
    # sharp 3
    assert lines_by_key(lines) == {
        "valley": (D(16), D("0.247"), D("3.952")),
        "flat": (D(18), D("0.65"), D("11.70")),
        "peak": (D(11), D("1.105"), D("12.155")),
        "sharp": (D(3), D("1.38125"), D("4.14375")),
    }


def test_usage_is_spread_linearly_across_a_segment_boundary() -> None:
    lines = build(GUANGDONG).charges([use("2025-06-30T07:30", "2025-06-30T08:30", "2")])
    assert quantities(lines) == {"valley": D(1), "flat": D(1)}
    lines = build(GUANGDONG).charges([use("2025-06-30T07:50", "2025-06-30T08:05", "0.3")])
    assert quantities(lines) == {"valley": D("0.2"), "flat": D("0.1")}


def test_an_instant_reading_takes_the_band_of_its_instant() -> None:
    lines = build(GUANGDONG).charges([use("2025-07-01T11:30", "2025-07-01T11:30", "0.5")])
    assert quantities(lines) == {"sharp": D("0.5")}


def test_make_up_working_sunday_uses_the_workday_schedule() -> None:
    # 2026-01-04 is a Sunday worked in exchange for 2 January (State Council notice for 2026)
    lines = build(PARK).charges([use("2026-01-04T00:00", "2026-01-05T00:00", "24")])
    assert lines_by_key(lines) == {"valley": (D(10), D("0.50"), D("5.00")),
                                   "peak": (D(9), D("1.20"), D("10.80")),
                                   "flat": (D(5), D("0.90"), D("4.50"))}
    sunday = build(PARK).charges([use("2026-01-11T00:00", "2026-01-12T00:00", "24")])
    assert quantities(sunday) == {"valley": D(10), "flat": D(14)}


def test_public_holiday_uses_the_holiday_schedule() -> None:
    lines = build(PARK).charges([use("2026-01-01T00:00", "2026-01-02T00:00", "24")])
    assert lines_by_key(lines) == {"valley": (D(24), D("0.50"), D("12.00"))}


def test_new_year_2026_day_by_day() -> None:
    # 1 Jan holiday, 2 Jan day off (调休), 3 Jan Saturday inside the break, 4 Jan worked Sunday
    lines = build(PARK).charges([use("2026-01-01T00:00", "2026-01-05T00:00", "96")])
    assert quantities(lines) == {"valley": D(82), "peak": D(9), "flat": D(5)}


def test_a_holiday_without_a_holiday_schedule_is_a_rest_day() -> None:
    rest = {key: value for key, value in PARK.items() if key != "holiday_schedule"}
    rest["schedules"] = {k: v for k, v in PARK["schedules"].items() if k != "holiday"}
    lines = build(rest).charges([use("2026-01-01T00:00", "2026-01-02T00:00", "24")])
    assert quantities(lines) == {"valley": D(10), "flat": D(14)}


def test_zones_wrap_around_the_year() -> None:
    tariff = build({
        "id": "wrap", "type": "tou", "prices": {"flat": "0.6", "valley": "0.3"},
        "schedules": {"normal": seg("00:00 flat"), "winter": seg("00:00 valley")},
        "zones": [{"start": "03-01", "schedule": "normal"},
                  {"start": "11-01", "schedule": "winter"}],
    })
    assert quantities(tariff.charges([use("2025-01-15T00:00", "2025-01-16T00:00", "1")])) \
        == {"valley": D(1)}
    assert quantities(tariff.charges([use("2025-03-01T00:00", "2025-03-02T00:00", "1")])) \
        == {"flat": D(1)}


def test_tou_with_tier_surcharges() -> None:
    lines = build(BEIJING_TOU).charges([use("2025-07-01T00:00", "2025-07-02T00:00", "24")],
                                       history=history(y2025_01_01="2870"))
    # valley 00–07, 23–24; flat 07–10, 15–18, 21–23; peak 10–15, 18–21: 8 kWh each.
    # 2870 already used: the last 14 kWh are in tier 2 (+0.05)
    assert lines_by_key(lines) == {
        "valley": (D(8), D("0.3"), D("2.4")),
        "flat": (D(8), D("0.4883"), D("3.9064")),
        "peak": (D(8), D("0.5583"), D("4.4664")),
        "tier_surcharge:tier2": (D(14), D("0.05"), D("0.70")),
    }


def test_tou_from_the_meters_own_registers() -> None:
    tariff = build({**GUANGDONG, "source": "meter_registers"})
    lines = tariff.charges([use("2025-07-01T00:00", "2025-08-01T00:00", "100",
                                t1="5", t2="20", t3="40", t4="35")])
    assert lines_by_key(lines) == {
        "sharp": (D(5), D("1.38125"), D("6.90625")),
        "peak": (D(20), D("1.105"), D("22.100")),
        "flat": (D(40), D("0.65"), D("26.00")),
        "valley": (D(35), D("0.247"), D("8.645")),
    }
    with pytest.raises(TariffError, match="has no such register"):
        tariff.charges([use("2025-07-01T00:00", "2025-07-02T00:00", "1")])


def test_tou_usage_before_the_tariff_is_valid_is_an_error() -> None:
    tariff = build({**GUANGDONG, "valid_from": "2025-07-01"})
    with pytest.raises(TariffError, match=r"tariff 'gd' has no price valid at 2025-06-30T23:00"):
        tariff.charges([use("2025-06-30T23:00", "2025-07-01T01:00", "2")])


def test_unquoted_yaml_times_are_read_as_times() -> None:
    # YAML 1.1 reads 10:00 as 600 and 10:00:30 as 36030
    schedule = yaml.safe_load("[{start: 00:00, band: valley}, {start: 10:00, band: peak},"
                              " {start: 22:00:30, band: valley}]")
    assert [item["start"] for item in schedule][1:] == [600, 79230]
    tariff = build({"id": "t", "type": "tou", "prices": {"peak": "1", "valley": "0.5"},
                    "schedules": {"day": schedule}})
    lines = tariff.charges([use("2025-03-03T09:00", "2025-03-03T11:00", "2")])
    assert quantities(lines) == {"valley": D(1), "peak": D(1)}


@pytest.mark.parametrize(("change", "message"), [
    ({"schedules": {f"s{n}": seg("00:00 flat") for n in range(9)}},
     "at most 8 day schedules"),
    ({"schedules": {"a": seg("00:00 flat")},
      "zones": [{"start": f"{m:02d}-01", "schedule": "a"} for m in range(1, 13)]
      + [{"start": "12-10", "schedule": "a"}, {"start": "12-20", "schedule": "a"},
         {"start": "12-30", "schedule": "a"}]},
     "at most 14 yearly zones"),
    ({"prices": {f"b{n}": "1" for n in range(64)}}, "at most 63 bands"),
    ({"zones": [{"start": "07-01", "schedule": "a"}, {"start": "02-30", "schedule": "a"}],
      "schedules": {"a": seg("00:00 flat")}}, "expected a month-day like '07-01'"),
    ({"schedules": {"a": seg("00:00 flat"), "b": seg("00:00 flat")}},
     "with several schedules, zones say which one applies"),
    ({"schedules": {"a": [{"start": "00:00", "end": "23:00", "band": "flat"}]}},
     "gap: 23:00–24:00 is not covered"),
])
def test_tou_limits_and_shapes(change: dict[str, Any], message: str) -> None:
    entry = {"id": "t", "type": "tou", "prices": {"flat": "1"}, **change}
    with pytest.raises(vol.Invalid, match=message):
        build(entry)
