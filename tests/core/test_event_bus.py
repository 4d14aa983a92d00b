"""EventBus: isolation of failing listeners, unsubscribe, listen_once, filters, ordering."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Mapping
from typing import Any

import pytest

import hub.core as core_mod
from hub.const import MATCH_ALL
from hub.core import Context, Event, EventBus, Hub


def _types(events: list[Event]) -> list[str]:
    return [event.event_type for event in events]


def _error_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


# --- failing listeners ---------------------------------------------------------------


def exploding_listener(event: Event) -> None:
    """A listener with a recognisable name that always raises."""
    raise RuntimeError(f"boom on {event.event_type}")


async def test_raising_listener_is_logged_by_name_and_others_still_run(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    before: list[Event] = []
    after: list[Event] = []
    hub.bus.listen("reading", before.append)
    hub.bus.listen("reading", exploding_listener)
    hub.bus.listen("reading", after.append)

    hub.bus.fire("reading", {"meter": "r101_e"})

    assert len(before) == 1
    assert len(after) == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "exploding_listener" in errors[0].getMessage()
    assert "reading" in errors[0].getMessage()
    assert errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], RuntimeError)


async def test_bus_keeps_working_after_a_listener_raised(hub: Hub) -> None:
    seen: list[Event] = []
    hub.bus.listen("reading", exploding_listener)
    hub.bus.listen("reading", seen.append)

    for index in range(3):
        hub.bus.fire("reading", {"n": index})

    assert [event.data["n"] for event in seen] == [0, 1, 2]


async def test_listener_must_be_callable(hub: Hub) -> None:
    with pytest.raises(TypeError, match="not callable"):
        hub.bus.listen("reading", "not a function")  # type: ignore[arg-type]


# --- unsubscribe ---------------------------------------------------------------------


async def test_unsubscribe_function_stops_delivery(hub: Hub) -> None:
    seen: list[Event] = []
    unsub = hub.bus.listen("reading", seen.append)
    hub.bus.fire("reading")
    unsub()
    hub.bus.fire("reading")

    assert len(seen) == 1
    assert "reading" not in hub.bus.listeners()


async def test_unsubscribing_twice_is_harmless_and_keeps_other_listeners(hub: Hub) -> None:
    mine: list[Event] = []
    other: list[Event] = []
    unsub = hub.bus.listen("reading", mine.append)
    hub.bus.listen("reading", other.append)

    unsub()
    unsub()
    hub.bus.fire("reading")

    assert mine == []
    assert len(other) == 1
    assert hub.bus.listeners()["reading"] == 1


async def test_listener_unsubscribing_itself_during_dispatch(hub: Hub) -> None:
    calls: list[str] = []
    later: list[Event] = []

    def once_by_hand(event: Event) -> None:
        calls.append(event.data["n"])
        unsub()

    unsub = hub.bus.listen("reading", once_by_hand)
    hub.bus.listen("reading", later.append)

    hub.bus.fire("reading", {"n": 1})
    hub.bus.fire("reading", {"n": 2})

    assert calls == [1]
    # removing itself mid-dispatch must not make the bus skip the next listener
    assert [event.data["n"] for event in later] == [1, 2]


async def test_listener_unsubscribing_another_during_dispatch(hub: Hub) -> None:
    victim_seen: list[int] = []

    def remover(event: Event) -> None:
        unsub_victim()

    hub.bus.listen("reading", remover)
    unsub_victim = hub.bus.listen("reading", lambda e: victim_seen.append(e.data["n"]))

    hub.bus.fire("reading", {"n": 1})
    hub.bus.fire("reading", {"n": 2})

    assert 2 not in victim_seen
    assert hub.bus.listeners()["reading"] == 1


# --- listen_once ---------------------------------------------------------------------


async def test_listen_once_fires_once_even_with_two_queued_events(hub: Hub) -> None:
    once: list[Event] = []
    hub.bus.listen_once("reading", once.append)

    def fire_two(event: Event) -> None:
        # both events are queued behind the current dispatch
        hub.bus.fire("reading", {"n": 1})
        hub.bus.fire("reading", {"n": 2})

    hub.bus.listen_once("start", fire_two)
    hub.bus.fire("start")

    assert [event.data["n"] for event in once] == [1]
    assert "reading" not in hub.bus.listeners()


async def test_listen_once_can_be_cancelled_before_it_fires(hub: Hub) -> None:
    once: list[Event] = []
    unsub = hub.bus.listen_once("reading", once.append)
    unsub()
    unsub()
    hub.bus.fire("reading")
    assert once == []


async def test_listen_once_is_not_consumed_by_a_filtered_out_event(hub: Hub) -> None:
    once: list[Event] = []
    hub.bus.listen_once("reading", once.append, lambda data: data.get("meter") == "r102_e")

    hub.bus.fire("reading", {"meter": "r101_e"})
    hub.bus.fire("reading", {"meter": "r102_e"})
    hub.bus.fire("reading", {"meter": "r102_e"})

    assert [event.data["meter"] for event in once] == ["r102_e"]


async def test_listen_once_with_coroutine_listener_runs_once(hub: Hub) -> None:
    seen: list[int] = []

    async def on_reading(event: Event) -> None:
        await asyncio.sleep(0)
        seen.append(event.data["n"])

    hub.bus.listen_once("reading", on_reading)
    hub.bus.fire("reading", {"n": 1})
    hub.bus.fire("reading", {"n": 2})
    await hub.block_till_done(2)

    assert seen == [1]


# --- filters -------------------------------------------------------------------------


async def test_filter_gets_event_data_and_rejection_skips_listener(hub: Hub) -> None:
    given: list[Mapping[str, Any]] = []
    seen: list[Event] = []

    def only_r102(data: Mapping[str, Any]) -> bool:
        given.append(data)
        return data.get("meter") == "r102_e"

    hub.bus.listen("reading", seen.append, only_r102)
    hub.bus.fire("reading", {"meter": "r101_e"})
    hub.bus.fire("reading", {"meter": "r102_e"})

    assert [event.data["meter"] for event in seen] == ["r102_e"]
    assert all(not isinstance(data, Event) for data in given)
    assert [data["meter"] for data in given] == ["r101_e", "r102_e"]


async def test_filter_runs_before_any_event_object_is_built(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []

    class CountingEvent(Event):
        __slots__ = ()

        def __init__(self, event_type: str, *args: Any) -> None:
            built.append(event_type)
            super().__init__(event_type, *args)

    monkeypatch.setattr(core_mod, "Event", CountingEvent)
    seen: list[Event] = []
    hub.bus.listen("reading", seen.append, lambda data: False)

    hub.bus.fire("reading", {"meter": "r101_e"})

    assert seen == []
    assert built == []


async def test_one_event_object_is_shared_by_all_listeners(hub: Hub) -> None:
    seen: list[Event] = []
    hub.bus.listen("reading", seen.append)
    hub.bus.listen("reading", seen.append)
    hub.bus.listen(MATCH_ALL, seen.append)
    hub.bus.fire("reading")
    assert len(seen) == 3
    assert seen[0] is seen[1] is seen[2]


async def test_raising_filter_is_logged_and_isolated(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    filtered: list[Event] = []
    plain: list[Event] = []

    def broken_filter(data: Mapping[str, Any]) -> bool:
        raise KeyError("no such field")

    def filtered_listener(event: Event) -> None:
        filtered.append(event)

    hub.bus.listen("reading", filtered_listener, broken_filter)
    hub.bus.listen("reading", plain.append)

    hub.bus.fire("reading")
    hub.bus.fire("reading")

    assert filtered == []
    assert len(plain) == 2
    messages = _error_messages(caplog)
    assert len(messages) == 2
    assert all("filter" in m and "filtered_listener" in m for m in messages)


# --- MATCH_ALL -----------------------------------------------------------------------


async def test_match_all_listener_gets_every_event_type(hub: Hub) -> None:
    everything: list[Event] = []
    hub.bus.listen(MATCH_ALL, everything.append)

    hub.bus.fire("reading")
    hub.bus.fire("alarm")
    hub.states.set("meter.r101_e", "1")

    assert _types(everything) == ["reading", "alarm", "state_changed"]


async def test_match_all_listener_can_be_unsubscribed(hub: Hub) -> None:
    everything: list[Event] = []
    unsub = hub.bus.listen(MATCH_ALL, everything.append)
    hub.bus.fire("reading")
    unsub()
    hub.bus.fire("alarm")
    assert _types(everything) == ["reading"]
    assert MATCH_ALL not in hub.bus.listeners()


async def test_match_all_listener_respects_its_filter(hub: Hub) -> None:
    alarms: list[Event] = []
    hub.bus.listen(MATCH_ALL, alarms.append, lambda data: data.get("level") == "alarm")
    hub.bus.fire("reading", {"level": "info"})
    hub.bus.fire("relay", {"level": "alarm"})
    assert _types(alarms) == ["relay"]


# --- coroutine listeners and awaitables ------------------------------------------------


async def test_coroutine_listener_runs_as_tracked_task(hub: Hub) -> None:
    release = asyncio.Event()
    done: list[int] = []

    async def slow_listener(event: Event) -> None:
        await release.wait()
        done.append(event.data["n"])

    hub.bus.listen("reading", slow_listener)
    hub.bus.fire("reading", {"n": 7})

    tracked = [t for t in hub._tasks if not t.done()]
    assert len(tracked) == 1
    assert "slow_listener" in tracked[0].get_name()
    assert done == []  # scheduled, not run inline

    release.set()
    await hub.block_till_done(2)
    assert done == [7]


async def test_coroutine_listener_exception_is_logged_with_its_name(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    async def failing_async_listener(event: Event) -> None:
        await asyncio.sleep(0)
        raise ValueError("async boom")

    after: list[Event] = []
    hub.bus.listen("reading", failing_async_listener)
    hub.bus.listen("reading", after.append)
    hub.bus.fire("reading")
    await hub.block_till_done(2)

    assert len(after) == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "failing_async_listener" in errors[0].getMessage()
    assert errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], ValueError)


async def test_plain_callable_returning_awaitable_is_awaited(hub: Hub) -> None:
    done: list[str] = []

    async def work(name: str) -> None:
        await asyncio.sleep(0)
        done.append(name)

    def returns_awaitable(event: Event) -> Awaitable[None]:
        return work(event.data["name"])

    hub.bus.listen("reading", returns_awaitable)
    hub.bus.fire("reading", {"name": "r101_e"})
    assert done == []
    await hub.block_till_done(2)
    assert done == ["r101_e"]


async def test_callable_object_with_async_call_is_scheduled(hub: Hub) -> None:
    class AsyncHandler:
        def __init__(self) -> None:
            self.seen: list[str] = []

        async def __call__(self, event: Event) -> None:
            await asyncio.sleep(0)
            self.seen.append(event.event_type)

    handler = AsyncHandler()
    hub.bus.listen("reading", handler)
    hub.bus.fire("reading")
    await hub.block_till_done(2)
    assert handler.seen == ["reading"]


async def test_bus_without_hub_runs_coroutine_listeners_on_the_loop() -> None:
    bus = EventBus()
    done = asyncio.Event()

    async def listener(event: Event) -> None:
        done.set()

    bus.listen("reading", listener)
    bus.fire("reading")
    async with asyncio.timeout(2):
        await done.wait()


# --- ordering ------------------------------------------------------------------------


async def test_events_fired_by_listeners_are_queued_fifo_not_recursive(hub: Hub) -> None:
    log: list[str] = []

    def first(event: Event) -> None:
        log.append(f"first:{event.event_type}")
        if event.event_type == "a":
            hub.bus.fire("b")
            hub.bus.fire("c")
            log.append("first:after-fire")

    def second(event: Event) -> None:
        log.append(f"second:{event.event_type}")

    for event_type in ("a", "b", "c"):
        hub.bus.listen(event_type, first)
        hub.bus.listen(event_type, second)

    hub.bus.fire("a")

    assert log == [
        "first:a", "first:after-fire", "second:a",
        "first:b", "second:b",
        "first:c", "second:c",
    ]


async def test_listeners_run_in_subscription_order(hub: Hub) -> None:
    log: list[int] = []
    for index in range(5):
        hub.bus.listen("reading", lambda e, i=index: log.append(i))
    hub.bus.fire("reading")
    assert log == [0, 1, 2, 3, 4]


async def test_deep_event_chains_do_not_recurse(hub: Hub) -> None:
    # far deeper than Python's recursion limit if fire() recursed
    depth = 5000
    seen: list[int] = []

    def relay(event: Event) -> None:
        n = event.data["n"]
        seen.append(n)
        if n < depth:
            hub.bus.fire("chain", {"n": n + 1})

    hub.bus.listen("chain", relay)
    hub.bus.fire("chain", {"n": 1})
    assert len(seen) == depth


async def test_fire_threadsafe_dispatches_on_the_loop(hub: Hub) -> None:
    loop = asyncio.get_running_loop()
    got = asyncio.Event()
    threads: list[int] = []

    def listener(event: Event) -> None:
        threads.append(threading.get_ident())
        got.set()

    hub.bus.listen("reading", listener)
    thread = threading.Thread(target=hub.bus.fire_threadsafe, args=(loop, "reading", {"n": 1}))
    thread.start()
    thread.join(5)
    async with asyncio.timeout(2):
        await got.wait()
    assert threads == [threading.get_ident()]


# --- Event and Context -----------------------------------------------------------------


async def test_event_attributes_cannot_be_set(hub: Hub) -> None:
    seen: list[Event] = []
    hub.bus.listen("reading", seen.append)
    hub.bus.fire("reading", {"n": 1})
    event = seen[0]
    for name, value in [("event_type", "other"), ("data", {}), ("context", Context()),
                        ("time_fired_ts", 0.0), ("extra", 1)]:
        with pytest.raises(AttributeError, match="immutable"):
            setattr(event, name, value)
    assert event.event_type == "reading"
    assert event.data == {"n": 1}


async def test_event_time_and_as_dict(hub: Hub) -> None:
    seen: list[Event] = []
    hub.bus.listen("reading", seen.append)
    hub.bus.fire("reading", {"n": 1}, time_fired=1_700_000_000.5)
    event = seen[0]
    assert event.time_fired.tzinfo is not None
    assert event.time_fired.timestamp() == 1_700_000_000.5
    as_dict = event.as_dict()
    assert as_dict["event_type"] == "reading"
    assert as_dict["data"] == {"n": 1}
    assert as_dict["context"]["id"] == event.context.id
    assert as_dict["time_fired"].startswith("2023-11-14T22:13:20.5")


async def test_fire_with_explicit_context_passes_it_through(hub: Hub) -> None:
    seen: list[Event] = []
    hub.bus.listen("reading", seen.append)
    hub.bus.listen(MATCH_ALL, seen.append)
    context = Context(user_id="landlord", origin="test")

    hub.bus.fire("reading", {"n": 1}, context=context)

    assert len(seen) == 2
    assert all(event.context is context for event in seen)


async def test_fire_without_context_makes_a_fresh_one_per_event(hub: Hub) -> None:
    seen: list[Event] = []
    hub.bus.listen("reading", seen.append)
    hub.bus.fire("reading")
    hub.bus.fire("reading")
    assert seen[0].context.id != seen[1].context.id
    assert seen[0].context.parent_id is None


def test_context_child_links_parent_and_keeps_user() -> None:
    root = Context(user_id="u1", origin="api")
    child = root.child(origin="automation")
    grandchild = child.child()

    assert child.parent_id == root.id
    assert child.user_id == "u1"
    assert child.origin == "automation"
    assert child.id != root.id
    assert grandchild.parent_id == child.id
    assert grandchild.user_id == "u1"
    assert root.as_dict() == {"id": root.id, "parent_id": None, "user_id": "u1",
                              "origin": "api"}


def test_contexts_compare_by_id() -> None:
    first = Context(id="abc")
    assert first == Context(id="abc", user_id="other")
    assert first != Context()
    assert len({first, Context(id="abc")}) == 1


async def test_context_propagates_from_listener_to_the_event_it_causes(hub: Hub) -> None:
    trips: list[Event] = []

    def on_reading(event: Event) -> None:
        hub.bus.fire("trip", {"meter": event.data["meter"]}, context=event.context.child())

    hub.bus.listen("reading", on_reading)
    hub.bus.listen("trip", trips.append)
    cause = Context(user_id="operator")
    hub.bus.fire("reading", {"meter": "r101_e"}, context=cause)

    assert trips[0].context.parent_id == cause.id
    assert trips[0].context.user_id == "operator"
