"""The one rounding rule for money is half-up to the fen, wherever money is rounded.

Every amount here ends in an exact half fen after an EVEN fen digit (0.125, 0.525, 3.085), so
half-even (banker's rounding) gives a different answer: each test fails if any rounding step
of its path is half-even.
"""

from __future__ import annotations

import asyncio
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import analysis_support
import bills_support
import money_support
import pytest
from common import Clock, bounded, settle, t

from hub.billing.analysis.base import Period
from hub.billing.analysis.service import Analysis
from hub.billing.tariff import FEN, round_fen
from hub.ledger.ledger import Ledger
from hub.storage import Storage

D = Decimal


HALVES = [("0.125", "0.13"), ("0.525", "0.53"), ("2.345", "2.35"), ("3.085", "3.09"),
          ("0.005", "0.01"), ("-0.125", "-0.13")]  # half-even differs on each
OTHERS = [("0.135", "0.14"), ("0.1249999", "0.12"), ("-0.135", "-0.14")]


@pytest.mark.parametrize(("exact", "half_up"), HALVES + OTHERS)
def test_round_fen_is_half_up(exact: str, half_up: str) -> None:
    assert round_fen(D(exact)) == D(half_up)
    assert round_fen(D(exact)).as_tuple().exponent == -2


@pytest.mark.parametrize(("exact", "half_up"), HALVES)
def test_the_halves_are_where_half_even_differs(exact: str, half_up: str) -> None:
    assert D(exact).quantize(FEN, ROUND_HALF_EVEN) != D(half_up)


PREPAID = money_support.config(money_support.meters_yaml([("m1", "a1", "quarter")]), """
accounts:
  - {id: a1}
tariffs:
  - {id: quarter, type: flat, price: 0.25}
""")


@bounded()
async def test_each_ledger_charge_is_the_half_up_change_of_the_cumulative(
        tmp_path: Path) -> None:
    """0.5 kWh x 0.25 = 0.125 -> 0.13; the next 0.5 kWh takes the total to 0.25: 0.12."""
    async with money_support.running_hub(tmp_path, PREPAID) as hub:
        ledger = hub.component("ledger", Ledger)
        async with asyncio.timeout(30):
            money_support.consumption(hub, "m1", t("2025-07-01T00:00"), t("2025-07-01T01:00"),
                                      "0.5")
            await settle(hub)
            assert ledger.balance("a1") == D("-0.13")
            money_support.consumption(hub, "m1", t("2025-07-01T01:00"), t("2025-07-01T02:00"),
                                      "0.5")
            await settle(hub)
        entries = await ledger.entries("a1", kinds=["charge"], limit=None, newest_first=False)
    assert [entry.amount for entry in entries] == [D("-0.13"), D("-0.12")]
    assert entries[0].detail["lines"] == {"quarter:energy:usage": ["0.5", "0.13"]}
    assert ledger.balance("a1") == D("-0.25")


POSTPAID = bills_support.config([("e1", "ddsy", "p1", "quarter"), ("e2", "ddsy", "p1", "cheap")],
                                """
accounts:
  - {id: p1, billing: postpaid}
tariffs:
  - {id: quarter, type: flat, price: 0.25}
  - {id: cheap, type: flat, price: 0.21}
""")


@bounded()
async def test_every_bill_line_is_rounded_half_up(tmp_path: Path) -> None:
    """0.5 kWh x 0.25 = 0.125 -> 0.13 and 2.5 kWh x 0.21 = 0.525 -> 0.53: a bill of 0.66."""
    clock = Clock("2025-07-20T12:00")
    async with bills_support.running_hub(tmp_path, POSTPAID, clock) as hub:
        ledger = hub.component("ledger", Ledger)
        billing = bills_support.engine(hub)
        async with asyncio.timeout(30):
            bills_support.use(hub, "e1", t("2025-07-20T00:00"), t("2025-07-20T01:00"), "0.5")
            bills_support.use(hub, "e2", t("2025-07-20T00:00"), t("2025-07-20T01:00"), "2.5")
            await settle(hub)
            clock.set("2025-08-01T03:00")
            await billing.tick()
            await settle(hub)
        bill = await billing.bill("p1-20250701")
        assert bill is not None
        assert [(line.meter_id, line.exact, line.amount) for line in bill.lines] == [
            ("e1", D("0.125"), D("0.13")), ("e2", D("0.525"), D("0.53"))]
        assert bill.total == D("0.66")
        assert ledger.balance("p1") == D("-0.66")


SHARED = analysis_support.hub_yaml("""
meters:
  - {id: pump, model: ddsy, link: sim1, address: "000000000002", share_group: pump_a}
  - {id: r1_e, model: ddsy, link: sim1, address: "000000000011", account: r1, tariff: flat}
  - {id: r2_e, model: ddsy, link: sim1, address: "000000000012", account: r2, tariff: flat}
accounts:
  - {id: r1, persons: 1}
  - {id: r2, persons: 2}
tariffs:
  - {id: flat, type: flat, price: 1.00}
  - {id: dear, type: flat, price: 1.234}
share_groups:
  - {id: pump_a, members: [r1, r2], split: persons, tariff: dear}
""")


@bounded()
async def test_the_shared_cost_is_rounded_half_up_before_it_is_split(tmp_path: Path) -> None:
    """2.5 kWh x 1.234 = 3.085 -> 3.09 = 309 fen by persons 1:2 -> 1.03 and 2.06.

    (Half-even: 3.08 = 308 fen -> 102.67, 205.33 -> 1.03 and 2.05.)
    """
    async with analysis_support.running_hub(tmp_path, SHARED) as hub:
        analysis = hub.component("analysis", Analysis)
        ledger = hub.component("ledger", Ledger)
        async with asyncio.timeout(30):
            await analysis_support.store(hub.component("storage", Storage), [
                analysis_support.energy("pump", "2026-10-01T00:00", "0"),
                analysis_support.energy("pump", "2026-11-01T00:00", "2.5")])
            allocation = await analysis.share_run("pump_a", Period.month(2026, 10))
            await settle(hub)
        assert allocation.quantity == D("2.5") and allocation.cost == D("3.09")
        assert [(s.account_id, s.amount) for s in allocation.lines] == [
            ("r1", D("1.03")), ("r2", D("2.06"))]
        assert [ledger.balance(a) for a in ("r1", "r2")] == [D("-1.03"), D("-2.06")]
