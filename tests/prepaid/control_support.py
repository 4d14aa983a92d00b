"""Helpers for the control tests: hubs on the sim link with real storage, a fake ledger."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub.bootstrap import create_hub, prepare
from hub.core import Context, Event, Hub
from hub.hookspecs import hookimpl
from hub.ledger import Thresholds
from hub.metering.service import MeteringService
from hub.prepaid.control import Control
from hub.prepaid.policy import crossings
from hub.storage.storage import Storage
from hub.util.dt import utcnow

TZ = ZoneInfo("Asia/Shanghai")
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
    path = tmp_path / "hub.yaml"
    path.write_text(text, encoding="utf-8")
    prepared = prepare(path, data_dir=tmp_path / data)
    assert not prepared.problems, prepared.problems
    holder: list[FakeLedger] = []
    if fake_ledger:
        prepared.plugins.register(_FakeLedgerPlugin(holder), "fake_ledger")
    hub = create_hub(prepared)
    if before_start is not None:
        before_start(hub)
    async with asyncio.timeout(30):
        await hub.start()
        if hub.has_component("control"):
            await control_of(hub).ready()
    try:
        yield hub, (holder[0] if holder else None)
    finally:
        async with asyncio.timeout(30):
            await hub.stop()


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


def collect(hub: Hub, *event_types: str) -> list[Event]:
    """Record events of the given types."""
    seen: list[Event] = []
    for event_type in event_types:
        hub.bus.listen(event_type, seen.append)
    return seen


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0,
                   step: float = 0.02) -> Any:
    """Poll until ``predicate()`` is truthy (bounded); return its value."""
    async with asyncio.timeout(timeout):
        while True:
            value = predicate()
            if value:
                return value
            await asyncio.sleep(step)


async def settle(hub: Hub) -> None:
    """Wait (bounded) for the hub's tracked tasks and a storage commit."""
    async with asyncio.timeout(10):
        await hub.block_till_done()
        await storage_of(hub).flush()


def types(events: list[Event]) -> list[str]:
    """The event types, in order."""
    return [event.event_type for event in events]


class Clock:
    """A clock for the control component: wall time shifted to a chosen start, movable."""

    def __init__(self, start: datetime) -> None:
        self.offset = start - utcnow()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, delta: timedelta) -> None:
        """Move time forward."""
        self.offset += delta

    def set(self, when: datetime) -> None:
        """Jump to ``when``."""
        self.offset = when - utcnow()


def local(text: str) -> datetime:
    """A site-local time from '2026-03-02T10:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)
