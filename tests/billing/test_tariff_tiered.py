"""Tiered (阶梯) tariffs: tier periods, history, resets, pro-rating, price changes."""

from __future__ import annotations

from datetime import date

import pytest
from tariff_support import D, build, exact_total, history, lines_by_key, rounded_total, use

from hub.billing.tariff import Occupancy, TariffError

# Beijing's residential tiers (2880 / 4800 kWh a year), see config/tariffs.yaml
BEIJING = {
    "id": "bj", "type": "tiered", "tier_period": "yearly",
    "tiers": [{"up_to": 2880, "price": "0.4883"}, {"up_to": 4800, "price": "0.5383"},
              {"price": "0.7883"}],
}
WATER_MONTHLY = {
    "id": "water", "type": "tiered", "unit": "m3", "tier_period": "monthly",
    "tiers": [{"up_to": 15, "price": 5}, {"up_to": 21, "price": 7}, {"price": 9}],
}


def test_history_puts_new_usage_on_top_of_the_tier_period() -> None:
    lines = build(BEIJING).charges([use("2025-07-01T00:00", "2025-07-02T00:00", "24")],
                                   history=history(y2025_01_01="2870"))
    assert lines_by_key(lines) == {"tier1": (D(10), D("0.4883"), D("4.8830")),
                                   "tier2": (D(14), D("0.5383"), D("7.5362"))}
    assert rounded_total(lines) == D("12.42")


def test_one_usage_crossing_both_thresholds() -> None:
    lines = build(BEIJING).charges([use("2025-08-01T00:00", "2025-09-01T00:00", "2100")],
                                   history=history(y2025_01_01="2800"))
    assert lines_by_key(lines) == {"tier1": (D(80), D("0.4883"), D("39.0640")),
                                   "tier2": (D(1920), D("0.5383"), D("1033.5360")),
                                   "tier3": (D(100), D("0.7883"), D("78.8300"))}


def test_yearly_tier_reset_splits_the_usage_at_new_year() -> None:
    asked: list[date] = []

    def seen(period_start: date) -> D:
        asked.append(period_start)
        return D(2870) if period_start == date(2025, 1, 1) else D(0)

    lines = build(BEIJING).charges([use("2025-12-31T12:00", "2026-01-01T12:00", "48")],
                                   history=seen)
    # 24 kWh in 2025 (10 in tier 1, 14 in tier 2), 24 kWh in 2026 from zero (tier 1)
    assert lines_by_key(lines) == {"tier1": (D(34), D("0.4883"), D("16.6022")),
                                   "tier2": (D(14), D("0.5383"), D("7.5362"))}
    assert asked == [date(2025, 1, 1), date(2026, 1, 1)]


def test_monthly_water_tiers_across_a_month_boundary() -> None:
    lines = build(WATER_MONTHLY).charges(
        [use("2025-01-31T00:00", "2025-02-02T00:00", "48")], history=history(y2025_01_01="10"))
    # January: 10 used, +24 → 5 in tier 1, 6 in tier 2, 13 in tier 3; February from zero:
    # 15, 6, 3
    assert lines_by_key(lines) == {"tier1": (D(20), D(5), D(100)),
                                   "tier2": (D(12), D(7), D(84)),
                                   "tier3": (D(16), D(9), D(144))}
    assert all(line.component == "water" and line.unit == "m3" for line in lines)


def test_thresholds_pro_rated_for_a_move_in_mid_year() -> None:
    lines = build(BEIJING).charges([use("2025-07-01T00:00", "2026-01-01T00:00", "3000")],
                                   occupancy=Occupancy(move_in=date(2025, 7, 1)))
    # 184 of 365 days: 2880 → 1451.84, 4800 → 2419.73 (half-up to 0.01 kWh)
    assert lines_by_key(lines) == {"tier1": (D("1451.84"), D("0.4883"), D("708.933472")),
                                   "tier2": (D("967.89"), D("0.5383"), D("521.015187")),
                                   "tier3": (D("580.27"), D("0.7883"), D("457.426841"))}
    assert exact_total(lines) == D("1687.375500")


def test_thresholds_pro_rated_for_a_move_out() -> None:
    lines = build(WATER_MONTHLY).charges(
        [use("2025-01-01T00:00", "2025-01-11T00:00", "10")],
        occupancy=Occupancy(move_out=date(2025, 1, 10)))
    # 10 of 31 days: 15 → 4.84, 21 → 6.77
    assert lines_by_key(lines) == {"tier1": (D("4.84"), D(5), D("24.20")),
                                   "tier2": (D("1.93"), D(7), D("13.51")),
                                   "tier3": (D("3.23"), D(9), D("29.07"))}


def test_usage_in_a_period_outside_the_occupancy_is_an_error() -> None:
    with pytest.raises(TariffError, match="outside the occupancy"):
        build(WATER_MONTHLY).charges([use("2025-01-05T00:00", "2025-01-06T00:00", "1")],
                                     occupancy=Occupancy(move_in=date(2025, 2, 10)))


def test_price_change_mid_year_keeps_counting_the_tier_period() -> None:
    tariff = build({
        "id": "bj", "type": "tiered", "tier_period": "yearly",
        "versions": [
            {"valid_from": "2025-01-01", "tiers": BEIJING["tiers"]},
            {"valid_from": "2025-07-01", "tiers": [{"up_to": 2880, "price": "0.50"},
                                                   {"up_to": 4800, "price": "0.55"},
                                                   {"price": "0.80"}]},
        ],
    })
    lines = tariff.charges([use("2025-06-30T12:00", "2025-07-01T12:00", "200")],
                           history=history(y2025_01_01="2800"))
    assert lines_by_key(lines) == {
        "tier1@2025-01-01": (D(80), D("0.4883"), D("39.0640")),
        "tier2@2025-01-01": (D(20), D("0.5383"), D("10.7660")),
        "tier2@2025-07-01": (D(100), D("0.55"), D("55.00")),
    }


def test_usage_across_tiers_in_several_readings_counts_in_time_order() -> None:
    usage = [use("2025-03-01T00:00", "2025-03-02T00:00", "2000"),
             use("2025-03-02T00:00", "2025-03-03T00:00", "2000"),
             use("2025-03-03T00:00", "2025-03-04T00:00", "2000")]
    lines = build(BEIJING).charges(usage)
    assert {k: v[0] for k, v in lines_by_key(lines).items()} == {
        "tier1": D(2880), "tier2": D(1920), "tier3": D(1200)}
