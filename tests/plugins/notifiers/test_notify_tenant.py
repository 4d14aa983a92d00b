"""notify.tenant, landlord notices (alarms, offline meters and DTUs, bills) and overrides."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from common import collect, of_type, start_hub, wait_for
from notify_support import Receiver, config, receiver

from hub.const import HubState
from hub.core import Context
from hub.exceptions import ServiceValidationError
from meterhub_notify.notices import Notices

D = Decimal


def site(rx: Receiver, notices: str = "", language: str = "zh-CN") -> str:
    return config(f"""
        links:
          - {{id: sim1, type: sim, speed: 0}}
        meters:
          - {{id: r302_e, model: ddsy, link: sim1, address: "202400000302", account: r302}}
          - {{id: hall_e, model: ddsy, link: sim1, address: "202400000900"}}
        accounts:
          - {{id: r302, name: 张三, billing: postpaid,
             contacts: {{notify: ["{rx.url('r302')}", "{rx.url('r302b', 'form')}"]}}}}
          - {{id: r303, name: 李四}}
        notify:
          landlord: {{urls: "{rx.url('landlord')}"}}
          ops: "{rx.url('ops')}"
        """, notices, language=language)


async def test_notify_tenant_sends_to_every_url_of_the_account(tmp_path: Path) -> None:
    async with receiver() as rx, start_hub(tmp_path, site(rx)) as hub:
        sent = collect(hub, "notify_sent")
        answer = await hub.services.call("notify", "tenant", {
            "account": "r302", "message": "{{ account }}，本月水费 {{ fee | money }}。",
            "data": {"fee": D("45.5")}}, return_response=True)
        assert answer == {"queued": True, "outcome": "queued"}
        await wait_for(lambda: len(sent) == 2)
        for path in ("r302", "r302b"):
            body = rx.bodies(path)[0]
            assert body["message"] == "张三，本月水费 ¥45.50。"
            assert body["title"] == "阳光公寓"
        await hub.services.call("notify", "tenant", {
            "account_id": "r302", "template": "bill_overdue", "title": "催缴：{{ account }}",
            "data": {"amount_due": "120", "due_date": date(2026, 3, 10)}})
        await wait_for(lambda: len(sent) == 4)
        body = rx.bodies("r302")[1]
        assert body["title"] == "催缴：张三"
        assert "尚欠 ¥120.00（截止日 2026-03-10）" in body["message"]


async def test_notify_tenant_refuses_an_unknown_account_and_skips_one_without_urls(
        tmp_path: Path) -> None:
    async with receiver() as rx, start_hub(tmp_path, site(rx)) as hub:
        skipped = collect(hub, "notify_skipped")
        with pytest.raises(ServiceValidationError, match="unknown account 'r999'"):
            await hub.services.call("notify", "tenant", {"account_id": "r999", "message": "x"})
        with pytest.raises(ServiceValidationError):
            await hub.services.call("notify", "tenant", {"message": "no account"})
        answer = await hub.services.call("notify", "tenant", {
            "account_id": "r303", "message": "hi"}, return_response=True)
        assert answer == {"queued": False, "outcome": "no_contacts"}
        assert [e.data["reason"] for e in skipped] == ["no_contacts"]
        await asyncio.sleep(0.2)
        assert rx.received == []


async def test_meter_and_dtu_problems_go_to_the_landlord(tmp_path: Path) -> None:
    async with receiver() as rx, start_hub(tmp_path, site(rx)) as hub:
        fire = hub.bus.fire
        fire("alarm", {"meter_id": "r302_e", "kind": "over_current", "phase": "a",
                       "value": D("63.20"), "threshold": D("60"), "value_unit": "A",
                       "reading_id": "x"})
        fire("alarm", {"meter_id": "hall_e", "kind": "battery_low", "phase": None,
                       "value": True, "threshold": True, "reading_id": "y"})
        fire("meter_offline", {"meter_id": "hall_e", "error": "timeout", "misses": 3})
        fire("dtu_offline", {"link": "dtu_a", "dtu": "861234567890123", "reason": "closed"})
        fire("calendar_unknown_year", {"year": 2027, "newest_known": 2026,
                                       "holidays_version": "0.85"})
        await wait_for(lambda: len(rx.bodies("landlord")) == 5)
        messages = {body["message"] for body in rx.bodies("landlord")}
        assert messages == {
            "【阳光公寓】电表 r302_e（张三）：过流（A 相），当前值 63.20 A（阈值 60 A）。",
            "【阳光公寓】电表 hall_e：电池电量低。",
            "【阳光公寓】电表 hall_e 连续 3 次抄表失败，已离线。",
            "【阳光公寓】DTU 861234567890123（链路 dtu_a）已离线：closed。",
            "【阳光公寓】计费日历不知道 2027 年的节假日与调休安排（holidays 0.85 只到 2026 年）："
            "2027 年暂按法定节假日计价、不含调休。请升级 holidays，或在 hub.yaml 的 calendar: "
            "中填写国务院公布的安排。",
        }
        assert rx.bodies("ops") == [] and rx.bodies("r302") == []  # landlord notices only


async def test_bills_reach_the_tenant_and_overdue_bills_the_landlord_too(
        tmp_path: Path) -> None:
    async with receiver() as rx, start_hub(tmp_path, site(rx, language="en")) as hub:
        hub.bus.fire("bill_issued", {
            "bill_id": "b1", "account_id": "r302", "kind": "monthly", "billing": "postpaid",
            "period_start": date(2026, 2, 1), "period_end": date(2026, 2, 28),
            "total": D("88.8"), "due_date": date(2026, 3, 10)})
        hub.bus.fire("bill_reminder", {"bill_id": "b1", "account_id": "r302",
                                       "due_date": date(2026, 3, 10), "days": -3,
                                       "amount_due": D("88.80")})
        hub.bus.fire("bill_overdue", {"bill_id": "b1", "account_id": "r302",
                                      "due": date(2026, 3, 10), "due_date": date(2026, 3, 10),
                                      "amount_due": D("88.80")})
        await wait_for(lambda: len(rx.bodies("r302")) == 3 and rx.bodies("landlord"))
        tenant = {body["title"]: body["message"] for body in rx.bodies("r302")}
        assert tenant["New bill"] == ("阳光公寓: 张三, your bill for 2026-02-01 ~ 2026-02-28 "
                                      "is ¥88.80, due by 2026-03-10.")
        assert "¥88.80 is unpaid on your bill, due on 2026-03-10" in tenant["Payment reminder"]
        assert tenant["Overdue bill"].startswith("阳光公寓: 张三, your bill is overdue: ¥88.80")
        assert [body["title"] for body in rx.bodies("landlord")] == ["Overdue bill"]


async def test_overrides_disabling_and_the_dedupe_window(tmp_path: Path) -> None:
    notices = """
        notices:
          dedupe: 10m
          balance_low:
            title: "提醒"
            message: "{{ account }} 余额 {{ event.balance | money }}（{{ balance }}）"
            notify: [ops]
          meter_offline: {enabled: false}
          alarm: {dedupe: 0}
        """
    async with receiver() as rx, start_hub(tmp_path, site(rx, notices)) as hub:
        skipped = collect(hub, "notify_skipped")
        now = [1000.0]
        hub.component("notices", Notices).clock = lambda: now[0]
        low = {"account_id": "r302", "balance": D("7"), "level": D("20")}
        hub.bus.fire("balance_low", low, context=Context())
        await wait_for(lambda: rx.bodies("r302") and rx.bodies("ops"))
        assert rx.bodies("r302")[0] == {**rx.bodies("r302")[0], "title": "提醒",
                                        "message": "张三 余额 ¥7.00（¥7.00）"}
        now[0] += 599
        hub.bus.fire("balance_low", low)
        now[0] += 2  # 10 min after the first: the window is over
        hub.bus.fire("balance_low", low)
        await wait_for(lambda: len(rx.bodies("ops")) == 2)
        assert [e.data["reason"] for e in skipped] == ["duplicate"]
        hub.bus.fire("meter_offline", {"meter_id": "hall_e", "error": "x", "misses": 3})
        for _ in range(2):  # dedupe 0: every alarm goes
            hub.bus.fire("alarm", {"meter_id": "hall_e", "kind": "power_loss", "phase": None,
                                   "value": D("0"), "threshold": D("50")})
        await wait_for(lambda: len(rx.bodies("landlord")) == 2)
        await asyncio.sleep(0.2)
        assert len(rx.bodies("landlord")) == 2
        assert all("失电" in body["message"] for body in rx.bodies("landlord"))
        assert len(of_type(skipped, "notify_skipped")) == 1


async def test_dtus_closed_by_the_hub_s_own_shutdown_are_not_news(tmp_path: Path) -> None:
    async with receiver() as rx, start_hub(tmp_path, site(rx)) as hub:
        hub.state = HubState.STOPPING  # as while the links close at shutdown
        hub.bus.fire("dtu_offline", {"link": "dtu_a", "dtu": "d1", "reason": "hub stopping"})
        hub.state = HubState.RUNNING
        hub.bus.fire("dtu_offline", {"link": "dtu_a", "dtu": "d2", "reason": "closed"})
        await wait_for(lambda: rx.bodies("landlord"))
        await asyncio.sleep(0.2)
        assert [body["message"] for body in rx.bodies("landlord")] == [
            "【阳光公寓】DTU d2（链路 dtu_a）已离线：closed。"]


async def test_dedupe_memory_forgets_only_notices_older_than_every_window(
        tmp_path: Path) -> None:
    notices_yaml = """
        notices:
          dedupe: 10m
        """
    async with receiver() as rx, start_hub(tmp_path, site(rx, notices_yaml)) as hub:
        notices = hub.component("notices", Notices)
        now = [0.0]
        notices.clock = lambda: now[0]
        for n in range(4000):  # old notices, ten minutes apart from the recent ones
            assert not notices._duplicate(("balance_low", f"old{n}"), 600)
        now[0] = 601.0
        for n in range(3000):
            assert not notices._duplicate(("balance_low", f"new{n}"), 600)
        # past the memory's limit: the old ones are forgotten, every recent one is kept
        assert len(notices._last) == 3000
        assert all(notices._duplicate(("balance_low", f"new{n}"), 600) for n in range(3000))
        assert not notices._duplicate(("balance_low", "old7"), 600)
