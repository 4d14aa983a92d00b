"""应收/实收 per landlord and building, the arrears list, and the report CLI, from the ledger."""

from __future__ import annotations

import asyncio
import csv
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from analysis_support import hub_yaml, running_hub
from common import Clock, settle, t
from hypothesis import given
from hypothesis import strategies as st

from hub.billing.analysis.api import ReportError, report_table
from hub.billing.analysis.service import Analysis
from hub.billing.reports import collection
from hub.cli import main
from hub.core import Hub
from hub.ledger.ledger import Ledger

D = Decimal

CONFIG = hub_yaml("""
meters:
  - {id: r1_e, model: ddsy, link: sim1, address: "000000000011", account: r1, tariff: flat,
     tags: {building: A}}
  - {id: r3_e, model: ddsy, link: sim1, address: "000000000013", account: r3, tariff: flat,
     tags: {building: A}}
accounts:
  - {id: r1, name: 张三, landlord: wang}
  - {id: r2, landlord: wang, tags: {building: B}}
  - {id: r3, landlord: li}
  - {id: r4, landlord: li, tags: {building: C}}
  - {id: r5, landlord: li, overdraft: 50, tags: {building: C}}
tariffs:
  - {id: flat, type: flat, price: 1.00}
""")


async def _book(hub: Hub, clock: Clock) -> None:
    """Entries in October and November 2026 (see the expected numbers in the tests)."""
    ledger = hub.component("ledger", Ledger)
    clock.set("2026-10-05T10:00")
    await ledger.post("r1", "recharge", D("100.00"), key="pay:1", detail={"method": "cash"})
    await ledger.post("r1", "charge", D("-20.00"), key="c:1")
    wrong = await ledger.post("r1", "charge", D("-7.50"), key="c:2")
    await ledger.post("r2", "recharge", D("50.00"), key="pay:2")
    await ledger.post("r2", "fee", D("-5.00"), key="f:1")
    await ledger.post("r3", "share", D("-12.34"), key="s:1")
    await ledger.post("r4", "charge", D("-30.00"), key="c:4")
    clock.set("2026-10-20T10:00")
    await ledger.reverse(wrong.entry.id, reason="double read", operator="admin")
    await ledger.post("r2", "refund", D("-10.00"), key="ref:1")
    await ledger.post("r3", "recharge", D("5.00"), key="pay:3")
    await ledger.post("r5", "charge", D("-10.00"), key="c:5")
    clock.set("2026-10-31T23:59")
    await ledger.post("r4", "recharge", D("10.00"), key="pay:4")
    clock.set("2026-11-03T10:00")
    await ledger.post("r1", "charge", D("-40.00"), key="c:3")
    await ledger.post("r3", "recharge", D("20.00"), key="pay:5")
    await settle(hub)


def _rows(table: Any, first: str = "month") -> dict[tuple[str, ...], dict[str, Any]]:
    return {(r[first], r["landlord"], r["building"]): r for r in table.as_dict()["rows"]}


async def booked_report(tmp_path: Path, name: str, params: dict[str, str]) -> Any:
    """The report ``name`` over the entries of :func:`_book`."""
    clock = Clock("2026-10-01T00:00")
    async with running_hub(tmp_path, CONFIG, clock) as hub:
        analysis = hub.component("analysis", Analysis)
        async with asyncio.timeout(30):
            await _book(hub, clock)
            return await report_table(analysis, name, params, date(2026, 12, 1))


async def test_receivable_and_received_per_landlord_and_building(tmp_path: Path) -> None:
    table = await booked_report(tmp_path, "receivable", {"from": "2026-10", "to": "2026-11"})
    rows = _rows(table)
    # r1: charges 20.00 + 7.50, the 7.50 reversed -> 20.00 receivable; 100.00 received:
    # all of it collected, 80.00 paid ahead (not a rate of 500 %)
    assert rows[("2026-10", "wang", "A")] == {
        "month": "2026-10", "landlord": "wang", "building": "A", "accounts": 1,
        "receivable": D("20.00"), "received": D("100.00"), "refunded": D("0.00"),
        "adjustments": D("0.00"), "collection_percent": D("100.0"), "advance": D("80.00")}
    b = rows[("2026-10", "wang", "B")]
    assert (b["receivable"], b["received"], b["refunded"]) == (D("5.00"), D("50.00"),
                                                              D("10.00"))
    assert (b["collection_percent"], b["advance"]) == (D("100.0"), D("35.00"))
    # li in building A (r3, by its meter's tag): 12.34 shared, 5.00 paid -> 40.5 %
    li_a = rows[("2026-10", "li", "A")]
    assert (li_a["receivable"], li_a["received"], li_a["collection_percent"],
            li_a["advance"]) == (D("12.34"), D("5.00"), D("40.5"), D("0.00"))
    li_c = rows[("2026-10", "li", "C")]  # r4 and r5; r4's 23:59 payment is October's
    assert (li_c["accounts"], li_c["receivable"], li_c["received"]) == (2, D("40.00"),
                                                                        D("10.00"))
    assert rows[("2026-11", "wang", "A")]["receivable"] == D("40.00")
    assert rows[("2026-11", "wang", "A")]["collection_percent"] == D("0.0")
    assert rows[("2026-11", "li", "A")]["collection_percent"] is None  # nothing owed
    assert ("2026-11", "wang", "B") not in rows
    assert len(rows) == 6


async def test_arrears_list(tmp_path: Path) -> None:
    clock = Clock("2026-10-01T00:00")
    async with running_hub(tmp_path, CONFIG, clock) as hub:
        analysis = hub.component("analysis", Analysis)
        async with asyncio.timeout(30):
            await _book(hub, clock)
            table = await analysis.arrears_report()
        rows = table.as_dict()["rows"]
        # r4: -30 + 10 = -20.00, at/below its trip level 0; r5: -10.00, above -50.00
        assert [(r["account_id"], r["balance"], r["in_arrears"]) for r in rows] == [
            ("r4", D("-20.00"), True), ("r5", D("-10.00"), False)]
        assert rows[0]["since"] == t("2026-10-05T10:00")  # went below zero then
        assert (rows[0]["landlord"], rows[0]["building"], rows[1]["trip_level"]) == (
            "li", "C", D("-50.00"))
        with pytest.raises(ReportError, match="unknown report"):
            await report_table(analysis, "nope", {}, date(2026, 12, 1))
        with pytest.raises(ReportError, match="'from' \\(2026-11\\) is after"):
            await report_table(analysis, "receivable", {"from": "2026-11", "to": "2026-10"},
                               date(2026, 12, 1))


def test_report_and_share_commands_with_the_hub_stopped(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    text = CONFIG + "share_groups:\n  - {id: g, meter: r1_e, members: [r2, r3], split: equal}\n"

    async def book() -> None:
        clock = Clock("2026-10-01T00:00")
        async with running_hub(tmp_path, text, clock) as hub:
            async with asyncio.timeout(30):
                await _book(hub, clock)

    asyncio.run(book())
    config, data = str(tmp_path / "hub.yaml"), str(tmp_path / "data")
    out = tmp_path / "receivable.csv"
    base = ["-c", config, "--data", data, "--port", "1"]  # no hub answers on port 1
    assert main(["report", "receivable", *base, "--month", "2026-10", "-o", str(out)]) == 0
    with out.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0][:5] == ["Month", "Landlord", "Building", "Accounts", "Receivable"]
    assert ["2026-10", "wang", "A", "1", "20.00", "100.00", "0.00", "0.00", "100.0",
            "80.00"] in lines
    capsys.readouterr()
    pdf = tmp_path / "receivable.pdf"  # no CSV under a .pdf name
    assert main(["report", "receivable", *base, "--month", "2026-10", "-o", str(pdf)]) == 1
    assert capsys.readouterr().err == (f"error: cannot tell the format of {pdf}: name it .csv "
                                       "or .xlsx (or give --format csv|xlsx)\n")
    assert not pdf.exists()
    xlsx = tmp_path / "arrears.xlsx"
    assert main(["report", "arrears", *base, "-o", str(xlsx)]) == 0
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in values[1:]] == ["r4", "r5"]
    assert D(str(values[1][5])) == D("-20.00")
    capsys.readouterr()
    assert main(["share", "preview", "g", *base, "--period", "2026-10", "--json"]) == 0
    printed = capsys.readouterr().out
    assert '"group": "g"' in printed and '"amount": "0.00"' in printed  # r1_e has no usage
    assert main(["report", "loss", *base, "--period", "2026-13"]) == 1
    assert "expected a month like 2026-10" in capsys.readouterr().err


async def test_report_through_the_running_hub(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from hub.web.server import WebServer

    clock = Clock("2026-10-01T00:00")
    async with running_hub(tmp_path, CONFIG, clock) as hub:
        port = str(hub.component("web", WebServer).port)
        base = ["-c", str(tmp_path / "hub.yaml"), "--data", str(tmp_path / "data"),
                "--port", port]
        async with asyncio.timeout(30):
            await _book(hub, clock)
            capsys.readouterr()
            code = await asyncio.to_thread(main, ["report", "receivable", *base, "--month",
                                                  "2026-11", "--json"])
            assert code == 0
            answer = json.loads(capsys.readouterr().out)
            assert answer["name"] == "receivable"
            assert [r["receivable"] for r in answer["rows"]] == ["0.00", "40.00"]
            code = await asyncio.to_thread(main, ["report", "consumption", *base, "--tag",
                                                  "building", "--from", "2026-09"])
            assert code == 0  # the hub answers the table; printed as text
            assert capsys.readouterr().out.splitlines()[0].split()[:3] == ["Tag", "Value",
                                                                            "Month"]
            code = await asyncio.to_thread(main, ["share", "preview", "nope", *base])
            assert code == 1  # the hub says why: the same message as offline
            assert "unknown share group 'nope'" in capsys.readouterr().err


@given(receivable=st.decimals(min_value=-100, max_value=10**6, places=2),
       received=st.decimals(min_value=0, max_value=10**6, places=2),
       refunded=st.decimals(min_value=0, max_value=10**6, places=2))
def test_a_collection_rate_is_0_to_100_and_the_rest_is_paid_in_advance(
        receivable: D, received: D, refunded: D) -> None:
    percent, advance = collection(receivable, received, refunded)
    net = max(received - refunded, D("0.00"))
    assert advance >= 0
    if receivable <= 0:
        assert percent is None and advance == net
        return
    assert percent is not None and D("0.0") <= percent <= D("100.0")
    collected = net - advance
    assert 0 <= collected <= receivable
    assert collected == min(net, receivable)
    assert (advance > 0) <= (percent == D("100.0"))  # ahead only once all is collected
