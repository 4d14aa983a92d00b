"""The set-up, automation and report pages in a real browser (Debian's Chromium, headless)
against a hub running as a real process: replace a meter (confirmed in the browser), edit and
save an automation and have a broken one refused with nothing written, and a report's chart.
Screenshots (1280 and 390 px wide) go to test-artifacts/browser/."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import (
    DESKTOP,
    PHONE,
    SITE,
    browser_page,
    login,
    running_hub,
    shot,
    text,
)
from common import bounded

pytestmark = pytest.mark.timeout(400)

AUTOMATIONS = """\
- id: greet
  alias: 问候
  triggers: [{trigger: event, event_type: custom_hello}]
  actions: [{stop: done}]
"""
ADDED = """\
- id: nightly_note
  alias: 每晚记录
  triggers: [{trigger: time, at: "23:00"}]
  actions: [{event: custom_night}]
"""
BROKEN = """\
- id: broken
  triggers: [{trigger: event, event_type: no_such_event}]
  actions: [{stop: x}]
"""


@bounded(360)
async def test_replace_a_meter_and_see_the_report(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as base:
        async with browser_page(DESKTOP) as page:
            await login(page, base)
            await page.goto(f"{base}/manage")
            await page.wait_for_selector("#setup-a101_e")
            await shot(page, "manage")
            await page.click("#setup-a101_e >> text=换表")
            await page.wait_for_selector("#replace-form")
            await page.fill("#f-new_address", "202400000999")
            await shot(page, "replace")
            # the browser asks (accepted), the server does it and shows what became of it
            await page.click("#replace-form button[type=submit]")
            await page.wait_for_selector("#new-device")
            assert await text(page, "#new-device") == "202400000999"
            assert await text(page, "#cancelled") == "旧表没有未完成的命令。"
            await shot(page, "replaced")
            await page.goto(f"{base}/manage")
            assert "202400000999" in await text(page, "#setup-a101_e")
            assert "a101_e" in await text(page, "#replacements")
            # a report with its chart drawn from exact decimal text, and the print button
            await page.goto(f"{base}/reports?report=trend&by=day&meter=a101_e")
            await page.wait_for_selector("#report-chart canvas")
            assert await page.locator("#report-table tbody tr").count() >= 7
            assert await page.locator("[data-print]").count() == 1
            await shot(page, "report")
        async with browser_page(PHONE) as phone:
            await login(phone, base)
            await phone.goto(f"{base}/manage")
            await phone.wait_for_selector("#setup-meters")
            await shot(phone, "manage")
            await phone.goto(f"{base}/manage/meters/a102_e/replace")
            width = await phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the replace form scrolls sideways: {width} px"
            await shot(phone, "replace")


@bounded(360)
async def test_edit_and_save_an_automation_and_have_a_broken_one_refused(
        tmp_path: Path) -> None:
    file = tmp_path / "automations.yaml"
    tmp_path.mkdir(parents=True, exist_ok=True)
    file.write_text(AUTOMATIONS, encoding="utf-8")
    text_ = SITE + "automation: !include automations.yaml\n"
    async with running_hub(tmp_path, text_) as base, browser_page(DESKTOP) as page:
        await login(page, base)
        await page.goto(f"{base}/automations")
        await page.wait_for_selector("#auto-greet")
        await page.click("text=编辑自动化")
        await page.wait_for_selector("#automation-editor")
        assert "custom_hello" in await page.input_value("#f-text")
        await page.fill("#f-text", AUTOMATIONS + BROKEN)
        await page.click("#automation-editor button[type=submit]")
        await page.wait_for_selector(".flash.error")
        problem = await text(page, ".flash.error")
        assert "no_such_event" in problem and "automations.yaml" in problem
        await shot(page, "automation-refused")
        assert file.read_text(encoding="utf-8") == AUTOMATIONS  # nothing written
        await page.fill("#f-text", AUTOMATIONS + ADDED)
        await page.click("#automation-editor button[type=submit]")
        await page.wait_for_url(f"{base}/automations")
        await page.wait_for_selector("#auto-nightly_note")
        assert "每晚记录" in await text(page, "#auto-nightly_note")
        assert file.read_text(encoding="utf-8") == AUTOMATIONS + ADDED
        await shot(page, "automations")
        # run one (the browser confirms) and see its run on the timeline
        await page.click("#auto-greet >> text=立即运行")
        await page.wait_for_url(f"{base}/automations/greet")
        await page.wait_for_selector(".run")
        await shot(page, "automation-runs")
