"""Billing benchmark: time to bill 10,000 accounts for a month, TOU + tiers, from stored readings.

Everything goes through the product's own data path, on a real hub in a temporary folder:

1. **Hub** (not timed): a generated ``hub.yaml`` read by ``hub.bootstrap.prepare`` and built
   by ``create_hub``: 10,000 prepaid accounts, 10,000 DDSY electricity meters (one per
   account, tagged with a building) behind 20 4G DTUs (a ``tcp_dtu`` link listening on
   127.0.0.1, one DTU a building; none connects, and with ``metering: {read_on_start:
   false}`` and no reading plans nothing is read by itself; an in-process ``sim`` link
   would add 10,000 simulated meters to the hub process, which a site does not hold;
   ``devices: {fill_after}`` is set above the reading plan's interval, as a site whose plan
   reads every few days sets it, so a planned read is not taken for a gap to fill from the
   meters' daily freezes), and one tariff
   for all: Guangdong-style commercial TOU with a summer sharp peak and a weekend schedule,
   yearly tier surcharges (阶梯), a service fee and meter rent, and a monthly minimum charge.
   Storage, the ledger, charging and billing are the components the hub builds from that
   file. Every account is recharged on 30 June (``ledger.post_many``).
2. **A month of readings** (July 2025), not timed but measured: a billing reading plan reads
   every meter ``--reads-per-day`` times a day (default 1, at local midnight) every
   ``--every-days`` days (default 3: 1, 4, ..., 31 July) and at the period's end (1 August
   00:00), 12 readings a meter, 120,000 in all (fewer than a daily read, to keep the bench
   under two minutes on a shared machine: the bill run reads charge states, not readings); each
   read is fired as the metering service fires it: a ``reading`` event carrying a
   :class:`hub.metering.reading.Reading` of a DDSY meter — the total import register (what a
   billing reading plan reads, ``points: [energy_import_total, ...]``; the T1..T4 registers
   would add four more rollup series per reading), voltage, current, power, the meter's balance
   and its status words. Loads vary by meter (vacant rooms below the minimum charge, homes,
   shops, large shops crossing both yearly tier thresholds within the month) and by day
   (weekends, ±30 %). Storage stores the readings, counts the register deltas (rollups per
   meter and per building) and, after each commit, fires ``consumption``. While the month is
   fed, charging is held (the charger's filter sees no meters; each ``consumption`` event is
   kept). Printed: the ingest time (every reading committed: ``storage.flush()``).
3. **Timed: charging** (``METRIC charge_readings_per_s``): the held ``consumption`` events —
   every stored reading that counted consumption, 110,000 — are handed to the charger as the
   bus hands them (``Charger.on_consumption``), paced by the ledger's backlog, and the clock
   stops when the last charge is committed (``ledger.drain()``): each reading priced at its
   tariff (TOU bands, yearly tiers), added to its charge state, written as a ledger entry in
   durable batches (``hub/billing/charger.py``, ``hub/billing/charges.py``), checked against
   the warning levels. This is the per-reading pricing the bill run depends on, which a site
   does as its readings arrive (here apart from the ingest, so that each has its own figure).
4. **Timed: the bill run** (``METRIC billing_10k_seconds``): the month's bill run,
   ``BillingEngine.tick()`` — the call the ``bill.run`` service makes — at 03:00 on 1 August
   (after ``issue_after``), until the ledger is drained: for every account the period's
   charge states are read, its bill computed (lines rounded per line, fixed fees, minimum
   charge), issued in durable batches with its fee entries and the closing of the charge
   states, ``bill_issued`` / ``bill_paid`` fired (and whatever listens to them: notices, the
   trip policy), and bill statuses updated.

**The hub runs in a process of its own.** ``bench/billing.py`` spawns a fresh Python process
(``multiprocessing``, start method ``spawn``) that builds and runs the hub and the steps
above; this process, the bench, generates the month and keeps what the harness holds, and the
two talk over a pipe. The meters' registers and loads live here: for each plan run the hub
process asks for the 10,000 register values, builds the ``Reading`` objects and fires them
(one run at a time, then dropped); the ``consumption`` events held back from charging are
sent here as they are fired and sent back, batch by batch, when charging is released. So the
hub process holds the hub (configuration, states, caches, storage's and the ledger's
in-memory parts) and a pipe, not the generated month. Two more figures:

5. ``METRIC start_10k_seconds``: from spawning the hub process to its web server answering
   an HTTP request (``GET /``, any status): Python's start, imports, reading and validating
   the 10,000-meter ``hub.yaml``, building the hub and starting every stage.
6. ``METRIC rss_10k_meters_mb``: the hub process's resident memory (``VmRSS`` in
   ``/proc/self/status``) after the month of readings, the charging and the bill run (and
   the checks below), with 10,000 meters, accounts and their tariff; its peak (``VmHWM``) is
   printed on stderr.

Checks: 10,000 bills issued, none failed; for three accounts of each load class the bill's
consumption equals the sum of that account's per-reading ``charge`` entries for July, its
total equals max(consumption + fees, minimum charge) and its ``fee`` entries make up the rest
(to the fen); ``ledger.audit()`` is ok; no reading was rejected or dropped and no reading
failed to be charged.

Run: ``.venv/bin/python bench/billing.py [--reads-per-day N] [--every-days D]
[--memory-breakdown]`` (the last traces the hub process's Python memory and prints its
biggest holders after the start and their growth to the end: slower, its METRICs are not
figures). Prints
``METRIC billing_10k_seconds <value> s``, ``METRIC charge_readings_per_s <value>
readings/s``, ``METRIC start_10k_seconds <value> s`` and ``METRIC rss_10k_meters_mb <value>
MB`` on stdout, the other figures on stderr (the CPU time of the start, the charging and the
bill run, which a shared machine's load changes far less than their wall-clock times; each
step's line ends with the hub process's
resident memory then). With the defaults, 97 s on the 2-core machine shared at a load of
about 3 (Dec 2026: start 13 s, ingest ~40 s, charging ~30 s, bill run ~7 s), 2.5 minutes at a
load of 6; a daily read (``--every-days 1``, 320,000 readings) takes 2.3 minutes or more,
and more reads add
to the ingest and charging time, not to the bill run (it reads the period's charge states,
not the readings).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import sys
import tempfile
import time
import tracemalloc
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fleet import account_id, address, meter_id

from hub.billing.bills import Bill
from hub.billing.charger import Charger
from hub.billing.engine import BillingEngine
from hub.bootstrap import create_hub, prepare
from hub.core import Context, Event, Hub
from hub.events import EVENT_CONSUMPTION, EVENT_READING
from hub.ledger.entries import EntryKind, PostRequest
from hub.ledger.ledger import Ledger
from hub.metering.reading import Reading, ReadingSource
from hub.storage import Storage
from hub.web.server import WebServer

ACCOUNTS = 10_000
TZ = ZoneInfo("Asia/Shanghai")
MONTH_START = datetime(2025, 7, 1, tzinfo=TZ)
MONTH_END = datetime(2025, 8, 1, tzinfo=TZ)
PERIOD = date(2025, 7, 1)
BILL_RUN_AT = datetime(2025, 8, 1, 3, 0, tzinfo=TZ)  # issue_after (2 h) past the period end
FEES = Decimal("7.00")  # service_fee + meter_rent, a full month
MINIMUM = Decimal("30.00")
CENT = Decimal("0.01")
BUILDING = 500  # meters a building (and its DTU)
# charges queued for the ledger: the feed and the release wait. Three of the ledger's batches
# (2,000 charges) keep it busy; on a site charges come as storage commits readings (1,000 a
# commit), so a deeper queue would be the bench's held month in the hub process
MAX_BACKLOG = 6_000
# readings queued for storage: the feed waits. A site's reading plan has a few reads in flight
# per link and storage commits every second or 1,000 readings, so its queue stays near that;
# a deeper queue would be the bench's generated readings held in the hub process (20,000
# queued readings cost it about 150 MB)
FEED_BACKLOG = 2_000
BREAKDOWN_LINES = 30  # source lines listed by --memory-breakdown

TARIFF = """
tariffs:
  # Guangdong commercial TOU periods and ratios (粤发改价格〔2021〕331号, illustrative prices,
  # as config/tariffs.yaml), a weekend schedule, the yearly tier surcharges of the national
  # guideline (发改价格〔2011〕2617号, Beijing thresholds), two monthly fees, a minimum charge.
  - id: shop_tou_tiers
    name: Shop TOU with tier surcharges (bench)
    type: tou
    prices: {sharp: 1.38125, peak: 1.105, flat: 0.65, valley: 0.247}
    schedules:
      normal:
        - {start: "00:00", band: valley}
        - {start: "08:00", band: flat}
        - {start: "10:00", band: peak}
        - {start: "12:00", band: flat}
        - {start: "14:00", band: peak}
        - {start: "19:00", band: flat}
      summer:
        - {start: "00:00", band: valley}
        - {start: "08:00", band: flat}
        - {start: "10:00", band: peak}
        - {start: "11:00", band: sharp}
        - {start: "12:00", band: flat}
        - {start: "14:00", band: peak}
        - {start: "15:00", band: sharp}
        - {start: "17:00", band: peak}
        - {start: "19:00", band: flat}
      weekend:
        - {start: "00:00", band: valley}
        - {start: "08:00", band: flat}
        - {start: "22:00", band: valley}
    zones:
      - {start: "01-01", schedule: normal}
      - {start: "07-01", schedule: summer}
      - {start: "10-01", schedule: normal}
    weekend_schedule: weekend
    tier_period: yearly
    tier_surcharges:
      - {up_to: 2880, surcharge: 0}
      - {up_to: 4800, surcharge: 0.05}
      - {surcharge: 0.30}
    fixed_fees: {service_fee: 5.00, meter_rent: 2.00}
    minimum_charge: 30.00
"""

# Load classes: (name, share of meters in thousandths, daily kWh low..high, recharges on 30
# June, each at most an account's default max_recharge of 5000.00)
CLASSES = (("vacant", 120, Decimal("0.05"), Decimal("0.80"), (Decimal(100),)),  # < minimum
           ("home", 560, Decimal("3"), Decimal("20"), (Decimal(1000),)),
           ("shop", 220, Decimal("20"), Decimal("90"), (Decimal(5000),)),
           ("large_shop", 100, Decimal("95"), Decimal("230"),  # past 2880 (and 4800) kWh
            (Decimal(5000), Decimal(5000))))
# A day's load shape (weights per local hour): what each reading interval of a day gets.
HOURLY = (2, 2, 2, 2, 2, 2, 3, 4, 6, 8, 9, 10, 9, 8, 9, 10, 10, 9, 8, 8, 7, 5, 4, 3)


class Clock:
    """The simulated time of the ledger and billing (entries are stamped with it)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Lcg:
    """A small deterministic pseudo-random source (the same month on every run)."""

    def __init__(self, seed: int) -> None:
        self.value = seed

    def next(self, modulus: int) -> int:
        self.value = (self.value * 1103515245 + 12345) % (2 ** 31)
        return (self.value >> 8) % modulus


def load_class(n: int) -> int:
    """The load class of meter ``n`` (deterministic, spread over the meters)."""
    slot = (n * 7919) % 1000
    for index, (_name, share, *_rest) in enumerate(CLASSES):
        if slot < share:
            return index
        slot -= share
    return len(CLASSES) - 1


def dtu_id(n: int) -> str:
    """The IMEI of the DTU meter ``n`` sits behind (one a building)."""
    return f"8612345678{n // BUILDING:05d}"


def hub_yaml(read_every: timedelta = timedelta(days=1)) -> str:
    """The generated configuration: site, storage, a DTU link, accounts, meters, tariff
    (``read_every``: the billing plan's interval, which is not a gap in a meter's history)."""
    fill_after = int((read_every + timedelta(hours=2)).total_seconds())
    lines = [
        "site: {name: Billing bench, time_zone: Asia/Shanghai, language: en}",
        "http: {port: 0, host: 127.0.0.1}",
        "metering: {read_on_start: false}",
        # a site whose plan reads every 3 days sets the history filler's gap above that, or
        # every read would ask each meter for its daily freezes (here: 10,000 reads a run
        # failing on DTUs that never connect, and 30 MB of the hub's memory)
        f"devices: {{fill_after: {fill_after}}}",
        # the month is in 2025: keep its readings whatever the date the bench runs on
        "storage: {retention_days: 3650}",
        "bills: {check_every: 0s}",  # no periodic check: the bench runs the bill run
        # The month is replayed at full speed in simulated time. Relay checks (on start, and
        # closing the relay after a recharge) read the meters in real time, i.e. after the
        # whole replayed month, which would make every replayed reading a late one.
        "control: {check_on_start: false, auto_close: false}",
        "links:",
        # the meters sit behind 4G DTUs, one per building, as on a site of this size; none
        # connects (the month's readings are fired as the metering service fires them)
        "  - {id: dtus, type: tcp_dtu, listen: \"127.0.0.1:0\"}",
        "accounts:",
    ]
    lines += [f"  - {{id: {account_id(n)}, name: Room {n:05d}}}" for n in range(ACCOUNTS)]
    lines.append("meters:")
    lines += [f'  - {{id: {meter_id(n)}, model: ddsy, link: dtus, address: "{address(n)}", '
              f"account: {account_id(n)}, tariff: shop_tou_tiers, "
              f"link_options: {{dtu: \"{dtu_id(n)}\"}}, "
              f"tags: {{building: B{n // BUILDING:02d}}}}}" for n in range(ACCOUNTS)]
    return "\n".join(lines) + "\n" + TARIFF


class Meters:
    """Each meter's registers, advanced interval by interval with its own daily load (held by
    the bench process, never by the hub's)."""

    def __init__(self, reads_per_day: int, times: list[datetime]) -> None:
        self.per_day = reads_per_day
        self.times = times
        hours = 24 // reads_per_day
        total = sum(HOURLY)
        self.shares = [Decimal(sum(HOURLY[i * hours:(i + 1) * hours])) / total
                       for i in range(reads_per_day)]
        self.random = Lcg(20250701)
        self.classes = [load_class(n) for n in range(ACCOUNTS)]
        self.base = []  # each meter's typical daily kWh
        for n in range(ACCOUNTS):
            _name, _share, low, high, _recharges = CLASSES[self.classes[n]]
            self.base.append(low + (high - low) * Decimal(self.random.next(1000)) / 1000)
        # the total import register (kWh, 2 decimals as DL/T 645 reports it)
        self.total = [Decimal(self.random.next(2_000_000)) / 100 for _n in range(ACCOUNTS)]
        self.power = [(base / 24).quantize(Decimal("0.0001")) for base in self.base]

    def advance(self, n: int, day: date, slot: int) -> None:
        """Add meter ``n``'s usage of one reading interval to its register."""
        daily = self.base[n] * Decimal(70 + self.random.next(61)) / 100  # ±30 % day to day
        if day.weekday() >= 5 and self.classes[n] >= 2:
            daily *= Decimal("0.6")  # shops are quieter at weekends
        self.total[n] += (daily * self.shares[slot]).quantize(CENT)

    def run(self, index: int) -> tuple[list[Decimal], list[Decimal]]:
        """Plan run ``index``: every meter's register (advanced over the intervals since the
        previous run) and power, in meter order."""
        hours = 24 // self.per_day
        interval = timedelta(hours=hours)
        previous = self.times[index - 1] if index else None
        for n in range(ACCOUNTS):
            begun = previous
            while begun is not None and begun < self.times[index]:
                self.advance(n, begun.date(), begun.hour // hours)
                begun += interval
        return list(self.total), self.power


def reading(n: int, when: datetime, total: Decimal, power: Decimal) -> Reading:
    """What the metering service fires after reading meter ``n`` (a DDSY) at ``when``."""
    return Reading(
        meter_id=meter_id(n), time=when.astimezone(UTC),
        registers={"energy_import_total": total},
        values={"voltage": Decimal("220.0"),
                "current": (power * 1000 / 220).quantize(Decimal("0.001")),
                "power": power, "balance": Decimal("100.00")},
        status={"status_word_3": 512, "relay": "closed", "relay_command": "close",
                "pre_trip_alarm": False, "protect": False, "meter_type": "money_prepaid"},
        device=address(n), link_id="dtus", source=ReadingSource.SCHEDULED,
        quality={"frames": 6, "errors": {}, "attempts": 1, "seconds": 0.12})


def read_times(reads_per_day: int, every_days: int) -> list[datetime]:
    """When the billing plan reads every meter: from 1 July 00:00, ``reads_per_day`` times a
    day every ``every_days`` days, and at the period's end (1 August 00:00)."""
    step = timedelta(hours=24 // reads_per_day) * every_days
    times = []
    when = MONTH_START
    while when < MONTH_END:
        times.append(when)
        when += step
    return [*times, MONTH_END]


class BenchPipe:
    """The bench process seen from the hub process: asked for the month, holding for it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def ask(self, *message: object) -> Any:
        """Send a request and wait (off the event loop) for the answer."""
        self.conn.send(message)
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    def tell(self, *message: object) -> None:
        """Send something that needs no answer."""
        self.conn.send(message)


async def feed_month(hub: Hub, storage: Storage, ledger: Ledger, bench: BenchPipe,
                     clock: Clock, times: list[datetime]) -> int:
    """Fire every meter's readings of the month, run by run, as a reading plan does."""
    fired = 0
    fire = hub.bus.fire
    for index, when in enumerate(times):
        totals, powers = await bench.ask("run", index)
        clock.now = when + timedelta(minutes=1)
        context = Context(origin="metering")  # one reading-plan run
        for n in range(ACCOUNTS):
            fire(EVENT_READING, {"meter_id": meter_id(n),
                                 "reading": reading(n, when, totals[n], powers[n])},
                 context=context)
            fired += 1
            if fired % 1000 == 0:
                await asyncio.sleep(0)
                # storage's writer and the ledger set the pace (as a reading plan's
                # concurrency limit does)
                while storage.backlog > FEED_BACKLOG or ledger.backlog > MAX_BACKLOG:
                    await asyncio.sleep(0.005)
        del totals, powers
    return fired


async def check_bill(engine: BillingEngine, ledger: Ledger, storage: Storage, n: int,
                     reads: int) -> Bill:
    """The meter's readings are stored; the bill agrees with the account's per-reading
    charges and its fee entries."""
    stored = await storage.readings(meter_id(n), MONTH_START, MONTH_END + timedelta(seconds=1))
    assert len(stored) == reads, (meter_id(n), len(stored), reads)
    account = account_id(n)
    bill = await engine.bill(f"{account}-{PERIOD:%Y%m%d}")
    assert bill is not None, f"no July bill for {account}"
    charges = await ledger.entries(account, kinds=[EntryKind.CHARGE], period=PERIOD,
                                   limit=None)
    fees = await ledger.entries(account, kinds=[EntryKind.FEE], period=PERIOD, limit=None)
    charged = -sum((entry.amount for entry in charges), Decimal(0))
    assert bill.consumption == charged, (account, bill.consumption, charged)
    assert bill.total == max(charged + FEES, MINIMUM), (account, bill.total, charged)
    assert bill.total == charged - sum((entry.amount for entry in fees), Decimal(0)), (
        account, bill.total, [entry.amount for entry in fees])
    assert bill.status == "paid", (account, bill.status)
    return bill


HeldEvent = tuple[dict[str, Any], float, tuple[str, str | None, str | None, str | None]]


class ChargeHold:
    """Holds the charging of stored readings: while on, the charger's filter sees no meter
    (so the ``consumption`` storage fires after each commit is not charged) and each such
    event is sent to the bench process to keep; :meth:`release` gets them back and hands
    them to the charger as the bus would have."""

    BATCH = 1000

    def __init__(self, hub: Hub, charger: Charger, bench: BenchPipe) -> None:
        self.charger = charger
        self.bench = bench
        self.batch: list[HeldEvent] = []
        self.held = 0
        self._meters = charger.meters
        charger.meters = {}
        self._unlisten = hub.bus.listen(EVENT_CONSUMPTION, self.keep)

    def keep(self, event: Event) -> None:
        """Send a consumption event to the bench (in batches)."""
        context = event.context
        self.batch.append((dict(event.data), event.time_fired_ts,
                           (context.id, context.parent_id, context.user_id, context.origin)))
        self.held += 1
        if len(self.batch) >= self.BATCH:
            self.bench.tell("hold", self.batch)
            self.batch = []

    async def release(self, ledger: Ledger) -> int:
        """Charge every held reading, paced by the ledger's backlog; returns how many."""
        self._unlisten()
        if self.batch:
            self.bench.tell("hold", self.batch)
            self.batch = []
        self.charger.meters = self._meters
        count = 0
        while (batch := await self.bench.ask("held", count // self.BATCH)) is not None:
            for data, fired_ts, (ident, parent, user, origin) in batch:
                # what the bus calls for each consumption
                self.charger.on_consumption(Event(EVENT_CONSUMPTION, data, fired_ts, Context(
                    ident, parent_id=parent, user_id=user, origin=origin)))
                count += 1
            del batch
            await asyncio.sleep(0)
            while ledger.backlog > MAX_BACKLOG:
                await asyncio.sleep(0.005)
        return count


def memory_mb() -> tuple[float, float]:
    """This process's resident memory now and at its peak (VmRSS, VmHWM), in MB."""
    fields = dict(line.split(":", 1) for line in
                  Path("/proc/self/status").read_text(encoding="ascii").splitlines())
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def breakdown(say: Callable[[str], None], title: str,
              since: tracemalloc.Snapshot | None = None) -> tracemalloc.Snapshot:
    """Print the biggest holders of live Python memory now (or their growth since ``since``)
    by source line, and return the snapshot."""
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)])
    stats = (snapshot.compare_to(since, "lineno") if since is not None
             else snapshot.statistics("lineno"))
    total = sum(stat.size for stat in snapshot.statistics("filename"))
    lines = [f"{stat.size / 1e6:7.2f} MB {stat.count:7d} {stat.traceback[0].filename}:"
             f"{stat.traceback[0].lineno}" for stat in stats[:BREAKDOWN_LINES]]
    say(f"memory breakdown {title}: {total / 1e6:.1f} MB traced; biggest holders"
        f"{' (growth)' if since is not None else ''}:\n" + "\n".join(lines))
    return snapshot


async def bench(folder: Path, reads_per_day: int, every_days: int, parent: BenchPipe,
                say: Callable[[str], None]) -> dict[str, float]:
    """The hub process: build and start the hub, then the month, charging and the bill run."""
    started = time.perf_counter()
    path = folder / "hub.yaml"
    prepared = prepare(path, data_dir=folder / "data")
    assert not prepared.problems, prepared.problems[:5]
    hub = create_hub(prepared)
    prepared.forget_positions()  # as ``meterhub run`` does
    read = time.perf_counter()
    await hub.start()
    up = time.perf_counter()
    start_cpu = time.process_time()  # the hub process's CPU from its start (Python, imports)
    await parent.ask("serving", hub.component("web", WebServer).port)
    storage = hub.component("storage", Storage)
    ledger = hub.component("ledger", Ledger)
    engine = hub.component("billing", BillingEngine)
    charger = hub.component("charging", Charger)
    clock = Clock(MONTH_START - timedelta(hours=4))
    ledger.clock = clock
    recharges = await parent.ask("recharges")
    results = await ledger.post_many([
        PostRequest(account_id(n), EntryKind.RECHARGE, amount, f"pay:{account_id(n)}:{index}")
        for n in range(ACCOUNTS)
        for index, amount in enumerate(recharges[n])])
    del recharges
    assert not [result for result in results if isinstance(result, Exception)], results[:3]
    del results  # the bench's, not the hub's
    await hub.block_till_done(timeout=600)
    await storage.flush()
    errors: list[object] = []
    hub.bus.listen("billing_error", errors.append)
    started_snapshot = (breakdown(say, "after the start and the recharges")
                        if tracemalloc.is_tracing() else None)
    say(f"setup: {ACCOUNTS} accounts and meters: hub.yaml read in {read - started:.1f} s, "
        f"hub started in {up - read:.1f} s ({start_cpu:.2f} s CPU from the process's start "
        f"to serving), recharges posted in {time.perf_counter() - up:.1f} s")

    hold = ChargeHold(hub, charger, parent)
    begun = time.perf_counter()
    cpu = time.process_time()
    times = read_times(reads_per_day, every_days)
    fired = await feed_month(hub, storage, ledger, parent, clock, times)
    await storage.flush()
    await hub.block_till_done(timeout=600)
    ingested = time.perf_counter() - begun
    cpu = time.process_time() - cpu
    stats = storage.stats()
    assert stats["rejected"] == 0 and stats["dropped"] == 0, stats
    say(f"ingest: {fired} readings ({len(times)} plan runs: {reads_per_day} a day every "
        f"{every_days} day(s) + the period's end) stored in "
        f"{ingested:.1f} s ({fired / ingested:.0f} readings/s, {stats['commits']} commits, "
        f"cpu {cpu:.2f} s), "
        f"charging held: {hold.held} readings with consumption")

    clock.now = MONTH_END + timedelta(minutes=5)
    batches = ledger.batches
    begun = time.perf_counter()
    cpu = time.process_time()  # the loop and the writer threads
    count = await hold.release(ledger)
    await ledger.drain(timeout=600)
    await hub.block_till_done(timeout=600)  # what the charges set going (thresholds)
    await ledger.drain(timeout=600)
    charging = time.perf_counter() - begun
    cpu = time.process_time() - cpu
    assert not errors, errors[:3]
    assert count == fired - ACCOUNTS, (count, fired)  # all but each meter's baseline read
    rate = count / charging
    say(f"charging: {count} stored readings charged and committed in {charging:.1f} s "
        f"({rate:.0f} readings/s, {ledger.batches - batches} durable batches, "
        f"{count / max(1, ledger.batches - batches):.0f} readings a batch; cpu {cpu:.2f} s, "
        f"{cpu / count * 1e6:.0f} us a reading)")

    issued: list[object] = []
    hub.bus.listen("bill_issued", issued.append)
    clock.now = BILL_RUN_AT
    batches = ledger.batches
    begun = time.perf_counter()
    cpu = time.process_time()
    summary = await engine.tick()  # what the bill.run service calls
    returned = time.perf_counter() - begun
    await ledger.drain(timeout=600)  # bill statuses
    await hub.block_till_done(timeout=600)  # what bill_issued / bill_paid set going
    await ledger.drain(timeout=600)
    elapsed = time.perf_counter() - begun
    cpu = time.process_time() - cpu
    assert summary["bills"] == ACCOUNTS and not summary["failed"], summary
    assert len(issued) == ACCOUNTS, len(issued)
    del issued
    say(f"bill run: {summary['bills']} bills issued, {summary['failed']} failed, in "
        f"{elapsed:.2f} s (tick() returned after {returned:.2f} s; "
        f"{ledger.batches - batches} durable batches; cpu {cpu:.2f} s)")

    samples = []
    for name, picks in await parent.ask("samples"):
        for n in picks:
            samples.append((name, await check_bill(engine, ledger, storage, n,
                                                   fired // ACCOUNTS)))
    for name, bill in samples[::3]:
        say(f"sample bill {bill.bill_id} ({name}): total {bill.total} = consumption "
            f"{bill.consumption} + fees/minimum {bill.fees} ({len(bill.lines)} lines)")
    report = await ledger.audit()
    assert report.ok, report.problems[:3]
    say(f"checked: {len(samples)} meters have their {fired // ACCOUNTS} readings stored and "
        "their bills equal their accounts' per-reading charges plus fees to the fen; "
        f"ledger audit ok ({report.accounts} accounts)")
    if started_snapshot is not None:
        breakdown(say, "after the month and the bill run", started_snapshot)
    rss, peak = memory_mb()
    say(f"hub process memory after the month and the bill run: {rss:.0f} MB resident, "
        f"peak {peak:.0f} MB")
    await hub.stop()
    say(f"hub process run time {time.perf_counter() - started:.1f} s")
    return {"billing": elapsed, "rate": rate, "rss": rss}


def hub_process(conn: Connection, folder: Path, reads_per_day: int, every_days: int,
                trace: bool = False) -> None:
    """The hub process's entry point (spawned): run :func:`bench`, send back its figures."""
    if trace:
        tracemalloc.start()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    def say(text: str) -> None:
        print(f"{text} [hub process: {memory_mb()[0]:.0f} MB resident]", file=sys.stderr,
              flush=True)

    parent = BenchPipe(conn)
    figures = asyncio.run(bench(folder, reads_per_day, every_days, parent, say))
    parent.tell("done", figures)


def answers_http(port: int) -> bool:
    """Whether a web server on 127.0.0.1:``port`` answers ``GET /`` (any status)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True  # an answer (a login page, an error) is serving


def serve_hub(conn: Connection, meters: Meters, spawned: float) -> dict[str, float]:
    """Answer the hub process until it is done: the month's registers run by run, the
    recharges, the held consumption events; measure when it starts serving."""
    held: list[list[HeldEvent]] = []
    figures: dict[str, float] = {}
    while True:
        kind, *args = conn.recv()
        if kind == "run":
            conn.send(meters.run(args[0]))
        elif kind == "hold":
            held.append(args[0])
        elif kind == "held":
            conn.send(held[args[0]] if args[0] < len(held) else None)
        elif kind == "serving":
            assert answers_http(args[0])
            figures["start"] = time.monotonic() - spawned
            conn.send("go")
        elif kind == "recharges":
            conn.send([CLASSES[meters.classes[n]][4] for n in range(ACCOUNTS)])
        elif kind == "samples":
            conn.send([(CLASSES[index][0],
                        [n for n in range(ACCOUNTS) if meters.classes[n] == index][:3])
                       for index in range(len(CLASSES))])
        elif kind == "done":
            return {**figures, **args[0]}
        else:
            raise ValueError(f"unknown request from the hub process: {kind!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads-per-day", type=int, default=1,
                        choices=[1, 2, 3, 4, 6, 8, 12, 24])
    parser.add_argument("--every-days", type=int, default=3, choices=[1, 2, 3, 7],
                        help="days between read days (1 with more than one read a day)")
    parser.add_argument("--memory-breakdown", action="store_true",
                        help="trace the hub process's Python memory (slower, more memory: "
                        "not for the METRICs) and print its biggest holders on stderr")
    args = parser.parse_args()
    if args.reads_per_day > 1 and args.every_days != 1:
        parser.error("--reads-per-day above 1 needs --every-days 1")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="meterhub-bench-") as name:
        folder = Path(name)
        times = read_times(args.reads_per_day, args.every_days)
        (folder / "hub.yaml").write_text(hub_yaml(times[1] - times[0]), encoding="utf-8")
        meters = Meters(args.reads_per_day, times)
        spawn = multiprocessing.get_context("spawn")
        ours, theirs = spawn.Pipe()
        process = spawn.Process(target=hub_process, name="meterhub-hub",
                                args=(theirs, folder, args.reads_per_day, args.every_days,
                                      args.memory_breakdown))
        spawned = time.monotonic()
        process.start()
        theirs.close()
        try:
            figures = serve_hub(ours, meters, spawned)
        finally:
            process.join(timeout=600)
        assert process.exitcode == 0, f"the hub process exited with {process.exitcode}"
    print(f"total run time {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(f"METRIC billing_10k_seconds {figures['billing']:.2f} s")
    print(f"METRIC charge_readings_per_s {figures['rate']:.0f} readings/s")
    print(f"METRIC start_10k_seconds {figures['start']:.2f} s")
    print(f"METRIC rss_10k_meters_mb {figures['rss']:.0f} MB")


if __name__ == "__main__":
    main()
