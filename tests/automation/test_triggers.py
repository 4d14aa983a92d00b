"""Every built-in trigger type, on a real hub: what fires it, what does not, and what a run
receives as ``trigger``."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from auto_support import engine_of, running, runs_done, site, tick, traces
from common import Clock, t, wait_for

from hub.core import Context

D = Decimal


def one(automation_id: str, trigger: str) -> str:
    """An automation with one trigger whose run fires ``custom_ran``."""
    return (f"- id: {automation_id}\n  triggers: {trigger}\n  actions:\n"
            "    - event: custom_ran\n"
            '      event_data: {by: "{{ trigger.platform }}", id: "{{ trigger.id }}"}\n')


async def test_an_event_trigger_fires_on_its_type_when_the_data_matches(tmp_path: Path) -> None:
    text = site(one("on_alarm", "{trigger: event, event_type: alarm, "
                                "event_data: {kind: [over_current, over_voltage], value: 40}}"))
    async with running(tmp_path, text) as hub:
        alarm = {"meter_id": "a101", "phase": None, "threshold": D(30)}
        hub.bus.fire("alarm", {**alarm, "kind": "under_voltage", "value": D(40)})
        hub.bus.fire("alarm", {**alarm, "kind": "over_current", "value": D("40.5")})
        hub.bus.fire("alarm", {**alarm, "kind": "over_current", "value": D("40.0")})
        runs = await runs_done(hub, "on_alarm")
        await asyncio.sleep(0.1)
        assert len(traces(hub, "on_alarm")) == 1  # 40.0 == 40: numbers match by value
        trigger = runs[0]["trigger"]
        assert trigger["platform"] == "event" and trigger["data"]["value"] == "40.0"


async def test_a_state_trigger_fires_on_a_change_of_value_not_of_attributes(
        tmp_path: Path) -> None:
    text = site(one("relay", "{trigger: state, entity_id: sensor.x, from: 'on', to: 'off'}"))
    async with running(tmp_path, text) as hub:
        hub.states.set("sensor.x", "on", {"n": 1})
        hub.states.set("sensor.x", "on", {"n": 2})  # attributes only
        hub.states.set("sensor.x", "half")  # not to 'off'
        hub.states.set("sensor.x", "off")  # from 'half', not 'on'
        hub.states.set("sensor.x", "on")
        hub.states.set("sensor.x", "off")
        runs = await runs_done(hub, "relay")
        await asyncio.sleep(0.1)
        assert len(traces(hub, "relay")) == 1
        assert runs[0]["trigger"]["from_state"]["state"] == "on"
        assert runs[0]["trigger"]["to_state"]["state"] == "off"


async def test_a_state_trigger_with_for_waits_and_a_change_in_between_cancels(
        tmp_path: Path) -> None:
    clock = Clock(t("2026-03-02 10:00"))
    text = site(one("held", "{trigger: state, entity_id: sensor.x, to: 'off', for: '00:10'}"))
    async with running(tmp_path, text, clock) as hub:
        hub.states.set("sensor.x", "off")
        tick(hub, clock, minutes=9)
        hub.states.set("sensor.x", "on")  # back on before 10 minutes: no run
        tick(hub, clock, minutes=5)
        await asyncio.sleep(0.1)
        assert traces(hub, "held") == []
        hub.states.set("sensor.x", "off")
        tick(hub, clock, minutes=9, seconds=59)
        await asyncio.sleep(0.1)
        assert traces(hub, "held") == []
        tick(hub, clock, seconds=1)
        await runs_done(hub, "held")


async def test_a_numeric_state_trigger_fires_when_entering_the_range_only(
        tmp_path: Path) -> None:
    text = site(one("hot", "{trigger: numeric_state, entity_id: sensor.t, attribute: temp, "
                           "above: 60, below: 90}"))
    async with running(tmp_path, text) as hub:
        for temp in ("50", "61", "70", "95", "80", "unknown"):
            hub.states.set("sensor.t", "x", {"temp": temp})
        runs = await runs_done(hub, "hot", 2)
        await asyncio.sleep(0.1)
        assert len(traces(hub, "hot")) == 2  # 50→61 and 95→80; 61→70 stays inside
        assert [r["trigger"]["to_state"]["state"] for r in runs] == ["x", "x"]


async def test_a_numeric_limit_may_be_another_entity(tmp_path: Path) -> None:
    text = site(one("over", "{trigger: numeric_state, entity_id: sensor.load, "
                            "above: sensor.limit}"))
    async with running(tmp_path, text) as hub:
        hub.states.set("sensor.limit", "40")
        hub.states.set("sensor.load", "39")
        hub.states.set("sensor.load", "41")
        await runs_done(hub, "over")


async def test_a_time_trigger_fires_at_site_time_on_its_weekdays(tmp_path: Path) -> None:
    # 2026-03-06 is a Friday; the trigger is for weekdays at 23:00 Shanghai time
    clock = Clock(t("2026-03-06 22:59:58"))
    text = site(one("nightly", "{trigger: time, at: '23:00', weekday: [mon, tue, wed, thu, "
                               "fri]}"))
    async with running(tmp_path, text, clock) as hub:
        tick(hub, clock, seconds=1)
        await asyncio.sleep(0.1)
        assert traces(hub, "nightly") == []
        tick(hub, clock, seconds=1)
        runs = await runs_done(hub, "nightly")
        assert runs[0]["trigger"]["now"].startswith("2026-03-06T23:00:00+08:00")
        tick(hub, clock, days=1)  # Saturday 23:00: not a weekday
        tick(hub, clock, days=1)  # Sunday
        await asyncio.sleep(0.1)
        assert len(traces(hub, "nightly")) == 1
        tick(hub, clock, days=1)  # Monday
        runs = await runs_done(hub, "nightly", 2)
        assert runs[1]["trigger"]["now"].startswith("2026-03-09T23:00:00+08:00")


async def test_a_time_trigger_may_take_an_entitys_time(tmp_path: Path) -> None:
    clock = Clock(t("2026-03-06 08:00"))
    text = site(one("at_entity", "{trigger: time, at: sensor.trip_time}"))
    async with running(tmp_path, text, clock) as hub:
        hub.states.set("sensor.trip_time", t("2026-03-06 09:30").isoformat())
        tick(hub, clock, minutes=89)
        await asyncio.sleep(0.1)
        assert traces(hub, "at_entity") == []
        tick(hub, clock, minutes=1)
        await runs_done(hub, "at_entity")


async def test_a_time_pattern_fires_every_15_minutes(tmp_path: Path) -> None:
    clock = Clock(t("2026-03-06 10:07"))
    text = site(one("quarter", "{trigger: time_pattern, minutes: '/15'}"))
    async with running(tmp_path, text, clock) as hub:
        for _ in range(4):
            tick(hub, clock, minutes=8)  # 10:15, 10:23, 10:31, 10:39
            await asyncio.sleep(0.05)
        runs = await runs_done(hub, "quarter", 2)
        assert [run["trigger"]["now"][11:19] for run in runs] == ["10:15:00", "10:30:00"]


async def test_hub_start_fires_once_when_the_hub_has_started(tmp_path: Path) -> None:
    text = site(one("boot", "{trigger: hub_start}"))
    async with running(tmp_path, text) as hub:
        runs = await runs_done(hub, "boot")
        assert runs[0]["trigger"]["platform"] == "hub_start"
        hub.bus.fire("hub_started")
        await asyncio.sleep(0.1)
        assert len(traces(hub, "boot")) == 1


async def test_a_balance_trigger_fires_on_crossing_a_level_by_tags(tmp_path: Path) -> None:
    text = site(one("low_a", "{trigger: balance, below: 30, tags: {building: A}}"))
    async with running(tmp_path, text) as hub:
        adjust = {"amount": "-25", "reason": "test", "operator": "t"}
        await hub.services.call("account", "adjust", {"account_id": "rb201", **adjust})
        await hub.services.call("account", "adjust", {"account_id": "ra102", **adjust})
        await hub.services.call("account", "adjust",
                                {"account_id": "ra102", **adjust, "amount": "-1"})
        runs = await runs_done(hub, "low_a")
        await asyncio.sleep(0.1)
        assert len(traces(hub, "low_a")) == 1  # building B is not watched; 25 → 24 stays below
        trigger = runs[0]["trigger"]
        assert (trigger["account_id"], trigger["balance"], trigger["level"]) == (
            "ra102", "25.00", "30.00")


async def test_an_alarm_trigger_filters_by_kind_and_meter_tags(tmp_path: Path) -> None:
    text = site(one("b_alarm", "{trigger: alarm, kind: over_current, tags: {building: B}}"))
    async with running(tmp_path, text) as hub:
        alarm = {"phase": None, "value": D(50), "threshold": D(40), "kind": "over_current"}
        hub.bus.fire("alarm", {**alarm, "meter_id": "a101"})
        hub.bus.fire("alarm", {**alarm, "meter_id": "b201", "kind": "over_voltage"})
        hub.bus.fire("alarm", {**alarm, "meter_id": "b201"})
        runs = await runs_done(hub, "b_alarm")
        await asyncio.sleep(0.1)
        assert len(traces(hub, "b_alarm")) == 1
        assert runs[0]["trigger"]["data"]["meter_id"] == "b201"


async def test_meter_offline_for_a_time_and_back_online_cancels(tmp_path: Path) -> None:
    clock = Clock(t("2026-03-06 10:00"))
    text = site(one("offline", "{trigger: meter_offline, for: 2h, meter_id: [a101, a102]}"))
    async with running(tmp_path, text, clock) as hub:
        offline = {"error": "no reply", "misses": 3}
        hub.bus.fire("meter_offline", {"meter_id": "a101", **offline})
        hub.bus.fire("meter_offline", {"meter_id": "a102", **offline})
        hub.bus.fire("meter_offline", {"meter_id": "b201", **offline})  # not watched
        tick(hub, clock, minutes=30)
        hub.bus.fire("meter_online", {"meter_id": "a101"})
        tick(hub, clock, minutes=90)
        runs = await runs_done(hub, "offline")
        await asyncio.sleep(0.1)
        assert [run["trigger"]["meter_id"] for run in traces(hub, "offline")] == ["a102"]
        assert runs[0]["trigger"]["for"] == "2:00:00"


async def test_payment_bill_and_command_triggers(tmp_path: Path) -> None:
    text = site(one("paid", "{trigger: payment, min_amount: 10, method: [cash]}")
                + one("billed", "{trigger: bill_issued, tags: {building: B}}")
                + one("failed", "{trigger: command, state: failed, command: trip}"))
    async with running(tmp_path, text) as hub:
        for amount, reference in (("5", "R1"), ("12.50", "R2")):
            await hub.services.call("account", "recharge", {
                "account_id": "ra101", "amount": amount, "method": "cash",
                "reference": reference})
        runs = await runs_done(hub, "paid")
        assert runs[0]["trigger"]["data"]["amount"] == "12.50"
        bill = {"bill_id": "b1", "kind": "monthly", "billing": "prepaid",
                "period_start": t("2026-02-01").date(), "period_end": t("2026-03-01").date(),
                "total": D("30.00")}
        hub.bus.fire("bill_issued", {**bill, "account_id": "ra101"})
        hub.bus.fire("bill_issued", {**bill, "account_id": "rb201"})
        runs = await runs_done(hub, "billed")
        assert runs[0]["trigger"]["data"]["account_id"] == "rb201"
        command = {"command_id": "c1", "meter_id": "a101", "account_id": "ra101",
                   "state": "failed", "attempts": 3, "reason": "", "origin": "",
                   "error": "no reply"}
        hub.bus.fire("command_failed", {**command, "command": "close"})
        hub.bus.fire("command_confirmed", {**command, "command": "trip", "state": "confirmed"})
        hub.bus.fire("command_failed", {**command, "command": "trip"})
        await runs_done(hub, "failed")
        await asyncio.sleep(0.1)
        assert len(traces(hub, "failed")) == 1


async def test_a_trigger_id_and_variables_reach_the_run(tmp_path: Path) -> None:
    text = site("""
        - id: two
          mode: queued
          triggers:
            - {trigger: event, event_type: custom_a, id: first, variables: {level: 1}}
            - {trigger: event, event_type: custom_b, variables: {level: 2}}
          actions:
            - event: custom_ran
              event_data: {id: "{{ trigger.id }}", level: "{{ level }}"}
        """)
    async with running(tmp_path, text) as hub:
        seen: list[dict[str, object]] = []
        hub.bus.listen("custom_ran", lambda event: seen.append(dict(event.data)))
        hub.bus.fire("custom_a", {}, context=Context())
        hub.bus.fire("custom_b", {})
        await wait_for(lambda: len(seen) == 2)
        assert seen == [{"id": "first", "level": 1}, {"id": 1, "level": 2}]  # "1" reads as 1
        assert engine_of(hub).get("two").entity_id == "automation.two"
