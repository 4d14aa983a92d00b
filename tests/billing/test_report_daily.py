"""Daily income (receivable vs received per day) and report downloads as CSV and Excel."""

from __future__ import annotations

import asyncio
import csv
import io
from decimal import Decimal
from pathlib import Path

from analysis_support import running_hub
from common import Clock, web_client
from openpyxl import load_workbook
from test_report_money import CONFIG, _book, _rows, booked_report

D = Decimal


async def test_receivable_and_received_per_day(tmp_path: Path) -> None:
    table = await booked_report(tmp_path, "receivable", {
        "by": "day", "from": "2026-10-01", "to": "2026-11-30"})
    rows = _rows(table, "day")
    # r1 on 5 October: 100.00 paid, 27.50 charged; the 7.50 reversed on the 20th
    fifth = rows[("2026-10-05", "wang", "A")]
    assert (fifth["received"], fifth["receivable"]) == (D("100.00"), D("27.50"))
    assert rows[("2026-10-20", "wang", "A")]["receivable"] == D("-7.50")
    assert rows[("2026-10-31", "li", "C")]["received"] == D("10.00")  # 23:59 local
    assert rows[("2026-11-03", "li", "A")]["received"] == D("20.00")
    days = {key[0] for key in rows}
    assert days == {"2026-10-05", "2026-10-20", "2026-10-31", "2026-11-03"}
    monthly = sum((r["received"] for r in rows.values() if r["day"] < "2026-11"), D(0))
    assert monthly == D("165.00")  # the month's rows of the monthly report add up


async def test_reports_download_as_csv_and_excel(tmp_path: Path) -> None:
    clock = Clock("2026-10-01T00:00")
    async with running_hub(tmp_path, CONFIG, clock) as hub:
        async with asyncio.timeout(30):
            await _book(hub, clock)
        async with web_client(hub, tmp_path) as client:
            query = "by=day&from=2026-10-01&to=2026-10-31"
            response = await client.get(f"/api/reports/receivable?{query}&format=csv&lang=zh-CN")
            assert response.status == 200, await response.text()
            assert response.headers["Content-Disposition"].endswith('receivable.csv"')
            text = (await response.read()).decode("utf-8-sig")
            lines = list(csv.reader(io.StringIO(text)))
            assert lines[0][:3] == ["日期", "房东", "楼栋"]
            assert ["2026-10-05", "wang", "A"] in [line[:3] for line in lines[1:]]
            response = await client.get(f"/api/reports/receivable?{query}&format=xlsx")
            assert response.status == 200
            sheet = load_workbook(io.BytesIO(await response.read())).active
            assert sheet is not None
            values = list(sheet.iter_rows(values_only=True))
            assert values[0][0] == "Day"
            wang = next(row for row in values if row[:3] == ("2026-10-05", "wang", "A"))
            assert wang[5] == 100  # received, as a number
            response = await client.get("/api/reports/trend?by=week")
            assert response.status == 400
            assert "by must be day, month or year" in (await response.json())["error"]["detail"]
