"""Consumption by day, month and year with 环比/同比, and energy use per building, per m² and
per person, on a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from analysis_support import energy, open_storage, register, store
from common import t

from hub.billing.analysis.base import Catalog, MeterFacts, Period, periods_between
from hub.billing.trends import building_intensity, consumption_trend
from hub.ledger.accounts import ACCOUNT_SCHEMA, Account
from hub.storage import Storage

D = Decimal
START = date(2024, 12, 1)
END = date(2026, 3, 1)


def daily_usage(day: date) -> Decimal:
    """e1 uses 10 kWh a day in 2025, 12 in 2026, and 20 on 2026-02-14."""
    if day == date(2026, 2, 14):
        return D(20)
    return D(12) if day.year == 2026 else D(10)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    async with open_storage(tmp_path / "trend.db", t("2026-03-02T12:00")) as opened:
        await register(opened, {"main": ("electricity", {"building": "A"}),
                                "e1": ("electricity", {"building": "A"}),
                                "e2": ("electricity", {"building": "A"}),
                                "b1": ("electricity", {"building": "B"})})
        readings = []
        total = {"e1": D(1000), "e2": D(0), "main": D(0), "b1": D(0)}
        day = START
        while day <= END:
            when = f"{day.isoformat()}T00:00"
            readings += [energy(meter_id, when, value) for meter_id, value in total.items()]
            used = daily_usage(day)
            total["e1"] += used
            total["e2"] += D(2)
            total["main"] += used + D(2) + D(1)  # 1 kWh a day of loss in the stairwell
            total["b1"] += D(5)
            day += timedelta(days=1)
        await store(opened, readings)
        yield opened


def rows(table: object) -> dict[str, dict[str, object]]:
    return {row["period"]: row for row in table.as_dict()["rows"]}  # type: ignore[attr-defined]


async def test_daily_usage_with_the_day_before_and_the_same_day_last_year(
        storage: Storage) -> None:
    days = periods_between(date(2026, 2, 13), date(2026, 2, 15), "day")
    found = rows(await consumption_trend(storage, days, kinds=["electricity"], meter_id="e1"))
    valentine = found["2026-02-14"]
    # 20 against 12 the day before (+66.7 %) and 10 a year before (+100.0 %)
    assert (valentine["quantity"], valentine["prior"], valentine["year_ago"]) == (
        D(20), D(12), D(10))
    assert (valentine["mom_percent"], valentine["yoy_percent"]) == (D("66.7"), D("100.0"))
    assert found["2026-02-15"]["mom_percent"] == D("-40.0")


async def test_monthly_and_yearly_usage_of_a_tag(storage: Storage) -> None:
    months = periods_between(date(2026, 1, 1), date(2026, 2, 1), "month")
    found = rows(await consumption_trend(storage, months, kinds=["electricity"],
                                         tags={"building": "B"}))
    # 31 days × 5 against December's 31 × 5; February 28 × 5
    assert found["2026-01"]["quantity"] == D(155) and found["2026-01"]["mom_percent"] == D(
        "0.0")
    assert found["2026-02"]["quantity"] == D(140) and found["2026-02"]["yoy_percent"] == D(
        "0.0")
    years = periods_between(date(2025, 1, 1), date(2025, 12, 31), "year")
    found = rows(await consumption_trend(storage, years, kinds=["electricity"], meter_id="e1"))
    assert found["2025"]["quantity"] == D(3650)  # 365 days × 10
    assert found["2025"]["prior"] == D(310)  # December 2024 only: 31 × 10
    assert found["2025"]["yoy_percent"] == D("1077.4")


async def test_energy_per_building_counts_sub_meters_once_per_m2_and_per_person(
        storage: Storage) -> None:
    catalog = Catalog([MeterFacts("main", "electricity", {"building": "A"}),
                       MeterFacts("e1", "electricity", {"building": "A"}, parent="main",
                                  account="r1"),
                       MeterFacts("e2", "electricity", {"building": "A"}, parent="main",
                                  account="r2"),
                       MeterFacts("b1", "electricity", {"building": "B"}, account="r3")])
    accounts = {a["id"]: Account.from_config(ACCOUNT_SCHEMA(a)) for a in (
        {"id": "r1", "area": 30, "persons": 2}, {"id": "r2", "area": 45, "persons": 1},
        {"id": "r3", "area": "12.5"})}
    period = Period.month(2026, 1)
    table = await building_intensity(storage, catalog, accounts,
                                     [{"id": "B", "name": "B栋", "persons": 4}], period)
    found = {row["building"]: row for row in table.as_dict()["rows"]}
    a = found["A"]
    # the main meter alone: 31 × (12 + 2 + 1) = 465 kWh, not main + its sub-meters
    assert (a["quantity"], a["area"], a["persons"]) == (D(465), D(75), 3)
    assert (a["per_m2"], a["per_person"]) == (D("6.200"), D("155.000"))
    b = found["B"]
    assert (b["name"], b["quantity"], b["area"], b["persons"]) == ("B栋", D(155), D("12.5"), 4)
    assert (b["per_m2"], b["per_person"]) == (D("12.400"), D("38.750"))
