"""The trip policy end to end over the sim link, balances moved through the REAL ledger.

immediate trips and closes again after a recharge (energy and water stop and resume);
delayed trips only at its time, after a warning, and not inside a protection window;
never only alarms; a 保电 hold blocks the trip; a force-off hold keeps the supply off;
postpaid accounts trip only after the grace period; every trip's causes can be walked back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from common import Clock, collect, settle, t, types, wait_for
from control_support import RealMoney, config, control_of, running_hub, simulator, storage_of
from money_support import consumption

from hub.billing.engine import BillingEngine
from hub.core import Context, Hub
from hub.exceptions import ServiceValidationError
from hub.ledger.ledger import Ledger
from hub.metering.service import MeteringService
from hub.prepaid.trips import Trigger

ACCOUNTS = """
accounts:
  - {id: r101, opening_balance: 100}
  - {id: r102, opening_balance: 100, trip_policy: {mode: never}}
  - {id: r103, opening_balance: 100, trip_policy: {mode: delayed, at: "10:00", warn_before: 30m}}
"""

WINDOWED = """
accounts:
  - {id: r101, opening_balance: 100}
  - {id: r102, opening_balance: 100}
  - {id: r103, opening_balance: 100, trip_policy: {mode: delayed, at: "10:00", warn_before: 30m,
                                                   protection: {dates: [2026-03-02]}}}
"""

POSTPAID = """
accounts:
  - {id: r101, billing: postpaid, postpaid: {due_days: 1, grace_days: 3}}
  - {id: r102, opening_balance: 100}
  - {id: r103, opening_balance: 100}
"""

# r101's meters are priced, so its bill has something to charge
PRICED = """
tariffs:
  - {id: power, type: flat, price: 1.00}
  - {id: water, type: flat, unit: m3, price: 1.00}
tariff_defaults:
  - {accounts: [r101], kind: electricity, tariff: power}
  - {accounts: [r101], kind: water, tariff: water}
"""

MONDAY_9 = t("2026-03-02T09:00")  # a workday
D = Decimal


async def register(hub: Hub, meter_id: str) -> Decimal:
    reading = await hub.component("metering", MeteringService).read(meter_id)
    key = "energy_import_total" if "energy_import_total" in reading.registers else "water_total"
    return reading.registers[key]


async def rising(hub: Hub, meter_id: str, pause: float = 0.25) -> bool:
    first = await register(hub, meter_id)
    await asyncio.sleep(pause)
    return await register(hub, meter_id) > first


def billing_of(hub: Hub) -> BillingEngine:
    """The billing component (real bills for the postpaid tests)."""
    return hub.component("billing", BillingEngine)


class Money(RealMoney):
    """Real balances, and the commands of the hub's start-up (left out of what tests count):
    each account's opening balance takes it from 0 (in arrears) to 100, so the start-up sends
    its meters a close."""

    startup: frozenset[str] = frozenset()

    async def commands(self, meter_id: str) -> list[Any]:
        """The meter's commands since the start-up, newest first."""
        storage = storage_of(self.hub)
        await storage.flush()
        return [c for c in await storage.commands(meter_id=meter_id)
                if c.command_id not in self.startup]


@asynccontextmanager
async def money_hub(tmp_path: Path, text: str) -> AsyncIterator[tuple[Hub, Money]]:
    """A hub on the real ledger, settled after its start-up, and what moves its balances."""
    async with running_hub(tmp_path, text, fake_ledger=False) as (hub, _none):
        await wait_for(lambda: not control_of(hub).commands.all_outstanding())
        money = Money(hub)
        money.startup = frozenset(c.command_id for c in await storage_of(hub).commands())
        yield hub, money


async def test_immediate_trips_at_once_and_a_recharge_closes_again(tmp_path: Path) -> None:
    async with money_hub(tmp_path, config(ACCOUNTS)) as (hub, money):
        events = collect(hub, "relay_changed", "valve_changed", "command_confirmed")
        power, water = simulator(hub, "r101_e"), simulator(hub, "r101_w")
        assert await rising(hub, "r101_e") and await rising(hub, "r101_w")
        cause = await money.set("r101", "-0.50")
        await wait_for(lambda: len([e for e in events if e.event_type == "command_confirmed"])
                       == 2)
        assert not power.relay_closed and not water.valve_open
        assert not await rising(hub, "r101_e")  # energy stops rising
        assert not await rising(hub, "r101_w")  # and water stops flowing
        changed = [e for e in events if e.event_type != "command_confirmed"]
        assert sorted(types(changed)) == ["relay_changed", "valve_changed"]
        trip = (await money.commands("r101_e"))[0]
        assert trip.command == "trip" and trip.context_parent_id is not None
        chain = await control_of(hub).why(trip.command_id)
        assert chain is not None
        assert chain["chain"][0]["context_id"] == cause.id
        assert [e["event_type"] for e in chain["chain"][0]["events"]] == [
            "balance_low", "balance_low", "balance_exhausted"]  # 100 to -0.50: 20, 5, 0
        events.clear()
        await money.set("r101", "30.00")  # a recharge
        await wait_for(lambda: len([e for e in events if e.event_type == "command_confirmed"])
                       == 2)
        assert power.relay_closed and water.valve_open
        assert await rising(hub, "r101_e") and await rising(hub, "r101_w")
        assert [c.command for c in await money.commands("r101_e")] == ["close", "trip"]


async def test_never_mode_only_alarms(tmp_path: Path) -> None:
    async with money_hub(tmp_path, config(ACCOUNTS)) as (hub, money):
        alarms = collect(hub, "arrears_alarm")
        await money.set("r102", "-5")
        await wait_for(lambda: alarms)
        await asyncio.sleep(0.2)
        assert alarms[0].data["account_id"] == "r102"
        assert "never" in alarms[0].data["reason"]
        assert simulator(hub, "r102_e").relay_closed
        assert await money.commands("r102_e") == []


async def test_delayed_trips_only_at_its_time_after_a_warning(tmp_path: Path) -> None:
    async with money_hub(tmp_path, config(ACCOUNTS)) as (hub, money):
        clock = Clock(MONDAY_9, running=True)
        control_of(hub).set_clock(clock)
        events = collect(hub, "trip_scheduled", "trip_warning", "command_queued",
                         "trip_cancelled")
        await money.set("r103", "-1")
        await wait_for(lambda: "trip_scheduled" in types(events))
        scheduled = events[0].data
        assert scheduled["kind"] == "delayed"
        state = await wait_for(lambda: hub.states.get("account.r103"))
        assert state.attributes["trip_scheduled"] == t("2026-03-02T10:00").isoformat()
        assert scheduled["due"] == t("2026-03-02T10:00").isoformat()
        clock.set(t("2026-03-02T09:29"))
        control_of(hub).trips.wake()
        await asyncio.sleep(0.3)
        assert types(events) == ["trip_scheduled"]  # no warning yet, no trip
        clock.set(t("2026-03-02T09:31"))
        control_of(hub).trips.wake()
        await wait_for(lambda: "trip_warning" in types(events))
        assert simulator(hub, "r103_e").relay_closed
        clock.set(t("2026-03-02T10:00:01"))
        control_of(hub).trips.wake()
        await wait_for(lambda: not simulator(hub, "r103_e").relay_closed)
        assert types(events)[:3] == ["trip_scheduled", "trip_warning", "command_queued"]
        # still in arrears: tomorrow's check is pending, one row
        next_row = await wait_for(lambda: control_of(hub).trips.pending("r103"))
        assert next_row.due == t("2026-03-03T10:00")
        await money.set("r103", "20")
        await wait_for(lambda: simulator(hub, "r103_e").relay_closed)
        await wait_for(lambda: "trip_cancelled" in types(events))
        assert control_of(hub).trips.pending("r103") is None


async def test_delayed_trip_is_deferred_out_of_a_protection_window(tmp_path: Path) -> None:
    async with money_hub(tmp_path, config(WINDOWED)) as (hub, money):
        clock = Clock(MONDAY_9, running=True)
        control_of(hub).set_clock(clock)
        scheduled = collect(hub, "trip_scheduled")
        await money.set("r103", "-1")
        await wait_for(lambda: scheduled)
        clock.set(t("2026-03-02T10:00:01"))  # its time, but the whole day is protected
        control_of(hub).trips.wake()
        await wait_for(lambda: len(scheduled) == 2)
        assert scheduled[1].data["kind"] == "deferred"
        assert scheduled[1].data["due"] == t("2026-03-03T00:00").isoformat()
        await asyncio.sleep(0.3)
        assert simulator(hub, "r103_e").relay_closed
        assert await money.commands("r103_e") == []
        clock.set(t("2026-03-03T00:00:05"))
        control_of(hub).trips.wake()
        await wait_for(lambda: not simulator(hub, "r103_e").relay_closed)


async def test_a_keep_on_hold_blocks_the_trip_until_released(tmp_path: Path) -> None:
    async with money_hub(tmp_path, config(ACCOUNTS)) as (hub, money):
        alarms = collect(hub, "arrears_alarm")
        operator = Context(user_id="landlord")
        await hub.services.call("account", "hold", {
            "account_id": "r101", "kind": "keep_on", "reason": "tenant in hospital",
            "until": "2099-01-01"}, context=operator)
        state = hub.states.get("account.r101")
        assert state is not None and state.attributes["hold"] == "keep_on"
        assert state.attributes["hold_reason"] == "tenant in hospital"
        await money.set("r101", "-3")
        await wait_for(lambda: alarms)
        assert "keep-on" in alarms[0].data["reason"]
        await asyncio.sleep(0.2)
        assert simulator(hub, "r101_e").relay_closed
        with pytest.raises(ServiceValidationError, match="keep-on hold"):
            await hub.services.call("meter", "trip", {"meter_id": "r101_e"}, context=operator)
        assert await money.commands("r101_e") == []
        await hub.services.call("account", "release_hold", {"account_id": "r101"},
                                context=operator)
        await wait_for(lambda: not simulator(hub, "r101_e").relay_closed)
        trip = (await money.commands("r101_e"))[0]
        assert trip.context_user_id == "landlord"


async def test_a_force_off_hold_keeps_the_supply_off_whatever_the_balance(
        tmp_path: Path) -> None:
    async with money_hub(tmp_path, config(ACCOUNTS)) as (hub, money):
        power = simulator(hub, "r101_e")
        await hub.services.call("account", "hold", {
            "account_id": "r101", "kind": "force_off", "reason": "moved out"},
            context=Context(user_id="op"))
        await wait_for(lambda: not power.relay_closed and not simulator(hub, "r101_w").valve_open)
        with pytest.raises(ServiceValidationError, match="force-off hold"):
            await hub.services.call("meter", "close", {"meter_id": "r101_e"})
        await money.set("r101", "-1")
        await money.set("r101", "50")  # restored: no close while forced off
        await asyncio.sleep(0.3)
        await hub.block_till_done()
        assert not power.relay_closed
        result = await hub.services.call("account", "release_hold", {"account_id": "r101"},
                                         return_response=True)
        assert len(result["commands"]) == 2
        await wait_for(lambda: power.relay_closed)


async def issue_bill(hub: Hub, clock: Clock, period_start: str, kwh: str) -> dict[str, Any]:
    """Charge r101 a reading of ``kwh`` in the period, then make and issue its real bill."""
    hub.component("ledger", Ledger).clock = clock  # billing's today
    first = t(f"{period_start}T08:00") + timedelta(days=9)
    consumption(hub, "r101_e", first, first + timedelta(hours=1), kwh)
    await settle(hub)
    bill: dict[str, Any] = await hub.services.call("bill", "create", {
        "account_id": "r101", "period_start": period_start, "issue": True},
        return_response=True)
    await settle(hub)
    assert bill["status"] == "issued" and bill["total"] == kwh
    return bill


async def test_postpaid_trips_only_after_the_grace_period(tmp_path: Path) -> None:
    async with money_hub(tmp_path, config(POSTPAID, extra=PRICED)) as (hub, money):
        clock = Clock(MONDAY_9, running=True)
        trips = control_of(hub).trips
        control_of(hub).set_clock(clock)
        bill = await issue_bill(hub, clock, "2026-02-01", "50.00")
        assert money.balance("r101") == D("-50.00")  # charged, but by itself means nothing
        due = date.fromisoformat(bill["due_date"])
        assert due == date(2026, 3, 1)  # a day after the period: yesterday, unpaid
        scheduled = collect(hub, "trip_scheduled")
        await trips.evaluate("r101", Context(), Trigger.RECONCILE)
        assert scheduled[0].data["kind"] == "postpaid"  # the policy waits for the grace end
        assert scheduled[0].data["due"] == t("2026-03-05T00:00").isoformat()  # after 3 days' grace
        await asyncio.sleep(0.2)
        assert simulator(hub, "r101_e").relay_closed
        clock.set(t("2026-03-04T23:59"))  # the last day of grace: not overdue yet
        await billing_of(hub).tick()
        trips.wake()
        await asyncio.sleep(0.3)
        assert simulator(hub, "r101_e").relay_closed
        overdue = collect(hub, "bill_overdue")
        clock.set(t("2026-03-05T00:00:01"))
        await billing_of(hub).tick()  # the billing engine marks the bill overdue
        trips.wake()
        await wait_for(lambda: not simulator(hub, "r101_e").relay_closed)
        assert [e.data["bill_id"] for e in overdue] == [bill["bill_id"]]
        paid = collect(hub, "bill_paid")
        await hub.services.call("account", "recharge", {
            "account_id": "r101", "amount": "50", "method": "bank", "reference": "b-1"})
        await wait_for(lambda: paid)
        await wait_for(lambda: simulator(hub, "r101_e").relay_closed)
        assert money.balance("r101") == 0


async def test_an_overdue_bill_event_trips_a_postpaid_account_at_once(tmp_path: Path) -> None:
    async with money_hub(tmp_path, config(POSTPAID, extra=PRICED)) as (hub, _money):
        clock = Clock(t("2026-01-01T09:00"), running=True)
        bill = await issue_bill(hub, clock, "2025-12-01", "80.00")
        assert bill["due_date"] == "2026-01-01"
        overdue = collect(hub, "bill_overdue")
        await asyncio.sleep(0.2)
        assert simulator(hub, "r101_e").relay_closed
        clock.set(t("2026-01-10T09:00"))
        await billing_of(hub).tick()  # fires bill_overdue: nothing is scheduled before it
        assert [e.data["bill_id"] for e in overdue] == [bill["bill_id"]]
        await wait_for(lambda: not simulator(hub, "r101_e").relay_closed)


async def test_why_walks_back_through_recorded_causes(tmp_path: Path) -> None:
    async with money_hub(tmp_path, config(ACCOUNTS)) as (hub, money):
        reading_ctx = Context(origin="metering")  # readings are stored, not recorded as events
        entry_ctx = reading_ctx.child("prepaid.ledger")
        hub.bus.fire("test_ledger_entry", {"account_id": "r101", "amount": "-1.50"},
                     context=entry_ctx)
        await money.set("r101", "-1", context=entry_ctx)
        await wait_for(lambda: not simulator(hub, "r101_e").relay_closed)
        await wait_for(lambda: control_of(hub).commands.outstanding("r101_e") is None)
        result = await hub.services.call("meter", "why", {"meter_id": "r101_e"},
                                         return_response=True)
        assert result["command"]["command"] == "trip"
        assert result["command"]["state"] == "confirmed"
        steps = [[e["event_type"] for e in step["events"]] for step in result["chain"]]
        assert steps == [["test_ledger_entry", "balance_low", "balance_low", "balance_exhausted"],
                         []]
        assert result["chain"][1]["context_id"] == reading_ctx.id
        assert [t["to"] for t in result["transitions"]][-1] == "confirmed"
        by_account = await control_of(hub).why_cut(account_id="r101")
        assert by_account is not None
        assert by_account["command"]["meter_id"] in ("r101_e", "r101_w")


async def test_a_recharge_cancels_a_pending_delayed_trip_before_its_time(
        tmp_path: Path) -> None:
    async with money_hub(tmp_path, config(ACCOUNTS)) as (hub, money):
        control_of(hub).set_clock(Clock(MONDAY_9, running=True))
        cancelled = collect(hub, "trip_cancelled")
        await money.set("r103", "-1")
        await wait_for(lambda: control_of(hub).trips.pending("r103") is not None)
        await money.set("r103", "5")
        await wait_for(lambda: cancelled)
        assert control_of(hub).trips.pending("r103") is None
        await asyncio.sleep(0.1)
        assert [c.command for c in await money.commands("r103_e")] in ([], ["close"])


async def test_a_keep_on_hold_restores_power_to_an_account_cut_off_for_arrears(
        tmp_path: Path) -> None:
    async with money_hub(tmp_path, config(ACCOUNTS)) as (hub, money):
        power = simulator(hub, "r101_e")
        await money.set("r101", "-8")
        await wait_for(lambda: not power.relay_closed)
        await wait_for(lambda: control_of(hub).commands.outstanding("r101_e") is None)
        result = await hub.services.call("account", "hold", {
            "account_id": "r101", "kind": "keep_on", "reason": "保电: heat wave",
            "until": "2099-08-31"}, return_response=True)
        assert len(result["commands"]) == 2  # relay and valve back on
        await wait_for(lambda: power.relay_closed and simulator(hub, "r101_w").valve_open)
        assert money.balance("r101") == Decimal("-8")  # still in arrears
