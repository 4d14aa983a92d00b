"""Consumption per tag with 环比 (month over month) and 同比 (year over year), and exports."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from analysis_support import energy, open_storage, register, store, water
from common import t

from hub.billing.analysis.base import Period, months_between
from hub.billing.reports import Table, change_percent, consumption_report, worded, write_table
from hub.storage import Storage

D = Decimal
FIRST = Period.month(2024, 10)
MONTHS = months_between(FIRST, Period.month(2026, 10))  # 25 months of readings


def e1_usage(month: Period) -> Decimal:
    """Building A's electricity: 100 + 10 per year since 2024 + the month's number."""
    return D(100 + 10 * (month.start.year - 2024) + month.start.month)


def w1_usage(month: Period) -> Decimal:
    """Building A's water: 10 m³ a month, nothing in October 2025 (vacant)."""
    return D(0) if month.label == "2025-10" else D("10.5")


def totals(usage: object, start: str = "0") -> list[tuple[str, Decimal]]:
    """Register totals at midnight on the 1st of each month (and of the month after)."""
    total, out = D(start), []
    for month in MONTHS:
        out.append((f"{month.start.isoformat()}T00:00", total))
        total += usage(month)  # type: ignore[operator]
    out.append((f"{MONTHS[-1].end.isoformat()}T00:00", total))
    return out


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    async with open_storage(tmp_path / "report.db", t("2026-11-02T12:00")) as opened:
        await register(opened, {"e1": ("electricity", {"building": "A", "floor": "1"}),
                                "w1": ("water", {"building": "A"}),
                                "e2": ("electricity", {"building": "B"})})
        readings = [energy("e1", when, total) for when, total in totals(e1_usage, "5000")]
        readings += [water("w1", when, total) for when, total in totals(w1_usage)]
        readings += [energy("e2", when, total)
                     for when, total in totals(lambda month: D(50))]
        await store(opened, readings)
        yield opened


def rows_of(table: Table) -> dict[tuple[str, str, str], dict[str, object]]:
    return {(row["value"], row["month"], row["kind"]): row for row in table.as_dict()["rows"]}


async def test_month_over_month_and_year_over_year_by_building(storage: Storage) -> None:
    months = months_between(Period.month(2026, 1), Period.month(2026, 10))
    table = await consumption_report(storage, "building", months)
    rows = rows_of(table)
    october = rows[("A", "2026-10", "electricity")]
    # 2026-10: 130 kWh; 2026-09: 129 -> +0.775 % -> 0.8; 2025-10: 120 -> +8.333 % -> 8.3
    assert (october["quantity"], october["previous"], october["last_year"]) == (
        D(130), D(129), D(120))
    assert (october["mom_percent"], october["yoy_percent"]) == (D("0.8"), D("8.3"))
    january = rows[("A", "2026-01", "electricity")]
    # 2026-01: 121; 2025-12: 122 -> -0.820 % -> -0.8; 2025-01: 111 -> +9.009 % -> 9.0
    assert (january["previous"], january["mom_percent"], january["yoy_percent"]) == (
        D(122), D("-0.8"), D("9.0"))
    water_october = rows[("A", "2026-10", "water")]
    assert water_october["quantity"] == D("10.5") and water_october["unit"] == "m3"
    assert water_october["last_year"] == D(0) and water_october["yoy_percent"] is None
    assert water_october["previous"] == D("10.5") and water_october["mom_percent"] == D("0.0")
    b = rows[("B", "2026-10", "electricity")]
    assert (b["quantity"], b["mom_percent"], b["yoy_percent"]) == (D(50), D("0.0"), D("0.0"))
    assert ("B", "2026-10", "water") not in rows  # building B has no water meter
    assert len(table.rows) == 10 * 3


async def test_the_first_months_have_no_base(storage: Storage) -> None:
    table = await consumption_report(storage, "floor", [FIRST], kinds=["electricity"])
    (row,) = table.as_dict()["rows"]
    assert (row["value"], row["quantity"], row["previous"]) == ("1", D(110), D(0))
    assert row["mom_percent"] is None and row["yoy_percent"] is None


def test_change_percent_rounds_half_up_to_a_tenth() -> None:
    assert change_percent(D("100.05"), D(100)) == D("0.1")  # 0.05 -> 0.1
    assert change_percent(D("99.95"), D(100)) == D("-0.1")  # half away from zero
    assert change_percent(D(1), D(3)) == D("-66.7")
    assert change_percent(D(5), D(0)) is None


async def test_csv_and_excel_exports_read_back(storage: Storage, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    table = await consumption_report(storage, "building", [Period.month(2026, 10)])
    csv_path, xlsx_path = tmp_path / "c.csv", tmp_path / "c.xlsx"
    assert write_table(table, csv_path, language="zh-CN") == 3
    assert write_table(table, xlsx_path) == 3
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0][:6] == ["标签", "取值", "月份", "类型", "单位", "用量"]
    assert lines[1] == ["楼栋", "A", "2026-10", "电", "kWh", "130", "129", "0.8",
                        "120", "8.3"]
    assert lines[2][:5] == ["楼栋", "A", "2026-10", "水", "m³"]
    assert lines[2][-1] == ""  # water 同比 with no base: an empty cell
    sheet = load_workbook(xlsx_path).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("Tag", "Value", "Month")
    assert values[1][:2] == ("Building", "A")
    assert values[1][5] == 130 and D(str(values[1][7])) == D("0.8")
    assert values[2][9] is None
    assert sheet.cell(row=2, column=8).number_format == "0.0#"
    assert len(values) == 4


def test_tables_survive_json() -> None:
    table = Table("x", ("a", "b", "c"), ("text", "money", "date"),
                  [("r1", D("1.50"), date(2026, 10, 1)), ("r2", None, None)])
    import json

    from hub.util.jsonutil import dumps

    again = Table.from_dict(json.loads(dumps(table.as_dict())))
    assert again.rows == table.rows and again.columns == table.columns


def test_report_cells_name_units_and_usual_tags_in_the_readers_words() -> None:
    """The consumption per building read `building A … m3` on a zh-CN page and file."""
    table = Table("consumption", ("tag", "value", "kind", "unit", "quantity"),
                  ("text", "text", "text", "text", "decimal"),
                  [("building", "A", "water", "m3", Decimal(1)),
                   ("zone", "x", "electricity", "kWh", Decimal(2))], "t")
    assert worded(table, "zh-CN").rows == [("楼栋", "A", "水", "m³", Decimal(1)),
                                            ("zone", "x", "电", "kWh", Decimal(2))]
    assert worded(table, "en").rows[0][:4] == ("Building", "A", "water", "m³")
