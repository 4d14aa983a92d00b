"""Scheduled trips end to end: ``meter.why`` walks back through them, ``never`` cancels them.

A trip that comes from a scheduled check (delayed mode, a trip deferred out of a protection
window) fires ``trip_due`` with the context of its command's cause, so the chain leads back
through ``trip_scheduled`` to what scheduled it — also when the check fires after a restart.
Switching an account with a pending trip to ``trip_policy: {mode: never}`` cancels the trip at
once, and a trip check still pending for a ``never`` account is cancelled when it comes due.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from contextlib import closing
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from common import Clock, bounded, collect, t, types, wait_for
from control_support import FakeLedger, config, control_of, running_hub, simulator, storage_of

from hub.core import Context, Hub
from hub.i18n import localize
from hub.ledger import Thresholds, TripMode
from hub.ledger.book import AccountBook
from hub.ledger.ledger import Ledger

D = Decimal
MONDAY_9 = t("2026-03-02T09:00")  # a workday

DELAYED = """
accounts:
  - {id: r101}
  - {id: r102}
  - {id: r103, trip_policy: {mode: delayed, at: "10:00", warn_before: 30m}}
"""

ONE_METER = """
meters:
  - {id: r101_e, model: ddsy, link: sim1, address: "202400000101", account: r101,
     tariff: cheap, link_options: {load: {constant: 0.1}}}
"""

REAL_LEDGER = """
accounts:
  - {id: r101, opening_balance: 100.00}
"""

TARIFF = """
tariffs:
  - {id: cheap, type: flat, price: 0.01}
"""

# the reviewer's case: immediate mode, the whole of Monday 2 March protected
WINDOW = {"mode": "immediate", "protection": {"dates": ["2026-03-02"]}}


def ledger_of(fake: FakeLedger | None) -> FakeLedger:
    assert fake is not None
    return fake


def steps(result: dict[str, Any]) -> list[list[str]]:
    """The event types of each step of a ``meter.why`` chain."""
    return [[event["event_type"] for event in step["events"]] for step in result["chain"]]


async def schedule_rows(hub: Hub, account_id: str) -> list[Any]:
    """The account's scheduled trips, newest first (history included)."""
    await storage_of(hub).flush()
    return await storage_of(hub).control_read(lambda store: store.schedules(account_id))


async def commands_of(hub: Hub, meter_id: str) -> list[Any]:
    await storage_of(hub).flush()
    return await storage_of(hub).commands(meter_id=meter_id)


async def why_of_trip(hub: Hub, meter_id: str) -> dict[str, Any]:
    await wait_for(lambda: control_of(hub).commands.outstanding(meter_id) is None)
    result = await hub.services.call("meter", "why", {"meter_id": meter_id},
                                     return_response=True)
    assert result["command"]["command"] == "trip"
    return cast(dict[str, Any], result)


def assert_leads_back_to_carol(result: dict[str, Any], call: Context) -> None:
    """trip_due -> trip_scheduled -> balance_exhausted of carol's account.adjust call."""
    chain = result["chain"]
    assert all(step["events"] for step in chain), chain  # no dead end on the way
    assert steps(result)[0] == ["trip_due"]
    assert steps(result)[1][0] == "trip_scheduled"
    assert chain[1]["events"][0]["data"]["kind"] == "deferred"
    assert chain[-1]["context_id"] == call.id
    assert "balance_exhausted" in steps(result)[-1]
    assert chain[-1]["events"][0]["context"]["user_id"] == "carol"
    assert chain[-1]["events"][0]["context"]["parent_id"] is None  # the call itself
    assert len(chain) == 3
    due = chain[0]["events"][0]["data"]
    assert due["account_id"] == "r101"
    assert due["kind"] == "deferred"
    assert due["due"] == t("2026-03-03T00:00").isoformat()
    assert result["user_id"] == "carol"


async def adjust_by_carol(hub: Hub) -> Context:
    """Immediate mode with today protected, then carol's -150 adjustment (balance -50)."""
    await hub.services.call("account", "update", {"account_id": "r101",
                                                  "changes": {"trip_policy": WINDOW}},
                            context=Context(user_id="admin"))
    call = Context(user_id="carol", origin="test.api")
    await hub.services.call("account", "adjust", {
        "account_id": "r101", "amount": "-150", "reason": "meter swap correction",
        "operator": "carol"}, context=call)
    return call


@bounded()
async def test_why_of_a_trip_deferred_out_of_a_protection_window(tmp_path: Path) -> None:
    text = config(REAL_LEDGER, meters=ONE_METER, extra=TARIFF)
    async with running_hub(tmp_path, text, fake_ledger=False) as (hub, _none):
        clock = Clock(MONDAY_9, running=True)
        control_of(hub).set_clock(clock)
        events = collect(hub, "trip_scheduled", "trip_due")
        call = await adjust_by_carol(hub)
        assert hub.component("ledger", Ledger).balance("r101") < 0
        await wait_for(lambda: control_of(hub).trips.pending("r101") is not None)
        assert types(events) == ["trip_scheduled"]
        assert events[0].data["due"] == t("2026-03-03T00:00").isoformat()
        await asyncio.sleep(0.2)
        assert simulator(hub, "r101_e").relay_closed  # protected all day
        clock.set(t("2026-03-03T00:00:05"))  # the window's end
        control_of(hub).trips.wake()
        await wait_for(lambda: not simulator(hub, "r101_e").relay_closed)
        assert types(events) == ["trip_scheduled", "trip_due"]
        assert_leads_back_to_carol(await why_of_trip(hub, "r101_e"), call)
        why_cut = await control_of(hub).why_cut(account_id="r101")
        assert why_cut is not None and why_cut["chain"][0]["events"]


@bounded(60)
async def test_why_of_a_scheduled_trip_that_fires_after_a_restart(tmp_path: Path) -> None:
    text = config(REAL_LEDGER, meters=ONE_METER, extra=TARIFF)
    async with running_hub(tmp_path, text, fake_ledger=False) as (hub, _none):
        control_of(hub).set_clock(Clock(MONDAY_9, running=True))
        call = await adjust_by_carol(hub)
        row = await wait_for(lambda: control_of(hub).trips.pending("r101"))
        assert row.due == t("2026-03-03T00:00")
    clock = Clock(t("2026-03-02T22:00"), running=True)  # still inside the window after the restart

    def before_start(hub: Hub) -> None:
        async def set_clock() -> None:  # once control exists, before it loads its rows
            control_of(hub).set_clock(clock)

        hub.add_stage("test clock", start=set_clock, before=("control",))

    async with running_hub(tmp_path, text, fake_ledger=False,
                           before_start=before_start) as (hub, _none):
        trips = control_of(hub).trips
        again = trips.pending("r101")
        assert again is not None and again.schedule_id == row.schedule_id  # the durable row
        assert again.context.id == row.context.id
        assert simulator(hub, "r101_e").relay_closed
        due = collect(hub, "trip_due")
        clock.set(t("2026-03-03T00:00:05"))
        trips.wake()
        await wait_for(lambda: not simulator(hub, "r101_e").relay_closed)
        assert types(due) == ["trip_due"]
        assert due[0].context.parent_id == row.context.id
        assert_leads_back_to_carol(await why_of_trip(hub, "r101_e"), call)


@bounded()
async def test_why_of_a_delayed_trip_leads_back_to_the_balance_event(tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(DELAYED)) as (hub, fake):
        clock = Clock(MONDAY_9, running=True)
        control_of(hub).set_clock(clock)
        cause = Context(user_id="carol", origin="test.ledger")
        ledger_of(fake).set("r103", "-1", context=cause)
        row = await wait_for(lambda: control_of(hub).trips.pending("r103"))
        assert row.kind == "delayed"
        clock.set(t("2026-03-02T10:00:01"))
        control_of(hub).trips.wake()
        await wait_for(lambda: not simulator(hub, "r103_e").relay_closed)
        result = await why_of_trip(hub, "r103_e")
        assert steps(result) == [["trip_due"], ["trip_scheduled"], ["balance_exhausted"]]
        chain = result["chain"]
        assert chain[1]["context_id"] == row.context.id
        assert chain[2]["context_id"] == cause.id
        assert chain[0]["events"][0]["data"]["schedule_id"] == row.schedule_id
        assert chain[0]["events"][0]["data"]["reason"] == row.reason
        assert result["user_id"] == "carol"


@bounded()
async def test_switching_to_never_cancels_a_pending_delayed_trip_at_once(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(DELAYED)) as (hub, fake):
        clock = Clock(MONDAY_9, running=True)
        control_of(hub).set_clock(clock)
        events = collect(hub, "trip_cancelled", "trip_warning", "trip_due", "command_queued")
        ledger_of(fake).set("r103", "-1")
        row = await wait_for(lambda: control_of(hub).trips.pending("r103"))
        await wait_for(lambda: hub.states.get("account.r103").attributes["trip_scheduled"])
        operator = Context(user_id="landlord")
        await hub.services.call("account", "update", {
            "account_id": "r103", "changes": {"trip_policy": {"mode": "never"}}},
            context=operator)
        await wait_for(lambda: "trip_cancelled" in types(events), timeout=5)
        assert control_of(hub).trips.pending("r103") is None
        cancelled = events[0]
        assert cancelled.data["schedule_id"] == row.schedule_id
        assert "never" in cancelled.data["reason"]
        assert cancelled.context.user_id == "landlord"
        await wait_for(lambda: hub.states.get("account.r103").attributes["trip_scheduled"]
                       is None, timeout=5)
        state = hub.states.get("account.r103")
        assert state is not None and state.attributes["trip_scheduled"] is None
        stored = await schedule_rows(hub, "r103")
        assert [(r.schedule_id, r.state) for r in stored] == [(row.schedule_id, "cancelled")]
        # the warning time and the trip time pass: nothing at all
        clock.set(t("2026-03-02T09:45"))
        control_of(hub).trips.wake()
        await asyncio.sleep(0.2)
        clock.set(t("2026-03-02T10:00:05"))
        control_of(hub).trips.wake()
        await asyncio.sleep(0.3)
        await hub.block_till_done()
        assert types(events) == ["trip_cancelled"]
        assert simulator(hub, "r103_e").relay_closed
        assert await commands_of(hub, "r103_e") == []


@bounded()
async def test_a_trip_check_due_for_a_never_account_is_cancelled_not_fired(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(DELAYED)) as (hub, fake):
        clock = Clock(MONDAY_9, running=True)
        control_of(hub).set_clock(clock)
        events = collect(hub, "trip_cancelled", "command_queued", "trip_scheduled")
        ledger_of(fake).set("r103", "-1")
        row = await wait_for(lambda: control_of(hub).trips.pending("r103"))
        await wait_for(lambda: "trip_scheduled" in types(events))
        # the policy changes without anyone being told (a listener failed, say)
        book = hub.component("accounts", AccountBook)
        book.accounts["r103"] = dataclasses.replace(book.accounts["r103"],
                                                    trip_mode=TripMode.NEVER)
        assert control_of(hub).trips.pending("r103") is not None
        clock.set(t("2026-03-02T10:00:01"))
        control_of(hub).trips.wake()
        await wait_for(lambda: "trip_cancelled" in types(events), timeout=5)
        assert control_of(hub).trips.pending("r103") is None
        assert "never" in events[-1].data["reason"]
        await asyncio.sleep(0.3)
        await hub.block_till_done()
        assert "command_queued" not in types(events)
        assert types(events).count("trip_scheduled") == 1  # no next daily check either
        assert simulator(hub, "r103_e").relay_closed
        assert await commands_of(hub, "r103_e") == []
        stored = await schedule_rows(hub, "r103")
        assert [(r.schedule_id, r.state) for r in stored] == [(row.schedule_id, "cancelled")]


@bounded()
async def test_a_larger_overdraft_lifts_the_arrears_and_cancels_the_pending_trip(
        tmp_path: Path) -> None:
    async with running_hub(tmp_path, config(DELAYED)) as (hub, fake):
        clock = Clock(MONDAY_9, running=True)
        control_of(hub).set_clock(clock)
        events = collect(hub, "trip_cancelled", "command_queued")
        ledger_of(fake).set("r103", "-1")
        row = await wait_for(lambda: control_of(hub).trips.pending("r103"))
        await hub.services.call("account", "update", {
            "account_id": "r103", "changes": {"overdraft": "10"}},
            context=Context(user_id="landlord"))
        await wait_for(lambda: "trip_cancelled" in types(events), timeout=5)
        assert control_of(hub).trips.pending("r103") is None
        cancelled = [e for e in events if e.event_type == "trip_cancelled"]
        assert [e.data["schedule_id"] for e in cancelled] == [row.schedule_id]
        # why it was cancelled names what happened in words, not the trigger's id
        reason = cancelled[0].data["reason"]
        assert (reason, localize(reason, "zh-CN")) == (
            "account changed: not owing", "账户变更：已不欠费")
        kept = next(r for r in await schedule_rows(hub, "r103")
                    if r.schedule_id == row.schedule_id)
        assert localize(kept.reason, "zh-CN") == "账户变更：已不欠费"
        clock.set(t("2026-03-02T10:00:01"))
        control_of(hub).trips.wake()
        await asyncio.sleep(0.3)
        await hub.block_till_done()
        assert simulator(hub, "r103_e").relay_closed
        assert [c.command for c in await commands_of(hub, "r103_e")] in ([], ["close"])
        # owing more than the new overdraft: the policy applies again
        ledger_of(fake).thresholds["r103"] = Thresholds(overdraft=D(10))
        ledger_of(fake).set("r103", "-12")
        again = await wait_for(lambda: control_of(hub).trips.pending("r103"))
        assert again.due == t("2026-03-03T10:00")
        assert again.schedule_id != row.schedule_id
        assert again.due - clock() < timedelta(days=1)


@bounded(60)
async def test_a_scheduled_trips_reason_is_kept_with_its_key(tmp_path: Path) -> None:
    """The reason of a trip deferred out of a protection window is kept keyed in the
    database and read back worded for its reader (English as before)."""
    text = config(REAL_LEDGER, meters=ONE_METER, extra=TARIFF)
    async with running_hub(tmp_path, text, fake_ledger=False) as (hub, _none):
        control_of(hub).set_clock(Clock(MONDAY_9, running=True))
        await adjust_by_carol(hub)
        await wait_for(lambda: control_of(hub).trips.pending("r101") is not None)
        row = (await schedule_rows(hub, "r101"))[0]
        assert row.reason == "inside a protection window"
        assert localize(row.reason, "zh-CN") == "处于保护时段内"
        with closing(sqlite3.connect(f"file:{storage_of(hub).path}?mode=ro", uri=True)) as db:
            kept = db.execute("SELECT reason FROM trip_schedule").fetchone()[0]
        assert kept.startswith('{"$text":["prepaid.why_window"'), kept
