"""A reload of a broken automations file, asked over the REST API, lists every problem with
its file:line in the caller's language (as check-config words them in the site's)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from common import bounded, start_hub, web_client, write
from test_api_messages import CONFIG as API_CONFIG
from test_api_messages import english_words

CONFIG = API_CONFIG + "automation: !include automations.yaml\n"

GOOD = """
- id: one
  triggers: {trigger: event, event_type: custom_go}
  actions: {event: custom_out}
"""

BROKEN = """
- id: one
  triggers: {trigger: event, event_type: custom_go, bogus: 1}
  actions: {event: custom_out}
- id: two
  triggers: {trigger: event}
  actions: {event: custom_out}
"""

ALLOWED = {"automations.yaml", "automation", "triggers", "bogus", "event_type"}
"""The file, key paths and values the problems name."""


@pytest.mark.timeout(120)
@bounded(90)
async def test_a_broken_reload_is_worded_in_the_callers_language(tmp_path: Path) -> None:
    write(tmp_path / "automations.yaml", GOOD)
    async with start_hub(tmp_path, CONFIG) as hub, web_client(hub, tmp_path) as client:
        write(tmp_path / "automations.yaml", BROKEN)
        answers = {}
        for language in ("zh-CN", "en"):
            response = await client.post("/api/services/automation/reload", json={},
                                          headers={"Accept-Language": language})
            assert response.status == 400, await response.text()
            answers[language] = (await response.json())["error"]
        zh, en = answers["zh-CN"]["message"], answers["en"]["message"]
        assert "automations.yaml:2 automation[0].triggers[0].bogus: unknown key" in en, en
        assert not re.search(r"[\u4e00-\u9fff]", en), en
        assert "automations.yaml 第 5 行" in zh, zh
        bare = zh.replace(str(tmp_path / "hub.yaml"), "")
        assert [word for word in english_words(bare) if word not in ALLOWED] == [], zh
        assert answers["zh-CN"]["detail"] == answers["en"]["detail"]
