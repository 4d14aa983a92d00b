"""Helpers for the bill tests: configs, hubs on real storage, consumption events.

Generic helpers (site time, the clock, collect, settle, bounded) are in common.py."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from common import Clock, start_hub, t

from hub.billing.engine import BillingEngine
from hub.core import Context, Hub
from hub.ledger.ledger import Ledger
from hub.util.ids import new_id

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
    async with start_hub(tmp_path, text) as hub:
        hub.component("ledger", Ledger).clock = clock
        yield hub


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


def engine(hub: Hub) -> BillingEngine:
    """The billing component."""
    return hub.component("billing", BillingEngine)


def pseudo_random(count: int, seed: int = 7) -> list[Decimal]:
    """Deterministic awkward quantities (3 decimals, 0.001..2.999)."""
    out, value = [], seed
    for _ in range(count):
        value = (value * 1103515245 + 12345) % (2 ** 31)
        out.append(D(value % 2999 + 1) / 1000)
    return out
