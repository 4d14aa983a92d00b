"""Helpers for the bill tests: hubs on real storage, a settable clock, consumption events."""

from __future__ import annotations

import asyncio
import functools
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from hub.billing.engine import BillingEngine
from hub.bootstrap import create_hub, prepare
from hub.core import Context, Event, Hub
from hub.ledger.ledger import Ledger
from hub.storage.storage import Storage
from hub.util.ids import new_id

_F = TypeVar("_F", bound=Callable[..., Any])
TZ = ZoneInfo("Asia/Shanghai")
D = Decimal

BASE = """
site: {name: Test, time_zone: Asia/Shanghai, language: en}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false}
storage: {commit_interval: 0.02}
bills: {check_every: 0s}
links:
  - {id: sim1, type: sim, speed: 0}
"""


def t(text: str) -> datetime:
    """A site-local time from '2025-07-01T08:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


class Clock:
    """A settable clock for the ledger and billing."""

    def __init__(self, start: str) -> None:
        self.now = t(start)

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        self.now = t(text)


def config(meters: list[tuple[str, str, str, str]], *parts: str) -> str:
    """The base config, meters (id, model, account, tariff) and dedented parts."""
    lines = ["meters:"]
    for index, (meter_id, model, account, tariff) in enumerate(meters):
        lines.append(f'  - {{id: {meter_id}, model: {model}, link: sim1, '
                     f'address: "{index + 1:012d}", account: {account}, tariff: {tariff}}}')
    return BASE + "\n".join(lines) + "\n" + "".join(
        textwrap.dedent(part).strip("\n") + "\n" for part in parts)


@asynccontextmanager
async def running_hub(tmp_path: Path, text: str, clock: Clock) -> AsyncIterator[Hub]:
    """A started hub whose ledger and billing use ``clock``."""
    path = tmp_path / "hub.yaml"
    path.write_text(text, encoding="utf-8")
    prepared = prepare(path, data_dir=tmp_path / "data")
    assert not prepared.problems, prepared.problems
    hub = create_hub(prepared)
    async with asyncio.timeout(30):
        await hub.start()
    hub.component("ledger", Ledger).clock = clock
    try:
        yield hub
    finally:
        async with asyncio.timeout(30):
            await hub.stop()


def use(hub: Hub, meter_id: str, start: datetime, end: datetime, quantity: str | Decimal,
        register: str = "energy_import_total") -> str:
    """Fire one consumption event as storage would; returns its reading id."""
    reading_id = new_id()
    hub.bus.fire("consumption", {"meter_id": meter_id, "reading_id": reading_id, "intervals": (
        {"register": register, "start": start, "end": end, "quantity": D(quantity)},)},
        context=Context(origin="test"))
    return reading_id


def hourly(hub: Hub, meter_id: str, start: str, amounts: list[Decimal],
           register: str = "energy_import_total") -> None:
    """One consumption event per hour from ``start``."""
    first = t(start)
    for hour, amount in enumerate(amounts):
        use(hub, meter_id, first + timedelta(hours=hour), first + timedelta(hours=hour + 1),
            amount, register)


async def settle(hub: Hub) -> None:
    """Wait (bounded) until queued charges, posts and bills are committed."""
    async with asyncio.timeout(30):
        await hub.component("storage", Storage).flush()  # stored readings fire consumption
        await asyncio.sleep(0)
        await hub.component("ledger", Ledger).drain()
        await hub.block_till_done()
        await hub.component("ledger", Ledger).drain()


def engine(hub: Hub) -> BillingEngine:
    """The billing component."""
    return hub.component("billing", BillingEngine)


def collect(hub: Hub, *event_types: str) -> list[Event]:
    """Record events of the given types."""
    seen: list[Event] = []
    for event_type in event_types:
        hub.bus.listen(event_type, seen.append)
    return seen


def pseudo_random(count: int, seed: int = 7) -> list[Decimal]:
    """Deterministic awkward quantities (3 decimals, 0.001..2.999)."""
    out, value = [], seed
    for _ in range(count):
        value = (value * 1103515245 + 12345) % (2 ** 31)
        out.append(D(value % 2999 + 1) / 1000)
    return out


def bounded(seconds: float = 45) -> Callable[[_F], _F]:
    """Run an async test inside ``asyncio.timeout``: no wait in it can hang."""
    def wrap(test: _F) -> _F:
        @functools.wraps(test)
        async def run(*args: Any, **kwargs: Any) -> Any:
            async with asyncio.timeout(seconds):
                return await test(*args, **kwargs)
        return cast(_F, run)
    return wrap
