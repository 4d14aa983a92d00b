"""Runs waiting in a delay survive a restart — a clean stop and a SIGKILL — and resume at
the step they were in with their variables; max_late expires them; a time trigger missed
while the hub was down runs once with catch_up."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from auto_support import engine_of, running, runs_done, site, tick, traces
from common import Clock, kill_child_at, t, wait_for, write_hub_yaml

from hub.automation.persist import decode, encode

D = Decimal
ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("delay_crash_hub.py")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"),
                                                    str(Path(__file__).parent)])}
STEP = 60.0

NESTED = """
- id: nested
  max_late: 2h
  triggers: {trigger: event, event_type: custom_go}
  actions:
    - event: custom_out
      event_data: {step: before}
    - choose:
        - conditions: "{{ true }}"
          sequence:
            - repeat:
                count: 3
                sequence:
                  - event: custom_out
                    event_data: {step: "round {{ repeat.index }}"}
                  - delay: "01:00"
    - event: custom_out
      event_data: {step: after, fee: "{{ trigger.data.fee }}"}
"""


def outs(hub: Any) -> list[str]:
    found: list[str] = []
    hub.bus.listen("custom_out", lambda event: found.append(str(event.data["step"])))
    return found


def test_variables_keep_their_exact_types() -> None:
    value = {"fee": D("7.50"), "at": t("2026-03-04 10:00"), "day": t("2026-03-04").date(),
             "wait": timedelta(minutes=90), "list": [D("0.1"), "x", 3, None, True],
             "nested": {"a": {"b": D("-2")}}}
    assert decode(encode(value)) == value


async def test_a_run_waiting_in_a_nested_delay_resumes_after_a_restart(tmp_path: Path) -> None:
    clock = Clock(t("2026-03-04 10:00"))
    text = site(NESTED)
    async with running(tmp_path, text, clock) as hub:
        out = outs(hub)
        hub.bus.fire("custom_go", {"fee": D("7.50")})
        await wait_for(lambda: out == ["before", "round 1"])
        tick(hub, clock, hours=1)
        await wait_for(lambda: out == ["before", "round 1", "round 2"])
        engine = engine_of(hub)
        assert engine.persistence is not None
        rows = await engine.persistence.waits()
        assert [row.path for row in rows] == [
            "action/1/choose/0/sequence/0/repeat/sequence/1"]
    # restarted 30 minutes later, in the middle of round 2's hour
    clock.advance(timedelta(minutes=30))
    async with running(tmp_path, text, clock) as hub:
        out = outs(hub)
        run = await wait_for(lambda: [r for r in traces(hub, "nested") if r["resumed"]])
        assert run[0]["state"] == "running"
        await asyncio.sleep(0.1)
        assert out == []  # nothing before the delay runs again
        tick(hub, clock, minutes=30)  # round 2's hour is over
        await wait_for(lambda: out == ["round 3"])
        tick(hub, clock, hours=1)
        await wait_for(lambda: out == ["round 3", "after"])
        done = (await runs_done(hub, "nested"))[0]
        assert done["outcome"] == "finished" and done["resumed"] is True
        assert done["steps"][0]["path"] == "action/1"  # the steps before were not run again
        assert await engine_of(hub).persistence.waits() == []  # type: ignore[union-attr]


async def test_a_run_that_waited_too_long_is_expired_by_max_late(tmp_path: Path) -> None:
    clock = Clock(t("2026-03-04 10:00"))
    text = site(NESTED)
    async with running(tmp_path, text, clock) as hub:
        out = outs(hub)
        hub.bus.fire("custom_go", {"fee": D("7.50")})
        await wait_for(lambda: out == ["before", "round 1"])
    clock.advance(timedelta(hours=3, minutes=1))  # the delay ended 2 h 1 min before
    async with running(tmp_path, text, clock) as hub:
        out = outs(hub)
        runs = await wait_for(lambda: traces(hub, "nested"))
        assert runs[0]["outcome"] == "expired" and "max_late" in runs[0]["error"]
        await asyncio.sleep(0.1)
        assert out == []
        assert await engine_of(hub).persistence.waits() == []  # type: ignore[union-attr]


async def test_a_time_missed_while_down_runs_once_with_catch_up(tmp_path: Path) -> None:
    clock = Clock(t("2026-03-04 22:00"))
    text = site("""
        - id: nightly
          triggers: {trigger: time, at: "23:00", catch_up: true}
          actions: {event: custom_out, event_data: {step: "{{ trigger.scheduled }}"}}
        - id: plain
          triggers: {trigger: time, at: "23:00"}
          actions: {event: custom_out, event_data: {step: plain}}
        """)
    async with running(tmp_path, text, clock) as hub:
        await asyncio.sleep(0.2)  # the first start only notes the time
        assert traces(hub, "nightly") == []
    clock.set(t("2026-03-05 08:00"))  # down over 23:00
    async with running(tmp_path, text, clock) as hub:
        run = (await runs_done(hub, "nightly"))[0]
        assert run["trigger"]["catch_up"] is True
        assert run["trigger"]["scheduled"].startswith("2026-03-04T23:00:00+08:00")
        await asyncio.sleep(0.2)
        assert traces(hub, "plain") == []  # without catch_up a missed time is missed
    async with running(tmp_path, text, clock) as hub:
        await asyncio.sleep(0.2)
        assert traces(hub, "nightly") == []  # once, not at every start


async def test_a_run_waiting_when_the_hub_is_killed_resumes_and_charges_once(
        tmp_path: Path) -> None:
    text = site("""
        - id: charge_later
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - delay: 3
            - action: account.adjust
              data: {account_id: ra101, amount: "-{{ trigger.data.fee }}", reason: 延时扣费,
                     operator: automation}
        """)
    config_path = write_hub_yaml(tmp_path, text)
    lines: list[str] = []
    with (tmp_path / "hub.log").open("ab") as log:
        await kill_child_at([sys.executable, str(CHILD), str(config_path),
                             str(tmp_path / "data")], "WAITING", lines, step=STEP,
                            stderr=log, env=ENV, cwd=ROOT)
    async with running(tmp_path, text) as hub:
        run = await wait_for(lambda: [r for r in traces(hub, "charge_later") if r["resumed"]],
                             timeout=STEP)
        assert run
        done = (await runs_done(hub, "charge_later", timeout=STEP))[0]
        assert done["outcome"] == "finished", done
        state = hub.states.get("account.ra101")
        assert state is not None and state.state == D("42.50")
