"""Helpers for the money tests of ledger, billing and prepaid (imported by name: tests/ is on
sys.path): hubs on real storage, consumption events, waiting."""

from __future__ import annotations

import asyncio
import functools
import textwrap
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from hub.bootstrap import create_hub, prepare
from hub.core import Context, Event, Hub
from hub.ledger.ledger import Ledger
from hub.storage.storage import Storage
from hub.util.ids import new_id

_F = TypeVar("_F", bound=Callable[..., Any])
TZ = ZoneInfo("Asia/Shanghai")
D = Decimal

BASE = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false}
storage: {commit_interval: 0.02}
links:
  - {id: sim1, type: sim, speed: 0}
"""


def t(text: str) -> datetime:
    """A site-local time from '2025-07-01T08:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def meters_yaml(meters: Iterable[tuple[str, str | None, str | None]]) -> str:
    """A meters: block of ddsy meters on the sim link: (id, account, tariff)."""
    lines = ["meters:"]
    for index, (meter_id, account, tariff) in enumerate(meters):
        extra = "".join([f", account: {account}" if account else "",
                         f", tariff: {tariff}" if tariff else ""])
        lines.append(f'  - {{id: {meter_id}, model: ddsy, link: sim1, '
                     f'address: "2024{index:08d}"{extra}}}')
    return "\n".join(lines) + "\n"


def config(*parts: str) -> str:
    """The base config plus dedented parts."""
    return BASE + "".join(textwrap.dedent(part).strip("\n") + "\n" for part in parts)


@asynccontextmanager
async def running_hub(tmp_path: Path, text: str, *, data: str = "data",
                      clock: Callable[[], datetime] | None = None) -> AsyncIterator[Hub]:
    """A started hub on ``text``; its data dir survives for a restart test."""
    path = tmp_path / "hub.yaml"
    path.write_text(text, encoding="utf-8")
    prepared = prepare(path, data_dir=tmp_path / data)
    assert not prepared.problems, prepared.problems
    hub = create_hub(prepared)
    if clock is not None and hub.has_component("ledger"):
        hub.component("ledger", Ledger).clock = clock
    async with asyncio.timeout(30):
        await hub.start()
    if clock is not None:
        hub.component("ledger", Ledger).clock = clock
    try:
        yield hub
    finally:
        async with asyncio.timeout(30):
            await hub.stop()


def consumption(hub: Hub, meter_id: str, start: datetime, end: datetime,
                quantity: str | Decimal, *, reading_id: str | None = None,
                register: str = "energy_import_total",
                extra: dict[str, str] | None = None) -> str:
    """Fire a consumption event as storage would; returns the reading id."""
    reading_id = reading_id or new_id()
    intervals: list[dict[str, Any]] = [
        {"register": register, "start": start, "end": end, "quantity": D(quantity)}]
    for name, value in (extra or {}).items():
        intervals.append({"register": name, "start": start, "end": end, "quantity": D(value)})
    hub.bus.fire("consumption", {"meter_id": meter_id, "reading_id": reading_id,
                                 "intervals": tuple(intervals)},
                 context=Context(origin="test"))
    return reading_id


def hourly(hub: Hub, meter_id: str, start: datetime, hours: int,
           quantity: str | Decimal) -> list[str]:
    """Fire one consumption event per hour of ``quantity`` each."""
    return [consumption(hub, meter_id, start + timedelta(hours=h),
                        start + timedelta(hours=h + 1), quantity) for h in range(hours)]


async def settle(hub: Hub) -> None:
    """Wait (bounded) until every queued charge and post is committed."""
    async with asyncio.timeout(20):
        await hub.component("storage", Storage).flush()  # stored readings fire consumption
        await asyncio.sleep(0)
        await hub.component("ledger", Ledger).drain()
        await hub.block_till_done()


def collect(hub: Hub, *event_types: str) -> list[Event]:
    """Record events of the given types."""
    seen: list[Event] = []
    for event_type in event_types:
        hub.bus.listen(event_type, seen.append)
    return seen


def bounded(seconds: float = 45) -> Callable[[_F], _F]:
    """Run an async test inside ``asyncio.timeout``: no wait in it can hang."""
    def wrap(test: _F) -> _F:
        @functools.wraps(test)
        async def run(*args: Any, **kwargs: Any) -> Any:
            async with asyncio.timeout(seconds):
                return await test(*args, **kwargs)
        return cast(_F, run)
    return wrap
