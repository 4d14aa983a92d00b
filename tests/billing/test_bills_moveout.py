"""Move-out in one step: final bill with pro-rated fees and tiers, deposit, statement."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from bills_support import Clock, bounded, collect, config, engine, hourly, running_hub, settle

from hub.prepaid.ledger import Ledger

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
