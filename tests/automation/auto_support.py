"""Helpers for the automation tests: a site with tagged meters and accounts, a hub whose
engine runs on a test clock, and the engine's traces."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from common import Clock, start_hub, wait_for

from hub.automation import AutomationEngine
from hub.core import Hub
from hub.hookspecs import hookimpl

SITE = """
site: {name: Test, time_zone: Asia/Shanghai}
http: {port: 0, host: 127.0.0.1}
metering: {retries: 0, timeout: 0.3, read_on_start: false}
storage: {commit_interval: 0.02}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: a101, model: ddsy, link: sim1, address: "202400000101", account: ra101,
     tags: {building: A}}
  - {id: a102, model: ddsy, link: sim1, address: "202400000102", account: ra102,
     tags: {building: A}}
  - {id: b201, model: ddsy, link: sim1, address: "202400000201", account: rb201,
     tags: {building: B}}
accounts:
  - {id: ra101, name: 张三, opening_balance: 50, low_balance: [20, 10], tags: {building: A}}
  - {id: ra102, name: 李四, opening_balance: 50, tags: {building: A}}
  - {id: rb201, name: 王五, opening_balance: 50, tags: {building: B}}
"""


def site(automations: str, extra: str = "") -> str:
    """The site with an ``automation:`` block (YAML, dedented) and extra blocks."""
    return (SITE + "automation:\n" + textwrap.indent(textwrap.dedent(automations).strip("\n"),
                                                     "  ") + "\n"
            + textwrap.dedent(extra).strip("\n") + "\n")


def engine_of(hub: Hub) -> AutomationEngine:
    return hub.component("automation", AutomationEngine)


@asynccontextmanager
async def running(tmp_path: Path, text: str, clock: Clock | None = None,
                  data: str = "data") -> AsyncIterator[Hub]:
    """A started hub whose automation engine runs on ``clock`` (when given) from its start
    (a plugin set up after the engine hands it the clock: resumed runs and catch-up see it)."""
    class UseClock:
        @staticmethod
        @hookimpl
        def setup(hub: Hub) -> None:
            if clock is not None:
                engine_of(hub).use_clock(clock)

    async with start_hub(tmp_path, text, data=data, plugins=[(UseClock, "test_clock")]) as hub:
        yield hub


def traces(hub: Hub, automation_id: str) -> list[dict[str, Any]]:
    """The stored runs of an automation, oldest first, as the service returns them."""
    return [trace.as_dict() for trace in engine_of(hub).get(automation_id).traces]


async def runs_done(hub: Hub, automation_id: str, count: int = 1,
                    timeout: float = 15.0) -> list[dict[str, Any]]:
    """Wait (bounded) until ``count`` runs of the automation have ended; return them."""
    def done() -> list[dict[str, Any]] | None:
        ended = [trace for trace in traces(hub, automation_id) if trace["state"] == "stopped"]
        return ended if len(ended) >= count else None
    found: list[dict[str, Any]] = await wait_for(done, timeout=timeout)
    return found


def tick(hub: Hub, clock: Clock, **delta: float) -> None:
    """Move the clock on and let the engine look at it."""
    from datetime import timedelta

    clock.advance(timedelta(**delta))
    engine_of(hub).timers.recheck()
