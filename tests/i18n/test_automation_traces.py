"""An automation's failures kept in its traces (a condition's template error, every call of
an action refused, also for a run resumed after a restart) are worded for whoever reads the
trace: the REST API in the caller's language, the dashboard page in the page's."""

from __future__ import annotations

import asyncio
import html
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from common import Clock, bounded, t, wait_for, web_client
from test_api_messages import CONFIG as API_CONFIG
from test_api_messages import english_words

sys.path.insert(0, str(Path(__file__).parents[1] / "automation"))  # the engine on a clock
from auto_support import engine_of, running

CONFIG = API_CONFIG.replace("  - {id: a1}\n", "  - {id: a1}\n  - {id: a2}\n") + """
automation:
  - id: hold
    triggers: {trigger: event, event_type: custom_go}
    actions:
      - delay: 60
      - action: account.hold
        target: {account_id: [a1, a2]}
        data: {kind: keep_on, reason: 到期, until: "{{ trigger.data.until }}"}
  - id: check
    triggers: {trigger: event, event_type: custom_go}
    conditions: "{{ trigger.data.fee | money }}"
    actions: {event: custom_out}
"""

CJK = re.compile(r"[\u4e00-\u9fff]")


def ended(hub: Any, automation_id: str) -> list[Any]:
    """The automation's runs that have ended."""
    return [trace for trace in engine_of(hub).get(automation_id).traces if trace.state == "stopped"]


def errors(trace: dict[str, Any]) -> list[str]:
    """Every error a trace holds: its own, its conditions', its steps' and their calls'."""
    found = [trace["error"]] if trace.get("error") else []
    for entry in [*trace["conditions"], *trace["steps"]]:
        found += [entry["error"]] if entry.get("error") else []
        found += [call["error"] for call in entry.get("calls", []) if call.get("error")]
    return found


def chinese(messages: list[str], allowed: set[str]) -> None:
    """Each message is Chinese with no English words beyond ``allowed`` (ids, keys, values)."""
    assert messages
    for message in messages:
        assert CJK.search(message), message
        assert "$text" not in message, message
        assert [word for word in english_words(message) if word not in allowed] == [], message


ALLOWED = {"automation", "hold", "check", "action", "account.hold", "trigger.data.fee", "fee",
           "T00", "money", "keep_on", "abc", "condition", "until"}


@pytest.mark.timeout(180)
@bounded(150)
async def test_trace_errors_are_worded_for_the_reader_also_after_a_restart(
        tmp_path: Path) -> None:
    clock = Clock(t("2026-03-04 10:00"))
    async with running(tmp_path, CONFIG, clock) as hub:
        hub.bus.fire("custom_go", {"until": "2020-01-01", "fee": "abc"})
        persistence = engine_of(hub).persistence
        assert persistence is not None
        await wait_for(lambda: ended(hub, "check"), timeout=30)
        async with asyncio.timeout(30):
            while not await persistence.waits():  # the hub stops while the run waits
                await asyncio.sleep(0.05)
    clock.advance(timedelta(minutes=2))  # the wait ended while the hub was down
    async with running(tmp_path, CONFIG, clock) as hub, web_client(hub, tmp_path) as client:
        runs = await wait_for(lambda: ended(hub, "hold"), timeout=60)
        assert runs[0].resumed and runs[0].outcome == "error", runs[0].as_dict()
        hub.bus.fire("custom_go", {"until": "2020-01-01", "fee": "abc"})
        await wait_for(lambda: ended(hub, "check"), timeout=30)
        answers: dict[tuple[str, str], list[str]] = {}
        for automation_id in ("hold", "check"):
            for language in ("zh-CN", "en"):
                response = await client.get(f"/api/automations/{automation_id}/traces",
                                            headers={"Accept-Language": language})
                assert response.status == 200, await response.text()
                answers[automation_id, language] = [
                    error for trace in (await response.json())["items"] for error in errors(trace)]
        hold_zh, hold_en = answers["hold", "zh-CN"], answers["hold", "en"]
        chinese(hold_zh, ALLOWED)
        assert any("不在将来" in error and "每次调用都失败" in error for error in hold_zh), hold_zh
        assert sum("不在将来" in error for error in hold_zh) >= 3, hold_zh  # the two calls too
        assert any("every call of account.hold failed" in error and "not in the future" in error
                   for error in hold_en), hold_en
        assert not any(CJK.search(error) for error in hold_en if error != "到期"), hold_en
        chinese(answers["check", "zh-CN"], ALLOWED)
        assert not any(CJK.search(error) for error in answers["check", "en"]), answers
        assert any("money" in error for error in answers["check", "en"]), answers
        for automation_id, language in (("hold", "zh-CN"), ("check", "zh-CN"), ("hold", "en")):
            response = await client.get(f"/automations/{automation_id}?lang={language}")
            assert response.status == 200, await response.text()
            shown = [html.unescape(re.sub(r"<[^>]+>", "", found)).strip() for found in
                     re.findall(r'class="bad">(.*?)</(?:p|span)>', await response.text(), re.S)]
            assert "$text" not in await response.text()
            if language == "zh-CN":
                chinese(shown, ALLOWED)
            else:
                assert shown and not any(CJK.search(error) for error in shown), shown
