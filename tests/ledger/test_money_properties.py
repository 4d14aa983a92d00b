"""Property tests of the ledger: references count once; a balance is the sum of its ledger."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Coroutine, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.ledger.entries import EntryKind, LedgerError, PostResult
from hub.ledger.ledger import Ledger
from hub.storage import Storage, StorageSettings

_T = TypeVar("_T")
D = Decimal
FEN = D("0.01")


class _Everyone(dict[str, Any]):
    """Accounts for the ledger: every id is known (each example uses fresh ids)."""

    def __contains__(self, key: object) -> bool:
        return True


class Rig:
    """A ledger on real storage with its own event loop, shared by the examples of a test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.loop = asyncio.new_event_loop()
        self.storage = Storage(StorageSettings(path=folder / "money.db", commit_interval=0.01),
                               time_zone="Asia/Shanghai")
        self.ledger = self.run(self._start())
        self.ids = itertools.count()

    async def _start(self) -> Ledger:
        await self.storage.start()
        ledger = Ledger(self.storage, _Everyone())
        await ledger.start()
        return ledger

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        async def bounded() -> _T:
            async with asyncio.timeout(30):
                return await coro
        return self.loop.run_until_complete(bounded())

    def account(self) -> str:
        return f"acct{next(self.ids)}"

    async def reopened(self) -> Ledger:
        """A second ledger loading the running totals from the database."""
        ledger = Ledger(self.storage, _Everyone())
        await ledger.start()
        await ledger.stop()
        return ledger

    def close(self) -> None:
        self.run(self.ledger.stop())
        self.run(self.storage.stop())
        self.loop.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    instance = Rig(tmp_path)
    yield instance
    instance.close()


money = st.integers(min_value=1, max_value=500_000).map(lambda fen: D(fen) * FEN)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payments=st.lists(st.tuples(st.integers(0, 5), money), min_size=1, max_size=12),
       repeats=st.lists(st.integers(0, 11), max_size=12), concurrent=st.booleans())
def test_a_payment_reference_applied_twice_changes_the_balance_once(
        rig: Rig, payments: list[tuple[int, Decimal]], repeats: list[int],
        concurrent: bool) -> None:
    account = rig.account()
    amount_of: dict[int, Decimal] = {}
    for ref, amount in payments:
        amount_of.setdefault(ref, amount)  # one payment per reference
    sequence = [ref for ref, _ in payments] + [payments[i % len(payments)][0] for i in repeats]

    async def apply() -> list[PostResult]:
        posts = [rig.ledger.post(account, EntryKind.RECHARGE, amount_of[ref],
                                 key=f"recharge:{account}:{ref}") for ref in sequence]
        if concurrent:
            return list(await asyncio.gather(*posts))
        return [await post for post in posts]

    results = rig.run(apply())
    assert rig.ledger.balance(account) == sum(amount_of.values(), D("0.00"))
    assert sum(1 for r in results if r.created) == len(amount_of)
    entries = rig.run(rig.ledger.entries(account, limit=None))
    assert len(entries) == len(amount_of)


operation = st.one_of(
    st.tuples(st.just("recharge"), st.integers(0, 4), money),
    st.tuples(st.just("refund"), st.integers(0, 4), money),
    st.tuples(st.just("adjust"), st.integers(0, 9),
              st.integers(-300_000, 300_000).filter(bool).map(lambda fen: D(fen) * FEN)),
    st.tuples(st.just("share"), st.integers(0, 9), money),
    st.tuples(st.just("fee"), st.integers(0, 9), money),
    st.tuples(st.just("emergency"), st.integers(0, 1), st.just(D("10.00"))),
    st.tuples(st.just("reverse"), st.integers(0, 30), st.just(D(0))),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.tuples(st.integers(0, 1), operation), min_size=1, max_size=30),
       chunk=st.integers(1, 8))
def test_every_balance_equals_the_sum_of_its_ledger(
        rig: Rig, ops: list[tuple[int, tuple[str, int, Decimal]]], chunk: int) -> None:
    accounts = [rig.account(), rig.account()]
    ledger = rig.ledger
    seen: list[str] = []

    def refund_check(amount: Decimal) -> Any:
        def check(balance: int) -> None:
            if D(balance) * FEN < amount:
                raise LedgerError("more than the balance")
        return check

    async def one(who: int, op: tuple[str, int, Decimal]) -> None:
        kind, ref, amount = op
        account = accounts[who]
        try:
            if kind == "recharge":
                result = await ledger.post(account, EntryKind.RECHARGE, amount,
                                           key=f"pay:{account}:{ref}")
            elif kind == "refund":
                result = await ledger.post(account, EntryKind.REFUND, -amount,
                                           key=f"refund:{account}:{ref}",
                                           check=refund_check(amount))
            elif kind == "adjust":
                result = await ledger.post(account, EntryKind.ADJUSTMENT, amount,
                                           key=f"adj:{account}:{ref}", reason="test",
                                           operator="hypothesis")
            elif kind in ("share", "fee"):
                result = await ledger.post(account, EntryKind(kind), -amount,
                                           key=f"{kind}:{account}:{ref}")
            elif kind == "emergency":
                result = await ledger.post(account, EntryKind.EMERGENCY, amount,
                                           key=f"emergency:{account}:{ref}")
            else:
                target = seen[ref % len(seen)] if seen and ref < 25 else "no-such-entry"
                result = await ledger.reverse(target, reason="test", operator="hypothesis")
        except LedgerError:
            return  # refused: nothing changed
        seen.append(result.entry.id)

    async def apply() -> None:
        for index in range(0, len(ops), chunk):
            await asyncio.gather(*(one(who, op) for who, op in ops[index:index + chunk]))

    rig.run(apply())
    for account in accounts:
        entries = rig.run(ledger.entries(account, limit=None, newest_first=False))
        total = sum((entry.amount for entry in entries), D("0.00"))
        assert ledger.balance(account) == total
        if entries:
            assert entries[-1].balance == total
            running = D("0.00")
            for entry in entries:
                running += entry.amount
                assert entry.balance == running
        refunds = [e for e in entries if e.kind == EntryKind.REFUND]
        assert all(e.balance >= 0 for e in refunds)  # a refund never went past the balance
    report = rig.run(ledger.audit())
    assert report.ok, report.problems
    reopened = rig.run(rig.reopened())
    assert [reopened.balance(a) for a in accounts] == [ledger.balance(a) for a in accounts]
