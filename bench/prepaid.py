"""Prepaid benchmark: readings/s through charge + threshold checks + ledger write.

10,000 accounts, one meter each, on a time-of-use tariff with tier surcharges (the costliest
built-in pricing). Every account is recharged 20.00, then consumption events (as storage fires
them after each committed reading) arrive for every meter, several rounds; each is priced,
added to its charge state and tier usage, written as a ledger entry in durable
(``synchronous=FULL``) batches, checked against the warning levels (firing ``balance_low`` /
``balance_exhausted``) and published as ``account.<id>``. The clock stops when every charge is
committed. Correctness is checked at the end (audit, and one account's entries).

Run: ``.venv/bin/python bench/prepaid.py`` (a temporary folder; well under a minute).
Prints ``METRIC prepaid_readings_per_s <value> readings/s``; on stderr, the process CPU time
per reading and the garbage collector's passes while the clock ran.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plugins" / "tariffs"))

from hub.billing.charger import Charger
from hub.billing.tariffs import TariffBook
from hub.core import Context, Hub
from hub.ledger import ACCOUNT_SCHEMA, Account, EntryKind, Ledger, Money, PostRequest
from hub.ledger.money import EVENT_CONSUMPTION
from hub.plugins import Registry
from hub.prepaid import ThresholdWatcher
from hub.storage import Storage, StorageSettings
from hub.util.calendar import Calendar
from hub.util.dt import set_site_time_zone
from meterhub_tariffs import register_tariff_types

ACCOUNTS = 10_000
ROUNDS = 8  # readings per meter (a 15-minute reading plan: two hours)
TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 7, 1, tzinfo=TZ)

TARIFF: dict[str, Any] = {
    "id": "tou_tiers", "type": "tou",
    "prices": {"peak": "0.5583", "flat": "0.4883", "valley": "0.3000"},
    "schedules": {"day": [{"start": s, "band": b} for s, b in (
        ("00:00", "valley"), ("07:00", "flat"), ("10:00", "peak"), ("15:00", "flat"),
        ("18:00", "peak"), ("21:00", "flat"), ("23:00", "valley"))]},
    "tier_period": "monthly",
    "tier_surcharges": [{"up_to": 1, "surcharge": "0"}, {"up_to": 3, "surcharge": "0.05"},
                        {"surcharge": "0.30"}],
}


def tariff_book() -> TariffBook:
    """The TariffBook with the benchmark's tariff."""
    registry: Registry[Any] = Registry("tariff type")
    for tariff_type in register_tariff_types():
        registry.add("bench", tariff_type)
    entry = registry.get("tou")
    assert entry is not None
    config = entry.schema()(dict(TARIFF))
    return TariffBook([config], registry, Calendar(time_zone=TZ))


async def build(folder: Path) -> tuple[Hub, Storage, Ledger, Money]:
    """A hub with storage, the ledger, charging and thresholds (no meters read: events are fed)."""
    set_site_time_zone(TZ)
    hub = Hub()
    storage = Storage(StorageSettings(path=folder / "bench.db"), time_zone=TZ)
    await storage.start()
    hub.add_component("storage", storage)
    hub.add_component("tariffs", tariff_book())
    accounts = {f"a{n:05d}": Account.from_config(ACCOUNT_SCHEMA({
        "id": f"a{n:05d}", "low_balance": [20, 5]})) for n in range(ACCOUNTS)}
    meters = {f"m{n:05d}": {"id": f"m{n:05d}", "account": f"a{n:05d}", "tariff": "tou_tiers"}
              for n in range(ACCOUNTS)}
    ledger = Ledger(storage, accounts)
    money = Money(hub, ledger, accounts)
    charger = Charger(hub, ledger, accounts, meters)
    money.register_client(charger)
    money.register_entry_watcher(ThresholdWatcher(hub, accounts))
    hub.bus.listen(EVENT_CONSUMPTION, charger.on_consumption, charger.billed)
    await money.start()
    return hub, storage, ledger, money


async def bench(folder: Path) -> float:
    hub, storage, ledger, money = await build(folder)
    alerts = {"balance_low": 0, "balance_exhausted": 0}
    for name in alerts:
        hub.bus.listen(name, lambda event: alerts.__setitem__(event.event_type,
                                                              alerts[event.event_type] + 1))
    recharges = [PostRequest(account, EntryKind.RECHARGE, Decimal("21.00"), f"r:{account}")
                 for account in money.accounts]
    await ledger.post_many(recharges)
    counter = 0
    collections = [stats["collections"] for stats in gc.get_stats()]
    cpu = time.process_time()
    started = time.perf_counter()
    for round_ in range(ROUNDS):
        start = START + timedelta(minutes=round_ * 15)  # a reading plan every 15 minutes
        end = start + timedelta(minutes=15)
        for n in range(ACCOUNTS):
            counter += 1
            quantity = Decimal(1 + (n * 7 + round_ * 13) % 97) / 100  # 0.01 .. 0.97 kWh
            hub.bus.fire(EVENT_CONSUMPTION, {
                "meter_id": f"m{n:05d}", "reading_id": f"rd{counter}",
                "intervals": ({"register": "energy_import_total", "start": start,
                               "end": end, "quantity": quantity},)},
                context=Context(origin="bench"))
            if counter % 2000 == 0:
                await asyncio.sleep(0)  # let the ledger's worker take batches meanwhile
    await ledger.drain(timeout=600)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu  # both threads: the loop and the ledger's writer
    collections = [stats["collections"] - before
                   for stats, before in zip(gc.get_stats(), collections, strict=True)]
    readings = ACCOUNTS * ROUNDS
    report = await ledger.audit()
    entries = await ledger.entries("a00001", limit=None)
    assert report.ok, report.problems
    assert sum((e.amount for e in entries), Decimal(0)) == ledger.balance("a00001")
    print(f"{readings} readings in {elapsed:.2f} s, {ledger.batches} durable batches, "
          f"{alerts['balance_low']} balance_low, {alerts['balance_exhausted']} "
          f"balance_exhausted, audit ok; cpu {cpu:.2f} s ({cpu / readings * 1e6:.0f} us a "
          f"reading), gc passes {'/'.join(map(str, collections))} (gen 0/1/2)", file=sys.stderr)
    await ledger.stop()
    await storage.stop()
    return readings / elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        rate = asyncio.run(bench(Path(folder)))
    print(f"METRIC prepaid_readings_per_s {rate:.0f} readings/s")


if __name__ == "__main__":
    main()
