"""Balance after every read: exact per-line charges, replays, re-splits, restarts, the sim."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from common import bounded, collect, settle, t
from money_support import SIM, config, consumption, meters_yaml, running_hub

from hub.billing.tariff import Usage, round_fen
from hub.billing.tariffs import TariffBook
from hub.core import Context, Event
from hub.events import EVENT_BILLING_ERROR
from hub.ledger.ledger import Ledger
from hub.metering.service import MeteringService

D = Decimal

CFG = config(meters_yaml([("m1", "a1", "flat"), ("m2", "a2", "tiers")]), """
accounts:
  - {id: a1}
  - {id: a2}
tariffs:
  - {id: flat, type: flat, price: 1.00}
  - id: tiers
    type: tiered
    tier_period: monthly
    tiers: [{up_to: 10, price: 1.00}, {up_to: 20, price: 2.00}, {price: 3.0001}]
""")


async def charges(ledger: Ledger, account: str) -> list[Decimal]:
    entries = await ledger.entries(account, kinds=["charge"], limit=None, newest_first=False)
    return [-entry.amount for entry in entries]


@bounded()
async def test_each_reading_is_charged_the_change_of_the_rounded_cumulative(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, CFG) as hub:
        ledger = hub.component("ledger", Ledger)
        async with asyncio.timeout(20):
            for hour in range(3):
                consumption(hub, "m1", t("2025-07-01T00:00") + timedelta(hours=hour),
                            t("2025-07-01T01:00") + timedelta(hours=hour), "0.333")
                await settle(hub)
            assert await charges(ledger, "a1") == [D("0.33"), D("0.34"), D("0.33")]
            assert ledger.balance("a1") == D("-1.00")


@bounded(60)
async def test_a_replayed_consumption_event_is_charged_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A replay in the same batch as the original, and one after it, charge once; no batch fails.

    Without the replay check the original and its replay post the same idempotency key in
    one transaction: the batch fails, is retried and both are dropped (money lost) — the
    later replay would then charge once and hide it. So: one charge entry for the reading,
    the balance, and no failed batch (no ledger error logged, no ``billing_error``).
    """
    caplog.set_level(logging.WARNING, logger="hub")
    async with running_hub(tmp_path, CFG) as hub:
        ledger = hub.component("ledger", Ledger)
        errors = collect(hub, EVENT_BILLING_ERROR)
        async with asyncio.timeout(40):
            reading = consumption(hub, "m1", t("2025-07-01T00:00"), t("2025-07-01T01:00"), "2")
            consumption(hub, "m1", t("2025-07-01T00:00"), t("2025-07-01T01:00"), "2",
                        reading_id=reading)  # queued with the original: one batch
            await settle(hub)
            assert ledger.balance("a1") == D("-2.00")  # before any later replay can hide a loss
            consumption(hub, "m1", t("2025-07-01T00:00"), t("2025-07-01T01:00"), "2",
                        reading_id=reading)  # a replay after the commit
            await settle(hub)
        entries = await ledger.entries("a1", kinds=["charge"], limit=None)
        assert [entry.key for entry in entries] == [f"charge:{reading}:2025-07-01"]
        assert entries[0].amount == D("-2.00")
        assert entries[0].detail["lines"] == {"flat:energy:usage": ["2", "2.00"]}
        assert ledger.balance("a1") == D("-2.00")
        assert errors == []
    failed = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert failed == [], [record.getMessage() for record in failed]


@bounded()
async def test_a_late_reading_that_re_splits_an_interval_keeps_the_total(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, CFG) as hub:
        ledger = hub.component("ledger", Ledger)
        async with asyncio.timeout(20):
            consumption(hub, "m1", t("2025-07-01T00:00"), t("2025-07-01T02:00"), "2.5")
            await settle(hub)
            hub.bus.fire("consumption", {"meter_id": "m1", "reading_id": "late", "intervals": (
                {"register": "energy_import_total", "start": t("2025-07-01T00:00"),
                 "end": t("2025-07-01T02:00"), "quantity": D("-2.5")},
                {"register": "energy_import_total", "start": t("2025-07-01T00:00"),
                 "end": t("2025-07-01T01:00"), "quantity": D("0.7")},
                {"register": "energy_import_total", "start": t("2025-07-01T01:00"),
                 "end": t("2025-07-01T02:00"), "quantity": D("1.8")})}, context=Context())
            await settle(hub)
        assert ledger.balance("a1") == D("-2.50")
        assert await charges(ledger, "a1") == [D("2.50")]  # the re-split charged nothing


@bounded()
async def test_a_restart_continues_charging_exactly(tmp_path: Path) -> None:
    usage = [(t("2025-07-01T00:00") + timedelta(hours=h), D("3.337") + D(h) / 1000)
             for h in range(15)]
    async with running_hub(tmp_path, CFG) as hub:
        async with asyncio.timeout(20):
            for start, quantity in usage[:7]:
                consumption(hub, "m2", start, start + timedelta(hours=1), quantity)
            await settle(hub)
            before = hub.component("ledger", Ledger).balance("a2")
        tariff = hub.component("tariffs", TariffBook).get("tiers")
    async with running_hub(tmp_path, CFG) as hub:
        ledger = hub.component("ledger", Ledger)
        assert ledger.balance("a2") == before
        async with asyncio.timeout(20):
            for start, quantity in usage[7:]:
                consumption(hub, "m2", start, start + timedelta(hours=1), quantity)
            await settle(hub)
        charged = await charges(ledger, "a2")
    # the same usage priced in one go, each line rounded once
    lines = tariff.charges([Usage(s, s + timedelta(hours=1), q) for s, q in usage])
    assert {line.key for line in lines} == {"tier1", "tier2", "tier3"}
    expected = sum((round_fen(line.amount) for line in lines), D("0.00"))
    assert sum(charged, D("0.00")) == expected == -ledger.balance("a2")
    assert len(charged) == 15




@bounded()
async def test_reads_on_the_sim_link_are_charged_end_to_end(tmp_path: Path) -> None:
    async with running_hub(tmp_path, SIM) as hub:
        service = hub.component("metering", MeteringService)
        ledger = hub.component("ledger", Ledger)
        used: list[Event] = collect(hub, "consumption")
        async with asyncio.timeout(20):
            await hub.services.call("account", "recharge", {
                "account_id": "r101", "amount": "100", "method": "cash", "reference": "p"})
            readings = []
            for _ in range(5):
                readings.append(await service.read("r101_e"))
                await asyncio.sleep(0.05)
            await settle(hub)
            while len(used) < 4:
                await asyncio.sleep(0.02)
            await settle(hub)
        total = sum((D(i["quantity"]) for e in used for i in e.data["intervals"]
                     if i["register"] == "energy_import_total"), D(0))
        first, last = readings[0], readings[-1]
        assert total == (last.registers["energy_import_total"]
                         - first.registers["energy_import_total"]) > 0
        entries = await ledger.entries("r101", kinds=["charge"], limit=None)
        assert {e.detail["reading_id"] for e in entries} <= {r.id for r in readings[1:]}
        charged = sum((-e.amount for e in entries), D("0.00"))
        assert charged == round_fen(total * D("0.6"))
        assert ledger.balance("r101") == D("100.00") - charged
        state = hub.states.get("account.r101")
        assert state is not None and state.state == ledger.balance("r101")
        assert (await ledger.audit()).ok
