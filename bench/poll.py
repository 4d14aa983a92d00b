"""Polling benchmark: 10,000 DDSY meters behind simulated 4G DTUs, and one RS-485 bus.

    .venv/bin/python bench/poll.py [--meters 10000] [--dtus 500] [--rs485-meters 32]

Part 1: ``--meters`` simulated DDSY meters behind ``--dtus`` simulated DTUs run in a separate
process and connect over loopback TCP to a real ``tcp_dtu`` link in this process; the
metering service's ``read_many`` reads each meter's default points (energy registers,
voltage, current, power, balance, relay status), the whole site at once, twice:

- **the site** (the headline, ``METRIC poll_10k_seconds``): behind every DTU the meters share
  an RS-485 bus at ``--baud`` (2400, 8E1: 11 bits a byte) with the project's wire model
  (:class:`hub.metering.sim.SimulatedBus` with ``baud`` and a 20 ms meter turnaround, as in
  part 2), and the DTU also holds each request for its time on the wire before the meter can
  answer. Printed beside it: the line-rate minimum, the theoretical floor of the bytes that
  crossed the wire at the baud rate, per DTU bus, the buses working in parallel (so the
  busiest bus), with and without the turnarounds and the link's guard gaps;
- **the hub alone** (``METRIC poll_10k_hub_seconds``): the same meters answering instantly
  (no wire time, no turnaround): what the hub's own work costs.

1,000 meters (two per DTU) are read first as a warm-up (printed, not a figure). A run with a
failed read is invalid: the failures are counted and printed, its figure is printed as
``INVALID <name> ...`` instead of a METRIC line, and the bench exits with status 1.

Part 2: a 32-meter bus at 2400 baud on a pty, each byte held for its real wire time; the
read cycle (``--rs485-points``) is compared with its line-rate minimum (request and reply
bits / baud + the meters' turnaround + the configured gaps):
``METRIC rs485_utilisation_pct``.

Under two minutes on the 2-core machine (Dec 2026: connect ~3 s, hub-alone run ~15 s, site
run ~50 s, part 2 ~15 s).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.core import Hub
from hub.metering.config import METERING_SCHEMA
from hub.metering.reading import ReadingSource
from hub.metering.service import MeteringService
from hub.metering.sim import ConstantLoad, SimClock, SimulatedBus
from hub.plugins import PluginManager

_LOGGER = logging.getLogger(__name__)

PER_BUS_TURNAROUND = 0.02  # seconds a simulated meter takes to start answering
RS485_GAP = "20ms"


def address_of(dtu: int, slot: int) -> str:
    """The meter address of slot ``slot`` behind DTU ``dtu``."""
    return f"2024{dtu:05d}{slot:03d}"


def dtu_id(dtu: int) -> str:
    """A DTU's registration id (a user string, as configured on a USR DTU)."""
    return f"DTU-{dtu:05d}"


# --- the simulator process ---------------------------------------------------------------

class WiredBus(SimulatedBus):
    """A DTU's RS-485 bus: the wire model of :class:`SimulatedBus` (reply bytes at the baud
    rate, the meter's turnaround) plus the request's own time on the wire, and byte counts."""

    def __init__(self, meters: Any) -> None:
        super().__init__(meters, baud=None, bits_per_byte=11)
        self.bytes_in = self.bytes_out = self.exchanges = 0

    def answers(self, data: bytes) -> list[tuple[float, bytes]]:
        out = super().answers(data)
        self.bytes_in += len(data)
        self.bytes_out += sum(len(reply) for _delay, reply in out)
        self.exchanges += len(out)
        if out and self.baud:  # the meter hears the request only once it has crossed the wire
            out[0] = (out[0][0] + self.wire_time(len(data)), out[0][1])
        return out


def run_simulators(port: int, dtus: int, per_dtu: int, ready: Any, control: Any,
                   profile: str | None = None) -> None:
    """Child process: DTUs with their DDSY simulators, connected to the hub until killed."""
    logging.basicConfig(level=logging.WARNING)
    if not profile:
        asyncio.run(_simulators(port, dtus, per_dtu, ready, control))
        return
    import cProfile
    import signal

    profiler = cProfile.Profile()

    def _dump(*_: Any) -> None:
        profiler.disable()
        profiler.dump_stats(profile)
        os._exit(0)

    signal.signal(signal.SIGTERM, _dump)
    profiler.enable()
    asyncio.run(_simulators(port, dtus, per_dtu, ready, control))


async def _simulators(port: int, dtus: int, per_dtu: int, ready: Any, control: Any) -> None:
    from meterhub_dlt645.models import DDSY
    from meterhub_sim.dtu import SimulatedDtu

    clock = SimClock(speed=1)
    load = ConstantLoad("0.8")
    buses = [WiredBus(DDSY.create_simulator(address_of(dtu, slot), clock=clock, load=load)
                      for slot in range(per_dtu)) for dtu in range(dtus)]
    devices = [SimulatedDtu("127.0.0.1", port, dtu_id(dtu).encode(), bus,
                            heartbeat=b"ping", heartbeat_interval=30, reconnect_delay=0.5)
               for dtu, bus in enumerate(buses)]
    for device in devices:
        await device.start()
    ready.put(len(devices))
    loop = asyncio.get_running_loop()
    while True:  # the hub's commands: set the wire model, report and reset the byte counts
        command, *args = await loop.run_in_executor(None, control.get)
        if command == "wire":
            for bus in buses:
                bus.baud, bus.turnaround = args
        elif command == "counts":
            ready.put([(bus.bytes_in, bus.bytes_out, bus.exchanges) for bus in buses])
            for bus in buses:
                bus.bytes_in = bus.bytes_out = bus.exchanges = 0


# --- the hub side ------------------------------------------------------------------------

def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one by default), from /proc."""
    try:
        fields = Path(f"/proc/{pid or os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def build_hub() -> Hub:
    """A hub with just the DL/T 645 models and the link plugins (no web, no storage)."""
    import meterhub_dlt645
    import meterhub_rs485
    import meterhub_tcp_dtu

    plugins = PluginManager()
    plugins.register(meterhub_dlt645, "dlt645")
    plugins.register(meterhub_tcp_dtu, "tcp_dtu")
    plugins.register(meterhub_rs485, "rs485")
    plugins.collect()
    return Hub(plugins=plugins)


def meter_entries(link: str, count: int, per_group: int, group_key: str | None
                  ) -> list[dict[str, Any]]:
    """Validated-shape meter entries."""
    entries = []
    for index in range(count):
        group, slot = divmod(index, per_group)
        entries.append({
            "id": f"m{index:05d}", "model": "ddsy", "link": link,
            "address": address_of(group, slot), "options": {},
            "link_options": {group_key: dtu_id(group)} if group_key else {},
            "tags": {"building": f"b{group % 10}"}, "enabled": True,
        })
    return entries


class Run:
    """One read of the whole site (or the warm-up)."""

    def __init__(self, name: str, meters: int, seconds: float, failed: int,
                 counts: list[tuple[int, int, int]]) -> None:
        self.name = name
        self.meters = meters
        self.seconds = seconds
        self.failed = failed
        self.counts = counts  # per DTU bus: bytes to the meters, bytes back, exchanges

    def floor(self, baud: int, bits_per_byte: int = 11, turnaround: float = 0.0,
              gap: float = 0.0) -> float:
        """The line-rate minimum: the busiest DTU bus's bytes at ``baud`` (buses in
        parallel), plus each exchange's turnaround and the guard gaps between exchanges."""
        return max(((sent + received) * bits_per_byte / baud + exchanges * turnaround
                    + max(0, exchanges - 1) * gap)
                   for sent, received, exchanges in self.counts)


async def poll_dtus(meters: int, dtus: int, baud: int,
                    profile: str | None = None) -> tuple[Run, Run, float]:
    """Part 1: the site with the wire model, and the hub alone; returns both runs and the
    link's guard gap."""
    from meterhub_tcp_dtu import TcpDtuLinkType

    per_dtu = -(-meters // dtus)
    hub = build_hub()
    link_config = TcpDtuLinkType().schema()({
        "id": "dtu_server", "type": "tcp_dtu", "listen": "127.0.0.1:0",
        "register": {"match": ["known"], "timeout": 30},
        "heartbeat": {"data": "ping", "interval": 30}, "timeout": 5,
    })
    config = {"links": [link_config],
              "meters": meter_entries("dtu_server", meters, per_dtu, "dtu"),
              "metering": METERING_SCHEMA({"concurrency": 2 * dtus, "retries": 1,
                                           "retry_delay": 1})}
    service = MeteringService(hub, config)
    await service.start_links()
    link = service.links["dtu_server"]
    port = link.bound_port  # type: ignore[attr-defined]
    context = multiprocessing.get_context("spawn")
    ready, control = context.Queue(), context.Queue()
    process = context.Process(target=run_simulators,
                              args=(port, dtus, per_dtu, ready, control, profile), daemon=True)
    process.start()
    loop = asyncio.get_running_loop()
    try:
        started = time.perf_counter()
        await loop.run_in_executor(None, ready.get, True, 120)
        async with asyncio.timeout(120):
            while link.table.online_count() < dtus:  # type: ignore[attr-defined]
                await asyncio.sleep(0.05)
        print(f"{dtus} DTUs with {meters} DDSY meters connected in "
              f"{time.perf_counter() - started:.1f} s")
        # slot-major order: a subset spreads over every DTU, as a plan over a whole site does
        all_meters = sorted(service.meters.values(),
                            key=lambda m: (int(m.id[1:]) % per_dtu, int(m.id[1:])))
        gap = float(link.gap)  # type: ignore[attr-defined]
        print(f"tcp_dtu guard gap {gap * 1000:.0f} ms between exchanges on each DTU, "
              f"timeout {link.config['timeout'].total_seconds():g} s")

        async def read(name: str, count: int) -> Run:
            chosen = all_meters[:count]
            gc.collect()
            cpu_hub, cpu_sim = cpu_seconds(), cpu_seconds(process.pid)
            t0 = time.perf_counter()
            ok, failed = await service.read_many(chosen, source=ReadingSource.SCHEDULED)
            elapsed = time.perf_counter() - t0
            cpu_hub, cpu_sim = cpu_seconds() - cpu_hub, cpu_seconds(process.pid) - cpu_sim
            control.put(("counts",))
            counts = await loop.run_in_executor(None, ready.get, True, 30)
            frames = sum(exchanges for _sent, _received, exchanges in counts)
            print(f"{name}: read {count:>6} meters: {elapsed:6.2f} s  "
                  f"{len(ok) / elapsed:6.0f} readings/s  {frames / elapsed:6.0f} frames/s  "
                  f"({len(failed)} failed; CPU hub {cpu_hub:.1f} s, simulators {cpu_sim:.1f} s)")
            if failed:
                sample = service.meters[failed[0]]
                print(f"  e.g. {failed[0]}: {sample.last_error}")
            return Run(name, count, elapsed, len(failed), counts)

        await read("hub alone, warm-up", min(1000, meters))
        hub_alone = await read("hub alone (meters answer instantly)", meters)
        control.put(("wire", baud, PER_BUS_TURNAROUND))
        site = await read(f"site ({baud} baud behind every DTU)", meters)
        return site, hub_alone, gap
    finally:
        await service.stop_links()
        if profile:
            process.terminate()
        else:
            process.kill()
        process.join(10)


async def poll_bus(meters: int, baud: int, points: Sequence[str]) -> float:
    """Part 2; returns the utilisation in percent."""
    from meterhub_dlt645.models import DDSY
    from meterhub_rs485 import Rs485LinkType
    from meterhub_sim.serial import SimulatedSerialBus

    clock = SimClock(speed=1)
    bus = SimulatedBus((DDSY.create_simulator(address_of(0, slot), clock=clock)
                        for slot in range(meters)), baud=baud, bits_per_byte=11,
                       turnaround=PER_BUS_TURNAROUND)
    with tempfile.TemporaryDirectory(prefix="meterhub-bench-") as folder:
        path = os.path.join(folder, "bus1")
        wire = SimulatedSerialBus(bus, path)
        await wire.start()
        hub = build_hub()
        link_config = Rs485LinkType().schema()({
            "id": "bus1", "type": "rs485", "port": path, "baud": baud, "parity": "E",
            "gap": RS485_GAP, "timeout": 2})
        config = {"links": [link_config],
                  "meters": meter_entries("bus1", meters, meters, None),
                  "metering": METERING_SCHEMA({"retries": 0})}
        service = MeteringService(hub, config)
        await service.start_links()
        link = service.links["bus1"]
        try:
            await link.wait_connected(10)  # type: ignore[attr-defined]
            before = (wire.counters.bytes_in, wire.counters.bytes_out, wire.counters.replies)
            t0 = time.perf_counter()
            ok, failed = await service.read_many(list(service.meters.values()),
                                                  points=list(points))
            elapsed = time.perf_counter() - t0
            sent = wire.counters.bytes_in - before[0]
            received = wire.counters.bytes_out - before[1]
            exchanges = wire.counters.replies - before[2]
            gap = link.gap  # type: ignore[attr-defined]
            minimum = ((sent + received) * bus.bits_per_byte / baud
                       + exchanges * PER_BUS_TURNAROUND + max(0, exchanges - 1) * gap)
            utilisation = float(100 * minimum / elapsed)
            print(f"rs485 {meters} meters at {baud} baud, points {', '.join(points)}: "
                  f"{len(ok)} read, {len(failed)} failed, {exchanges} exchanges, "
                  f"{sent + received} bytes on the wire")
            print(f"  read cycle {elapsed:.2f} s, line-rate minimum {minimum:.2f} s "
                  f"(bits/baud {(sent + received) * bus.bits_per_byte / baud:.2f} s + "
                  f"turnaround {exchanges * PER_BUS_TURNAROUND:.2f} s + gaps "
                  f"{max(0, exchanges - 1) * gap:.2f} s)")
            return utilisation
        finally:
            await service.stop_links()
            await wire.stop()


def main() -> None:
    """Run both parts and print the metrics; exit 1 when a figure is invalid."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=10000)
    parser.add_argument("--dtus", type=int, default=500)
    parser.add_argument("--rs485-meters", type=int, default=32)
    parser.add_argument("--baud", type=int, default=2400)
    parser.add_argument("--rs485-points", default="energy_import_total,voltage,relay")
    parser.add_argument("--skip-rs485", action="store_true")
    parser.add_argument("--profile-sim", metavar="FILE",
                        help="profile the simulator process into FILE (pstats)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    site, hub_alone, gap = asyncio.run(poll_dtus(args.meters, args.dtus, args.baud,
                                                 args.profile_sim))
    wire = site.floor(args.baud)
    with_turnaround = site.floor(args.baud, turnaround=PER_BUS_TURNAROUND)
    with_gaps = site.floor(args.baud, turnaround=PER_BUS_TURNAROUND, gap=gap)
    busiest = max(sent + received for sent, received, _exchanges in site.counts)
    print(f"site: {args.meters} meters in {site.seconds:.2f} s "
          f"({args.meters / site.seconds:.0f} readings/s); line-rate minimum {wire:.2f} s "
          f"(the busiest DTU bus: {busiest} bytes at {args.baud} baud), {with_turnaround:.2f} s "
          f"with the meters' turnaround, {with_gaps:.2f} s with the link's guard gaps: the "
          f"site runs at {100 * wire / site.seconds:.0f} % of line rate")
    print(f"hub alone: {args.meters} meters in {hub_alone.seconds:.2f} s "
          f"({args.meters / hub_alone.seconds:.0f} readings/s)")
    utilisation = None
    if not args.skip_rs485:
        utilisation = asyncio.run(poll_bus(args.rs485_meters, args.baud,
                                           args.rs485_points.split(",")))
        print(f"METRIC rs485_utilisation_pct {utilisation:.1f} %")
    invalid = 0
    for run, metric in ((hub_alone, "poll_10k_hub_seconds"), (site, "poll_10k_seconds")):
        if run.failed:
            invalid += 1
            print(f"INVALID {metric} {run.seconds:.2f} s: {run.failed} of {run.meters} reads "
                  "failed")
        else:
            print(f"METRIC {metric} {run.seconds:.2f} s")
    if invalid:
        sys.exit(1)


if __name__ == "__main__":
    main()
