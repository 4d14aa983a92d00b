"""Notices end to end: a hub on the sim link, the real ledger and control, a real receiver.

balance_low from charged consumption reaches the tenant's URL (zh-CN, money as ¥); the same
notice within its window goes once; a delayed trip's warning names the trip time; an
immediate trip and the close after a recharge are told from their command confirmations.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import Clock, collect, of_type, settle, start_hub, t, wait_for
from notify_support import Receiver, config, receiver

from hub.core import Context, Hub
from hub.prepaid.control import Control
from hub.util.ids import new_id

D = Decimal
MONDAY_9 = t("2026-03-02T09:00")


def site(rx: Receiver, *, notices: str = "") -> str:
    """Three tenants on the sim link: a1 (immediate), a2 (no contacts), a3 (delayed)."""
    return config(f"""
        links:
          - {{id: sim1, type: sim, speed: 0}}
        control: {{retries: 2, retry_delay: 0.1, max_retry_delay: 0.4, confirm_delay: 0.05,
                   recheck_delay: 0.1, rechecks: 3}}
        meters:
          - {{id: m1, model: ddsy, link: sim1, address: "202400000001", account: a1,
             tariff: flat}}
          - {{id: m2, model: ddsy, link: sim1, address: "202400000002", account: a2,
             tariff: flat}}
          - {{id: m3, model: ddsy, link: sim1, address: "202400000003", account: a3,
             tariff: flat}}
        tariffs:
          - {{id: flat, type: flat, price: 1.00}}
        accounts:
          - {{id: a1, name: 张三, low_balance: [20, 5],
             contacts: {{notify: ["{rx.url('a1')}"]}}}}
          - {{id: a2, name: 李四, low_balance: [20]}}
          - {{id: a3, name: 王五, opening_balance: 5, low_balance: [],
             trip_policy: {{mode: delayed, at: "10:00", warn_before: 30m}},
             contacts: {{notify: ["{rx.url('a3')}"]}}}}
        notify:
          landlord: "{rx.url('landlord')}"
        """, notices)


def consume(hub: Hub, meter_id: str, kwh: str, hour: int) -> None:
    """Fire a consumption event as storage does after a reading."""
    start = datetime(2026, 3, 1, tzinfo=MONDAY_9.tzinfo) + timedelta(hours=hour)
    hub.bus.fire("consumption", {
        "meter_id": meter_id, "reading_id": new_id(),
        "intervals": ({"register": "energy_import_total", "start": start,
                       "end": start + timedelta(hours=1), "quantity": D(kwh)},)},
        context=Context(origin="test"))


async def recharge(hub: Hub, account_id: str, amount: str) -> None:
    await hub.services.call("account", "recharge", {
        "account_id": account_id, "amount": amount, "method": "cash",
        "reference": new_id()})
    await settle(hub)


def titled(rx: Receiver, path: str, title: str) -> list[dict[str, Any]]:
    return [body for body in rx.bodies(path) if body["title"] == title]


async def test_balance_low_from_the_ledger_reaches_the_tenant_once_per_window(
        tmp_path: Path) -> None:
    async with receiver() as rx, start_hub(tmp_path, site(rx)) as hub:
        events = collect(hub, "balance_low", "notify_sent", "notify_skipped")
        await recharge(hub, "a1", "30")
        consume(hub, "m1", "12.7", 0)  # 30 -> 17.30: below 20
        await settle(hub)
        low = await wait_for(lambda: titled(rx, "a1", "余额不足提醒"))
        assert low[0]["message"] == (
            "【阳光公寓】张三，您的账户余额为 ¥17.30，已低于提醒线 ¥20.00，"
            "请及时充值，以免停电停水。")
        assert titled(rx, "a1", "充值到账")  # 0 -> 30 restored the new account
        # the receiver has the message before its answer reaches the hub: notify_sent follows
        sent = await wait_for(lambda: [e for e in of_type(events, "notify_sent")
                                       if e.data["notice"] == "balance_low"])
        assert sent[0].data["account_id"] == "a1" and sent[0].data["notifier"] == "tenant"
        cause = of_type(events, "balance_low")[0]
        assert sent[0].context.parent_id is not None
        assert cause.context.id in (sent[0].context.id, sent[0].context.parent_id)

        await recharge(hub, "a1", "10")  # 27.30: back above 20
        consume(hub, "m1", "8", 1)  # 19.30: crosses 20 again within the window
        await settle(hub)
        skipped = await wait_for(lambda: [e for e in of_type(events, "notify_skipped")
                                          if e.data["reason"] == "duplicate"])
        assert skipped[0].data == {"notice": "balance_low", "account_id": "a1",
                                   "reason": "duplicate"}
        await asyncio.sleep(0.3)
        assert len(titled(rx, "a1", "余额不足提醒")) == 1

        consume(hub, "m1", "15", 2)  # 4.30: a lower level is another notice
        await settle(hub)
        await wait_for(lambda: len(titled(rx, "a1", "余额不足提醒")) == 2)
        assert "¥4.30" in titled(rx, "a1", "余额不足提醒")[1]["message"]


async def test_a_tenant_without_contacts_is_skipped_and_logged(tmp_path: Path) -> None:
    async with receiver() as rx, start_hub(tmp_path, site(rx)) as hub:
        skipped = collect(hub, "notify_skipped")
        await recharge(hub, "a2", "25")
        consume(hub, "m2", "10", 0)
        await settle(hub)
        found = await wait_for(lambda: [e for e in skipped if e.data["notice"] == "balance_low"])
        assert found[0].data == {"notice": "balance_low", "account_id": "a2",
                                 "reason": "no_contacts"}
        await asyncio.sleep(0.2)
        assert rx.received == [] or all("/a2/" not in r.path for r in rx.received)


async def test_a_delayed_trip_is_announced_with_its_time(tmp_path: Path) -> None:
    async with receiver() as rx, start_hub(tmp_path, site(rx)) as hub:
        control = hub.component("control", Control)
        await control.ready()
        clock = Clock(MONDAY_9, running=True)
        control.set_clock(clock)
        scheduled = collect(hub, "trip_scheduled", "trip_warning")
        consume(hub, "m3", "10", 0)  # 5 -> -5: in arrears, trip at 10:00
        await settle(hub)
        await wait_for(lambda: of_type(scheduled, "trip_scheduled"))
        assert not titled(rx, "a3", "停电预告")
        clock.set(t("2026-03-02T09:31"))
        control.trips.wake()
        await wait_for(lambda: of_type(scheduled, "trip_warning"))
        warning = await wait_for(lambda: titled(rx, "a3", "停电预告"))
        assert warning[0]["message"] == (
            "【阳光公寓】王五，您的账户已欠费，将于 2026-03-02 10:00 停止供电/供水。"
            "请在此之前充值，充值后不会停电。")
        exhausted = await wait_for(lambda: titled(rx, "a3", "欠费提醒"))
        assert "¥-5.00" not in exhausted[0]["message"]
        assert "-¥5.00" in exhausted[0]["message"]


async def test_an_immediate_trip_and_the_close_after_a_recharge_are_told(
        tmp_path: Path) -> None:
    notices = """
        notices:
          language: en
          relay_tripped: {notify: landlord}
        """
    async with receiver() as rx, start_hub(tmp_path, site(rx, notices=notices)) as hub:
        await hub.component("control", Control).ready()
        confirmed = collect(hub, "command_confirmed")
        await recharge(hub, "a1", "3")
        consume(hub, "m1", "4", 0)  # 3 -> -1: trips at once
        await settle(hub)
        await wait_for(lambda: of_type(confirmed, "command_confirmed"), timeout=10)
        tripped = await wait_for(lambda: titled(rx, "a1", "Power cut off"))
        assert tripped[0]["message"] == (
            "阳光公寓: 张三, meter m1 has been switched off. If this was for arrears, "
            "power comes back automatically after a recharge.")
        assert await wait_for(lambda: titled(rx, "landlord", "Power cut off"))
        await recharge(hub, "a1", "20")
        closed = await wait_for(lambda: titled(rx, "a1", "Power restored"), timeout=10)
        assert closed[0]["message"] == "阳光公寓: 张三, meter m1 is switched on again."
        assert not titled(rx, "landlord", "Power restored")  # not asked for


async def test_a_close_that_found_the_power_on_is_not_told_as_restored(
        tmp_path: Path) -> None:
    notices = """
        notices: {language: en}
        """
    async with receiver() as rx, start_hub(tmp_path, site(rx, notices=notices)) as hub:
        await hub.component("control", Control).ready()
        confirmed = collect(hub, "command_confirmed")
        consume(hub, "m3", "6", 0)  # a3: 5 -> -1, a delayed trip: the power stays on for now
        await settle(hub)
        await recharge(hub, "a3", "20")  # the close reads the relay first: already closed
        # a3's own close (start-up trips of other accounts may confirm meanwhile)
        done = await wait_for(lambda: [e for e in of_type(confirmed, "command_confirmed")
                                       if e.data["meter_id"] == "m3"], timeout=30)
        assert (done[0].data["command"], done[0].data["sent"]) == ("close", False)
        assert await wait_for(lambda: titled(rx, "a3", "Payment received"))  # it was paid
        await asyncio.sleep(0.5)
        assert not titled(rx, "a3", "Power restored")  # nothing had been cut


async def test_a_cut_is_told_to_the_meters_account_now_by_the_meters_name(
        tmp_path: Path) -> None:
    """A meter moved to another account at runtime: its cut goes to that account's tenant
    (not to the one hub.yaml names); a meter with a name is called by it, one without by its
    kind and id."""
    async with receiver() as rx, start_hub(tmp_path, site(rx)) as hub:
        await hub.component("control", Control).ready()
        await hub.services.call("meter", "update", {
            "meter_id": "m2", "changes": {"account": "a1", "name": "201 电表"}})
        await recharge(hub, "a1", "3")
        consume(hub, "m2", "4", 0)  # a1: 3 -> -1, both of its meters trip at once
        await settle(hub)
        cuts = await wait_for(lambda: len(titled(rx, "a1", "已停电")) == 2
                              and titled(rx, "a1", "已停电"), timeout=20)
        assert sorted(body["message"] for body in cuts) == [
            "【阳光公寓】张三，201 电表 已断电。如因欠费，充值后将自动恢复供电。",
            "【阳光公寓】张三，电表 m1 已断电。如因欠费，充值后将自动恢复供电。"]
        # an event naming only the meter: its account is found as it is now
        hub.bus.fire("meter_offline", {"meter_id": "m2", "error": "timeout", "misses": 3})
        offline = await wait_for(lambda: titled(rx, "landlord", "表计离线"), timeout=20)
        assert offline[0]["message"] == "【阳光公寓】201 电表（张三） 连续 3 次抄表失败，已离线。"
