"""A zh-CN site's bill statement (text and HTML) and report CSV hold no English words:
component, band and tier names, fee notes, units, kinds, billing modes and flags are worded in
Chinese; only ids, names the landlord typed and units such as kWh and m³ stay as they are."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from bills_support import config, engine, hourly, running_hub
from common import Clock, bounded, settle, web_client

D = Decimal

CFG = config([("e1", "ddsy", "r1", "room"), ("w1", "cjt188_water", "r1", "water"),
              ("e2", "ddsy", "r2", "sh")], """
accounts:
  - {id: r1, name: 张三, deposit: 500, move_in: 2025-03-10}
  - {id: r2, name: 李四, billing: postpaid}
tariffs:
  - {id: room, type: flat, price: 0.60, fixed_fees: {service_fee: 31.00}}
  - id: water
    type: tiered
    unit: m3
    tier_period: monthly
    tiers: [{up_to: 10, price: 5.00}, {price: 7.00}]
  - id: sh
    type: tou
    prices: {peak: 0.617, valley: 0.307}
    schedules: {day: [{start: "00:00", band: valley}, {start: "06:00", band: peak},
                      {start: "22:00", band: valley}]}
    tier_period: monthly
    tier_surcharges: [{up_to: 20, surcharge: 0}, {surcharge: {peak: 0.36, valley: 0.18}}]
""").replace("language: en", "language: zh-CN")

ALLOWED = {"e1", "e2", "w1", "r1", "r2", "kWh", "m3", "service_fee", "html", "lang", "zh",
           "CN", "doctype", "meta", "charset", "utf", "title", "style", "body", "table", "tr",
           "td", "th", "class", "n", "h1", "h2", "p", "b", "br", "head", "colspan"}
"""ASCII words allowed: ids, the fee name the landlord typed, units, HTML's own tags."""


def english_words(text: str) -> list[str]:
    """ASCII words of ``text`` (CSS removed) that are not allowed above."""
    text = re.sub(r"<style>.*?</style>", "", text, flags=re.S)
    words = re.findall(r"(?<![0-9A-Za-z])[A-Za-z][A-Za-z0-9_]*", text)
    return sorted({word for word in words if word not in ALLOWED
                   and not re.fullmatch(r"r\d-\d{8}(-final)?", word)})


@pytest.mark.timeout(120)
@bounded(90)
async def test_zh_cn_statement_and_report_have_no_english_words(tmp_path: Path) -> None:
    clock = Clock("2025-03-10T09:00")
    async with running_hub(tmp_path, CFG, clock) as hub:
        async with asyncio.timeout(30):
            await hub.services.call("account", "recharge", {
                "account_id": "r1", "amount": "200", "method": "cash", "reference": "c1"})
            hourly(hub, "e1", "2025-03-12T00:00", [D(10)] * 10)
            hourly(hub, "w1", "2025-03-12T00:00", [D(4)] * 4, "water_total")
            hourly(hub, "e2", "2025-03-12T00:00", [D(3)] * 24)
            await settle(hub)
            clock.set("2025-04-01T03:00")
            await engine(hub).tick()
            await settle(hub)
            statements = {}
            for bill_id in ("r1-20250301", "r2-20250301"):
                for fmt in ("text", "html"):
                    text = await engine(hub).statement(bill_id, fmt, "zh-CN")
                    assert text is not None, bill_id
                    statements[bill_id, fmt] = text
            # the lines the words must cover are there: a fixed fee with its note, water
            # tiers, TOU bands in tiers with surcharges
            bill = await engine(hub).bill("r2-20250301")
            assert bill is not None
            assert {x.key for x in bill.lines} >= {"peak/tier2", "valley/tier1"}, bill.lines
            r1_text = statements["r1-20250301", "text"]
            assert "固定费用 service_fee" in r1_text and "月固定费用，按天折算" in r1_text
            assert "水费 第1档" in r1_text and "水费 第2档" in r1_text
            assert "峰段" in statements["r2-20250301", "text"]
            for key, text in statements.items():
                assert english_words(text) == [], (key, text)
            async with web_client(hub, tmp_path) as client:
                response = await client.get("/api/reports/arrears",
                                            params={"format": "csv", "lang": "zh-CN"})
                assert response.status == 200, await response.text()
                rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
        assert [row[0] for row in rows[1:]] == ["r2"], rows  # the postpaid one owes
        assert "后付费" in rows[1] and "是" in rows[1], rows
        assert english_words("\n".join(",".join(row) for row in rows)) == [], rows
