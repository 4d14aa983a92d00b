"""Helpers for the money tests of ledger, billing and prepaid (imported by name: tests/ is on
sys.path): configs, hubs on real storage, consumption events. Generic helpers: common.py."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import start_hub

from hub.core import Context, Hub
from hub.ledger.ledger import Ledger
from hub.util.ids import new_id

D = Decimal

BASE = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false}
storage: {commit_interval: 0.02}
links:
  - {id: sim1, type: sim, speed: 0}
"""


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
    """A started hub on ``text`` whose ledger uses ``clock``; its data dir survives."""
    def use_clock(hub: Hub) -> None:
        if clock is not None and hub.has_component("ledger"):
            hub.component("ledger", Ledger).clock = clock

    async with start_hub(tmp_path, text, data=data, before_start=use_clock) as hub:
        if clock is not None:
            hub.component("ledger", Ledger).clock = clock
        yield hub


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


# a frozen simulated bus whose meters a test sets; readings seconds apart carry kWh that
# would be implausible in real time, hence the high rate limit
FROZEN_SIM = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false, retries: 0}
storage: {commit_interval: 0.02, max_rate: {electricity: 100000000}}
"""


# one ddsy meter on a simulated bus whose clock runs 3600x, charged at a flat 0.6
SIM = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {read_on_start: false}
storage: {commit_interval: 0.02, max_rate: {electricity: 100000}}  # the sim clock runs 3600x
links:
  - {id: sim1, type: sim, speed: 3600}
meters:
  - {id: r101_e, model: ddsy, link: sim1, address: "202400000101", account: r101,
     tariff: room, link_options: {load: {constant: 2}}}
accounts:
  - {id: r101, name: 张三}
tariffs:
  - {id: room, type: flat, price: 0.6}
"""
