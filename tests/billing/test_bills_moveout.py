"""Move-out in one step: final bill with pro-rated fees and tiers, deposit, statement."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bills_support import (
    TZ,
    Clock,
    bounded,
    collect,
    config,
    engine,
    hourly,
    pseudo_random,
    running_hub,
    settle,
    t,
    use,
)
from tariff_support import BEIJING_TOU, build

from hub.billing.bills import BillError, move_out_tier_lines, tier_parts
from hub.billing.charging import ChargeState, Occupant, TierUsage, charge_reading
from hub.billing.periods import BillPeriod
from hub.billing.tariff import Occupancy, Usage, round_fen
from hub.ledger.ledger import Ledger

D = Decimal

CFG = config([("e1", "ddsy", "r1", "room"), ("w1", "cjt188_water", "r1", "water")], """
accounts:
  - {id: r1, name: Tenant One, deposit: 500, move_in: 2025-03-10}
tariffs:
  - {id: room, type: flat, price: 0.60, fixed_fees: {service_fee: 31.00}}
  - id: water
    type: tiered
    unit: m3
    tier_period: monthly
    tiers: [{up_to: 10, price: 5.00}, {price: 7.00}]
""")


@bounded()
async def test_move_out_statement_numbers(tmp_path: Path) -> None:
    clock = Clock("2025-03-10T09:00")
    async with running_hub(tmp_path, CFG, clock) as hub:
        ledger = hub.component("ledger", Ledger)
        events = collect(hub, "bill_issued")
        call = hub.services.call
        async with asyncio.timeout(30):
            await call("account", "recharge", {"account_id": "r1", "amount": "200",
                                               "method": "wechat", "reference": "wx-1"})
            # March (from the move-in on the 10th): 100 kWh and 8 m3
            hourly(hub, "e1", "2025-03-12T00:00", [D(10)] * 10)
            hourly(hub, "w1", "2025-03-12T00:00", [D(2)] * 4, "water_total")
            await settle(hub)
            clock.set("2025-04-01T03:00")
            await engine(hub).tick()
            await settle(hub)
            march = await engine(hub).bill("r1-20250301")
            assert march is not None
            # service fee 31.00 for 22 of 31 days; the March tier is 10 m3 x 22/31 = 7.10 m3
            assert [(x.meter_id, x.component, x.key, x.quantity, x.amount)
                    for x in march.lines] == [
                ("e1", "energy", "usage", D(100), D("60.00")),
                ("e1", "fixed", "service_fee", D("0.709677419"), D("22.00")),
                ("w1", "water", "tier1", D("7.10"), D("35.50")),
                ("w1", "water", "tier2", D("0.90"), D("6.30")),
            ]
            assert march.total == D("123.80")
            # April: 50 kWh, 6 m3 (charged against the full 10 m3 tier), out on the 15th
            hourly(hub, "e1", "2025-04-02T00:00", [D(5)] * 10)
            hourly(hub, "w1", "2025-04-02T00:00", [D(3), D(3)], "water_total")
            await settle(hub)
            assert ledger.balance("r1") == D("200.00") - D("123.80") - D("60.00")
            clock.set("2025-04-15T18:00")
            result = await call("account", "move_out", {
                "account_id": "r1", "date": "2025-04-15", "read": False},
                return_response=True)
        bill = result["bill"]
        assert bill["bill_id"] == "r1-20250401-final"
        assert (bill["period_start"], bill["period_end"]) == ("2025-04-01", "2025-04-15")
        # fee: 31.00 x 15/30 = 15.50; the April tier becomes 10 x 15/30 = 5 m3, so 1 m3
        # moves from tier 1 (5.00) to tier 2 (7.00): -5.00 and +7.00
        assert [(x["meter_id"], x["component"], x["key"], x["quantity"], x["amount"])
                for x in bill["lines"]] == [
            ("e1", "energy", "usage", "50", "30.00"),
            ("e1", "fixed", "service_fee", "0.5", "15.50"),
            ("w1", "water", "tier1", "6", "30.00"),
            ("w1", "tier_adjustment", "tier1", "-1", "-5.00"),
            ("w1", "tier_adjustment", "tier2", "1", "7.00"),
        ]
        assert bill["total"] == "77.50"
        # 200 - 123.80 - 60.00 (per read) - 15.50 + 5.00 - 7.00 = -1.30; deposit 500
        assert bill["settlement"] == {
            "move_out": "2025-04-15", "balance_before": "-1.30", "deposit": "500.00",
            "refund": "498.70", "debt": "0.00", "balance_after": "0.00"}
        assert ledger.balance("r1") == 0
        assert (await ledger.audit()).ok
        statement = result["statement"]
        for text in ("Move-out statement", "r1-20250401-final", "2025-04-01 – 2025-04-15",
                     "Total: 77.50", "Deposit applied", "500.00", "Paid back to the tenant",
                     "498.70", "Balance before settlement", "-1.30"):
            assert text in statement, text
        html = await engine(hub).statement("r1-20250401-final", "html")
        assert html is not None and "<table>" in html and "498.70" in html
        assert [e.data["bill_id"] for e in events] == ["r1-20250301", "r1-20250401-final"]
        # after the move-out, usage on the meter is not charged to the tenant any more
        errors = collect(hub, "billing_error")
        async with asyncio.timeout(10):
            hourly(hub, "e1", "2025-04-16T00:00", [D(1)])
            await settle(hub)
        assert ledger.balance("r1") == 0
        assert "moved out on 2025-04-15" in errors[0].data["error"]


SIM = """
site: {name: Test, time_zone: Asia/Shanghai, language: zh-CN}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false}
storage: {commit_interval: 0.02, max_rate: {electricity: 100000}}
bills: {check_every: 0s}
links:
  - {id: sim1, type: sim, speed: 3600}
meters:
  - {id: r9_e, model: ddsy, link: sim1, address: "202400000009", account: r9, tariff: room,
     link_options: {load: {constant: 3}}}
accounts:
  - {id: r9, name: 王五, deposit: 100}
tariffs:
  - {id: room, type: flat, price: 1.00}
"""


@bounded()
async def test_move_out_takes_a_final_read(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(SIM, encoding="utf-8")
    from hub.bootstrap import create_hub, prepare
    from hub.metering.service import MeteringService

    prepared = prepare(path, data_dir=tmp_path / "data")
    assert not prepared.problems
    hub = create_hub(prepared)
    async with asyncio.timeout(30):
        await hub.start()
        try:
            await hub.services.call("account", "recharge", {
                "account_id": "r9", "amount": "50", "method": "cash", "reference": "c"})
            await hub.component("metering", MeteringService).read("r9_e")
            await asyncio.sleep(0.3)
            result = await hub.services.call("account", "move_out", {"account_id": "r9"},
                                             return_response=True)
            ledger = hub.component("ledger", Ledger)
            assert result["read"] == ["r9_e"] and result["failed"] == []
            used = D(result["bill"]["total"])
            assert used > 0  # the final read counted the usage since the first read
            settlement = result["bill"]["settlement"]
            assert D(settlement["refund"]) == D("150.00") - used
            assert ledger.balance("r9") == 0
            assert "退租结算单" in result["statement"] and "押金抵扣" in result["statement"]
        finally:
            await hub.stop()


# --- re-tiering across a price change -------------------------------------------------------

def yearly_tiered(change: str) -> str:
    """A yearly-tiered tariff (365 / 730 kWh) whose prices change on ``change``."""
    return f"""
    tariffs:
      - id: yearly
        type: tiered
        tier_period: yearly
        versions:
          - valid_from: 2024-01-01
            tiers: [{{up_to: 365, price: 0.4883}}, {{up_to: 730, price: 0.5383}},
                    {{price: 0.7883}}]
          - valid_from: {change}
            tiers: [{{up_to: 365, price: 0.5283}}, {{up_to: 730, price: 0.6283}},
                    {{price: 0.8783}}]
    """


def adjustments(bill: dict[str, Any]) -> list[tuple[str, str | None, str, str, str]]:
    """(key, price_from, quantity, unit price, amount) of the tier adjustment lines."""
    return [(x["key"], x["price_from"], x["quantity"], x["unit_price"], x["amount"])
            for x in bill["lines"] if x["component"] == "tier_adjustment"]


@bounded()
async def test_move_out_retiers_each_part_at_its_own_price_version(tmp_path: Path) -> None:
    """Moved in before the 1 July price change, out on 30 September: both versions re-tiered.

    2025 usage: 50 kWh in each month January–June (300, old prices), then 100 in July, 50 in
    August and 50 in September (200, new prices); December 2024 (40 kWh) is the year before.
    Charged with the full thresholds 365 / 730: the old version's 300 all in tier 1; the new
    version's 300→500 is 65 in tier 1 and 135 in tier 2.
    Out on 30 September: 273 of 365 days, so the thresholds are 365 × 273/365 = 273 and
    730 × 273/365 = 546. The old version's 300 is 273 in tier 1 and 27 in tier 2; the new
    version's 300→500 lies wholly in tier 2 (200).
    Corrections, per tier and version, rounded half-up to the fen:
      tier 1 @2024-01-01: (273 − 300) × 0.4883 = −13.1841 → −13.18
      tier 1 @2025-07-01: (0 − 65) × 0.5283 = −34.3395 → −34.34
      tier 2 @2024-01-01: (27 − 0) × 0.5383 = 14.5341 → 14.53
      tier 2 @2025-07-01: (200 − 135) × 0.6283 = 40.8395 → 40.84
    together 7.85 (= 27 × 0.05 + 65 × 0.10, the tier-2 premium of each version); pricing all
    500 kWh at the first version, as before, gave 92 × 0.05 = 4.60.
    """
    cfg = config([("e1", "ddsy", "r1", "yearly")], """
        accounts:
          - {id: r1, name: Tenant One, deposit: 500, move_in: 2024-11-01}
        """, yearly_tiered("2025-07-01"))
    clock = Clock("2024-12-01T09:00")
    async with running_hub(tmp_path, cfg, clock) as hub:
        ledger = hub.component("ledger", Ledger)
        call = hub.services.call
        async with asyncio.timeout(30):
            await call("account", "recharge", {"account_id": "r1", "amount": "1000",
                                               "method": "cash", "reference": "c-1"})
            hourly(hub, "e1", "2024-12-10T10:00", [D(40)])
            for month in range(1, 7):
                hourly(hub, "e1", f"2025-{month:02d}-10T10:00", [D(50)])
            hourly(hub, "e1", "2025-07-10T10:00", [D(100)])
            hourly(hub, "e1", "2025-08-10T10:00", [D(50)])
            hourly(hub, "e1", "2025-09-10T10:00", [D(50)])
            await settle(hub)
            # per month, per line: December 40 × 0.4883 = 19.53; January–June 50 × 0.4883 =
            # 24.42 each; July 65 × 0.5283 = 34.34 and 35 × 0.6283 = 21.99; August and
            # September 50 × 0.6283 = 31.42 each
            charged = D("19.53") + 6 * D("24.42") + D("34.34") + D("21.99") + 2 * D("31.42")
            assert charged == D("285.22")
            assert ledger.balance("r1") == D("1000.00") - charged
            clock.set("2025-09-30T18:00")
            result = await call("account", "move_out", {
                "account_id": "r1", "date": "2025-09-30", "read": False},
                return_response=True)
        bill = result["bill"]
        assert bill["bill_id"] == "r1-20250901-final"
        assert [(x["component"], x["key"], x["price_from"], x["quantity"], x["amount"])
                for x in bill["lines"] if x["component"] != "tier_adjustment"] == [
            ("energy", "tier2", "2025-07-01", "50", "31.42")]
        assert adjustments(bill) == [
            ("tier1", "2024-01-01", "-27", "0.4883", "-13.18"),
            ("tier1", "2025-07-01", "-65", "0.5283", "-34.34"),
            ("tier2", "2024-01-01", "27", "0.5383", "14.53"),
            ("tier2", "2025-07-01", "65", "0.6283", "40.84"),
        ]
        assert sum(D(x[4]) for x in adjustments(bill)) == D("7.85")
        assert bill["total"] == "39.27"  # 31.42 + 7.85
        # 1000 − 285.22 charged per read − 7.85 re-tiered = 706.93, plus the deposit back
        assert bill["settlement"]["balance_before"] == "706.93"
        assert bill["settlement"]["refund"] == "1206.93"
        assert ledger.balance("r1") == 0
        assert (await ledger.audit()).ok


@bounded()
async def test_move_out_retiers_a_price_change_inside_a_month(tmp_path: Path) -> None:
    """A price change on 16 July, bill periods from the 20th: the split comes from the lines.

    Bill periods run from the 20th (20 December – 19 January straddles the tier year; 20 June
    – 19 July holds the change). 2025 usage at the old prices: 50 on 5 January (in the
    straddling period, which also holds 40 of December 2024), 50 in each of February–June,
    19 on 10 July and 1 of a 2 kWh reading over midnight into 16 July: 320. At the new prices:
    the other 1, 79 on 18 July, 50 on 10 August and 50 on 25 September: 180.
    Charged with 365 / 730: old 320 in tier 1; new 320→500 is 45 in tier 1, 135 in tier 2.
    Out on 30 September (273 / 546): old 273 in tier 1, 47 in tier 2; new 180 in tier 2.
      tier 1 @2024-01-01: −47 × 0.4883 = −22.9501 → −22.95
      tier 1 @2025-07-16: −45 × 0.5283 = −23.7735 → −23.77
      tier 2 @2024-01-01: 47 × 0.5383 = 25.3001 → 25.30
      tier 2 @2025-07-16: 45 × 0.6283 = 28.2735 → 28.27
    together 6.85 (= 47 × 0.05 + 45 × 0.10).
    """
    cfg = config([("e1", "ddsy", "r1", "yearly")], """
        accounts:
          - {id: r1, name: Tenant One, move_in: 2024-11-01, settlement_day: 20}
        """, yearly_tiered("2025-07-16"))
    clock = Clock("2024-12-01T09:00")
    async with running_hub(tmp_path, cfg, clock) as hub:
        call = hub.services.call
        async with asyncio.timeout(30):
            await call("account", "recharge", {"account_id": "r1", "amount": "1000",
                                               "method": "cash", "reference": "c-1"})
            hourly(hub, "e1", "2024-12-25T10:00", [D(40)])
            hourly(hub, "e1", "2025-01-05T10:00", [D(50)])
            for month in range(2, 7):
                hourly(hub, "e1", f"2025-{month:02d}-10T10:00", [D(50)])
            hourly(hub, "e1", "2025-07-10T10:00", [D(19)])
            use(hub, "e1", t("2025-07-15T23:00"), t("2025-07-16T01:00"), "2")
            hourly(hub, "e1", "2025-07-18T10:00", [D(79)])
            hourly(hub, "e1", "2025-08-10T10:00", [D(50)])
            hourly(hub, "e1", "2025-09-25T10:00", [D(50)])
            await settle(hub)
            clock.set("2025-09-30T18:00")
            result = await call("account", "move_out", {
                "account_id": "r1", "date": "2025-09-30", "read": False},
                return_response=True)
        bill = result["bill"]
        assert (bill["period_start"], bill["period_end"]) == ("2025-09-20", "2025-09-30")
        assert adjustments(bill) == [
            ("tier1", "2024-01-01", "-47", "0.4883", "-22.95"),
            ("tier1", "2025-07-16", "-45", "0.5283", "-23.77"),
            ("tier2", "2024-01-01", "47", "0.5383", "25.30"),
            ("tier2", "2025-07-16", "45", "0.6283", "28.27"),
        ]
        assert bill["total"] == "38.27"  # September's 50 × 0.6283 = 31.42, plus 6.85


def test_register_tariff_surcharges_are_retiered() -> None:
    """Band lines from the meter's registers: the re-tiered usage has a quantity only."""
    tariff = build({"id": "shop", "type": "multi_rate", "prices": {"peak": 1.0, "valley": 0.5},
                    "tier_period": "yearly",
                    "tier_surcharges": [{"up_to": 100, "surcharge": 0}, {"surcharge": 0.3}]})
    start = date(2025, 1, 1)
    lines = move_out_tier_lines(meter_id="m1", tariff=tariff, parts=[(start, D(150))],
                                tier_start=start, charged_with=None,
                                final=Occupancy(None, date(2025, 6, 30)), tz=TZ)
    # 100 × 181/365 = 49.59; tier 2 takes 150 − 49.59 = 100.41 instead of 50: 50.41 × 0.3
    assert [(x.component, x.key, x.quantity, x.amount) for x in lines] == [
        ("tier_adjustment", "tier2", D("50.41"), D("15.12"))]
    # a price change inside a month cannot be split from register lines: said, not guessed
    changing = build({"id": "shop", "type": "multi_rate", "tier_period": "yearly",
                      "tier_surcharges": [{"up_to": 100, "surcharge": 0}, {"surcharge": 0.3}],
                      "versions": [{"valid_from": "2025-01-01", "prices": {"peak": 1.0}},
                                   {"valid_from": "2025-03-15", "prices": {"peak": 1.1}}]})
    with pytest.raises(BillError, match=r"changes its price on 2025-03-15, inside a month"):
        tier_parts(tariff=changing, tier_period="yearly", tier_start=start, first=start,
                   last=date(2025, 6, 30), months={"2025-01": D(150)}, states=list)


@pytest.mark.parametrize("change", ["2025-07-01", "2025-07-16"])
def test_retier_is_the_whole_usage_priced_both_ways(change: str) -> None:
    """Charged reading by reading, then re-tiered: exactly the whole usage priced both ways.

    TOU bands plus tier surcharges whose prices change mid-year (on the 1st of a month, or
    inside one); readings of awkward sizes over segments, midnights and the price change,
    charged by the real charging code into bill periods from the 20th. The move-out's
    correction per line must equal, to the last digit, the tier period's usage priced in one
    go with the pro-rated thresholds minus priced with the thresholds it was charged with.
    """
    tariff = build({**{k: v for k, v in BEIJING_TOU.items() if k not in (
        "prices", "tier_surcharges")}, "versions": [
        {"valid_from": "2024-01-01", "prices": BEIJING_TOU["prices"],
         "tier_surcharges": BEIJING_TOU["tier_surcharges"]},
        {"valid_from": change, "prices": {"peak": "0.6", "flat": "0.5", "valley": "0.31"},
         "tier_surcharges": [{"up_to": 2880, "surcharge": "0.01"},
                             {"up_to": 4800, "surcharge": "0.07"}, {"surcharge": "0.35"}]}]})
    charged_with = Occupancy(date(2024, 11, 1), None)
    final = Occupancy(date(2024, 11, 1), date(2025, 9, 30))
    occupant = Occupant("a1", 20, charged_with)
    tiers = TierUsage({}, TZ)
    states: dict[BillPeriod, ChargeState] = {}

    def state_for(period: BillPeriod) -> ChargeState:
        return states.setdefault(period, ChargeState("m1", "a1", period))

    usage: list[Usage] = []
    moment = t("2024-12-15T03:00")
    for number, quantity in enumerate(pseudo_random(130, seed=11)):
        end = moment + timedelta(hours=53, minutes=13 * (number % 5))
        if end >= t("2025-10-01T00:00"):  # nothing after the move-out day
            break
        usage.append(Usage(moment, end, quantity * 20))
        charge_reading(reading_id=f"r{number}", meter_id="m1", intervals=[{
            "register": "energy_import_total", "start": moment, "end": end,
            "quantity": quantity * 20}], tariff=tariff, occupant=occupant, tz=TZ,
            state_for=state_for, tiers=tiers)
        moment = end
    start = date(2025, 1, 1)
    parts = tier_parts(tariff=tariff, tier_period="yearly", tier_start=start, first=start,
                       last=date(2025, 9, 30), months=tiers.months,
                       states=lambda: [states[key] for key in sorted(states)])
    assert len(parts) == 2
    lines = move_out_tier_lines(meter_id="m1", tariff=tariff, parts=parts, tier_start=start,
                                charged_with=charged_with, final=final, tz=TZ)
    whole = [item for item in usage if item.end > t("2025-01-01T00:00")]
    old = {(x.key, x.price_from): x for x in tariff.charges(whole, occupancy=charged_with)
           if x.component == "tier_surcharge"}
    new = {(x.key, x.price_from): x for x in tariff.charges(whole, occupancy=final)
           if x.component == "tier_surcharge"}
    zero = D(0)
    expected = {key: (new[key].amount if key in new else zero)
                - (old[key].amount if key in old else zero) for key in {*old, *new}}
    assert {(x.key, x.price_from): x.exact for x in lines} == {
        key: value for key, value in expected.items() if value}
    assert all(x.amount == round_fen(x.exact) for x in lines)
    assert len(lines) >= 3  # tiers moved in both price versions
