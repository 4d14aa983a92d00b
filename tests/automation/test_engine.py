"""The engine: modes, templates and their limits, loop and rate guards, the automation.*
services, reload (a broken file keeps the running set) and check-config with file:line."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from auto_support import SITE, engine_of, running, runs_done, site, tick, traces
from common import Clock, line_of, t, wait_for

from hub.automation.template import MAX_OUTPUT, Template, TemplateError
from hub.bootstrap import prepare
from hub.exceptions import ServiceValidationError

SLOW = """
- id: slow
  mode: {mode}
  max: 2
  triggers: {{trigger: event, event_type: custom_go}}
  actions:
    - event: custom_started
      event_data: {{n: "{{{{ trigger.data.n }}}}"}}
    - delay: 60
    - event: custom_done
      event_data: {{n: "{{{{ trigger.data.n }}}}"}}
"""


@pytest.mark.parametrize(("mode", "started", "done", "outcomes"), [
    ("single", [1], [1], ["finished", "skipped", "skipped"]),
    ("restart", [1, 2, 3], [3], ["cancelled", "cancelled", "finished"]),
    ("queued", [1, 2], [1, 2], ["finished", "finished", "skipped"]),  # max: running + waiting
    ("parallel", [1, 2], [1, 2], ["finished", "finished", "skipped"]),
])
async def test_modes(tmp_path: Path, mode: str, started: list[int], done: list[int],
                     outcomes: list[str]) -> None:
    clock = Clock(t("2026-03-04 10:00"))
    async with running(tmp_path, site(SLOW.format(mode=mode)), clock) as hub:
        seen: dict[str, list[int]] = {"custom_started": [], "custom_done": []}
        for name, found in seen.items():
            hub.bus.listen(name, lambda event, found=found: found.append(event.data["n"]))
        for n in (1, 2, 3):
            hub.bus.fire("custom_go", {"n": n})
            await asyncio.sleep(0.05)
        for _ in range(3):  # queued runs one after another: a minute each
            tick(hub, clock, seconds=60)
            await asyncio.sleep(0.1)
        runs = await runs_done(hub, "slow", 3)
        assert seen["custom_started"] == started
        assert seen["custom_done"] == done
        assert [run["outcome"] for run in runs] == outcomes


def test_template_money_and_quantity_filters() -> None:
    template = Template("{{ 12.345 | money }} {{ '-3.1' | money }} {{ 1234 | money }} "
                        "{{ 12.345 | quantity('kWh') }}")
    assert template.render({}) == "¥12.35 -¥3.10 ¥1,234.00 12.35 kWh"


@pytest.mark.parametrize(("source", "error"), [
    ("{% for i in range(100000) %}{% endfor %}", "range of 100000 items"),
    ("{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}",
     "took longer than"),
    ("{% for i in range(9999) %}" + "x" * 100 + "{% endfor %}", f"{MAX_OUTPUT} characters"),
    ("{{ ''.__class__.__mro__ }}", "unsafe"),
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
    ("{{ nothing.here }}", "'nothing' is undefined"),
])
def test_a_template_that_runs_away_or_breaks_is_stopped_with_its_source(
        source: str, error: str) -> None:
    with pytest.raises(TemplateError) as caught:
        Template(source, "automation x, action/0").render({})
    assert error in str(caught.value)
    assert "automation x, action/0" in str(caught.value)


def test_a_template_value_never_becomes_a_float() -> None:
    assert Template("{{ 12.30 }}").render_value({}) == "12.3"
    assert Template("{{ '12.30' }}").render_value({}) == "12.30"
    assert Template("{{ 3 }}").render_value({}) == 3
    assert Template("{{ [1, 2] }}").render_value({}) == [1, 2]


async def test_templates_read_states_meters_and_accounts_by_tags(tmp_path: Path) -> None:
    text = site("""
        - id: look
          triggers: {trigger: event, event_type: custom_go}
          actions:
            - event: custom_out
              event_data:
                balance: "{{ account('ra101').balance | money }}"
                names: "{{ accounts(building='A') | map(attribute='name') | join(',') }}"
                state: "{{ states('sensor.x', 'none') }}"
        """)
    async with running(tmp_path, text) as hub:
        out: list[dict[str, Any]] = []
        hub.bus.listen("custom_out", lambda event: out.append(dict(event.data)))
        hub.bus.fire("custom_go", {})
        await wait_for(lambda: out)
        assert out == [{"balance": "¥50.00", "names": "张三,李四", "state": "none"}]


async def test_a_template_error_is_in_the_trace_and_the_engine_goes_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = site("""
        - id: broken
          triggers: {trigger: event, event_type: custom_go}
          actions: {event: custom_out, event_data: {x: "{{ 1 / trigger.data.zero }}"}}
        - id: fine
          triggers: {trigger: event, event_type: custom_go}
          actions: {event: custom_out, event_data: {x: ok}}
        """)
    async with running(tmp_path, text) as hub:
        with caplog.at_level(logging.ERROR):
            hub.bus.fire("custom_go", {"zero": 0})
            broken = (await runs_done(hub, "broken"))[0]
            assert (await runs_done(hub, "fine"))[0]["outcome"] == "finished"
        assert broken["outcome"] == "error"
        assert "automation broken, action/0" in broken["error"]
        assert "ZeroDivisionError" in broken["error"] and "1 / trigger.data.zero" in \
            broken["error"]
        assert "automation broken" in caplog.text


async def test_an_automation_that_triggers_itself_is_stopped_as_a_loop(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = site("""
        - id: echo
          mode: queued
          triggers: {trigger: event, event_type: custom_echo}
          actions: {event: custom_echo}
        """)
    async with running(tmp_path, text) as hub:
        with caplog.at_level(logging.ERROR):
            hub.bus.fire("custom_echo", {})
            await wait_for(lambda: any(run["outcome"] == "skipped"
                                       for run in traces(hub, "echo")))
        runs = traces(hub, "echo")
        assert "loop" in runs[-1]["error"]
        await asyncio.sleep(0.2)
        assert len(traces(hub, "echo")) == len(runs)  # it stopped for good
        assert "loop" in caplog.text


async def test_more_runs_than_max_per_minute_are_refused(tmp_path: Path) -> None:
    text = site("""
        - id: busy
          mode: parallel
          max_per_minute: 3
          triggers: {trigger: event, event_type: custom_go}
          actions: {event: custom_out}
        """)
    async with running(tmp_path, text) as hub:
        for _ in range(5):
            hub.bus.fire("custom_go", {})
        await runs_done(hub, "busy", 5)
        assert [run["outcome"] for run in traces(hub, "busy")] == [
            "finished", "finished", "finished", "skipped", "skipped"]


async def test_services_trigger_turn_off_on_list_and_traces(tmp_path: Path) -> None:
    text = site("""
        - id: manual
          alias: 手动
          triggers: {trigger: event, event_type: custom_go}
          conditions: "{{ false }}"
          actions: {event: custom_out}
        """)
    async with running(tmp_path, text) as hub:
        call = hub.services.call
        answer = await call("automation", "trigger", {"automation_id": "manual"},
                            return_response=True)
        await runs_done(hub, "manual")
        listed = await call("automation", "traces", {"automation_id": "manual"},
                            return_response=True)
        assert listed["traces"][0]["run_id"] == answer["run_id"]
        assert listed["traces"][0]["outcome"] == "finished"  # conditions skipped by hand
        await call("automation", "turn_off", {"automation_id": "manual"})
        state = hub.states.get("automation.manual")
        assert state is not None and state.state == "off"
        hub.bus.fire("custom_go", {})
        await asyncio.sleep(0.1)
        assert len(traces(hub, "manual")) == 1  # off: its trigger is not watched
        await call("automation", "turn_on", {"automation_id": "manual"})
        hub.bus.fire("custom_go", {})
        await runs_done(hub, "manual", 2)
        summary = (await call("automation", "list", {}, return_response=True))["automations"]
        assert summary[0]["id"] == "manual" and summary[0]["enabled"] is True
        with pytest.raises(ServiceValidationError, match="unknown automation 'nope'"):
            await call("automation", "trigger", {"automation_id": "nope"})


async def test_reload_swaps_in_a_new_set_and_a_broken_file_keeps_the_old(
        tmp_path: Path) -> None:
    first = site("""
        - id: one
          triggers: {trigger: event, event_type: custom_go}
          actions: {event: custom_out, event_data: {v: 1}}
        """)
    async with running(tmp_path, first) as hub:
        out: list[int] = []
        hub.bus.listen("custom_out", lambda event: out.append(event.data["v"]))
        path = tmp_path / "hub.yaml"
        path.write_text(first.replace("v: 1", "v: 2").replace("id: one", "id: two"),
                        encoding="utf-8")
        answer = await hub.services.call("automation", "reload", {}, return_response=True)
        assert answer == {"loaded": 1}
        assert hub.states.get("automation.one") is None
        hub.bus.fire("custom_go", {})
        await wait_for(lambda: out == [2])
        path.write_text(first.replace("custom_go}", "custom_go, bogus: 1}"), encoding="utf-8")
        with pytest.raises(ServiceValidationError) as caught:
            await hub.services.call("automation", "reload", {})
        assert "running automations are kept" in str(caught.value)
        assert "hub.yaml:" in str(caught.value) and "bogus" in str(caught.value)
        hub.bus.fire("custom_go", {})
        await wait_for(lambda: out == [2, 2])  # the old set still runs
        assert list(engine_of(hub).automations) == ["two"]


def test_check_config_reports_every_automation_problem_with_its_line(tmp_path: Path) -> None:
    text = SITE + """automation:
  - id: a
    triggers:
      - {trigger: nonsense}
      - {trigger: event, event_type: payment_recieved}
    actions:
      - {action: account.adjust, target: {account_id: ghost},
         data: {amount: 1, reason: x, operator: y}}
      - event: custom_out
        event_data: {x: "{{ 1 + }}"}
      - {delay: 400d}
      - {repeat: {count: 1000000, sequence: {event: custom_x}}}
  - id: a
    triggers: {trigger: hub_start}
    actions: {wobble: 1}
"""
    path = tmp_path / "hub.yaml"
    path.write_text(text, encoding="utf-8")
    problems = [str(problem) for problem in prepare(path).problems]
    joined = "\n".join(problems)
    expected = [
        ("unknown automation trigger 'nonsense'", "nonsense"),
        ("at most 31 days", "400d"),
        ("at most 10000 repeats", "1000000"),
        ("a step needs one of", "wobble"),
        ("unexpected 'end of print statement'", "{{ 1 + }}"),
    ]
    for message, needle in expected:
        line = f"hub.yaml:{line_of(path, needle)} "
        assert any(message in problem and line in problem for problem in problems), (
            message, line, joined)
    assert "duplicate" in joined.lower() or "more than once" in joined.lower(), joined


def test_check_config_finds_unknown_events_accounts_and_meters(tmp_path: Path) -> None:
    text = SITE + """automation:
  - id: a
    triggers:
      - {trigger: event, event_type: payment_recieved}
      - {trigger: alarm, meter_id: [a101, ghost_meter]}
    actions:
      - {action: account.adjust, target: {account_id: ghost},
         data: {amount: 1, reason: x, operator: y}}
      - {event: not_custom}
"""
    path = tmp_path / "hub.yaml"
    path.write_text(text, encoding="utf-8")
    joined = "\n".join(str(problem) for problem in prepare(path).problems)
    line = line_of(path, "payment_recieved")
    assert f"hub.yaml:{line} " in joined and "did you mean 'payment_received'" in joined, joined
    assert "unknown meter 'ghost_meter'" in joined
    assert "unknown account 'ghost'" in joined
    assert "'not_custom'" in joined and "custom_" in joined


async def test_unknown_services_and_refused_data_leave_that_automation_unavailable(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = site("""
        - id: typo
          triggers: {trigger: event, event_type: custom_go}
          actions: {action: meter.tirp, data: {meter_id: a101}}
        - id: bad_data
          triggers: {trigger: event, event_type: custom_go}
          actions: {action: account.adjust, target: {tags: {building: B}}, data: {amount: x}}
        - id: good
          triggers: {trigger: event, event_type: custom_go}
          actions: {action: account.adjust, target: {tags: {building: B}},
                    data: {amount: -1, reason: r, operator: o}}
        """)
    with caplog.at_level(logging.ERROR):
        async with running(tmp_path, text) as hub:
            typo, bad = hub.states.get("automation.typo"), hub.states.get("automation.bad_data")
            assert typo is not None and typo.state == "unavailable"
            assert "did you mean 'meter.trip'" in typo.attributes["problems"][0]
            assert bad is not None and bad.state == "unavailable"
            assert any("amount" in problem for problem in bad.attributes["problems"])
            hub.bus.fire("custom_go", {})
            await runs_done(hub, "good")
            assert traces(hub, "typo") == [] and traces(hub, "bad_data") == []
            with pytest.raises(ServiceValidationError, match="not set up"):
                await hub.services.call("automation", "trigger", {"automation_id": "typo"})
    assert "Automation typo is not set up" in caplog.text


def test_check_config_names_unknown_services_after_a_dry_set_up(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(SITE + """automation:
  - id: typo
    triggers: {trigger: hub_start}
    actions:
      - {action: meter.tirp, data: {meter_id: a101}}
      - {action: account.adjust, data: {account_id: ra101, amount: 1}}
      - {notify: nobody, message: hi}
""", encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "hub", "check-config", "-c", str(path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)}, check=False)
    assert done.returncode == 1, done
    for needle, message in (("meter.tirp", "did you mean 'meter.trip'"),
                            ("amount: 1}", "reason"),
                            ("nobody", "unknown service 'notify.nobody'")):
        line = f"hub.yaml:{line_of(path, needle)} "
        assert any(line in row and message in row for row in done.stderr.splitlines()), (
            needle, done.stderr)
    assert not (tmp_path / "meterhub-data").exists()  # nothing was started or written


async def test_a_reload_may_name_an_account_created_since_the_start(tmp_path: Path) -> None:
    """The plugins' checks at reload leave the ids to the engine's own (runtime) ones."""
    first = site("""
        - id: one
          triggers: {trigger: event, event_type: custom_go}
          actions: {event: custom_out}
        """)
    async with running(tmp_path, first) as hub:
        await hub.services.call("account", "create", {"account": {
            "id": "late", "opening_balance": "30"}})
        (tmp_path / "hub.yaml").write_text(first.replace(
            "{trigger: event, event_type: custom_go}",
            "[{trigger: event, event_type: custom_go}, "
            "{trigger: balance, account_id: late, below: 5}]"), encoding="utf-8")
        answer = await hub.services.call("automation", "reload", {}, return_response=True)
        assert answer == {"loaded": 1}
