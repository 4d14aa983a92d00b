"""Tariff options: a minimum charge on usage only, thresholds pro-rated by months."""

from __future__ import annotations

from datetime import date

from tariff_support import D, build, lines_by_key, use

from hub.billing.bills import period_fees
from hub.billing.periods import BillPeriod
from hub.billing.tariff import Occupancy

ROOM = {"id": "room", "type": "flat", "price": "0.60", "fixed_fees": {"service_fee": "5.00"},
        "minimum_charge": "10.00"}
JULY = BillPeriod(date(2025, 7, 1), date(2025, 8, 1))


def top_up(entry: dict[str, object]) -> object:
    tariff = build(entry)
    usage = tariff.charges([use("2025-07-02T00:00", "2025-07-03T00:00", "5")])  # 3.00
    _fees, minimum = period_fees(tariff, JULY, 1, None, usage)
    return minimum.amount if minimum is not None else None


def test_fixed_fees_count_toward_the_minimum_by_default() -> None:
    assert top_up(ROOM) == D("2.00")  # 3.00 usage + 5.00 fee = 8.00 → 2.00 up to 10.00


def test_a_minimum_that_covers_usage_only_ignores_the_fees() -> None:
    assert top_up({**ROOM, "minimum_covers": "usage"}) == D("7.00")  # 10.00 − 3.00
    assert top_up({**ROOM, "minimum_covers": "usage", "minimum_charge": "3.00"}) is None


YEARLY = {"id": "bj", "type": "tiered", "tier_period": "yearly",
          "tiers": [{"up_to": 2880, "price": "0.4883"}, {"price": "0.5383"}]}


def tier1(entry: dict[str, object]) -> object:
    lines = build(entry).charges([use("2025-07-20T00:00", "2025-12-31T00:00", "1500")],
                                 occupancy=Occupancy(move_in=date(2025, 7, 20)))
    return lines_by_key(lines)["tier1"][0]


def test_thresholds_pro_rated_by_days_by_default() -> None:
    assert tier1(YEARLY) == D("1301.92")  # 2880 × 165 / 365


def test_thresholds_pro_rated_by_months() -> None:
    assert tier1({**YEARLY, "tier_prorate": "months"}) == D(1440)  # 2880 × 6 / 12 (Jul–Dec)


def test_monthly_tiers_pro_rated_by_months_keep_the_whole_threshold() -> None:
    monthly = {**YEARLY, "tier_period": "monthly", "tier_prorate": "months",
               "tiers": [{"up_to": 240, "price": "0.4883"}, {"price": "0.5383"}]}
    lines = build(monthly).charges([use("2025-07-20T00:00", "2025-07-31T00:00", "300")],
                                   occupancy=Occupancy(move_in=date(2025, 7, 20)))
    assert lines_by_key(lines)["tier1"][0] == D(240)
