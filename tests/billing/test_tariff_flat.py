"""The flat tariff, price versions, fixed monthly fees and the minimum charge (hand-computed)."""

from __future__ import annotations

from datetime import date

import pytest
import voluptuous as vol
from tariff_support import D, build, exact_total, lines_by_key, rounded_total, use

from hub.billing.tariff import Occupancy, TariffError

FLAT = {"id": "room", "type": "flat", "price": "0.5883"}

VERSIONED = {
    "id": "room", "type": "flat",
    "fixed_fees": {"service_fee": "5.00", "meter_rent": "2.00"},
    "versions": [
        {"valid_from": date(2025, 1, 1), "price": "0.60"},
        {"valid_from": date(2025, 7, 1), "price": "0.62", "fixed_fees": {"service_fee": "6.00"}},
    ],
}


def test_flat_price_is_exact_and_rounded_once() -> None:
    lines = build(FLAT).charges([use("2025-03-01T00:00", "2025-03-02T00:00", "123.45")])
    # 123.45 × 0.5883 = 72.625635
    assert lines_by_key(lines) == {"usage": (D("123.45"), D("0.5883"), D("72.625635"))}
    assert rounded_total(lines) == D("72.63")
    assert lines[0].component == "energy" and lines[0].unit == "kWh"


def test_water_flat_is_a_water_line() -> None:
    tariff = build({"id": "water", "type": "flat", "unit": "m3", "price": "5.00"})
    lines = tariff.charges([use("2025-03-01T00:00", "2025-03-31T00:00", "3.7")])
    assert (lines[0].component, lines[0].unit, lines[0].amount) == ("water", "m3", D("18.5"))


def test_bill_across_a_month_boundary_is_one_line() -> None:
    usage = [use("2025-03-31T00:00", "2025-04-01T00:00", "10"),
             use("2025-04-01T00:00", "2025-04-01T12:00", "5")]
    lines = build(FLAT).charges(usage)
    # 15 × 0.5883 = 8.8245 → 8.82 (half-up at the fen: .8245 → .82)
    assert lines_by_key(lines) == {"usage": (D(15), D("0.5883"), D("8.8245"))}
    assert rounded_total(lines) == D("8.82")


def test_price_change_mid_usage_bills_each_part_at_its_price() -> None:
    tariff = build(VERSIONED)
    lines = tariff.charges([use("2025-06-30T12:00", "2025-07-01T12:00", "48")])
    # 12 h before local midnight 1 July at 0.60, 12 h after at 0.62
    assert lines_by_key(lines) == {
        "usage@2025-01-01": (D(24), D("0.60"), D("14.4000")),
        "usage@2025-07-01": (D(24), D("0.62"), D("14.8800")),
    }
    assert exact_total(lines) == D("29.28")


def test_usage_where_no_price_is_valid_is_an_error_naming_tariff_and_time() -> None:
    tariff = build(VERSIONED)
    with pytest.raises(TariffError) as err:
        tariff.charges([use("2024-12-31T23:00", "2025-01-01T01:00", "2")])
    assert "tariff 'room' has no price valid at 2024-12-31T23:00:00+08:00" in str(err.value)


def test_valid_until_is_the_last_day_and_a_gap_is_an_error() -> None:
    tariff = build({**FLAT, "valid_from": "2025-01-01", "valid_until": "2025-06-30"})
    lines = tariff.charges([use("2025-06-30T00:00", "2025-07-01T00:00", "1")])
    assert lines[0].amount == D("0.5883")
    with pytest.raises(TariffError, match="no price valid at 2025-07-01T00:00:00"):
        tariff.charges([use("2025-06-30T12:00", "2025-07-01T12:00", "1")])


def test_usage_out_of_time_order_is_refused() -> None:
    with pytest.raises(TariffError, match="time order"):
        build(FLAT).charges([use("2025-03-02T00:00", "2025-03-03T00:00", "1"),
                             use("2025-03-01T00:00", "2025-03-02T12:00", "1")])


def test_a_zero_length_usage_is_priced_at_its_instant() -> None:
    tariff = build(VERSIONED)
    lines = tariff.charges([use("2025-07-01T00:00", "2025-07-01T00:00", "2")])
    assert lines_by_key(lines) == {"usage@2025-07-01": (D(2), D("0.62"), D("1.24"))}


def test_fixed_fees_for_a_full_month_and_a_settlement_day_month() -> None:
    tariff = build(VERSIONED)
    full = lines_by_key(tariff.period_charges(date(2025, 1, 1), date(2025, 1, 31)))
    assert full == {"fixed:service_fee@2025-01-01": (D(1), D("5.00"), D("5.00")),
                    "fixed:meter_rent@2025-01-01": (D(1), D("2.00"), D("2.00"))}
    # 15 Jan – 14 Feb is one month anchored on the 15th
    anchored = lines_by_key(tariff.period_charges(date(2025, 1, 15), date(2025, 2, 14)))
    assert anchored["fixed:service_fee@2025-01-01"][2] == D("5.00")


def test_fixed_fees_pro_rated_by_move_in() -> None:
    tariff = build(VERSIONED)
    lines = tariff.period_charges(date(2025, 1, 1), date(2025, 1, 31),
                                  Occupancy(move_in=date(2025, 1, 20)))
    # 20–31 Jan = 12 of 31 days: 5 × 12/31 = 1.935483870967… ; 2 × 12/31 = 0.774193548387…
    by_key = lines_by_key(lines)
    assert by_key["fixed:service_fee@2025-01-01"][2] == D("1.935483871")
    assert by_key["fixed:meter_rent@2025-01-01"][2] == D("0.774193548")
    assert rounded_total(lines) == D("2.71")  # 1.94 + 0.77


def test_fixed_fee_changes_mid_month() -> None:
    tariff = build(VERSIONED)
    lines = lines_by_key(tariff.period_charges(date(2025, 6, 16), date(2025, 7, 15)))
    # the month 16 Jun – 15 Jul has 30 days: 15 at 5.00 and 15 at 6.00
    assert lines["fixed:service_fee@2025-01-01"] == (D("0.5"), D("5.00"), D("2.5"))
    assert lines["fixed:service_fee@2025-07-01"] == (D("0.5"), D("6.00"), D("3.0"))
    # a version's key replaces the entry's: from 1 July fixed_fees has no meter_rent
    assert lines["fixed:meter_rent@2025-01-01"] == (D("0.5"), D("2.00"), D("1.0"))
    assert "fixed:meter_rent@2025-07-01" not in lines


def test_minimum_charge_tops_the_rounded_total_up() -> None:
    tariff = build({"id": "shop", "type": "flat", "price": "0.605", "minimum_charge": "10.00"})
    lines = tariff.charges([use("2025-03-01T00:00", "2025-03-02T00:00", "1")])
    top = tariff.minimum_charge(lines, date(2025, 3, 1), date(2025, 3, 31))
    assert top is not None
    # 0.605 rounds to 0.61 on the bill, so the top-up is 9.39 and the bill is exactly 10.00
    assert (top.component, top.amount) == ("minimum", D("9.39"))
    assert rounded_total([*lines, top]) == D("10.00")
    # half a month (1–15 April of 30 days) has half the minimum
    half = tariff.minimum_charge(lines, date(2025, 4, 1), date(2025, 4, 15))
    assert half is not None and half.amount == D("4.39")
    many = tariff.charges([use("2025-03-01T00:00", "2025-03-02T00:00", "20")])
    assert tariff.minimum_charge(many, date(2025, 3, 1), date(2025, 3, 31)) is None


def test_negative_price_is_refused() -> None:
    with pytest.raises(vol.Invalid, match=r"a price cannot be negative, got -0\.5"):
        build({**FLAT, "price": "-0.5"})
