"""Polling benchmark: many DDSY meters behind simulated 4G DTUs, and one RS-485 bus.

    .venv/bin/python bench/poll.py [--meters 10000] [--dtus 500] [--rs485-meters 32]

Part 1: ``--meters`` simulated DDSY meters behind ``--dtus`` simulated DTUs run in a separate
process and connect over loopback TCP to a real ``tcp_dtu`` link in this process; the
metering service's ``read_many`` reads each meter's default points (energy registers,
voltage, current, power, balance, relay status) — first 1,000 meters, then 5,000, then all.
Prints wall time and readings/s for each, ending with ``METRIC poll_10k_seconds``.

Part 2: a 32-meter bus at 2400 baud on a pty, each byte held for its real wire time; the
read cycle (``--rs485-points``) is compared with its line-rate minimum (request and reply
bits / baud + the meters' turnaround + the configured gaps):
``METRIC rs485_utilisation_pct``.
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

def run_simulators(port: int, dtus: int, per_dtu: int, ready: Any,
                   profile: str | None = None) -> None:
    """Child process: DTUs with their DDSY simulators, connected to the hub until killed."""
    logging.basicConfig(level=logging.WARNING)
    if not profile:
        asyncio.run(_simulators(port, dtus, per_dtu, ready))
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
    asyncio.run(_simulators(port, dtus, per_dtu, ready))


async def _simulators(port: int, dtus: int, per_dtu: int, ready: Any) -> None:
    from meterhub_dlt645.models import DDSY
    from meterhub_sim.dtu import SimulatedDtu

    clock = SimClock(speed=1)
    load = ConstantLoad("0.8")
    devices = []
    for dtu in range(dtus):
        bus = SimulatedBus(DDSY.create_simulator(address_of(dtu, slot), clock=clock, load=load)
                         for slot in range(per_dtu))
        devices.append(SimulatedDtu("127.0.0.1", port, dtu_id(dtu).encode(), bus,
                                    heartbeat=b"ping", heartbeat_interval=30,
                                    reconnect_delay=0.5))
    for device in devices:
        await device.start()
    ready.put(len(devices))
    await asyncio.Event().wait()


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


async def poll_dtus(meters: int, dtus: int, steps: Sequence[int],
                    profile: str | None = None) -> float:
    """Part 1; returns the time of the full read."""
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
    ready = context.Queue()
    process = context.Process(target=run_simulators,
                              args=(port, dtus, per_dtu, ready, profile), daemon=True)
    process.start()
    try:
        started = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(None, ready.get, True, 120)
        async with asyncio.timeout(120):
            while link.table.online_count() < dtus:  # type: ignore[attr-defined]
                await asyncio.sleep(0.05)
        print(f"{dtus} DTUs with {meters} DDSY meters connected in "
              f"{time.perf_counter() - started:.1f} s")
        # slot-major order: a subset spreads over every DTU, as a plan over a whole site does
        all_meters = sorted(service.meters.values(),
                            key=lambda m: (int(m.id[1:]) % per_dtu, int(m.id[1:])))
        gap = link.gap  # type: ignore[attr-defined]
        print(f"tcp_dtu guard gap {gap * 1000:.0f} ms between exchanges on each DTU, "
              f"timeout {link.config['timeout'].total_seconds():g} s")
        full = 0.0
        for count in steps:
            chosen = all_meters[:count]
            gc.collect()
            cpu_hub, cpu_sim = cpu_seconds(), cpu_seconds(process.pid)
            t0 = time.perf_counter()
            ok, failed = await service.read_many(chosen, source=ReadingSource.SCHEDULED)
            elapsed = time.perf_counter() - t0
            cpu_hub, cpu_sim = cpu_seconds() - cpu_hub, cpu_seconds(process.pid) - cpu_sim
            frames = sum(m.last_reading.quality.get("frames", 0) for m in chosen
                         if m.last_reading is not None)
            print(f"read {count:>6} meters: {elapsed:6.2f} s  {len(ok) / elapsed:8.0f} "
                  f"readings/s  {frames / elapsed:8.0f} frames/s  "
                  f"({len(failed)} failed; CPU hub {cpu_hub:.1f} s, simulators {cpu_sim:.1f} s)")
            if failed:
                sample = service.meters[failed[0]]
                print(f"  e.g. {failed[0]}: {sample.last_error}")
            full = elapsed
        return full
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
    """Run both parts and print the metrics."""
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
    steps = sorted({min(1000, args.meters), min(5000, args.meters), args.meters})
    full = asyncio.run(poll_dtus(args.meters, args.dtus, steps, args.profile_sim))
    print(f"{args.meters} meters in {full:.2f} s: {args.meters / full:.0f} readings/s")
    utilisation = None
    if not args.skip_rs485:
        utilisation = asyncio.run(poll_bus(args.rs485_meters, args.baud,
                                           args.rs485_points.split(",")))
        print(f"METRIC rs485_utilisation_pct {utilisation:.1f} %")
    print(f"METRIC poll_10k_seconds {full:.2f} s")


if __name__ == "__main__":
    main()
