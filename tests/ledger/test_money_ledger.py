"""The ledger: idempotent posts, refusals that change nothing, reversals, audit, contexts."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from common import bounded, settle
from money_support import config, meters_yaml, running_hub

from hub.core import Context, Hub
from hub.exceptions import ServiceValidationError
from hub.ledger.entries import EntryKind, LedgerError
from hub.ledger.ledger import Ledger

D = Decimal

CFG = config(meters_yaml([("m1", "a1", "flat")]), """
accounts:
  - {id: a1, name: 张三, max_recharge: 1000, emergency_credit: {amount: 15}}
  - {id: a2, name: 李四}
  - {id: a3, billing: postpaid}
tariffs:
  - {id: flat, type: flat, price: 1.00}
""")


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    async with running_hub(tmp_path, CFG) as instance:
        yield instance


async def recharge(hub: Hub, account: str, amount: str, reference: str,
                   method: str = "wechat", context: Context | None = None) -> dict[str, object]:
    result: dict[str, object] = await hub.services.call(
        "account", "recharge", {"account_id": account, "amount": amount, "method": method,
                                "reference": reference}, return_response=True, context=context)
    return result


async def count(ledger: Ledger, account: str) -> int:
    return len(await ledger.entries(account, limit=None))


@bounded()
async def test_a_payment_reference_counts_once(hub: Hub) -> None:
    ledger = hub.component("ledger", Ledger)
    async with asyncio.timeout(10):
        first = await recharge(hub, "a1", "50.00", "wx-1")
        again = await recharge(hub, "a1", "50", "wx-1")
        assert first["duplicate"] is False and again["duplicate"] is True
        assert first["entry"] == again["entry"]
        assert ledger.balance("a1") == D("50.00")
        assert await count(ledger, "a1") == 1
        state = hub.states.get("account.a1")
        assert state is not None and state.state == D("50.00")
        assert state.attributes["last_entry"]["kind"] == "recharge"


@pytest.mark.parametrize(("data", "needle"), [
    ({"amount": "-5"}, "above 0.00"),
    ({"amount": "0"}, "above 0.00"),
    ({"amount": "1000.01"}, "maximum recharge 1000.00"),
    ({"amount": "1.001"}, "at most 2 decimals"),
    # money a person types is plain digits: never 1,000 yuan from "1e3"
    ({"amount": "1e3"}, "expected yuan as digits with at most 2 decimals, like 12.5, 12.50 "
                        "or 1000, got '1e3'"),
    ({"amount": D("1E+3")}, "expected yuan as digits with at most 2 decimals"),  # JSON 1e3
    ({"amount": "1,000"}, "got '1,000'"),
    ({"amount": ".5"}, "got '.5'"),
    ({"amount": "１０"}, "got '１０'"),
    ({"account_id": "nobody"}, "unknown account 'nobody'"),
    ({"method": "bitcoin"}, "method"),
    ({"reference": ""}, "reference"),
    ({"reference": "   "}, "expected a reference of 1 to 128 characters, got 0"),
    ({"reference": "wx\u0000-1"}, "a reference is printable text"),
])
@bounded()
async def test_bad_recharges_are_refused_and_change_nothing(hub: Hub, data: dict[str, object],
                                                            needle: str) -> None:
    ledger = hub.component("ledger", Ledger)
    payload = {"account_id": "a1", "amount": "10", "method": "cash", "reference": "r1",
               **data}
    async with asyncio.timeout(10):
        with pytest.raises(ServiceValidationError) as caught:
            await hub.services.call("account", "recharge", payload)
        assert needle in str(caught.value)
        assert ledger.balance("a1") == 0 and await count(ledger, "a1") == 0


@pytest.mark.parametrize(("typed", "amount"), [
    ("12.5", "12.50"), ("12.50", "12.50"), ("1000", "1000.00"), (" 7 ", "7.00")])
@bounded()
async def test_money_typed_as_digits_is_accepted(hub: Hub, typed: str, amount: str) -> None:
    async with asyncio.timeout(10):
        result = await recharge(hub, "a1", typed, f"typed-{typed.strip()}")
    assert hub.component("ledger", Ledger).balance("a1") == D(amount)
    assert result["duplicate"] is False


@bounded()
async def test_a_reference_pasted_with_spaces_or_a_line_break_is_the_same_payment(
        hub: Hub) -> None:
    ledger = hub.component("ledger", Ledger)
    async with asyncio.timeout(10):
        first = await recharge(hub, "a1", "50", "DEMO-1")
        for pasted in ("DEMO-1 ", "DEMO-1\n", "\tDEMO-1"):
            again = await recharge(hub, "a1", "50", pasted)
            assert again["duplicate"] is True and again["entry"] == first["entry"]
        assert ledger.balance("a1") == D("50.00") and await count(ledger, "a1") == 1


@bounded()
async def test_a_repeated_reference_with_another_amount_is_refused(hub: Hub) -> None:
    ledger = hub.component("ledger", Ledger)
    async with asyncio.timeout(10):
        await recharge(hub, "a1", "20", "alipay-9")
        for amount, account in (("21", "a1"), ("20", "a2")):
            with pytest.raises(ServiceValidationError, match=r"already used for 20\.00"):
                await recharge(hub, account, amount, "alipay-9")
        assert ledger.balance("a1") == D("20.00") and ledger.balance("a2") == 0
        assert await count(ledger, "a1") == 1 and await count(ledger, "a2") == 0


@bounded()
async def test_refund_adjust_and_reversal(hub: Hub) -> None:
    ledger = hub.component("ledger", Ledger)
    call = hub.services.call
    async with asyncio.timeout(10):
        paid = await recharge(hub, "a1", "100", "bank-1", "bank")
        with pytest.raises(ServiceValidationError,
                           match=r"more than the refundable balance 100\.00"):
            await call("account", "refund", {"account_id": "a1", "amount": "100.01",
                                             "reference": "rf-1"})
        await call("account", "refund", {"account_id": "a1", "amount": "30",
                                         "reference": "rf-1", "reason": "overpaid"})
        with pytest.raises(ServiceValidationError, match="reason"):
            await call("account", "adjust", {"account_id": "a1", "amount": "5",
                                             "operator": "王"})
        with pytest.raises(ServiceValidationError, match="both are required"):
            await call("account", "adjust", {"account_id": "a1", "amount": "5",
                                             "reason": "  ", "operator": "王"})
        adjusted = await call("account", "adjust", {
            "account_id": "a1", "amount": "-2.50", "reason": "broken key card", "operator": "王",
            "reference": "adj-1"}, return_response=True)
        assert adjusted["entry"]["reason"] == "broken key card"
        assert adjusted["entry"]["operator"] == "王"
        assert ledger.balance("a1") == D("67.50")
        entry_id = paid["entry"]["id"]  # type: ignore[index]
        reversed_ = await call("account", "reverse", {"entry_id": entry_id, "reason": "bounced",
                                                      "operator": "王"}, return_response=True)
        assert reversed_["entry"]["amount"] == "-100.00"
        assert reversed_["entry"]["reverses"] == entry_id
        again = await call("account", "reverse", {"entry_id": entry_id, "reason": "bounced",
                                                  "operator": "王"}, return_response=True)
        assert again["duplicate"] is True and again["entry"]["id"] == reversed_["entry"]["id"]
        with pytest.raises(ServiceValidationError, match="itself a reversal"):
            await call("account", "reverse", {"entry_id": reversed_["entry"]["id"],
                                              "reason": "x", "operator": "王"})
        with pytest.raises(ServiceValidationError, match="unknown ledger entry"):
            await call("account", "reverse", {"entry_id": "nope", "reason": "x",
                                              "operator": "王"})
        assert ledger.balance("a1") == D("-32.50")
        entries = await ledger.entries("a1", limit=None)
        assert sum((e.amount for e in entries), D(0)) == ledger.balance("a1")
        assert [e.kind for e in reversed(entries)] == [
            "recharge", "refund", "adjustment", "reversal"]
        assert (await ledger.audit()).ok


@bounded()
async def test_emergency_credit_once_per_period_repaid_by_the_next_recharge(hub: Hub) -> None:
    ledger = hub.component("ledger", Ledger)
    call = hub.services.call
    async with asyncio.timeout(10):
        taken = await call("account", "emergency_credit", {"account_id": "a1"},
                           return_response=True)
        assert taken["entry"]["amount"] == "15.00" and ledger.balance("a1") == D("15.00")
        assert hub.states.get("account.a1").attributes["emergency_credit_used"] == D("15.00")
        with pytest.raises(ServiceValidationError, match="already took its emergency credit"):
            await call("account", "emergency_credit", {"account_id": "a1"})
        with pytest.raises(ServiceValidationError, match="postpaid"):
            await call("account", "emergency_credit", {"account_id": "a3"})
        await recharge(hub, "a1", "10", "cash-1", "cash")
        # the recharge repays the emergency credit as far as it goes
        assert ledger.balance("a1") == D("15.00")
        assert ledger.emergency_used("a1") == D("5.00")
        await recharge(hub, "a1", "10", "cash-2", "cash")
        assert ledger.balance("a1") == D("20.00") and ledger.emergency_used("a1") == 0
        kinds = [e.kind for e in reversed(await ledger.entries("a1", limit=None))]
        assert kinds == ["emergency_credit", "recharge", "emergency_repay", "recharge",
                         "emergency_repay"]


@bounded()
async def test_reversing_emergency_credit_cancels_what_is_owed_for_it(tmp_path: Path) -> None:
    call_args = {"reason": "given by mistake", "operator": "bob"}
    async with running_hub(tmp_path, CFG) as hub:
        ledger = hub.component("ledger", Ledger)
        call = hub.services.call
        async with asyncio.timeout(10):
            taken = await call("account", "emergency_credit", {"account_id": "a1"},
                               return_response=True)
            await call("account", "reverse", {"entry_id": taken["entry"]["id"], **call_args})
            assert ledger.balance("a1") == 0 and ledger.emergency_used("a1") == 0
            await recharge(hub, "a1", "20", "pay-1", "cash")
            assert ledger.balance("a1") == D("20.00")  # nothing taken back a second time
    # a repayment reversed is owed again, also as the ledger is read at start-up
    two = CFG.replace("{id: a2, name: 李四}",
                      "{id: a2, name: 李四, emergency_credit: {amount: 16}}")
    async with running_hub(tmp_path, two) as hub:
        ledger = hub.component("ledger", Ledger)
        call = hub.services.call
        async with asyncio.timeout(10):
            assert ledger.emergency_used("a1") == 0
            taken = await call("account", "emergency_credit", {"account_id": "a2"},
                               return_response=True)
            assert taken["entry"]["amount"] == "16.00"
            await recharge(hub, "a2", "10", "pay-2", "cash")
            assert ledger.emergency_used("a2") == D("6.00")
            repay = next(e for e in await ledger.entries("a2", limit=None)
                         if e.kind == "emergency_repay")
            await call("account", "reverse", {"entry_id": repay.id, **call_args})
            assert ledger.emergency_used("a2") == D("16.00")
    async with running_hub(tmp_path, two) as hub:
        ledger = hub.component("ledger", Ledger)
        assert ledger.emergency_used("a1") == 0
        assert ledger.emergency_used("a2") == D("16.00")
        assert ledger.balance("a2") == D("26.00")  # 16 + 10, the repayment undone


@bounded()
async def test_a_repaid_emergency_credit_is_reversed_only_after_its_repayment(
        hub: Hub) -> None:
    ledger = hub.component("ledger", Ledger)
    call = hub.services.call
    why = {"reason": "given by mistake", "operator": "bob"}
    async with asyncio.timeout(10):
        taken = await call("account", "emergency_credit", {"account_id": "a1"},
                           return_response=True)
        await recharge(hub, "a1", "10", "pay-1", "cash")  # repays 10 of the 15
        assert ledger.balance("a1") == D("15.00") and ledger.emergency_used("a1") == D("5.00")
        with pytest.raises(ServiceValidationError, match="has been repaid since, in part or "
                           "in full: reverse those emergency_repay entries first"):
            await call("account", "reverse", {"entry_id": taken["entry"]["id"], **why})
        assert ledger.balance("a1") == D("15.00") and ledger.emergency_used("a1") == D("5.00")
        repay = next(e for e in await ledger.entries("a1", limit=None)
                     if e.kind == "emergency_repay")
        await call("account", "reverse", {"entry_id": repay.id, **why})
        assert ledger.balance("a1") == D("25.00") and ledger.emergency_used("a1") == D("15.00")
        await call("account", "reverse", {"entry_id": taken["entry"]["id"], **why})
        # the tenant keeps exactly the 10 paid, owes nothing, and cannot refund more
        assert ledger.balance("a1") == D("10.00") and ledger.emergency_used("a1") == 0
        with pytest.raises(ServiceValidationError):
            await call("account", "refund", {"account_id": "a1", "amount": "10.01",
                                             "reference": "back-1"})
        assert ledger.balance("a1") == D("10.00")


@bounded()
async def test_post_api_for_other_parts(hub: Hub) -> None:
    ledger = hub.component("ledger", Ledger)
    async with asyncio.timeout(10):
        share = await ledger.post("a2", EntryKind.SHARE, D("-3.33"), key="share:stair:2025-07",
                                  detail={"group": "stairwell"})
        same = await ledger.post("a2", EntryKind.SHARE, D("-3.33"), key="share:stair:2025-07")
        assert share.created and not same.created and same.entry.id == share.entry.id
        assert ledger.balance("a2") == D("-3.33")
        assert (await ledger.find("share:stair:2025-07")) == share.entry
        for kind, amount, needle in ((EntryKind.SHARE, "3.33", "debit"),
                                     (EntryKind.RECHARGE, "-1", "credit"),
                                     (EntryKind.FEE, "0", "other than 0"),
                                     (EntryKind.FEE, "-0.001", "2 decimals")):
            with pytest.raises(LedgerError, match=needle):
                await ledger.post("a2", kind, D(amount), key=f"bad:{kind}:{amount}")
        with pytest.raises(LedgerError, match="unknown account"):
            await ledger.post("ghost", EntryKind.FEE, D("-1"), key="bad:ghost")
        assert ledger.balance("a2") == D("-3.33")


@bounded()
async def test_every_entry_carries_the_context_that_caused_it(hub: Hub) -> None:
    ledger = hub.component("ledger", Ledger)
    parent = Context(user_id="cashier-7", origin="api")
    context = parent.child("test")
    async with asyncio.timeout(10):
        result = await recharge(hub, "a1", "5", "c-ctx", "cash", context=context)
        entry = await ledger.entry(result["entry"]["id"])  # type: ignore[index]
    assert entry is not None
    assert entry.context.id == context.id
    assert entry.context.parent_id == parent.id
    assert entry.context.user_id == "cashier-7"


@bounded()
async def test_audit_finds_a_tampered_running_total(tmp_path: Path) -> None:
    async with running_hub(tmp_path, CFG) as hub:
        ledger = hub.component("ledger", Ledger)
        async with asyncio.timeout(10):
            await recharge(hub, "a1", "40", "t-1")
            await recharge(hub, "a2", "60", "t-2")
            await settle(hub)
            assert (await ledger.audit()).ok
    db = tmp_path / "data" / "meterhub.db"
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE account_balance SET balance = balance + 1 WHERE account_id = 'a1'")
    conn.close()
    async with running_hub(tmp_path, CFG) as hub:
        report = await hub.component("ledger", Ledger).audit()
    assert not report.ok
    assert [(p.account_id, p.ledger_sum, p.running_total) for p in report.problems] == [
        ("a1", 4000, 4001)]
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE account_balance SET balance = 4000 WHERE account_id = 'a1'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE ledger_entry SET amount = 6100 WHERE account_id = 'a2'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM ledger_entry WHERE account_id = 'a2'")
        # a deliberate forger drops the guard first: the audit still finds the change
        conn.execute("DROP TRIGGER ledger_entry_no_update")
        conn.execute("UPDATE ledger_entry SET amount = 6100 WHERE account_id = 'a2'")
    conn.close()
    from hub.storage import audit_file

    problems, accounts = audit_file(db)
    assert accounts == 2
    assert [(p.account_id, p.ledger_sum, p.running_total, p.broken_chain)
            for p in problems] == [("a2", 6100, 6000, 1)]
