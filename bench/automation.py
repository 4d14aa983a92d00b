"""Automation engine throughput and latency with 100 automations.

    python bench/automation.py [--events N] [--rounds R]

A real hub (every core plugin, storage on a temporary folder) runs 100 automations: 50 with a
``state`` trigger (``to: "on"``) and 50 with a ``numeric_state`` trigger (``above: 50``),
each on entities of its own, each run doing one step (``variables``) in ``parallel`` mode. The
bench changes the 100 entities' states round-robin, alternating so that every second change
starts a run, and waits until every run has ended. Timed: from the first change to the end
of the last run. ``automation_events_per_s`` is the state changes handled per second (the
median of the rounds), ``automation_p99_ms`` the 99th percentile of the time from a state
change to the start of its run's first step (read from the runs' traces), over all rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.automation import AutomationEngine  # noqa: E402
from hub.bootstrap import create_hub, prepare  # noqa: E402
from hub.core import Hub  # noqa: E402

AUTOMATIONS = 100


def config() -> str:
    lines = ["site: {name: Bench, time_zone: Asia/Shanghai}",
             "http: {port: 0, host: 127.0.0.1}", "automation:"]
    for index in range(AUTOMATIONS):
        if index % 2 == 0:
            trigger = f'{{trigger: state, entity_id: sensor.s{index}, to: "on"}}'
        else:
            trigger = f"{{trigger: numeric_state, entity_id: sensor.n{index}, above: 50}}"
        lines += [f"  - id: a{index}", "    mode: parallel", "    max: 1000",
                  "    max_per_minute: 100000000", "    trace: {stored_traces: 100}",
                  f"    triggers: {trigger}",
                  "    actions: {variables: {seen: '{{ trigger.entity_id }}'}}"]
    return "\n".join(lines) + "\n"


def entity(index: int) -> str:
    return f"sensor.s{index}" if index % 2 == 0 else f"sensor.n{index}"


def value(index: int, on: bool) -> str:
    if index % 2 == 0:
        return "on" if on else "off"
    return "80" if on else "20"


async def one_round(hub: Hub, engine: AutomationEngine, events: int
                    ) -> tuple[float, list[float]]:
    for automation in engine.automations.values():
        automation.traces.clear()
    fired: dict[tuple[str, int], float] = {}
    runs = 0
    gc.collect()
    start = time.perf_counter()
    for number in range(events):
        index = number % AUTOMATIONS
        on = (number // AUTOMATIONS) % 2 == 1
        hub.states.set(entity(index), value(index, on))
        if on:
            runs += 1
            fired[(f"a{index}", number // (2 * AUTOMATIONS))] = time.time()
        if number % 100 == 99:
            await asyncio.sleep(0)  # batches of 100 changes, as committed readings come
    while running := [task for a in engine.automations.values() for task in a.runs]:
        await asyncio.gather(*running)
    seconds = time.perf_counter() - start
    latencies = []
    for automation in engine.automations.values():  # the traces kept: the last runs
        turns = sum(1 for key in fired if key[0] == automation.id)
        for turn, trace in enumerate(automation.traces, turns - len(automation.traces)):
            assert trace.outcome == "finished", trace.as_dict()
            started = trace.steps[0]["started"]  # wall-clock seconds while kept in memory
            latencies.append((started - fired[(automation.id, turn)]) * 1000)
    assert runs == len(fired)
    return events / seconds, latencies


async def main(events: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hub.yaml"
        path.write_text(config(), encoding="utf-8")
        prepared = prepare(path, data_dir=Path(folder) / "data")
        assert not prepared.problems, prepared.problems
        hub = create_hub(prepared)
        await hub.start()
        try:
            engine = hub.component("automation", AutomationEngine)
            for index in range(AUTOMATIONS):  # every entity starts off
                hub.states.set(entity(index), value(index, False))
            await one_round(hub, engine, 2 * AUTOMATIONS)  # warm-up
            rates: list[float] = []
            latencies: list[float] = []
            for _ in range(rounds):
                rate, round_latencies = await one_round(hub, engine, events)
                rates.append(rate)
                latencies += round_latencies
        finally:
            await hub.stop()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"{AUTOMATIONS} automations, {events} state changes a round, {rounds} rounds: "
          f"median {statistics.median(rates):.0f} events/s (best {max(rates):.0f}); "
          f"{len(latencies)} runs, latency p50 {statistics.median(latencies):.2f} ms, "
          f"p99 {p99:.2f} ms")
    print(f"METRIC automation_events_per_s {statistics.median(rates):.0f} events/s")
    print(f"METRIC automation_p99_ms {p99:.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.rounds))
