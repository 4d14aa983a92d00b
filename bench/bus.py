"""Event bus and service throughput.

    python bench/bus.py [--events N] [--vs-ha PATH_TO_VENV_WITH_HOMEASSISTANT]

Prints events/s through the bus with 1, 10 and 100 listeners, with filters that reject,
and service calls/s: the median of ``--rounds`` rounds, with the best beside it. The headline
is ``METRIC bus_events_per_s`` (one listener, the median). With
``--vs-ha`` the same one-listener workload runs on Home Assistant's EventBus (a ``@callback``
listener) in that venv's interpreter, and the ratio is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from hub.core import Event, Hub
from hub.plugins import PluginManager

HA_SCRIPT = r"""
import asyncio, gc, json, statistics, sys, time
from homeassistant.core import HomeAssistant, callback

async def main(n, rounds):
    hass = HomeAssistant("/tmp")
    count = 0

    @callback
    def listener(event):
        nonlocal count
        count += 1

    hass.bus.async_listen("bench_event", listener)
    rates = []
    for _ in range(rounds):
        count = 0
        gc.collect()
        start = time.perf_counter()
        for i in range(n):
            hass.bus.async_fire("bench_event", {"i": i})
        while count < n:
            await asyncio.sleep(0)
        rates.append(n / (time.perf_counter() - start))
    print(json.dumps({"events_per_s": statistics.median(rates), "best": max(rates)}))

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
"""


@dataclass(frozen=True)
class Rate:
    """The per-round rates of one workload; the median is the figure, the best is shown."""

    rounds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.rounds)

    @property
    def best(self) -> float:
        return max(self.rounds)


async def _events_per_s(hub: Hub, n: int, listeners: int, rounds: int,
                        reject: bool = False) -> Rate:
    count = 0

    def listener(event: Event) -> None:
        nonlocal count
        count += 1

    event_filter = (lambda data: data["i"] < 0) if reject else None
    unsubs = [hub.bus.listen("bench_event", listener, event_filter) for _ in range(listeners)]
    rates = []
    for _ in range(rounds):
        count = 0
        gc.collect()
        start = time.perf_counter()
        for i in range(n):
            hub.bus.fire("bench_event", {"i": i})
        expected = 0 if reject else n * listeners
        while count < expected:
            await asyncio.sleep(0)
        rates.append(n / (time.perf_counter() - start))
    for unsub in unsubs:
        unsub()
    return Rate(rates)


async def _service_calls_per_s(hub: Hub, n: int, rounds: int) -> Rate:
    import voluptuous as vol

    async def handler(call: object) -> None:
        return None

    hub.services.register("bench", "noop", handler, vol.Schema({vol.Required("i"): int}))
    rates = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        for i in range(n):
            await hub.services.call("bench", "noop", {"i": i})
        rates.append(n / (time.perf_counter() - start))
    return Rate(rates)


async def run(n: int, rounds: int) -> dict[str, Rate]:
    hub = Hub(plugins=PluginManager())
    await hub.start()
    try:
        results = {
            "1 listener": await _events_per_s(hub, n, 1, rounds),
            "10 listeners": await _events_per_s(hub, n // 5, 10, rounds),
            "100 listeners": await _events_per_s(hub, n // 50, 100, rounds),
            "100 rejecting filters": await _events_per_s(hub, n // 10, 100, rounds, reject=True),
            "service calls": await _service_calls_per_s(hub, n // 10, rounds),
        }
    finally:
        await hub.stop()
    return results


def run_ha(venv: Path, n: int, rounds: int) -> tuple[float, float]:
    """Home Assistant's one-listener rate in that venv: (median, best) of the rounds."""
    python = venv / "bin" / "python"
    out = subprocess.run([str(python), "-c", HA_SCRIPT, str(n), str(rounds)],
                         check=True, capture_output=True, text=True, timeout=110)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return float(result["events_per_s"]), float(result["best"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--vs-ha", type=Path, metavar="VENV")
    args = parser.parse_args()

    results = asyncio.run(run(args.events, args.rounds))
    print(f"median of {args.rounds} rounds (best in brackets)")
    for name, rate in results.items():
        unit = "calls/s" if name == "service calls" else "events/s"
        print(f"{name:>24}: {rate.median:>12,.0f} {unit}  (best {rate.best:,.0f})")
    if args.vs_ha:
        ha, ha_best = run_ha(args.vs_ha, args.events, args.rounds)
        ratio = results["1 listener"].median / ha
        print(f"{'Home Assistant 1 listener':>24}: {ha:>12,.0f} events/s  (best {ha_best:,.0f})")
        print(f"{'ratio (MeterHub / HA)':>24}: {ratio:>12.2f}x  (of the medians)")
        print(f"METRIC bus_vs_ha_ratio {ratio:.2f} x")
    print(f"METRIC bus_events_per_s {results['1 listener'].median:.0f} events/s")


if __name__ == "__main__":
    main()
