"""Billing benchmark: time to bill 10,000 accounts for a month, TOU + tiers, from stored data.

Setup (not timed): 10,000 prepaid accounts with one meter each on a time-of-use tariff with
tier surcharges and a monthly fixed fee; a month (July 2025) of usage per meter, priced into
each meter's charge state (exact cumulative lines, as charging every reading leaves them) and
stored in the database; the hub's ledger then starts and loads them from storage.

Timed: the monthly billing run (``BillingEngine.tick`` after the period ended): for every
account, the charge states of the period are read, the bill is computed (lines rounded per
line, fixed fees, minimum charge), issued in durable batches together with its fee entries in
the ledger and the closing of the charge states, and bill statuses are updated.

Run: ``.venv/bin/python bench/billing.py`` (a temporary folder; well under a minute).
Prints ``METRIC billing_10k_seconds <value> s``.
"""

from __future__ import annotations

import asyncio
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

from hub.billing.calendar import Calendar
from hub.billing.charging import ChargeState
from hub.billing.engine import BillingEngine, BillSettings
from hub.billing.periods import BillPeriod
from hub.billing.tariff import Tariff, Usage
from hub.billing.tariffs import TariffBook
from hub.core import Hub
from hub.plugins import Registry
from hub.prepaid.accounts import ACCOUNT_SCHEMA, Account
from hub.prepaid.entries import EntryKind, PostRequest
from hub.prepaid.ledger import Ledger
from hub.prepaid.money import Money
from hub.storage import Storage, StorageSettings
from hub.util.dt import set_site_time_zone
from meterhub_tariffs import register_tariff_types

ACCOUNTS = 10_000
PROFILES = 64  # distinct monthly usage profiles, spread over the meters
TZ = ZoneInfo("Asia/Shanghai")
JULY = BillPeriod(datetime(2025, 7, 1).date(), datetime(2025, 8, 1).date())

TARIFF: dict[str, Any] = {
    "id": "tou_tiers", "type": "tou",
    "prices": {"sharp": "1.38125", "peak": "1.105", "flat": "0.65", "valley": "0.247"},
    "schedules": {
        "normal": [{"start": s, "band": b} for s, b in (
            ("00:00", "valley"), ("08:00", "flat"), ("10:00", "peak"), ("11:00", "sharp"),
            ("12:00", "flat"), ("14:00", "peak"), ("19:00", "flat"))],
        "rest": [{"start": "00:00", "band": "valley"}, {"start": "08:00", "band": "flat"}],
    },
    "weekend_schedule": "rest",
    "tier_period": "monthly",
    "tier_surcharges": [{"up_to": 200, "surcharge": "0"}, {"up_to": 400, "surcharge": "0.05"},
                        {"surcharge": "0.30"}],
    "fixed_fees": {"service_fee": "5.00", "meter_rent": "2.00"},
    "minimum_charge": "30.00",
}


def tariff_book() -> TariffBook:
    """The TariffBook with the benchmark's tariff."""
    registry: Registry[Any] = Registry("tariff type")
    for tariff_type in register_tariff_types():
        registry.add("bench", tariff_type)
    entry = registry.get("tou")
    assert entry is not None
    return TariffBook([entry.schema()(dict(TARIFF))], registry, Calendar(time_zone=TZ))


def profile_states(tariff: Tariff) -> list[ChargeState]:
    """Charge states of a month of hourly usage, for a few dozen usage profiles."""
    first = datetime(2025, 7, 1, tzinfo=TZ)
    states = []
    for profile in range(PROFILES):
        usage = [Usage(first + timedelta(hours=h), first + timedelta(hours=h + 1),
                       Decimal(1 + (h * 31 + profile * 17) % 113) / 100)
                 for h in range(31 * 24)]
        state = ChargeState("", "", JULY)
        for line in tariff.charges(usage):
            state.apply(line, 1)
        state.readings = 31 * 96
        states.append(state)
    return states


async def setup(folder: Path) -> tuple[Hub, Storage, Ledger, BillingEngine, ChargeState]:
    """Accounts, meters, a month of charge states in storage; ledger and billing started."""
    set_site_time_zone(TZ)
    hub = Hub()
    storage = Storage(StorageSettings(path=folder / "bench.db"), time_zone=TZ)
    await storage.start()
    book = tariff_book()
    hub.add_component("storage", storage)
    hub.add_component("tariffs", book)
    template = Account.from_config(ACCOUNT_SCHEMA({"id": "x"}))
    accounts = {f"a{n:05d}": Account(**{**template.__dict__, "id": f"a{n:05d}",
                                         "name": f"Room {n}"}) for n in range(ACCOUNTS)}
    meters = {f"m{n:05d}": {"id": f"m{n:05d}", "account": f"a{n:05d}", "tariff": "tou_tiers"}
              for n in range(ACCOUNTS)}
    profiles = profile_states(book.get("tou_tiers"))
    rows = []
    for n in range(ACCOUNTS):
        state = profiles[n % PROFILES].copy()
        state.meter_id, state.account_id = f"m{n:05d}", f"a{n:05d}"
        rows.append(state.to_row())
    await storage.money_write(lambda store: store.save_charge_states(rows, 0))
    ledger = Ledger(storage, accounts, clock=lambda: datetime(2025, 8, 1, 3, 0, tzinfo=TZ))
    money = Money(hub, ledger, accounts, meters)
    await money.start()  # loads the charge states from storage
    engine = BillingEngine(hub, ledger, money, BillSettings(check_every=timedelta(0)))
    await engine.start()
    await ledger.post_many([PostRequest(account, EntryKind.RECHARGE, Decimal("500.00"),
                                        f"r:{account}") for account in accounts])
    return hub, storage, ledger, engine, profiles[1]


async def bench(folder: Path) -> float:
    hub, storage, ledger, engine, profile = await setup(folder)
    issued = []
    hub.bus.listen("bill_issued", issued.append)
    started = time.perf_counter()
    summary = await engine.tick()
    await ledger.drain(timeout=600)
    elapsed = time.perf_counter() - started
    assert summary["bills"] == ACCOUNTS and not summary["failed"], summary
    assert len(issued) == ACCOUNTS
    bill = await engine.bill("a00001-20250701")
    assert bill is not None and bill.status == "paid"
    assert bill.consumption == profile.charged
    assert bill.fees == Decimal("7.00") or bill.total == Decimal("30.00")
    report = await ledger.audit()
    assert report.ok
    print(f"{ACCOUNTS} bills in {elapsed:.2f} s ({ledger.batches} durable batches); "
          f"a00001: {bill.total} ({len(bill.lines)} lines); audit ok", file=sys.stderr)
    await engine.stop()
    await ledger.stop()
    await storage.stop()
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        seconds = asyncio.run(bench(Path(folder)))
    print(f"METRIC billing_10k_seconds {seconds:.2f} s")


if __name__ == "__main__":
    main()
