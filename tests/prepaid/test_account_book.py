"""Accounts changed at runtime: kept across restarts; hub.yaml wins only when it changes."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from control_support import simulator, wait_for
from money_support import config, meters_yaml, running_hub

from hub.core import Context, Hub
from hub.exceptions import ServiceValidationError
from hub.ledger.book import AccountBook
from hub.ledger.ledger import Ledger

ACCOUNTS = """
accounts:
  - {id: r1, name: 张三, low_balance: [20, 5], overdraft: 0, area: 20}
  - {id: r2, name: 李四}
"""


def book(hub: Hub) -> AccountBook:
    return hub.component("accounts", AccountBook)


async def call(hub: Hub, service: str, data: dict[str, object]) -> object:
    async with asyncio.timeout(10):
        return await hub.services.call("account", service, data, return_response=True,
                                       context=Context(user_id="clerk"))


async def test_runtime_change_survives_a_restart_until_yaml_changes_that_field(
        tmp_path: Path) -> None:
    text = config(ACCOUNTS)
    async with running_hub(tmp_path, text) as hub:
        await call(hub, "update", {"account_id": "r1",
                                   "changes": {"low_balance": [30, 10], "name": "张三丰"}})
        account = book(hub).accounts["r1"]
        assert account.thresholds.low == (Decimal(30), Decimal(10))
        assert hub.states.get("account.r1").attributes["name"] == "张三丰"  # type: ignore[union-attr]
    async with running_hub(tmp_path, text) as hub:  # restart, same hub.yaml
        account = book(hub).accounts["r1"]
        assert account.thresholds.low == (Decimal(30), Decimal(10))
        assert account.name == "张三丰"
    # the landlord edits hub.yaml: low_balance changed there, the name did not
    edited = text.replace("low_balance: [20, 5]", "low_balance: [50]")
    async with running_hub(tmp_path, edited) as hub:
        account = book(hub).accounts["r1"]
        assert account.thresholds.low == (Decimal(50),)  # hub.yaml's newer edit wins
        assert account.name == "张三丰"  # the runtime edit of another field stays
        assert "low_balance" not in book(hub).runtime.get("r1", {})


async def test_bad_changes_are_refused_and_change_nothing(tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(ACCOUNTS)) as hub:
        with pytest.raises(ServiceValidationError, match=r"changes\.low_balance"):
            await call(hub, "update", {"account_id": "r1", "changes": {"low_balance": "x"}})
        with pytest.raises(ServiceValidationError, match="unknown account 'nope'"):
            await call(hub, "update", {"account_id": "nope", "changes": {"name": "x"}})
        with pytest.raises(ServiceValidationError, match="unknown key 'nmae'"):
            await call(hub, "update", {"account_id": "r1", "changes": {"nmae": "x"}})
        for changes, message in (
                ({"max_recharge": "-1"}, "the largest recharge is at least 0.01, got -1.00"),
                ({"max_recharge": "0"}, "the largest recharge is at least 0.01, got 0.00"),
                ({"deposit": "-500"}, "a deposit is at least 0.00, got -500.00"),
                ({"emergency_credit": {"amount": "-50"}},
                 "emergency credit is at least 0.00, got -50.00")):
            with pytest.raises(ServiceValidationError, match=message):
                await call(hub, "update", {"account_id": "r1", "changes": changes})
        assert book(hub).accounts["r1"].thresholds.low == (Decimal(20), Decimal(5))
        assert book(hub).runtime == {}


async def test_opening_balance_is_posted_once_when_the_account_starts(tmp_path: Path) -> None:
    text = config(ACCOUNTS)
    async with running_hub(tmp_path, text) as hub:
        ledger = hub.component("ledger", Ledger)
        await call(hub, "create", {"account": {"id": "r9", "opening_balance": "30"}})
        async with asyncio.timeout(10):
            while ledger.balance("r9") != Decimal(30):
                await asyncio.sleep(0.01)
        entry = (await ledger.entries("r9", limit=None))[0]
        assert (entry.kind, entry.operator, entry.context.user_id) == (
            "adjustment", "clerk", "clerk")
        with pytest.raises(ServiceValidationError, match=r"changes\.opening_balance: the "
                           r"opening balance .* account\.adjust"):
            await call(hub, "update", {"account_id": "r1", "changes": {"opening_balance": 55}})
        assert book(hub).runtime == {}
    async with running_hub(tmp_path, text) as hub:  # not posted again at start-up
        ledger = hub.component("ledger", Ledger)
        assert ledger.balance("r9") == Decimal(30)
        assert len(await ledger.entries("r9", limit=None)) == 1


async def test_created_account_persists_and_yields_to_hub_yaml(tmp_path: Path) -> None:
    text = config(ACCOUNTS)
    async with running_hub(tmp_path, text) as hub:
        await call(hub, "create", {"account": {"id": "r9", "name": "新租客", "persons": 2}})
        with pytest.raises(ServiceValidationError, match="already exists"):
            await call(hub, "create", {"account": {"id": "r9"}})
        assert hub.states.get("account.r9") is not None
    async with running_hub(tmp_path, text) as hub:
        assert book(hub).accounts["r9"].persons == 2
    with_r9 = text + "  - {id: r9, name: 正式租客}\n"
    async with running_hub(tmp_path, with_r9) as hub:
        assert book(hub).accounts["r9"].name == "正式租客"
        assert book(hub).accounts["r9"].persons is None


async def test_revert_goes_back_to_hub_yaml(tmp_path: Path) -> None:
    text = config(ACCOUNTS)
    async with running_hub(tmp_path, text) as hub:
        await call(hub, "update", {"account_id": "r2", "changes": {"persons": 3, "area": 15}})
        await call(hub, "revert", {"account_id": "r2", "fields": ["persons"]})
        assert book(hub).accounts["r2"].persons is None
        assert book(hub).accounts["r2"].area == Decimal(15)
        with pytest.raises(ServiceValidationError,
                           match=r"fields: 'nonexistent' is not an account field \(fields: "):
            await call(hub, "revert", {"account_id": "r2", "fields": ["area", "nonexistent"]})
        with pytest.raises(ServiceValidationError, match="unknown account 'r_zz'"):
            await call(hub, "revert", {"account_id": "r_zz"})
        assert book(hub).accounts["r2"].area == Decimal(15)  # nothing reverted
    async with running_hub(tmp_path, text) as hub:
        assert book(hub).accounts["r2"].persons is None
        assert book(hub).accounts["r2"].area == Decimal(15)


async def test_raising_the_overdraft_at_runtime_closes_a_tripped_meter(tmp_path: Path) -> None:
    accounts = """
    accounts:
      - {id: r1, opening_balance: -5.00}
    """
    text = config(accounts, meters_yaml([("m1", "r1", None)]))
    async with running_hub(tmp_path, text) as hub:
        power = simulator(hub, "m1")
        await wait_for(lambda: not power.relay_closed)  # -5 yuan: in arrears, cut off
        await call(hub, "update", {"account_id": "r1", "changes": {"overdraft": 10}})
        await wait_for(lambda: power.relay_closed)  # now within the 10 yuan overdraft


async def test_runtime_changes_reach_charging_and_thresholds(tmp_path: Path) -> None:
    from money_support import consumption, settle, t

    accounts = """
    accounts:
      - {id: r1, opening_balance: -10.00}
    tariffs:
      - {id: one, type: flat, price: 1.00}
    """
    text = config(accounts, meters_yaml([("m1", "r1", "one")]))
    async with running_hub(tmp_path, text) as hub:
        events: list[str] = []
        hub.bus.listen("balance_exhausted", lambda e: events.append(e.data["account_id"]))
        await call(hub, "update", {"account_id": "r1", "changes": {"overdraft": 30}})
        # 30 kWh at 1.00: from -10.00 to -40.00, past the new trip level of -30.00
        consumption(hub, "m1", t("2026-03-01T00:00"), t("2026-03-01T01:00"), "30")
        await settle(hub)
        assert events == ["r1"]
        # postpaid from now on: readings are no longer charged to the balance at once
        await call(hub, "update", {"account_id": "r1", "changes": {"billing": "postpaid"}})
        ledger = hub.component("ledger", Ledger)
        before = ledger.balance("r1")
        consumption(hub, "m1", t("2026-03-01T01:00"), t("2026-03-01T02:00"), "5")
        await settle(hub)
        assert ledger.balance("r1") == before


def test_every_demo_account_validates_again_to_itself(tmp_path: Path) -> None:
    """The book re-validates YAML entries merged with runtime changes: validating a validated
    entry must give it back (a time range or a duration already parsed is accepted)."""
    from hub.bootstrap import prepare
    from hub.ledger.accounts import Account
    from hub.ledger.book import _validate, canonical

    demo = Path(__file__).resolve().parents[2] / "hub" / "demo" / "hub.yaml"
    prepared = prepare(demo, data_dir=tmp_path)
    entries = prepared.config.block("accounts")
    assert any("nights" in (e.get("trip_policy") or {}).get("protection", {}) for e in entries)
    for entry in entries:
        again = _validate(dict(entry))
        assert canonical(again) == canonical(entry), entry["id"]
        assert Account.from_config(again) == Account.from_config(entry)
