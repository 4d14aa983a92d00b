"""Helpers for the share, loss and report tests: real storage, hubs from YAML, readings."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.bootstrap import create_hub, prepare
from hub.core import Event, Hub
from hub.ledger.ledger import Ledger
from hub.metering.reading import Reading
from hub.storage import Storage, StorageSettings

TZ = ZoneInfo("Asia/Shanghai")
D = Decimal

BASE = """
site: {name: Test, time_zone: Asia/Shanghai, language: en}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false}
storage: {commit_interval: 0.02}
bills: {check_every: 1h}
links:
  - {id: sim1, type: sim, speed: 0}
"""


def t(text: str) -> datetime:
    """A site-local time from '2026-10-01T00:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def hub_yaml(*parts: str) -> str:
    """The base config plus dedented parts."""
    return BASE + "".join(textwrap.dedent(part).strip("\n") + "\n" for part in parts)


class Clock:
    """A settable clock (for the ledger)."""

    def __init__(self, start: str) -> None:
        self.now = t(start)

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        self.now = t(text)


@asynccontextmanager
async def open_storage(path: Path, now: datetime) -> AsyncIterator[Storage]:
    """A started storage on ``path`` whose clock says ``now`` (history kept 10 years)."""
    settings = StorageSettings(path=path, commit_interval=0.02, retention_days=3650)
    storage = Storage(settings, time_zone=TZ, clock=now.timestamp)
    async with asyncio.timeout(15):
        await storage.start()
    try:
        yield storage
    finally:
        async with asyncio.timeout(30):
            await storage.stop()


def energy(meter_id: str, when: str, total: str | Decimal) -> Reading:
    """An electricity reading of the total register."""
    return Reading(meter_id, t(when), {"energy_import_total": Decimal(total)}, device="d")


def water(meter_id: str, when: str, total: str | Decimal) -> Reading:
    """A water reading."""
    return Reading(meter_id, t(when), {"water_total": Decimal(total)}, device="d")


async def store(storage: Storage, readings: Iterable[Reading]) -> None:
    """Store readings and check every one was kept."""
    async with asyncio.timeout(30):
        outcomes = await storage.add_readings(list(readings))
        await storage.flush()
    assert all(outcome.stored for outcome in outcomes), outcomes


async def register(storage: Storage, meters: Mapping[str, tuple[str, Mapping[str, str]]]) -> None:
    """Tell storage each meter's kind and tags: {id: (kind, tags)}."""
    await storage.upsert_meters([{"id": meter_id, "kind": kind, "tags": dict(tags)}
                                 for meter_id, (kind, tags) in meters.items()])


@asynccontextmanager
async def running_hub(tmp_path: Path, text: str, clock: Clock | None = None
                      ) -> AsyncIterator[Hub]:
    """A started hub from YAML (data in tmp_path/data); the ledger uses ``clock``."""
    path = tmp_path / "hub.yaml"
    path.write_text(text, encoding="utf-8")
    prepared = prepare(path, data_dir=tmp_path / "data")
    assert not prepared.problems, prepared.problems
    hub = create_hub(prepared)
    async with asyncio.timeout(30):
        await hub.start()
    if clock is not None:
        hub.component("ledger", Ledger).clock = clock
    try:
        yield hub
    finally:
        async with asyncio.timeout(30):
            await hub.stop()


async def settle(hub: Hub) -> None:
    """Wait (bounded) until stored readings are charged and posts committed."""
    async with asyncio.timeout(30):
        await hub.component("storage", Storage).flush()
        await asyncio.sleep(0)
        await hub.component("ledger", Ledger).drain()
        await hub.block_till_done()


def collect(hub: Hub, *event_types: str) -> list[Event]:
    """Record events of the given types."""
    seen: list[Event] = []
    for event_type in event_types:
        hub.bus.listen(event_type, seen.append)
    return seen
