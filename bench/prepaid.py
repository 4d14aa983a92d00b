"""Prepaid benchmark: real readings from the bus through storage, charging and the ledger.

A hub built from a generated ``hub.yaml`` (``hub.bootstrap``, as a site's): 10,000 prepaid
accounts, one DDSY meter each on a ``sim`` link (simulated meters in the process, speed 0),
one time-of-use tariff with monthly tier surcharges (the costliest built-in pricing), the
prepaid control with its default trip policy (``immediate``). Every account is recharged:
22.50 for most (some cross the 20.00 warning level), 1.00 to 3.00 for one account in 40
(250 accounts), of which about 140 run out of money within the two hours and are tripped.

The readings arrive as a 15-minute reading plan fires them: ``--rounds`` plan runs (default
8: two hours of a site), each a ``reading`` event for every one of the 10,000 meters, in plan
order, in groups of ``--group`` (20: what a DTU's meters deliver together) with the loop
running between groups. Each reading is what the metering service fires after reading a
DDSY meter: the import register (advanced by the meter's use since the last run), voltage,
current, power, and the relay state of the simulated meter (open once it has been tripped;
a tripped meter uses nothing). Each goes through the product's path: storage stores it and
counts the register delta, fires ``consumption`` after the commit, the charger prices it, the
ledger commits the charge (``synchronous=FULL``), the thresholds fire ``balance_low`` /
``balance_exhausted``, and the trip policy sends relay trip commands through control over the
sim link to the simulated meters, confirmed by reading them back.

Time is compressed, batches are kept at a site's size: the idle minutes between plan runs
are skipped, and within a run the readings come as fast as the hub takes them, but the feed
waits while more than ``--in-flight`` (200) items wait for storage's writer or for the
ledger, and storage commits every ``--commit-batch`` (200) readings. 200 is what storage's
one-second commit interval holds at a site whose plan reads its 10,000 meters in about a
minute (the ``bench/poll.py`` site), so a storage commit holds about 150 readings and a
durable ledger transaction a few hundred charges, not thousands (printed). Control runs with
``auto_close: false``: with it, the set-up's 10,000 recharges would each restore an account
and record a close command for its (closed) meter, 20,000 durable transactions, which is
scaffolding, not the site at work. Trips are confirmed after ``confirm_delay: 1s`` (2 s by
default).

The clock runs from the first reading fired until every reading is stored, charged and its
charge committed: ``METRIC prepaid_readings_per_s``. The trips' completion (commands
confirmed by reading the meters back after ``confirm_delay``) is waited for and reported,
not timed. Checks: every account that ran out had its meter tripped (the simulated relay is
open and its command confirmed) and no other; the ledger audit is ok; one account's entries
sum to its balance; no reading was rejected or dropped, none failed to be charged.

Run: ``.venv/bin/python bench/prepaid.py`` (a temporary folder; about a minute). Prints the
batches, alerts, trips and CPU on stderr and ``METRIC prepaid_readings_per_s <value>
readings/s`` on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fleet import account_id, address, meter_id

from hub.bootstrap import create_hub, prepare
from hub.core import Context, Event, Hub
from hub.events import (
    EVENT_BALANCE_EXHAUSTED,
    EVENT_BALANCE_LOW,
    EVENT_BILLING_ERROR,
    EVENT_COMMAND_CONFIRMED,
    EVENT_COMMAND_FAILED,
    EVENT_READING,
)
from hub.ledger import Ledger, PostRequest
from hub.ledger.entries import EntryKind
from hub.metering.points import RELAY_CLOSED, RELAY_OPEN
from hub.metering.reading import Reading, ReadingSource
from hub.metering.service import MeteringService
from hub.prepaid.control import Control
from hub.storage import Storage

ACCOUNTS = 10_000
LOW_EVERY = 40  # one account in 40 is recharged too little for the two hours
QUARTER = timedelta(minutes=15)

TARIFF: dict[str, Any] = {
    "id": "tou_tiers", "name": "TOU with monthly tier surcharges (bench)", "type": "tou",
    "prices": {"peak": "0.5583", "flat": "0.4883", "valley": "0.3000"},
    "schedules": {"day": [{"start": s, "band": b} for s, b in (
        ("00:00", "valley"), ("07:00", "flat"), ("10:00", "peak"), ("15:00", "flat"),
        ("18:00", "peak"), ("21:00", "flat"), ("23:00", "valley"))]},
    "tier_period": "monthly",
    "tier_surcharges": [{"up_to": 1, "surcharge": "0"}, {"up_to": 3, "surcharge": "0.05"},
                        {"surcharge": "0.30"}],
}


def recharge(n: int) -> Decimal:
    """What account ``n`` is recharged with before the first reading."""
    return Decimal(1 + n // LOW_EVERY % 3) if n % LOW_EVERY == 7 else Decimal("22.50")


def hub_yaml(commit_batch: int | None) -> str:
    """The generated configuration: site, storage, one sim link, accounts, meters, tariff."""
    lines = [
        "site: {name: Prepaid bench, time_zone: Asia/Shanghai, language: en}",
        "http: {port: 0, host: 127.0.0.1}",
        "metering: {read_on_start: false}",  # the bench fires the plan's readings
        f"storage: {{commit_batch: {commit_batch}}}" if commit_batch else "storage: {}",
        "bills: {check_every: 0s}",
        "control: {check_on_start: false, auto_close: false, confirm_delay: 1s}",
        "links:",
        "  - {id: sim1, type: sim, speed: 0}",
        "accounts:",
    ]
    lines += [f"  - {{id: {account_id(n)}, name: Room {n:05d}}}" for n in range(ACCOUNTS)]
    lines.append("meters:")
    lines += [f'  - {{id: {meter_id(n)}, model: ddsy, link: sim1, address: "{address(n)}", '
              f"account: {account_id(n)}, tariff: tou_tiers, "
              f"tags: {{building: B{n // 500:02d}}}}}" for n in range(ACCOUNTS)]
    lines.append("tariffs:")
    lines.append(f"  - {json.dumps(TARIFF)}")
    return "\n".join(lines) + "\n"


class Site:
    """The meters' registers and relays, and the readings a plan run fires."""

    def __init__(self, simulators: dict[str, Any]) -> None:
        self.simulators = simulators
        self.total = [Decimal(1000 + n % 5000) for n in range(ACCOUNTS)]

    def reading(self, n: int, round_: int, when: datetime) -> Reading:
        """Meter ``n``'s reading of plan run ``round_`` (its use since the last run added)."""
        closed = self.simulators[meter_id(n)].relay_closed
        if round_ and closed:
            self.total[n] += Decimal(1 + (n * 7 + round_ * 13) % 97) / 100  # 0.01..0.97 kWh
        power = Decimal(1 + (n * 7 + round_ * 13) % 97) / 25 if closed else Decimal(0)
        return Reading(
            meter_id=meter_id(n), time=when,
            registers={"energy_import_total": self.total[n]},
            values={"voltage": Decimal("220.0"), "current": (power * 1000 / 220).quantize(
                Decimal("0.001")), "power": power},
            status={"relay": RELAY_CLOSED if closed else RELAY_OPEN,
                    "meter_type": "money_prepaid"},
            device=address(n), link_id="sim1", source=ReadingSource.SCHEDULED,
            quality={"frames": 6, "errors": {}, "attempts": 1, "seconds": 0.12})


async def feed(hub: Hub, storage: Storage, ledger: Ledger, site: Site, rounds: int,
               start: datetime, group: int, in_flight: int) -> int:
    """Fire the plan runs' readings, in groups, never more than ``in_flight`` in flight."""
    fire = hub.bus.fire
    fired = 0
    for round_ in range(rounds):
        when = start + round_ * QUARTER
        context = Context(origin="metering")  # one plan run
        for first in range(0, ACCOUNTS, group):
            for n in range(first, min(first + group, ACCOUNTS)):
                fire(EVENT_READING, {"meter_id": meter_id(n),
                                     "reading": site.reading(n, round_, when)},
                     context=context)
            fired += min(group, ACCOUNTS - first)
            await asyncio.sleep(0)
            while storage.backlog > in_flight or ledger.backlog > in_flight:
                await asyncio.sleep(0.001)
    return fired


async def bench(folder: Path, args: argparse.Namespace, say: Callable[[str], None]) -> float:
    path = folder / "hub.yaml"
    path.write_text(hub_yaml(args.commit_batch), encoding="utf-8")
    prepared = prepare(path, data_dir=folder / "data")
    assert not prepared.problems, prepared.problems[:5]
    hub = create_hub(prepared)
    await hub.start()
    storage = hub.component("storage", Storage)
    ledger = hub.component("ledger", Ledger)
    control = hub.component("control", Control)
    metering = hub.component("metering", MeteringService)
    simulators = metering.links["sim1"].simulators  # type: ignore[attr-defined]
    results = await ledger.post_many([
        PostRequest(account_id(n), EntryKind.RECHARGE, recharge(n), f"pay:{account_id(n)}")
        for n in range(ACCOUNTS)])
    assert not [r for r in results if isinstance(r, Exception)], results[:3]
    await hub.block_till_done(timeout=60)
    async with asyncio.timeout(120):
        while control.commands.all_outstanding():
            await asyncio.sleep(0.05)
    await storage.flush()

    seen: dict[str, list[Event]] = {name: [] for name in (
        EVENT_BALANCE_LOW, EVENT_BALANCE_EXHAUSTED, EVENT_BILLING_ERROR,
        EVENT_COMMAND_CONFIRMED, EVENT_COMMAND_FAILED)}
    for name, events in seen.items():
        hub.bus.listen(name, events.append)
    site = Site(simulators)
    # the plan runs of the last two hours, ending at the last quarter hour
    now = datetime.now(UTC)
    end = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    start = end - (args.rounds - 1) * QUARTER
    batches, commits = ledger.batches, storage.stats()["commits"]
    collections = [stats["collections"] for stats in gc.get_stats()]
    cpu = time.process_time()
    started = time.perf_counter()
    fired = await feed(hub, storage, ledger, site, args.rounds, start, args.group,
                       args.in_flight)
    await storage.flush()
    await hub.block_till_done(timeout=120)
    await ledger.drain(timeout=120)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu  # the loop and the writer threads
    collections = [stats["collections"] - before
                   for stats, before in zip(gc.get_stats(), collections, strict=True)]
    batches, commits = ledger.batches - batches, storage.stats()["commits"] - commits
    charged = fired - ACCOUNTS  # each meter's first reading is its baseline
    say(f"{fired} readings ({args.rounds} plan runs of {ACCOUNTS} meters, groups of "
        f"{args.group}, at most {args.in_flight} waiting) stored, charged and committed in "
        f"{elapsed:.2f} s: {fired / elapsed:.0f} readings/s")
    say(f"  storage: {commits} commits ({fired / max(1, commits):.0f} readings a commit); "
        f"ledger: {batches} durable batches ({charged / max(1, batches):.0f} charges a "
        f"batch); cpu {cpu:.2f} s ({cpu / fired * 1e6:.0f} us a reading), gc passes "
        f"{'/'.join(map(str, collections))} (gen 0/1/2)")

    # the trips: every account that ran out has its meter's relay opened and confirmed
    exhausted = {str(e.data["account_id"]) for e in seen[EVENT_BALANCE_EXHAUSTED]}
    waited = time.perf_counter()
    async with asyncio.timeout(60):
        while control.commands.all_outstanding():
            await asyncio.sleep(0.05)
    trip_wait = time.perf_counter() - waited
    tripped = {account_id(n) for n in range(ACCOUNTS)
               if not simulators[meter_id(n)].relay_closed}
    confirmed = {str(e.data["account_id"]) for e in seen[EVENT_COMMAND_CONFIRMED]
                 if e.data.get("command") == "trip"}
    expected = {account_id(n) for n in range(ACCOUNTS) if ledger.balance(account_id(n)) <= 0}
    say(f"  {len(seen[EVENT_BALANCE_LOW])} balance_low, {len(exhausted)} balance_exhausted; "
        f"{len(tripped)} meters tripped, {len(confirmed)} trips confirmed, "
        f"{len(seen[EVENT_COMMAND_FAILED])} commands failed (the last confirmed "
        f"{trip_wait:.1f} s after the last charge)")
    assert not seen[EVENT_BILLING_ERROR], seen[EVENT_BILLING_ERROR][:3]
    assert not seen[EVENT_COMMAND_FAILED], seen[EVENT_COMMAND_FAILED][:3]
    assert exhausted and exhausted == expected == tripped == confirmed, (
        len(exhausted), len(expected), len(tripped), len(confirmed))
    stats = storage.stats()
    assert stats["rejected"] == 0 and stats["dropped"] == 0, stats
    report = await ledger.audit()
    assert report.ok, report.problems[:3]
    for n in (1, 7):  # a full account and one that ran out
        entries = await ledger.entries(account_id(n), limit=None)
        assert sum((e.amount for e in entries), Decimal(0)) == ledger.balance(account_id(n))
    stored = await storage.readings(meter_id(7), start, end + timedelta(seconds=1))
    assert len(stored) == args.rounds, (len(stored), args.rounds)
    say(f"  checked: the accounts that ran out are the meters tripped; audit ok "
        f"({report.accounts} accounts); entries sum to balances; readings stored")
    await hub.stop()
    return fired / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="plan runs (15 minutes apart)")
    parser.add_argument("--group", type=int, default=20)
    parser.add_argument("--in-flight", type=int, default=200)
    parser.add_argument("--commit-batch", type=int, default=200,
                        help="storage's commit_batch (0: its default)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="meterhub-bench-") as folder:
        rate = asyncio.run(bench(Path(folder), args, say))
    print(f"METRIC prepaid_readings_per_s {rate:.0f} readings/s")


if __name__ == "__main__":
    main()
