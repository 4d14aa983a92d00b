"""The seed's rules (config/automations.yaml, the demo's automations) end to end: one message
per fact and receiver, no lies at first start, nothing again at the second.

A small site on the sim link runs the shipped automations file with the demo's ``notices:``
block; the tenant's SMS go through ``aliyun_sms`` to the local Dysmsapi (which checks each
request's signature), the landlord's through apprise ``json://`` to a local HTTP receiver.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from common import Clock, collect, line_of, start_hub, t, wait_for
from notify_support import config, problems_of, receiver
from provider_servers import Aliyun, serving

from hub.automation import AutomationEngine
from hub.core import Event, Hub
from hub.exceptions import ServiceValidationError
from hub.metering.service import MeteringService, ReadFailed
from hub.util.dt import as_local, utcnow

ROOT = Path(__file__).resolve().parents[3]
SEED = ROOT / "config" / "automations.yaml"
DEMO = ROOT / "hub" / "demo" / "hub.yaml"
STEP = 60.0
QUIET = 3.0

KEY_ID = "LTAI5tSeedKeyId"
KEY_SECRET = "SeedSecret0123456789abcdef"
PHONES = {"r_full": "13800000001", "r_low": "13800000002", "r_zero": "13800000003",
          "r_never": "13800000004", "r_held": "13800000005"}


def demo_notices() -> str:
    """The demo hub.yaml's ``notices:`` block, as it is shipped."""
    text = DEMO.read_text(encoding="utf-8")
    found = re.search(r"^notices:\n(?:(?:  .*)?\n)+", text, re.MULTILINE)
    assert found, "hub/demo/hub.yaml has a notices: block"
    return found.group(0)


TENANTS = (("r_full", "100.00", "A"), ("r_low", "8.00", "A"), ("r_zero", "0", "B"))


def site(rx_url: str, sms: Aliyun, tenants: tuple[tuple[str, str, str], ...] = TENANTS,
         policies: dict[str, str] | None = None) -> str:
    """Tenants (by default two in building A, one in B) and a shared laundry meter."""
    meters = [f'  - {{id: {account[2:]}_e, model: ddsy, link: sim1, address: "2024000000{n:02d}", '
              f'account: {account}, tariff: power, tags: {{building: {building}}}}}'
              for n, (account, _, building) in enumerate(tenants, 1)]
    meters.append('  - {id: laundry, model: ddsy, link: sim1, address: "202400000099", '
                  'tags: {use: laundry}}')
    accounts = [f'  - {{id: {account}, name: {account}, opening_balance: {opening}, '
                f'move_in: 2026-03-01, low_balance: [20, 5], tags: {{building: {building}}}, '
                f'contacts: {{phone: "{PHONES[account]}"}}'
                f'{(policies or {}).get(account, "")}}}'
                for account, opening, building in tenants]
    return config(
        "links:\n  - {id: sim1, type: sim}\n",
        "control: {confirm_delay: 0.2, recheck_delay: 0.5, retry_delay: 1}\n",
        "tariffs:\n  - {id: power, type: flat, price: 0.50}\n",
        "meters:\n" + "\n".join(meters) + "\n",
        "accounts:\n" + "\n".join(accounts) + "\n",
        f"""
        notify:
          landlord: {{urls: "{rx_url}"}}
          sms:
            type: aliyun_sms
            access_key_id: {KEY_ID}
            access_key_secret: {KEY_SECRET}
            sign_name: 阳光公寓
            template_code: SMS_100000001
            params: {{text: "{{{{ message }}}}"}}
            endpoint: {sms.endpoint}
            to_account: true
        """,
        demo_notices(),
        f"automation: !include {SEED}\n")


def texts_by_phone(sms: Aliyun) -> dict[str, list[str]]:
    """The SMS the provider accepted, by phone number."""
    found: dict[str, list[str]] = {}
    for query in sms.received:
        text = json.loads(query["TemplateParam"])["text"]
        for phone in query["PhoneNumbers"].split(","):
            found.setdefault(phone, []).append(" ".join(text.split()))
    return found


def sent_to(sms: Aliyun, account: str) -> list[str]:
    """The SMS one tenant got."""
    return texts_by_phone(sms).get(PHONES[account], [])


def landlord(rx: Any) -> list[str]:
    """The landlord's messages (title: message)."""
    return [f"{body['title']}: {' '.join(body['message'].split())}" for body in rx.bodies()]


@pytest.mark.timeout(240)
async def test_the_seed_rules_tell_each_fact_once_and_nothing_at_the_second_start(
        tmp_path: Path) -> None:
    async with receiver() as rx, serving(Aliyun({KEY_ID: KEY_SECRET})) as sms:
        text = site(rx.url(), sms)
        async with start_hub(tmp_path, text) as hub:
            # first start, told by the built-in notices (automations run once the hub has
            # started): r_low is warned once (level 20), r_zero opens with nothing and is cut
            # off; r_full's opening balance is nobody's payment
            await wait_for(lambda: sent_to(sms, "r_zero"), timeout=STEP)
            await wait_for(lambda: sent_to(sms, "r_low"), timeout=STEP)
            await asyncio.sleep(QUIET)
            low, = sent_to(sms, "r_low")
            assert "您的账户余额为 ¥8.00，已低于提醒线 ¥20.00" in low
            cut, = sent_to(sms, "r_zero")
            assert "已断电" in cut  # the built-in relay_tripped notice, after the confirmed cut
            assert sent_to(sms, "r_full") == []
            assert landlord(rx) == []

            # from now on the automation tells it, and the notice does not
            hub.bus.fire("balance_low", {"account_id": "r_low", "level": Decimal("5"),
                                         "balance": Decimal("4.80"), "entry_id": "e1"})
            await wait_for(lambda: len(sent_to(sms, "r_low")) == 2, timeout=STEP)
            assert "余额为 ¥4.80，已低于 ¥5.00。余额即将用完" in sent_to(sms, "r_low")[1]
            hub.bus.fire("balance_exhausted", {"account_id": "r_full", "level": Decimal("0"),
                                               "balance": Decimal("-1.20"), "entry_id": "e2"})
            await wait_for(lambda: sent_to(sms, "r_full") and landlord(rx), timeout=STEP)
            assert "您的账户已欠费（余额 -¥1.20）" in sent_to(sms, "r_full")[0]
            assert landlord(rx) == ["欠费: r_full 已欠费，余额 -¥1.20。"]

            # a payment: one SMS and one landlord message; power back on is its own fact
            await hub.services.call("account", "recharge", {
                "account_id": "r_zero", "amount": "50", "method": "cash",
                "reference": "SEED-1"})
            await wait_for(lambda: len(sent_to(sms, "r_zero")) == 3, timeout=STEP)
            paid, back = sent_to(sms, "r_zero")[1:]
            if "缴费" not in paid:
                paid, back = back, paid
            assert "已收到您的缴费 ¥50.00，当前余额 ¥50.00。停电/停水将自动恢复。" in paid
            assert "已恢复供电" in back
            await wait_for(lambda: len(landlord(rx)) == 2, timeout=STEP)
            assert landlord(rx)[1] == "收款: r_zero 缴费 ¥50.00（现金），余额 ¥50.00。"

            # alarms: over-current by power_quality_alarm, phase loss by other_alarms
            for kind in ("over_current", "battery_low"):
                hub.bus.fire("alarm", {"meter_id": "full_e", "kind": kind, "phase": None,
                                       "value": "65.2", "threshold": "60", "value_unit": "A"})
            await wait_for(lambda: len(landlord(rx)) == 4, timeout=STEP)
            alarms = landlord(rx)[2:]
            assert sum("过流" in line for line in alarms) == 1
            assert sum("过流" not in line for line in alarms) == 1

            # a bill, and an announcement to building A by hand
            hub.bus.fire("bill_issued", {
                "bill_id": "b1", "account_id": "r_full", "kind": "monthly",
                "billing": "prepaid", "period_start": as_local(utcnow()).date(),
                "period_end": as_local(utcnow()).date(), "total": "12.30", "due_date": None})
            await hub.services.call("automation", "trigger", {
                "automation_id": "building_announcement",
                "variables": {"building": "A", "message": "周六停水检修"}})
            await wait_for(lambda: len(sent_to(sms, "r_full")) == 3, timeout=STEP)
            await wait_for(lambda: len(sent_to(sms, "r_low")) == 3, timeout=STEP)
            await asyncio.sleep(QUIET)
            bill, notice = sorted(sent_to(sms, "r_full")[1:], key=lambda line: "公告" in line)
            assert "金额 ¥12.30" in bill
            assert notice == "【公告】周六停水检修" == sent_to(sms, "r_low")[2]
            assert len(sent_to(sms, "r_zero")) == 3  # building B heard nothing

            # the laundry's power follows the clock, not a balance
            laundry = hub.states.get("meter.laundry")
            assert laundry is not None
        every_sms = Counter(query["PhoneNumbers"] for query in sms.received)
        every_landlord = len(rx.received)
        async with start_hub(tmp_path, text):  # the second start tells nobody anything
            await asyncio.sleep(QUIET * 2)
        assert Counter(query["PhoneNumbers"] for query in sms.received) == every_sms
        assert len(rx.received) == every_landlord


@pytest.mark.parametrize(("notice", "rule", "receivers"), [
    ("balance_low", "low_balance_sms", "sms and tenant"),
    ("payment_received", "payment_received", "landlord and sms and tenant"),  # payment trigger
])
def test_a_seed_rule_and_the_notice_it_replaces_are_refused_together(
        tmp_path: Path, notice: str, rule: str, receivers: str) -> None:
    shipped = next(line.strip() for line in demo_notices().splitlines()
                   if line.strip().startswith(f"{notice}: {{start_up_only: true"))
    alone = shipped.replace("start_up_only: true, ", "")
    text = config(
        """
        notify:
          landlord: "json://127.0.0.1:9/x"
          sms: {type: file, path: sms.jsonl, to_account: true}
        """,
        demo_notices().replace(shipped, alone), f"automation: !include {SEED}\n")
    found = problems_of(tmp_path, text)
    assert len(found) == 1, found
    assert (f"automation '{rule}' and the built-in notice '{notice}' both tell {receivers} "
            f"of {notice}") in found[0]
    assert "automations.yaml:" in found[0]
    assert problems_of(tmp_path, text.replace(alone, shipped)) == []


async def test_the_nightly_trip_leaves_never_and_held_accounts_alone_and_the_laundry_keeps_hours(
        tmp_path: Path) -> None:
    tenants = (*TENANTS, ("r_never", "0", "B"), ("r_held", "0", "B"))
    policies = {"r_never": ", trip_policy: {mode: never}"}
    calls: list[Event] = []
    async with receiver() as rx, serving(Aliyun({KEY_ID: KEY_SECRET})) as sms:
        text = site(rx.url(), sms, tenants, policies)
        async with start_hub(tmp_path, text, before_start=lambda hub: hub.bus.listen(
                "call_service", calls.append)) as hub:
            await wait_for(lambda: sent_to(sms, "r_zero") and sent_to(sms, "r_held"),
                           timeout=STEP)
            # the laundry was switched for the hour the hub started in, by the schedule
            hour = as_local(utcnow()).hour
            laundry = [(e.data["service"], e.data["service_data"].get("meter_id"))
                       for e in calls if e.data["domain"] == "meter"]
            assert laundry == [("close" if 7 <= hour < 23 else "trip", "laundry")]
            await hub.services.call("account", "hold", {
                "account_id": "r_held", "kind": "keep_on", "reason": "住院，暂缓停电",
                "until": (utcnow() + timedelta(days=2)).isoformat()})
            calls.clear()
            answer = await hub.services.call(
                "automation", "trigger", {"automation_id": "nightly_arrears_trip"},
                return_response=True)
            assert answer is not None
            async with asyncio.timeout(STEP):
                while not await automation_done(hub, answer["run_id"]):
                    await asyncio.sleep(0.05)
            tripped = {e.data["service_data"].get("account_id") for e in calls
                       if (e.data["domain"], e.data["service"]) == ("meter", "trip")}
            assert tripped == {"r_zero"}  # in arrears; not r_never (never), r_held (hold)
            await asyncio.sleep(QUIET)
        # r_zero was off already: a trip that changed nothing tells nobody anything
        assert len(sent_to(sms, "r_zero")) == 1


async def automation_done(hub: Hub, run_id: str) -> bool:
    """Whether the run ``run_id`` of nightly_arrears_trip has finished."""
    traces = await hub.services.call("automation", "traces", {
        "automation_id": "nightly_arrears_trip", "run_id": run_id}, return_response=True)
    runs = (traces or {}).get("traces") or []
    return bool(runs) and runs[0].get("outcome") == "finished"


@pytest.mark.timeout(240)
async def test_a_meter_silent_for_two_hours_of_hub_time_is_told_to_the_landlord_once(
        tmp_path: Path) -> None:
    """meter_offline_2h on the hub's clock: a silent meter is told after 2 h, not before, and
    once; a meter back within the 2 h is never told."""
    clock = Clock(t("2026-03-06 10:00"))
    async with receiver() as rx, serving(Aliyun({KEY_ID: KEY_SECRET})) as sms:
        text = site(rx.url(), sms).replace(
            "metering: {read_on_start: false}",
            "metering: {read_on_start: false, retries: 0, timeout: 0.3, offline_after: 2}")
        async with start_hub(tmp_path, text) as hub:
            await wait_for(lambda: sent_to(sms, "r_zero"), timeout=STEP)
            engine = hub.component("automation", AutomationEngine)
            engine.use_clock(clock)
            metering = hub.component("metering", MeteringService)
            offline = collect(hub, "meter_offline")

            def faults(meter_id: str) -> Any:
                return metering.meters[meter_id].link.simulators[meter_id].faults  # type: ignore[attr-defined]

            async def stop_answering(meter_id: str) -> None:
                faults(meter_id).silent = True
                for _ in range(2):  # offline_after: 2 misses in a row
                    with pytest.raises(ReadFailed):
                        await metering.read(meter_id)

            def tick(**delta: float) -> None:
                clock.advance(timedelta(**delta))
                engine.timers.recheck()

            async with asyncio.timeout(STEP):
                await stop_answering("full_e")
                await stop_answering("low_e")
            assert [event.data["meter_id"] for event in offline] == ["full_e", "low_e"]
            tick(minutes=90)
            faults("low_e").silent = False
            online = collect(hub, "meter_online")
            async with asyncio.timeout(STEP):
                await metering.read("low_e")  # back, 30 min before its 2 h
            assert [event.data["meter_id"] for event in online] == ["low_e"]
            tick(minutes=29)
            await asyncio.sleep(QUIET)
            assert landlord(rx) == []  # 1 h 59 min: not yet
            tick(minutes=2)
            await wait_for(lambda: landlord(rx), timeout=STEP)
            tick(hours=3)  # low_e's 2 h, had it stayed offline, and full_e still offline
            await asyncio.sleep(QUIET)
            told, = landlord(rx)
            assert told.startswith("表计离线: full_e 已离线超过 2 小时：")


async def test_a_reload_that_would_tell_a_fact_twice_is_refused_and_the_old_set_runs(
        tmp_path: Path) -> None:
    """The one-message-per-fact check holds at ``automation.reload`` as at check-config."""
    async with receiver() as rx:
        first = config(f"""
            notify:
              landlord: "{rx.url()}"
              audit: "{rx.url()}"
            automation:
              - id: ping
                triggers: {{trigger: event, event_type: custom_ping}}
                actions: {{notify: audit, message: pong}}
            """)
        paid = ("  - id: paid\n    triggers: {trigger: payment}\n"
                "    actions: {notify: NOTIFIER, message: paid}\n")
        async with start_hub(tmp_path, first) as hub:
            path = tmp_path / "hub.yaml"
            path.write_text(first + paid.replace("NOTIFIER", "landlord"), encoding="utf-8")
            with pytest.raises(ServiceValidationError) as caught:
                await hub.services.call("automation", "reload", {})
            said = str(caught.value)
            assert "the running automations are kept" in said
            assert ("automation 'paid' and the built-in notice 'payment_received' both tell "
                    "landlord of payment_received") in said
            assert f"hub.yaml:{line_of(path, '- id: paid')}" in said
            engine = hub.component("automation", AutomationEngine)
            assert list(engine.automations) == ["ping"]
            hub.bus.fire("custom_ping", {})
            await wait_for(lambda: [body["message"] for body in rx.bodies()] == ["pong"],
                           timeout=STEP)
            path.write_text(first + paid.replace("NOTIFIER", "audit"), encoding="utf-8")
            answer = await hub.services.call("automation", "reload", {}, return_response=True)
            assert answer == {"loaded": 2}  # the audit notifier is no built-in notice's


async def test_turning_on_a_rule_that_would_tell_a_fact_twice_is_refused(
        tmp_path: Path) -> None:
    """An automation kept off in hub.yaml that tells the landlord of payments, as the built-in
    notice does: check-config lets it be (it is off); switching it on is refused with the
    same reason, and it stays off."""
    async with receiver() as rx:
        text = config(f"""
            notify:
              landlord: "{rx.url()}"
            automation:
              - id: paid
                enabled: false
                triggers: {{trigger: payment}}
                actions: {{notify: landlord, message: paid}}
            """)
        async with start_hub(tmp_path, text) as hub:
            with pytest.raises(ServiceValidationError) as caught:
                await hub.services.call("automation", "turn_on", {"automation_id": "paid"})
            said = str(caught.value)
            assert "automation 'paid' stays off" in said
            assert ("automation 'paid' and the built-in notice 'payment_received' both tell "
                    "landlord of payment_received") in said
            assert hub.states.get("automation.paid").state == "off"
