"""Bill periods from the settlement day: 29–31 fall on a short month's last day."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from bills_support import Clock, bounded, config, engine, running_hub, settle, t, use
from tariff_support import build

from hub.billing.bills import fee_window, period_fees
from hub.billing.periods import BillPeriod, next_period, period_of, periods_between
from hub.billing.tariff import Occupancy, round_fen
from hub.ledger.ledger import Ledger

D = Decimal
d = date.fromisoformat


@pytest.mark.parametrize(("day", "settlement", "start", "end"), [
    ("2025-01-31", 31, "2025-01-31", "2025-02-28"),
    ("2025-02-27", 31, "2025-01-31", "2025-02-28"),
    ("2025-02-28", 31, "2025-02-28", "2025-03-31"),
    ("2025-03-30", 31, "2025-02-28", "2025-03-31"),
    ("2025-04-30", 31, "2025-04-30", "2025-05-31"),
    ("2024-02-29", 31, "2024-02-29", "2024-03-31"),
    ("2024-02-28", 30, "2024-01-30", "2024-02-29"),
    ("2025-02-28", 29, "2025-02-28", "2025-03-29"),
    ("2025-07-14", 15, "2025-06-15", "2025-07-15"),
    ("2025-12-31", 1, "2025-12-01", "2026-01-01"),
])
def test_period_of(day: str, settlement: int, start: str, end: str) -> None:
    assert period_of(d(day), settlement) == BillPeriod(d(start), d(end))


def test_periods_follow_each_other_without_gaps() -> None:
    period = period_of(d("2024-01-31"), 31)
    seen = []
    for _ in range(14):
        following = next_period(period, 31)
        assert following.start == period.end
        seen.append(period.start.isoformat())
        period = following
    assert seen[:5] == ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"]


def test_usage_is_cut_at_local_midnight_of_the_settlement_day() -> None:
    parts = list(periods_between(t("2025-02-27T23:00"), t("2025-02-28T01:00"), 31,
                                 t("2025-01-01T00:00").tzinfo))  # type: ignore[arg-type]
    assert [(p.start.isoformat(), a.hour, b.hour) for p, a, b in parts] == [
        ("2025-01-31", 23, 0), ("2025-02-28", 0, 1)]


def test_a_full_period_pays_exactly_one_month_of_fees() -> None:
    assert fee_window(BillPeriod(d("2025-06-30"), d("2025-07-31")), 31) == (
        d("2025-06-30"), d("2025-07-30"))
    assert fee_window(BillPeriod(d("2025-02-28"), d("2025-03-31")), 31) == (
        d("2025-02-28"), d("2025-03-30"))
    assert fee_window(BillPeriod(d("2025-02-28"), d("2025-03-11")), 31) == (
        d("2025-02-28"), d("2025-03-10"))
    tariff = build({"id": "room", "type": "flat", "price": "1.00", "minimum_charge": "10.00",
                    "fixed_fees": {"service_fee": "5.00", "meter_rent": "2.00"}})

    def fees(period: BillPeriod, move_in: str | None = None) -> dict[str, Decimal]:
        occupancy = Occupancy(d(move_in), None) if move_in else None
        lines, minimum = period_fees(tariff, period, 31, occupancy, [])
        out = {line.key: round_fen(line.amount) for line in lines}
        if minimum is not None:
            out["minimum"] = minimum.amount
        return out

    for period in (period_of(d("2025-07-10"), 31), period_of(d("2025-03-10"), 31),
                   period_of(d("2025-02-10"), 31)):  # 31, 31 and 31 days; 28 days
        assert fees(period) == {"service_fee": D("5.00"), "meter_rent": D("2.00"),
                                "minimum": D("3.00")}
    # moving in for the last two days of 28 February – 30 March (31 days): 2/31 of a month
    assert fees(period_of(d("2025-03-10"), 31), "2025-03-29") == {
        "service_fee": D("0.32"), "meter_rent": D("0.13"), "minimum": D("0.20")}
    # 15 to 30 July of 30 June – 30 July: 16 of its 31 days
    assert fees(period_of(d("2025-07-10"), 31), "2025-07-15") == {
        "service_fee": D("2.58"), "meter_rent": D("1.03"), "minimum": D("1.55")}


CFG = config([("e1", "ddsy", "a31", "flat")], """
accounts:
  - {id: a31, settlement_day: 31}
tariffs:
  - {id: flat, type: flat, price: 1.00, fixed_fees: {service_fee: 5.00}}
""")


@bounded()
async def test_settlement_day_31_in_february(tmp_path: Path) -> None:
    clock = Clock("2025-03-01T00:00")
    async with running_hub(tmp_path, CFG, clock) as hub:
        ledger = hub.component("ledger", Ledger)
        async with asyncio.timeout(30):
            use(hub, "e1", t("2025-02-27T23:00"), t("2025-02-28T01:00"), "2")
            use(hub, "e1", t("2025-02-28T01:00"), t("2025-02-28T02:00"), "0.5")
            use(hub, "e1", t("2025-03-30T23:00"), t("2025-03-31T01:00"), "4")
            await settle(hub)
            entries = await ledger.entries("a31", limit=None, newest_first=False)
            assert [(e.period.isoformat() if e.period else None, e.amount)
                    for e in entries] == [
                ("2025-01-31", D("-1.00")), ("2025-02-28", D("-1.00")),
                ("2025-02-28", D("-0.50")), ("2025-02-28", D("-2.00")),
                ("2025-03-31", D("-2.00"))]
            clock.set("2025-03-31T03:00")
            await engine(hub).tick()
            await settle(hub)
        january = await engine(hub).bill("a31-20250131")
        february = await engine(hub).bill("a31-20250228")
        assert january is not None and february is not None
        assert (january.period.start, january.period.last_day) == (d("2025-01-31"),
                                                                   d("2025-02-27"))
        assert (february.period.start, february.period.last_day) == (d("2025-02-28"),
                                                                     d("2025-03-30"))
        assert [(line.key, line.quantity, line.amount) for line in february.lines] == [
            ("usage", D("3.5"), D("3.50")), ("service_fee", D(1), D("5.00"))]
        assert january.consumption == D("1.00") and january.fees == D("5.00")
