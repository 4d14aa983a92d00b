"""Every built-in condition type and the and/or/not combiners, each result in the trace."""

from __future__ import annotations

from pathlib import Path

import pytest
from auto_support import running, runs_done, site
from common import Clock, t

CASES = {
    # name: (condition YAML, site time, expected)
    "state_yes": ("{condition: state, entity_id: sensor.door, state: [open, ajar]}", None, True),
    "state_no": ("{condition: state, entity_id: sensor.door, state: closed}", None, False),
    "numeric": ("{condition: numeric_state, entity_id: sensor.temp, above: 20, below: 30}",
                None, True),
    "numeric_no": ("{condition: numeric_state, entity_id: sensor.temp, below: 25}", None, False),
    "night_late": ("{condition: time, after: '22:00', before: '06:00'}", "2026-03-04 23:30",
                   True),
    "night_early": ("{condition: time, after: '22:00', before: '06:00'}", "2026-03-05 05:59",
                    True),
    "night_day": ("{condition: time, after: '22:00', before: '06:00'}", "2026-03-05 06:00",
                  False),
    "weekday": ("{condition: time, weekday: [sat, sun]}", "2026-03-07 12:00", True),
    # 2026-02-14 (a Saturday) is a make-up working day (调休) of the Spring Festival
    "makeup_day": ("{condition: holiday, day_type: workday}", "2026-02-14 10:00", True),
    "spring_festival": ("{condition: holiday}", "2026-02-17 10:00", True),
    "plain_saturday": ("{condition: holiday, holiday: false}", "2026-03-07 10:00", True),
    "balance": ("{condition: balance, account_id: '{{ who }}', below: 60, above: 40}", None,
                True),
    "balance_tags": ("{condition: balance, tags: {building: A}, below: 45}", None, False),
    "template": ("\"{{ states('sensor.temp') | int > 20 }}\"", None, True),
    "and": ("{and: [{condition: state, entity_id: sensor.door, state: open}, "
            "\"{{ false }}\"]}", None, False),
    "or": ("{or: [{condition: state, entity_id: sensor.door, state: closed}, "
           "\"{{ true }}\"]}", None, True),
    "not": ("{not: [{condition: state, entity_id: sensor.door, state: closed}]}", None, True),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_condition(tmp_path: Path, name: str) -> None:
    condition, when, expected = CASES[name]
    clock = Clock(t(when or "2026-03-04 12:00"))
    text = site(f"""
        - id: check
          variables: {{who: ra101}}
          triggers: {{trigger: event, event_type: custom_go}}
          conditions: {condition}
          actions: {{event: custom_ok}}
        """)
    async with running(tmp_path, text, clock) as hub:
        hub.states.set("sensor.door", "open")
        hub.states.set("sensor.temp", "25")
        hub.bus.fire("custom_go", {})
        run = (await runs_done(hub, "check"))[0]
        assert run["outcome"] == ("finished" if expected else "condition_failed"), run
        assert run["conditions"], "the trace records each condition"
        assert run["conditions"][-1]["result"] is expected


async def test_a_state_held_for_a_time(tmp_path: Path) -> None:
    clock = Clock(t("2026-03-04 12:00"))
    text = site("""
        - id: held
          mode: queued
          triggers: {trigger: event, event_type: custom_go}
          conditions: {condition: state, entity_id: sensor.door, state: open, for: 5m}
          actions: {event: custom_ok}
        """)
    async with running(tmp_path, text, clock) as hub:
        hub.states.set("sensor.door", "open")
        state = hub.states.get("sensor.door")
        assert state is not None
        clock.set(state.last_changed.replace(microsecond=0))
        clock.advance(__import__("datetime").timedelta(minutes=4))
        hub.bus.fire("custom_go", {})
        assert (await runs_done(hub, "held"))[0]["outcome"] == "condition_failed"
        clock.advance(__import__("datetime").timedelta(minutes=2))
        hub.bus.fire("custom_go", {})
        assert (await runs_done(hub, "held", 2))[1]["outcome"] == "finished"
