"""A prepaid account's monthly bill equals the sum of its per-read charges, to the fen."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from bills_support import config, engine, hourly, pseudo_random, running_hub, use
from common import Clock, bounded, collect, settle, t

import hub.billing.engine as engine_mod
from hub.billing.periods import BillPeriod
from hub.billing.tariff import Usage, round_fen
from hub.billing.tariffs import TariffBook
from hub.ledger.ledger import Ledger

D = Decimal

CFG = config([("e1", "ddsy", "a1", "tou_tiers"), ("e2", "ddsy", "a2", "tou_tiers")], """
accounts:
  - {id: a1, name: 张三}
  - {id: a2, name: 李四, settlement_day: 15}
tariffs:
  - id: tou_tiers
    type: tou
    prices: {sharp: 1.38125, peak: 1.105, flat: 0.65, valley: 0.247}
    schedules:
      normal:
        - {start: "00:00", band: valley}
        - {start: "08:00", band: flat}
        - {start: "10:00", band: peak}
        - {start: "11:00", band: sharp}
        - {start: "12:00", band: flat}
        - {start: "14:00", band: peak}
        - {start: "19:00", band: flat}
      rest:
        - {start: "00:00", band: valley}
        - {start: "08:00", band: flat}
    weekend_schedule: rest
    tier_period: monthly
    tier_surcharges:
      - {up_to: 300, surcharge: 0}
      - {up_to: 600, surcharge: 0.05}
      - {surcharge: 0.3}
    fixed_fees: {service_fee: 5.00}
""")

USAGE = pseudo_random(24 * 45)  # 1 July .. 14 August, hourly, awkward quantities


async def per_read_charges(ledger: Ledger, account: str, period: BillPeriod) -> Decimal:
    entries = await ledger.entries(account, kinds=["charge"], period=period.start, limit=None)
    return sum((-entry.amount for entry in entries), D("0.00"))


@pytest.mark.parametrize("window", [engine_mod.BILL_RUN_WINDOW, 1])  # 1: a window a bill
@bounded()
async def test_the_monthly_bill_is_the_sum_of_the_per_read_charges(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int) -> None:
    monkeypatch.setattr(engine_mod, "BILL_RUN_WINDOW", window)
    clock = Clock("2025-08-14T23:00")
    async with running_hub(tmp_path, CFG, clock) as hub:
        ledger = hub.component("ledger", Ledger)
        tariff = hub.component("tariffs", TariffBook).get("tou_tiers")
        issued = collect(hub, "bill_issued")
        async with asyncio.timeout(30):
            hourly(hub, "e1", "2025-07-01T00:00", USAGE)
            hourly(hub, "e2", "2025-07-01T00:00", USAGE)
            await settle(hub)
            clock.set("2025-08-15T03:00")
            summary = await engine(hub).tick()
            await settle(hub)
        assert summary["bills"] == 3  # a1: July; a2: 15 June (from 1 July) and 15 July
        assert {e.data["bill_id"] for e in issued} == {"a1-20250701", "a2-20250615",
                                                        "a2-20250715"}
        july = await engine(hub).bill("a1-20250701")
        assert july is not None and july.status in ("issued", "partly_paid")
        charged = await per_read_charges(ledger, "a1", july.period)
        assert july.consumption == charged > D(100)
        assert july.fees == D("5.00") and july.total == charged + D("5.00")
        # the same usage priced in one go: every line rounded once gives the same lines
        first = t("2025-07-01T00:00")
        usage = [Usage(first + timedelta(hours=h), first + timedelta(hours=h + 1), q)
                 for h, q in enumerate(USAGE[:31 * 24])]
        expected = {(line.component, line.key): round_fen(line.amount)
                    for line in tariff.charges(usage)}
        got = {(line.component, line.key): line.amount for line in july.lines
               if line.meter_id == "e1" and line.component != "fixed"}
        assert got == expected
        assert {key for key in got if key[0] == "tier_surcharge"} == {
            ("tier_surcharge", "tier2"), ("tier_surcharge", "tier3")}
        # a2 settles on the 15th: its bills reconcile per period as well
        for bill_id in ("a2-20250615", "a2-20250715"):
            bill = await engine(hub).bill(bill_id)
            assert bill is not None
            assert bill.consumption == await per_read_charges(ledger, "a2", bill.period)
        assert (await ledger.audit()).ok
        ledger_total = sum((-e.amount for e in await ledger.entries("a1", limit=None)),
                           D("0.00"))
        open_period = sum(-e.amount for e in await ledger.entries(
            "a1", period=t("2025-08-01T00:00").date(), limit=None))
        assert ledger_total == july.total + open_period


@bounded()
async def test_re_running_a_bill_gives_the_identical_result(tmp_path: Path) -> None:
    clock = Clock("2025-08-03T10:00")
    async with running_hub(tmp_path, CFG, clock) as hub:
        async with asyncio.timeout(30):
            hourly(hub, "e1", "2025-07-30T00:00", USAGE[:72])
            await settle(hub)
            period = BillPeriod(t("2025-07-01T00:00").date(), t("2025-08-01T00:00").date())
            first = await engine(hub).create("a1", period)
            again = await engine(hub).create("a1", period)
            assert first.status == again.status == "draft"
            assert first.digest == again.digest and first.lines == again.lines
            # every line is traceable to the readings that made it
            for line in first.lines:
                if line.component == "fixed":
                    continue
                trace = await engine(hub).trace(first.bill_id, line.no)
                assert len(trace) == line.readings > 0
                assert sum(D(item["charged"]) for item in trace) == line.amount
                assert sum(D(item["quantity"]) for item in trace) == line.quantity
            issued = await engine(hub).issue(first.bill_id)
            assert issued.status in ("issued", "partly_paid", "paid")
            assert issued.digest == first.digest
            rerun = await engine(hub).create("a1", period, issue=True)
            assert rerun.digest == first.digest and rerun.issued == issued.issued
            # usage of a billed period arriving late is charged in the next period
            hourly(hub, "e1", "2025-07-31T23:00", [D("1.5")])
            await settle(hub)
            late = await hub.component("ledger", Ledger).entries("a1", limit=1)
            assert late[0].period == t("2025-08-01T00:00").date()
            assert (await engine(hub).bill(first.bill_id)).digest == first.digest  # type: ignore[union-attr]


@bounded()
async def test_a_band_line_traces_to_the_schedule_stretches_of_each_reading(
        tmp_path: Path) -> None:
    clock = Clock("2025-08-03T10:00")
    async with running_hub(tmp_path, CFG, clock) as hub:
        # Tuesday 06:00 to Wednesday 06:00 (2 kWh an hour), then Friday 18:00 into Saturday
        # 09:00 (1 kWh an hour), when the weekend schedule takes over
        use(hub, "e1", t("2025-07-01T06:00"), t("2025-07-02T06:00"), D("48"))
        use(hub, "e1", t("2025-07-04T18:00"), t("2025-07-05T09:00"), D("15"))
        await settle(hub)
        bill = await engine(hub).create("a1", BillPeriod(t("2025-07-01T00:00").date(),
                                                         t("2025-08-01T00:00").date()))
        lines = {(line.component, line.key): line for line in bill.lines}

        async def stretches(key: str) -> list[list[tuple[str, str, Decimal]]]:
            trace = await engine(hub).trace(bill.bill_id, lines[("energy", key)].no)
            for item in trace:
                assert sum(D(s["quantity"]) for s in item["segments"]) == D(item["quantity"])
                assert all(s["band"] == key for s in item["segments"])
            return [[(s["start"][5:16], s["end"][5:16], D(s["quantity"]))
                     for s in item["segments"]] for item in trace]

        assert await stretches("peak") == [
            [("07-01T10:00", "07-01T11:00", 2), ("07-01T14:00", "07-01T19:00", 10)],
            [("07-04T18:00", "07-04T19:00", 1)]]
        assert await stretches("flat") == [
            [("07-01T08:00", "07-01T10:00", 4), ("07-01T12:00", "07-01T14:00", 4),
             ("07-01T19:00", "07-02T00:00", 10)],
            [("07-04T19:00", "07-05T00:00", 5), ("07-05T08:00", "07-05T09:00", 1)]]
        assert await stretches("valley") == [
            [("07-01T06:00", "07-01T08:00", 4), ("07-02T00:00", "07-02T06:00", 12)],
            [("07-05T00:00", "07-05T08:00", 8)]]
        trace = await engine(hub).trace(bill.bill_id, lines[("energy", "sharp")].no)
        assert trace[0]["start"] == "2025-07-01T06:00:00+08:00"
        assert trace[0]["end"] == "2025-07-02T06:00:00+08:00"
        # a tier surcharge comes from the period's running total, not from the clock
        use(hub, "e2", t("2025-07-16T00:00"), t("2025-07-17T00:00"), D("400"))
        await settle(hub)
        other = await engine(hub).create("a2", BillPeriod(t("2025-07-15T00:00").date(),
                                                          t("2025-08-15T00:00").date()))
        tier = next(line for line in other.lines if line.component == "tier_surcharge")
        traced = await engine(hub).trace(other.bill_id, tier.no)
        assert traced and all("segments" not in item for item in traced)
