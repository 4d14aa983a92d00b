"""Helpers for the control tests: hubs on the sim link with real storage; balances moved
through the real ledger (end-to-end and crash tests) or set on a fake one (unit tests).

Generic helpers (site time, clocks, collect, waiting, settle) are in common.py."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import HUB_TIMEOUT, start_hub

from hub.core import Context, Hub
from hub.hookspecs import hookimpl
from hub.ledger import Thresholds
from hub.ledger.entries import EntryKind
from hub.ledger.ledger import Ledger
from hub.metering.service import MeteringService
from hub.prepaid.control import Control
from hub.prepaid.policy import crossings
from hub.storage.storage import Storage
from hub.util.ids import new_id

D = Decimal

BASE = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {retries: 0, retry_delay: 0, timeout: 0.3, read_on_start: false}
storage: {commit_interval: 0.02}
control: {retries: 2, retry_delay: 0.1, max_retry_delay: 0.4, confirm_delay: 0.05,
          recheck_delay: 0.1, rechecks: 3}
links:
  - {id: sim1, type: sim, speed: 3600}
"""

METERS = """
meters:
  - {id: r101_e, model: ddsy, link: sim1, address: "202400000101", account: r101,
     link_options: {load: {constant: 1.2}}}
  - {id: r101_w, model: cjt188_water, link: sim1, address: "00000000000101", account: r101,
     link_options: {load: {constant: 0.5}}}
  - {id: r102_e, model: ddsy, link: sim1, address: "202400000102", account: r102,
     link_options: {load: {constant: 1.2}}}
  - {id: r103_e, model: ddsy, link: sim1, address: "202400000103", account: r103,
     link_options: {load: {constant: 1.2}}}
  - {id: hall_e, model: ddsy, link: sim1, address: "202400000900"}
"""


def config(accounts: str, *, meters: str = METERS, extra: str = "") -> str:
    """The base config with an accounts: block (dedented), meters and extra blocks."""
    parts = [BASE, textwrap.dedent(meters).strip("\n") + "\n",
             textwrap.dedent(accounts).strip("\n") + "\n"]
    if extra:
        parts.append(textwrap.dedent(extra).strip("\n") + "\n")
    return "".join(parts)


class FakeLedger:
    """Balances set by the test; fires balance_exhausted / balance_restored like the ledger.

    The real ledger still runs beside it (it has no entries, so it fires nothing); the
    trip policy reads its balances from this fake.
    """

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.balances: dict[str, Decimal] = {}
        self.thresholds: dict[str, Thresholds] = {}
        self.due: dict[str, date] = {}  # postpaid: oldest unpaid bill's due date
        self.late: set[str] = set()  # postpaid: accounts with an overdue bill

    def oldest_due(self, account_id: str) -> date | None:
        """Like the billing component: the oldest unpaid bill's due date."""
        return self.due.get(account_id)

    def overdue(self, account_id: str) -> bool:
        """Like the billing component: whether a bill is overdue (past its grace)."""
        return account_id in self.late

    def balance(self, account_id: str) -> Decimal:
        """The current balance (100 until set)."""
        return self.balances.get(account_id, D(100))

    def set(self, account_id: str, balance: Decimal | str | int,
            context: Context | None = None) -> Context:
        """Move a balance; fire the threshold events it crosses; return their context."""
        ctx = context or Context(origin="test.ledger")
        before, after = self.balance(account_id), D(balance)
        self.balances[account_id] = after
        crossed = crossings(before, after, self.thresholds.get(account_id, Thresholds()))
        base = {"account_id": account_id, "balance": after, "level": D(0)}
        if crossed.exhausted:
            self.hub.bus.fire("balance_exhausted", base, context=ctx)
        if crossed.restored:
            self.hub.bus.fire("balance_restored", base, context=ctx)
        return ctx


class RealMoney:
    """Moves an account's REAL balance: a recharge (the ``account.recharge`` service) up, a
    charge posted to the ledger down. Thresholds fire from the committed entries, as in use."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.ledger = hub.component("ledger", Ledger)

    def balance(self, account_id: str) -> Decimal:
        """The ledger's balance."""
        return self.ledger.balance(account_id)

    async def set(self, account_id: str, balance: Decimal | str | int,
                  context: Context | None = None) -> Context:
        """Post what moves the balance to ``balance``; return the entry's context."""
        ctx = context or Context(origin="test.money")
        async with asyncio.timeout(HUB_TIMEOUT):
            await self.ledger.drain()
            change = D(balance) - self.ledger.balance(account_id)
            if change > 0:
                await self.hub.services.call("account", "recharge", {
                    "account_id": account_id, "amount": str(change), "method": "cash",
                    "reference": f"test-{new_id()}"}, context=ctx)
            elif change < 0:
                await self.ledger.post(account_id, EntryKind.CHARGE, change,
                                       key=f"charge:test-{new_id()}", context=ctx)
        assert self.ledger.balance(account_id) == D(balance)
        return ctx


class _FakeLedgerPlugin:
    """Registered after the core plugins: the trip policy takes balances from the fake."""

    def __init__(self, holder: list[FakeLedger]) -> None:
        self.holder = holder

    @hookimpl
    def setup(self, hub: Hub) -> None:
        fake = FakeLedger(hub)
        if hub.has_component("control"):  # the test's balances and bills win
            trips = hub.component("control", Control).trips
            trips.balance_source = fake.balance
            trips.bills_source = fake
        self.holder.append(fake)


@asynccontextmanager
async def running_hub(tmp_path: Path, text: str, *, fake_ledger: bool = True,
                      data: str = "data",
                      before_start: Callable[[Hub], None] | None = None
                      ) -> AsyncIterator[tuple[Hub, FakeLedger | None]]:
    """A started hub on ``text`` (data dir kept for restarts) and its fake ledger."""
    holder: list[FakeLedger] = []
    plugins = [(_FakeLedgerPlugin(holder), "fake_ledger")] if fake_ledger else []
    async with start_hub(tmp_path, text, data=data, plugins=plugins,
                         before_start=before_start) as hub:
        if hub.has_component("control"):
            async with asyncio.timeout(HUB_TIMEOUT):
                await control_of(hub).ready()
        yield hub, (holder[0] if holder else None)


def control_of(hub: Hub) -> Control:
    """The control component."""
    return hub.component("control", Control)


def storage_of(hub: Hub) -> Storage:
    """The storage component."""
    return hub.component("storage", Storage)


def simulator(hub: Hub, meter_id: str) -> Any:
    """The simulated meter behind a meter id."""
    service = hub.component("metering", MeteringService)
    return service.meters[meter_id].link.simulators[meter_id]  # type: ignore[attr-defined]
