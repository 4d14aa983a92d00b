"""Every action type on a real hub: service calls fanned out over targets, notify to a real
receiver, delays and waits on the engine's clock, choose/if/repeat/parallel, variables,
stop, event, condition steps and continue_on_error; each recorded in the trace."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from auto_support import engine_of, running, runs_done, site, tick
from common import Clock, t, wait_for
from receiver import receiver

from hub.metering.alarm_text import alarm_message

D = Decimal


def go(hub: Any, data: dict[str, Any] | None = None) -> None:
    hub.bus.fire("custom_go", data or {})


def seen(hub: Any, event_type: str = "custom_out") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    hub.bus.listen(event_type, lambda event: found.append(dict(event.data)))
    return found


async def test_a_service_call_fans_out_over_a_tag_target_each_with_its_result(
        tmp_path: Path) -> None:
    text = site("""
        - id: adjust_a
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - action: account.adjust
              target: {tags: {building: A}, account_id: "{{ trigger.data.who }}"}
              data: {amount: "-{{ trigger.data.fee }}", reason: 公摊, operator: auto}
        """)
    async with running(tmp_path, text) as hub:
        go(hub, {"fee": "7.5", "who": "nobody"})
        run = (await runs_done(hub, "adjust_a"))[0]
        step = run["steps"][0]
        assert [call["data"]["account_id"] for call in step["calls"]] == [
            "nobody", "ra101", "ra102"]
        assert "error" in step["calls"][0] and "nobody" in step["calls"][0]["error"]
        assert step["result"] == {"calls": 3, "failed": 1}
        assert run["outcome"] == "finished"  # one of three failed: the others were made
        for account, balance in (("ra101", "42.50"), ("ra102", "42.50"), ("rb201", "50.00")):
            state = hub.states.get(f"account.{account}")
            assert state is not None and str(state.state) == balance


async def test_a_failing_call_stops_the_run_unless_continue_on_error(tmp_path: Path) -> None:
    text = site("""
        - id: strict
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - {action: account.adjust, data: {account_id: "{{ 'nobody' }}", amount: 1, reason: x,
               operator: y}}
            - event: custom_out
        - id: lenient
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - {action: account.adjust, continue_on_error: true,
               data: {account_id: "{{ 'nobody' }}", amount: 1, reason: x, operator: y}}
            - event: custom_out
        """)
    async with running(tmp_path, text) as hub:
        out = seen(hub)
        go(hub)
        strict = (await runs_done(hub, "strict"))[0]
        lenient = (await runs_done(hub, "lenient"))[0]
        assert strict["outcome"] == "error" and "action/0" in strict["error"]
        assert "nobody" in strict["error"]
        assert lenient["outcome"] == "finished" and len(out) == 1


async def test_notify_reaches_a_real_receiver_with_rendered_text(tmp_path: Path) -> None:
    async with receiver() as rx:
        text = site("""
            - id: low
              triggers: {trigger: balance, below: 30}
              actions:
                - notify: landlord
                  message: "{{ trigger.account_id }} 余额 {{ trigger.balance | money }}"
            """, extra=f'notify: {{landlord: "{rx.url("ll")}"}}')
        async with running(tmp_path, text) as hub:
            await hub.services.call("account", "adjust", {
                "account_id": "ra101", "amount": "-27.7", "reason": "t", "operator": "t"})
            run = (await runs_done(hub, "low"))[0]
            assert run["outcome"] == "finished", run
            await wait_for(lambda: rx.bodies("ll"))
            assert rx.bodies("ll")[0]["message"] == "ra101 余额 ¥22.30"


async def test_a_delay_waits_on_the_engines_clock(tmp_path: Path) -> None:
    clock = Clock(t("2026-03-04 22:00"))
    text = site("""
        - id: later
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - delay: "{{ trigger.data.wait }}"
            - event: custom_out
        """)
    async with running(tmp_path, text, clock) as hub:
        out = seen(hub)
        go(hub, {"wait": "01:00"})
        await wait_for(lambda: engine_of(hub).get("later").traces[0].steps)
        tick(hub, clock, minutes=59)
        await asyncio.sleep(0.1)
        assert out == []
        tick(hub, clock, minutes=1)
        run = (await runs_done(hub, "later"))[0]
        assert run["steps"][0]["until"] == "2026-03-04T23:00:00+08:00" and len(out) == 1


async def test_wait_template_completes_or_times_out(tmp_path: Path) -> None:
    clock = Clock(t("2026-03-04 10:00"))
    text = site("""
        - id: waiter
          mode: parallel
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - wait_template: "{{ is_state_x }}"
              timeout: "00:05"
            - event: custom_out
              event_data: {completed: "{{ wait.completed }}"}
          variables: {is_state_x: "{{ states('sensor.x') == 'ready' }}"}
        """.replace("{{ is_state_x }}", "{{ states('sensor.x') == 'ready' }}"))
    async with running(tmp_path, text, clock) as hub:
        out = seen(hub)
        go(hub)
        await asyncio.sleep(0.1)
        hub.states.set("sensor.x", "ready")
        await wait_for(lambda: out)
        hub.states.set("sensor.x", "idle")
        go(hub)
        await asyncio.sleep(0.1)
        tick(hub, clock, minutes=5)
        await wait_for(lambda: len(out) == 2)
        assert out == [{"completed": True}, {"completed": False}]


async def test_wait_for_trigger_passes_the_trigger_on(tmp_path: Path) -> None:
    text = site("""
        - id: confirm
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - wait_for_trigger: {trigger: event, event_type: custom_answer}
              timeout: 10
              continue_on_timeout: false
            - event: custom_out
              event_data: {answer: "{{ wait.trigger.event.data.value }}"}
        """)
    async with running(tmp_path, text) as hub:
        out = seen(hub)
        go(hub)
        await asyncio.sleep(0.1)
        hub.bus.fire("custom_answer", {"value": "yes"})
        await wait_for(lambda: out)
        assert out == [{"answer": "yes"}]


async def test_choose_if_and_variables(tmp_path: Path) -> None:
    text = site("""
        - id: branch
          mode: queued
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - variables: {level: "{{ trigger.data.n * 2 }}", label: "n={{ level }}"}
            - choose:
                - conditions: "{{ level > 10 }}"
                  sequence: {event: custom_out, event_data: {branch: big, label: "{{ label }}"}}
                - conditions: "{{ level > 4 }}"
                  sequence: {event: custom_out, event_data: {branch: mid}}
              default: {event: custom_out, event_data: {branch: small}}
            - if: "{{ level == 12 }}"
              then: {event: custom_out, event_data: {branch: twelve}}
              else: {event: custom_out, event_data: {branch: other}}
        """)
    async with running(tmp_path, text) as hub:
        out = seen(hub)
        for n in (6, 3, 1):
            go(hub, {"n": n})
        await runs_done(hub, "branch", 3)
        assert out == [{"branch": "big", "label": "n=12"}, {"branch": "twelve"},
                       {"branch": "mid"}, {"branch": "other"},
                       {"branch": "small"}, {"branch": "other"}]


async def test_repeat_count_while_until_and_for_each(tmp_path: Path) -> None:
    text = site("""
        - id: loops
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - repeat:
                count: 3
                sequence: {event: custom_out, event_data: {kind: count, i: "{{ repeat.index }}"}}
            - variables: {n: 0}
            - repeat:
                while: "{{ repeat.index <= 2 }}"
                sequence: {event: custom_out, event_data: {kind: while, i: "{{ repeat.index }}"}}
            - repeat:
                until: "{{ repeat.index >= 2 }}"
                sequence: {event: custom_out, event_data: {kind: until, i: "{{ repeat.index }}"}}
            - repeat:
                for_each: [a101, b201]
                sequence:
                  event: custom_out
                  event_data: {kind: each, item: "{{ repeat.item }}", last: "{{ repeat.last }}"}
        """)
    async with running(tmp_path, text) as hub:
        out = seen(hub)
        go(hub)
        run = (await runs_done(hub, "loops"))[0]
        assert run["outcome"] == "finished", run
        assert [(e["kind"], e.get("i", e.get("item"))) for e in out] == [
            ("count", 1), ("count", 2), ("count", 3), ("while", 1), ("while", 2),
            ("until", 1), ("until", 2), ("each", "a101"), ("each", "b201")]
        assert out[-1]["last"] is True


async def test_parallel_branches_run_side_by_side(tmp_path: Path) -> None:
    clock = Clock(t("2026-03-04 10:00"))
    text = site("""
        - id: both
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - parallel:
                - sequence: [{delay: 60}, {event: custom_out, event_data: {b: slow}}]
                - {event: custom_out, event_data: {b: fast}}
        """)
    async with running(tmp_path, text, clock) as hub:
        out = seen(hub)
        go(hub)
        await wait_for(lambda: out)
        assert out == [{"b": "fast"}]  # the second branch did not wait for the first
        tick(hub, clock, seconds=60)
        await runs_done(hub, "both")
        assert out == [{"b": "fast"}, {"b": "slow"}]


async def test_stop_and_condition_steps_end_the_run(tmp_path: Path) -> None:
    text = site("""
        - id: stopper
          mode: queued
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - condition: template
              value_template: "{{ trigger.data.go }}"
            - if: "{{ trigger.data.fail }}"
              then: {stop: "refused {{ trigger.data.who }}", error: true}
            - stop: done early
            - event: custom_out
        """)
    async with running(tmp_path, text) as hub:
        out = seen(hub)
        go(hub, {"go": False, "fail": False, "who": "x"})
        go(hub, {"go": True, "fail": True, "who": "r302"})
        go(hub, {"go": True, "fail": False, "who": "x"})
        runs = await runs_done(hub, "stopper", 3)
        assert [(r["outcome"], r["error"]) for r in runs] == [
            ("stopped", "a condition step was false"), ("error", "refused r302"),
            ("stopped", "done early")]
        assert out == []


async def test_an_event_action_with_catalog_data_is_checked(tmp_path: Path) -> None:
    text = site("""
        - id: fire
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - event: meter_online
              event_data: {meter: a101}
        """)
    async with running(tmp_path, text) as hub:
        go(hub)
        run = (await runs_done(hub, "fire"))[0]
        assert run["outcome"] == "error"
        assert "required key 'meter_id' is missing" in run["error"]


async def test_an_automations_changes_are_authored_by_it_and_lead_back_to_the_cause(
        tmp_path: Path) -> None:
    text = site("""
        - id: fee_on_payment
          triggers: {trigger: payment, account_id: ra101}
          actions:
            - action: account.adjust
              data: {account_id: ra102, amount: "-1", reason: 手续费}
        """)
    async with running(tmp_path, text) as hub:
        from hub.core import Context
        from hub.ledger.ledger import Ledger

        cause = Context(user_id="wang", origin="api")
        await hub.services.call("account", "recharge", {
            "account_id": "ra101", "amount": "10", "method": "cash", "reference": "R9"},
            context=cause)
        run = (await runs_done(hub, "fee_on_payment"))[0]
        assert run["outcome"] == "finished", run
        entries = await hub.component("ledger", Ledger).entries("ra102", limit=None)
        fee = [entry for entry in entries if entry.kind == "adjustment" and entry.amount < 0]
        assert len(fee) == 1
        assert fee[0].operator == "automation.fee_on_payment"  # not wang: he paid, that's all
        assert run["context"]["user_id"] is None
        paid = await hub.component("ledger", Ledger).entries("ra101", limit=None)
        payment = next(entry for entry in paid if entry.kind == "recharge")
        assert run["context"]["parent_id"] == payment.context.id


async def test_a_message_of_the_hub_is_written_in_the_sites_language(tmp_path: Path) -> None:
    """``{{ trigger.event.data.message }}`` of an alarm: the message in the site's words."""
    text = site("""
        - id: relay_alarm
          triggers: {trigger: event, event_type: alarm}
          actions:
            - event: custom_out
              event_data:
                text: "告警：{{ trigger.event.data.message }}"
                lang: "{{ site_language }}"
        """).replace("time_zone: Asia/Shanghai}", "time_zone: Asia/Shanghai, language: zh-CN}")
    async with running(tmp_path, text) as hub:
        out = seen(hub)
        hub.bus.fire("alarm", {"meter_id": "a101", "kind": "under_voltage", "phase": "a",
                               "message": alarm_message("under_voltage", "a", D("190.0"),
                                                        D("198"))})
        await wait_for(lambda: out)
        assert out[0] == {"text": "告警：A 相电压 190.0 V（阈值 198 V）", "lang": "zh-CN"}
