"""Thresholds after every ledger change: each level fires once per crossing, with its cause."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from common import bounded, collect, settle, t
from money_support import config, consumption, meters_yaml, running_hub

from hub.core import Context
from hub.ledger.ledger import Ledger

D = Decimal

CFG = config(meters_yaml([("m1", "a1", "flat"), ("m2", "a2", "flat"), ("m3", "a3", None),
                          ("m4", "a4", "flat")]), """
accounts:
  - {id: a1, name: 张三, low_balance: [20, 5]}
  - {id: a2, low_balance: [10], overdraft: 3}
  - {id: a3}
  - {id: a4, billing: postpaid}
tariffs:
  - {id: flat, type: flat, price: 1.00}
""")


@bounded()
async def test_each_level_fires_once_per_crossing_with_the_context_of_its_cause(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, CFG) as hub:
        seen = collect(hub, "balance_low", "balance_exhausted", "balance_restored")
        ledger = hub.component("ledger", Ledger)
        call = hub.services.call
        async with asyncio.timeout(20):
            await call("account", "recharge", {"account_id": "a1", "amount": "30",
                                               "method": "cash", "reference": "p1"})
            await settle(hub)
            seen.clear()  # 0 -> 30 restored the account (a new account starts at 0)
            causes: dict[str, str] = {}
            hour = t("2025-07-01T00:00")
            for step in range(12):  # 30 -> -6 in steps of 3
                reading = consumption(hub, "m1", hour, hour.replace(hour=step + 1), "3")
                hour = hour.replace(hour=step + 1)
                causes[reading] = reading
                await settle(hub)
            assert ledger.balance("a1") == D("-6.00")
            assert [(e.event_type, e.data.get("level"), e.data["balance"]) for e in seen] == [
                ("balance_low", D("20.00"), D("18.00")),
                ("balance_low", D("5.00"), D("3.00")),
                ("balance_exhausted", D("0.00"), D("0.00")),
            ]
            # each event carries the context of the consumption event that crossed the level
            entries = {e.id: e for e in await ledger.entries("a1", limit=None)}
            for event in seen:
                entry = entries[event.data["entry_id"]]
                assert event.context.id == entry.context.id
                assert entry.detail["reading_id"] in causes
            seen.clear()
            await call("account", "recharge", {"account_id": "a1", "amount": "50",
                                               "method": "cash", "reference": "p2"},
                       context=Context(user_id="clerk"))
            assert [(e.event_type, e.context.user_id) for e in seen] == [
                ("balance_restored", "clerk")]
            seen.clear()
            consumption(hub, "m1", t("2025-07-02T00:00"), t("2025-07-02T01:00"), "40")
            await settle(hub)
            # one entry crossing two levels fires both, once each
            assert [(e.event_type, e.data.get("level")) for e in seen] == [
                ("balance_low", D("20.00")), ("balance_low", D("5.00"))]
            state = hub.states.get("account.a1")
            assert state is not None and state.state == D("4.00")
            assert state.attributes["in_arrears"] is False
            assert state.attributes["levels"] == ["20.00", "5.00"]


@bounded()
async def test_exhausted_at_the_overdraft_limit(tmp_path: Path) -> None:
    async with running_hub(tmp_path, CFG) as hub:
        seen = collect(hub, "balance_low", "balance_exhausted")
        async with asyncio.timeout(20):
            await hub.services.call("account", "recharge", {
                "account_id": "a2", "amount": "12", "method": "cash", "reference": "q"})
            for hour in range(8):  # 12 -> -4, 2 per hour
                consumption(hub, "m2", t("2025-07-01T00:00").replace(hour=hour),
                            t("2025-07-01T00:00").replace(hour=hour + 1), "2")
            await settle(hub)
        assert [(e.event_type, e.data["level"], e.data["balance"]) for e in seen] == [
            ("balance_low", D("10.00"), D("10.00")),
            ("balance_exhausted", D("-3.00"), D("-4.00")),
        ]
        state = hub.states.get("account.a2")
        assert state is not None and state.attributes["in_arrears"] is True
        assert state.attributes["trip_level"] == D("-3.00")


@bounded()
async def test_a_meter_without_tariff_is_never_charged_a_default_price(tmp_path: Path) -> None:
    async with running_hub(tmp_path, CFG) as hub:
        errors = collect(hub, "billing_error")
        async with asyncio.timeout(20):
            reading = consumption(hub, "m3", t("2025-07-01T00:00"), t("2025-07-01T01:00"), "5")
            await settle(hub)
        ledger = hub.component("ledger", Ledger)
        assert ledger.balance("a3") == 0
        assert await ledger.entries("a3") == []
        assert len(errors) == 1
        assert errors[0].data["meter_id"] == "m3" and errors[0].data["reading_id"] == reading
        assert "has no tariff" in errors[0].data["error"]


@bounded()
async def test_postpaid_accounts_are_not_charged_per_read_nor_warned(tmp_path: Path) -> None:
    async with running_hub(tmp_path, CFG) as hub:
        seen = collect(hub, "balance_low", "balance_exhausted")
        async with asyncio.timeout(20):
            consumption(hub, "m4", t("2025-07-01T00:00"), t("2025-07-01T01:00"), "5")
            await settle(hub)
        ledger = hub.component("ledger", Ledger)
        assert ledger.balance("a4") == 0 and not seen
        from hub.billing.charger import Charger

        book = hub.component("charging", Charger).book
        assert book is not None
        assert book.pending_charged("a4") == D("5.00")


@bounded()
async def test_an_opening_balance_is_where_an_account_starts_not_a_payment(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, CFG) as hub:
        seen = collect(hub, "balance_low", "balance_exhausted", "balance_restored",
                       "payment_received")
        ledger = hub.component("ledger", Ledger)
        openings = {"o_full": "100", "o_low": "8", "o_lower": "3", "o_owing": "-5"}
        async with asyncio.timeout(20):
            for account_id, opening in openings.items():
                await hub.services.call("account", "create", {"account": {
                    "id": account_id, "opening_balance": opening, "low_balance": [20, 5]}})
            while any(ledger.balance(a) != D(o) for a, o in openings.items()):
                await asyncio.sleep(0.01)
            await settle(hub)
        # nothing restored (none was ever exhausted) and nobody paid; a start below a level
        # is low once, at the lowest level it is under; a start in arrears is exhausted
        assert sorted((e.event_type, e.data["account_id"], e.data.get("level"))
                      for e in seen) == [
            ("balance_exhausted", "o_owing", D("0.00")),
            ("balance_low", "o_low", D("20.00")),
            ("balance_low", "o_lower", D("5.00")),
        ]
