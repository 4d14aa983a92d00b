"""The automations pages: list, disable and enable, run (confirmed) and its timeline, and the
editor: a text that passes every check-config check is saved and runs; a broken one is
refused with its problem and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_support import SITE, access_site
from common import bounded, wait_for
from pages_support import browser, csrf_of, page, post_form, text_of

from hub.automation import AutomationEngine

AUTOMATIONS = """\
- id: greet
  alias: 问候
  triggers: [{trigger: event, event_type: custom_hello}]
  actions:
    - event: custom_greeted
      event_data: {who: "{{ trigger.data.who }}"}
"""

GOOD = AUTOMATIONS + """\
- id: second
  triggers: [{trigger: time, at: "23:00"}]
  actions: [{stop: done}]
"""

BROKEN = [  # (text, a word of the problem shown)
    (AUTOMATIONS + "- id: bad\n  triggers: [{trigger: event, event_type: no_such_event}]\n"
     "  actions: [{stop: x}]\n", "no_such_event"),
    (AUTOMATIONS + "- id: bad\n  triggers: [{trigger: time, at: \"25:00\"}]\n"
     "  actions: [{stop: x}]\n", "25:00"),
    (AUTOMATIONS + "- id: bad\n  triggers: [{trigger: event, event_type: custom_x}]\n"
     "  actions: [{service: meter.trip, target: {meter_id: nosuch}}]\n", "nosuch"),
    ("- id: [unclosed\n", "automations.yaml"),
]


@pytest.mark.timeout(150)
@bounded(120)
async def test_list_toggle_run_and_edit_automations(tmp_path: Path) -> None:
    file = tmp_path / "automations.yaml"
    file.write_text(AUTOMATIONS, encoding="utf-8")
    async with access_site(tmp_path, SITE + "automation: !include automations.yaml\n") as site:
        engine = site.hub.component("automation", AutomationEngine)
        async with browser(site, "admin") as admin:
            status, html = await page(admin, site.base + "/automations?lang=en")
            assert status == 200 and 'id="auto-greet"' in html and "问候" in html
            csrf = csrf_of(html)
            status, _html, _ = await post_form(admin, site.base + "/automations/greet/disable",
                                               {"csrf": csrf})
            assert status == 303 and engine.get("greet").enabled is False
            await post_form(admin, site.base + "/automations/greet/enable", {"csrf": csrf})
            assert engine.get("greet").enabled is True
            status, html, _ = await post_form(admin, site.base + "/automations/greet/run",
                                              {"csrf": csrf})
            assert status == 200 and 'name="confirmed" value="1"' in html  # asked first
            assert len(engine.get("greet").traces) == 0
            status, _html, where = await post_form(
                admin, site.base + "/automations/greet/run", {"csrf": csrf, "confirmed": "1"})
            assert status == 303 and where == "/automations/greet"
            await wait_for(lambda: engine.get("greet").traces
                           and engine.get("greet").traces[-1].outcome)
            status, html = await page(admin, site.base + "/automations/greet")
            assert status == 200 and 'class="timeline"' in html and "admin" in html
            # the editor: broken texts refused with their problem, the file untouched
            status, html = await page(admin, site.base + "/automations/edit")
            assert status == 200 and "custom_hello" in html
            for text, problem in BROKEN:
                status, html, _ = await post_form(admin, site.base + "/automations/edit",
                                                  {"csrf": csrf, "text": text})
                assert status == 400, text
                assert problem in text_of(html), (problem, text_of(html)[:600])
                assert file.read_text(encoding="utf-8") == AUTOMATIONS
                assert list(engine.automations) == ["greet"]
            assert sorted(p.name for p in tmp_path.iterdir() if ".check" in p.name) == []
            status, _html, where = await post_form(admin, site.base + "/automations/edit",
                                                   {"csrf": csrf, "text": GOOD})
            assert status == 303 and where == "/automations"
            assert file.read_text(encoding="utf-8") == GOOD
            assert list(engine.automations) == ["greet", "second"]
        async with browser(site, "operator") as operator:
            status, _html = await page(operator, site.base + "/automations/edit")
            assert status == 403


FAILING = """\
- id: late
  triggers: [{trigger: event, event_type: custom_late}]
  actions: [{delay: "{{ 'soon' }}"}]
- id: slow
  mode: single
  triggers: [{trigger: event, event_type: custom_slow}]
  actions: [{delay: "00:10:00"}]
"""


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_runs_error_is_worded_in_the_pages_language(tmp_path: Path) -> None:
    (tmp_path / "automations.yaml").write_text(FAILING, encoding="utf-8")
    async with access_site(tmp_path, SITE + "automation: !include automations.yaml\n") as site:
        engine = site.hub.component("automation", AutomationEngine)
        async with browser(site, "admin") as admin:
            status, html = await page(admin, site.base + "/automations")
            status, _html, _ = await post_form(admin, site.base + "/automations/late/run",
                                               {"csrf": csrf_of(html), "confirmed": "1"})
            assert status == 303
            await wait_for(lambda: engine.get("late").traces
                           and engine.get("late").traces[-1].outcome)
            pages = {}
            for language in ("zh-CN", "en"):
                status, html = await page(admin, f"{site.base}/automations/late?lang={language}")
                assert status == 200
                pages[language] = text_of(html)
        assert "automation late, action/0: expected a duration like '90s'" in pages["en"], \
            pages["en"][:800]
        assert "自动化 late，action/0：" in pages["zh-CN"], pages["zh-CN"][:900]
        assert "expected a duration" not in pages["zh-CN"], pages["zh-CN"][:900]
        for _twice in range(2):  # the second run is skipped: mode single
            site.hub.bus.fire("custom_slow", {})
        await wait_for(lambda: len(engine.get("slow").traces) == 2)
        async with browser(site, "admin") as admin:
            _status, html = await page(admin, f"{site.base}/automations/slow?lang=zh-CN")
        assert "正在运行（mode: single，不重复启动）" in text_of(html), text_of(html)[:900]
        assert "already running" not in text_of(html)
