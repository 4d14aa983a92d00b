"""Hub life-cycle: ordered stages, failures and timeouts, tracked and background tasks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest
from core_support import HubFactory

import hub.core as core_mod
from hub.const import (
    EVENT_HUB_FINAL_WRITE,
    EVENT_HUB_START,
    EVENT_HUB_STARTED,
    EVENT_HUB_STOP,
    MATCH_ALL,
    HubState,
)
from hub.core import Event, Hub
from hub.exceptions import HubStoppingError
from hub.startup import Stage, StartupOrderError, start_order


def _recording(log: list[str], label: str) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        await asyncio.sleep(0)
        log.append(label)

    return step


def _hub_events(hub: Hub) -> list[str]:
    seen: list[str] = []

    def listener(event: Event) -> None:
        if event.event_type.startswith("hub_"):
            seen.append(event.event_type)

    hub.bus.listen(MATCH_ALL, listener)
    return seen


async def test_stages_start_after_what_they_require_and_stop_in_reverse(
        make_hub: HubFactory) -> None:
    hub = make_hub()
    log: list[str] = []
    # added out of order on purpose
    for name, requires in [("web", ("metering",)), ("metering", ("links", "storage")),
                           ("storage", ()), ("links", ("storage",))]:
        hub.add_stage(name, requires=requires, start=_recording(log, f"start {name}"),
                      stop=_recording(log, f"stop {name}"))

    await hub.start()
    assert hub.state is HubState.RUNNING
    assert log == ["start storage", "start links", "start metering", "start web"]

    log.clear()
    await hub.stop()
    assert hub.state is HubState.STOPPED
    assert log == ["stop web", "stop metering", "stop links", "stop storage"]


async def test_life_cycle_events_fire_in_order(make_hub: HubFactory) -> None:
    hub = make_hub()
    seen = _hub_events(hub)
    await hub.start()
    await hub.stop()
    assert seen == [EVENT_HUB_START, EVENT_HUB_STARTED, EVENT_HUB_STOP, EVENT_HUB_FINAL_WRITE]


async def test_stage_without_start_or_stop_is_fine(make_hub: HubFactory) -> None:
    hub = make_hub()
    log: list[str] = []
    hub.add_stage("only_stop", stop=_recording(log, "stop only_stop"))
    hub.add_stage("only_start", after=("only_stop",), start=_recording(log, "start only_start"))
    await hub.start()
    await hub.stop()
    assert log == ["start only_start", "stop only_stop"]


async def test_stage_start_failure_stops_started_stages_and_raises(
    make_hub: HubFactory, caplog: pytest.LogCaptureFixture
) -> None:
    hub = make_hub()
    log: list[str] = []

    async def broken_start() -> None:
        raise OSError("serial port /dev/ttyUSB9 not found")

    hub.add_stage("storage", start=_recording(log, "start storage"),
                  stop=_recording(log, "stop storage"))
    hub.add_stage("links", requires=("storage",), start=broken_start,
                  stop=_recording(log, "stop links"))
    hub.add_stage("web", requires=("links",), start=_recording(log, "start web"),
                  stop=_recording(log, "stop web"))

    with pytest.raises(OSError, match="ttyUSB9"):
        await hub.start()

    assert hub.state is HubState.STOPPED
    assert hub.exit_code == 1
    assert log == ["start storage", "stop storage"]
    assert any("links" in r.getMessage() and r.levelno >= logging.ERROR
               for r in caplog.records)


async def test_stage_start_timeout_stops_the_hub(
    make_hub: HubFactory, caplog: pytest.LogCaptureFixture
) -> None:
    hub = make_hub()
    log: list[str] = []

    async def hangs() -> None:
        await asyncio.sleep(3600)

    hub.add_stage("storage", start=_recording(log, "start storage"),
                  stop=_recording(log, "stop storage"))
    hub.add_stage("links", requires=("storage",), start=hangs, stop=_recording(log, "stop links"),
                  start_timeout=0.05)

    async with asyncio.timeout(5):
        with pytest.raises(TimeoutError):
            await hub.start()

    assert hub.state is HubState.STOPPED
    assert hub.exit_code == 1
    assert log == ["start storage", "stop storage"]
    assert any("links" in r.getMessage() and "0.05" in r.getMessage()
               for r in caplog.records if r.levelno >= logging.ERROR)


async def test_stage_stop_timeout_does_not_hang_shutdown(
    make_hub: HubFactory, caplog: pytest.LogCaptureFixture
) -> None:
    hub = make_hub()
    log: list[str] = []

    async def hangs() -> None:
        await asyncio.sleep(3600)

    hub.add_stage("storage", stop=_recording(log, "stop storage"))
    hub.add_stage("links", requires=("storage",), stop=hangs, stop_timeout=0.05)
    hub.add_stage("web", requires=("links",), stop=_recording(log, "stop web"))
    await hub.start()

    async with asyncio.timeout(3):
        await hub.stop()

    assert hub.state is HubState.STOPPED
    assert log == ["stop web", "stop storage"]
    assert any("links" in r.getMessage() for r in caplog.records
               if r.levelno >= logging.ERROR)


async def test_stage_stop_failure_is_logged_and_others_still_stop(
    make_hub: HubFactory, caplog: pytest.LogCaptureFixture
) -> None:
    hub = make_hub()
    log: list[str] = []

    async def broken_stop() -> None:
        raise RuntimeError("flush failed")

    hub.add_stage("storage", stop=_recording(log, "stop storage"))
    hub.add_stage("links", requires=("storage",), stop=broken_stop)
    await hub.start()
    await hub.stop()

    assert log == ["stop storage"]
    assert hub.state is HubState.STOPPED
    assert any("links" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_stage_cannot_be_added_after_start(hub: Hub) -> None:
    with pytest.raises(RuntimeError, match="after start-up"):
        hub.add_stage("late")


async def test_hub_cannot_be_started_twice(hub: Hub) -> None:
    with pytest.raises(RuntimeError, match="cannot start"):
        await hub.start()


async def test_stop_twice_is_harmless(make_hub: HubFactory) -> None:
    hub = make_hub()
    log: list[str] = []
    hub.add_stage("storage", stop=_recording(log, "stop storage"))
    await hub.start()
    await asyncio.gather(hub.stop(), hub.stop())
    await hub.stop()
    assert log == ["stop storage"]


# --- tasks ---------------------------------------------------------------------------


async def test_create_task_is_tracked_and_awaited_by_block_till_done(hub: Hub) -> None:
    done: list[int] = []

    async def work() -> int:
        await asyncio.sleep(0.01)
        done.append(1)
        return 42

    task = hub.create_task(work(), "work")
    assert task in hub._tasks
    assert task.get_name() == "work"
    await hub.block_till_done(2)
    assert done == [1]
    assert task.result() == 42
    assert task not in hub._tasks


async def test_block_till_done_waits_for_tasks_created_by_tasks(hub: Hub) -> None:
    done: list[str] = []

    async def child() -> None:
        await asyncio.sleep(0.01)
        done.append("child")

    async def parent() -> None:
        await asyncio.sleep(0)
        hub.create_task(child(), "child")
        done.append("parent")

    hub.create_task(parent(), "parent")
    await hub.block_till_done(2)
    assert done == ["parent", "child"]


async def test_block_till_done_times_out_naming_the_task(hub: Hub) -> None:
    release = asyncio.Event()
    hub.create_task(release.wait(), "never_done_task")
    with pytest.raises(TimeoutError, match="never_done_task"):
        await hub.block_till_done(0.05)
    release.set()
    await hub.block_till_done(2)


async def test_stop_awaits_tracked_tasks_before_finishing(make_hub: HubFactory) -> None:
    hub = make_hub()
    await hub.start()
    done: list[str] = []

    async def flush() -> None:
        await asyncio.sleep(0.05)
        done.append("flushed")

    task = hub.create_task(flush(), "flush")
    await hub.stop()
    assert done == ["flushed"]
    assert not task.cancelled()


async def test_stop_cancels_tracked_task_that_outlives_the_grace_period(
    make_hub: HubFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_mod, "TASK_CANCEL_TIMEOUT", 0.1)
    hub = make_hub()
    await hub.start()
    task = hub.create_task(asyncio.sleep(3600), "stuck")
    async with asyncio.timeout(3):
        await hub.stop()
    assert task.cancelled()


async def test_background_tasks_are_cancelled_on_stop(make_hub: HubFactory) -> None:
    hub = make_hub()
    await hub.start()
    ticks: list[int] = []

    async def poller() -> None:
        while True:
            ticks.append(1)
            await asyncio.sleep(0.01)

    task = hub.create_background_task(poller(), "poller")
    await asyncio.sleep(0.03)
    async with asyncio.timeout(3):
        await hub.stop()
    assert task.cancelled()
    assert ticks
    assert not hub._background


async def test_background_task_death_is_logged(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    async def dies() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("bus lost")

    task = hub.create_background_task(dies(), "bus_poller")
    with pytest.raises(RuntimeError):
        await task
    await asyncio.sleep(0)
    assert any("bus_poller" in r.getMessage() for r in caplog.records
               if r.levelno >= logging.ERROR)


async def test_no_tasks_left_after_stop(
    make_hub: HubFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_mod, "TASK_CANCEL_TIMEOUT", 0.1)
    hub = make_hub()
    await hub.start()

    async def listener(event: Event) -> None:
        await asyncio.sleep(3600)

    hub.bus.listen("reading", listener)
    hub.bus.fire("reading")
    hub.create_background_task(asyncio.sleep(3600), "sleeper")
    hub.create_task(asyncio.sleep(0.01), "short")

    async with asyncio.timeout(3):
        await hub.stop()

    assert not hub._tasks
    assert not hub._background
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert others == []


async def test_create_task_after_stop_is_refused(make_hub: HubFactory) -> None:
    hub = make_hub()
    await hub.start()
    await hub.stop()

    async def late() -> None:
        raise AssertionError("must not run")

    coro = late()
    with pytest.raises(HubStoppingError, match="late_task"):
        hub.create_task(coro, "late_task")
    assert coro.cr_frame is None  # closed, so no "never awaited" warning


# --- run ---------------------------------------------------------------------------


async def test_run_returns_the_requested_exit_code(make_hub: HubFactory) -> None:
    hub = make_hub()
    log: list[str] = []
    hub.add_stage("storage", stop=_recording(log, "stop storage"))

    def stop_when_started(event: Event) -> None:
        hub.request_stop(3)

    hub.bus.listen_once(EVENT_HUB_STARTED, stop_when_started)
    async with asyncio.timeout(5):
        code = await hub.run()
    assert code == 3
    assert hub.state is HubState.STOPPED
    assert log == ["stop storage"]


async def test_components_are_registered_once_and_type_checked(hub: Hub) -> None:
    class Storage:
        pass

    storage = Storage()
    hub.add_component("storage", storage)
    assert hub.has_component("storage")
    assert hub.component("storage", Storage) is storage
    with pytest.raises(ValueError, match="already registered"):
        hub.add_component("storage", Storage())
    with pytest.raises(TypeError, match="not a int"):
        hub.component("storage", int)
    with pytest.raises(KeyError, match="billing"):
        hub.component("billing", Storage)


# --- start-up order from declared dependencies ---------------------------------------


async def test_after_and_before_order_stages_that_exist_and_ignore_absent_ones(
        make_hub: HubFactory) -> None:
    hub = make_hub()
    log: list[str] = []
    hub.add_stage("web", after=("control", "automation"), start=_recording(log, "web"))
    hub.add_stage("control", after=("ledger",), start=_recording(log, "control"))
    hub.add_stage("ledger", before=("links", "payments"), start=_recording(log, "ledger"))
    hub.add_stage("links", start=_recording(log, "links"))

    await hub.start()
    await hub.stop()
    assert log == ["ledger", "control", "web", "links"]


async def test_unrelated_stages_keep_the_order_they_were_added_in(
        make_hub: HubFactory) -> None:
    hub = make_hub()
    log: list[str] = []
    for name in ("c", "a", "b"):
        hub.add_stage(name, start=_recording(log, name))
    await hub.start()
    await hub.stop()
    assert log == ["c", "a", "b"]


async def test_missing_requirement_names_both_sides_and_starts_nothing(
        make_hub: HubFactory, caplog: pytest.LogCaptureFixture) -> None:
    hub = make_hub()
    log: list[str] = []
    hub.add_stage("storage", start=_recording(log, "storage"))
    hub.add_stage("billing", requires=("storage", "ledger"), start=_recording(log, "billing"))

    with pytest.raises(StartupOrderError,
                       match="stage 'billing' requires 'ledger', which no plugin added"):
        await hub.start()
    assert log == []
    assert hub.state is HubState.STOPPED
    assert hub.exit_code == 1
    assert any("Start-up order" in r.getMessage() for r in caplog.records
               if r.levelno >= logging.ERROR)


async def test_cycle_is_an_error_naming_each_edge(make_hub: HubFactory) -> None:
    hub = make_hub()
    hub.add_stage("storage")
    hub.add_stage("a", requires=("storage", "c"))
    hub.add_stage("b", requires=("a",))
    hub.add_stage("c", after=("b",))
    hub.add_stage("d", requires=("c",))  # waits behind the cycle without being on it

    with pytest.raises(StartupOrderError) as caught:
        await hub.start()
    message = str(caught.value)
    assert message.startswith("start-up order has a cycle: ")
    edges = message.removeprefix("start-up order has a cycle: ").split(", ")
    assert sorted(edges) == ["'a' requires 'c'", "'b' requires 'a'", "'c' after 'b'"]
    assert "'d'" not in message


def test_before_edge_in_a_cycle_is_named_from_its_declaring_side() -> None:
    stages = [Stage("x", None, None, before=("y",)), Stage("y", None, None, before=("x",))]
    with pytest.raises(StartupOrderError) as caught:
        start_order(stages)
    assert sorted(str(caught.value).split(": ", 1)[1].split(", ")) == [
        "'x' before 'y'", "'y' before 'x'"]


def test_a_stage_name_is_added_once(make_hub: HubFactory) -> None:
    hub = make_hub()
    hub.add_stage("storage")
    with pytest.raises(ValueError, match="stage 'storage' is already added"):
        hub.add_stage("storage")


def test_core_stages_as_declared_start_in_the_order_numbers_gave_before() -> None:
    """The built-in stages' declarations give the order the numeric stages had."""
    stages = [
        Stage("web", None, None, after=("storage", "links", "metering", "ledger", "billing",
                                         "analysis", "control")),
        Stage("storage", None, None),
        Stage("links", None, None, after=("storage",)),
        Stage("metering", None, None, requires=("links",), after=("storage",)),
        Stage("accounts", None, None, after=("storage",)),
        Stage("ledger", None, None, requires=("storage",), after=("accounts",),
              before=("links",)),
        Stage("billing", None, None, requires=("ledger",), after=("metering",)),
        Stage("notify", None, None, before=("storage",)),
        Stage("simulated buses", None, None, before=("links",)),
    ]
    ordered = [stage.name for stage in start_order(stages)]
    assert ordered == ["notify", "storage", "accounts", "ledger", "simulated buses", "links",
                       "metering", "billing", "web"]
