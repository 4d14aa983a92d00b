"""The browser tests' site, its hub as a real process, and Debian's Chromium driven by
Playwright (imported by name: tests/browser is on sys.path).

Playwright's own browsers are never installed: the tests launch ``/usr/bin/chromium``
(``.ci/run`` installs Debian's ``chromium`` and ``fonts-wqy-zenhei``). Screenshots go to
``test-artifacts/browser/`` at the top of the checkout (git ignores it).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from common import child_process, write_hub_yaml
from playwright.async_api import Page, async_playwright

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("browser_hub.py")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
START_TIMEOUT = 90.0  # the hub's start, its users and history, on a loaded 2-core machine
STEP_MS = 30_000  # each browser step (a page, a click, a wait for text)
PASSWORD = "browser-pass-7"  # browser_hub.py's users
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

SITE = """
site: {name: 阳光公寓 <测试>, time_zone: Asia/Shanghai, language: zh-CN}
http: {host: 127.0.0.1, port: 0}
storage: {commit_interval: 0.02}
control: {confirm_delay: 1s}
links:
  - {id: sim1, type: sim}
meters:
  - {id: a101_e, name: A101 电表, model: ddsy, link: sim1, address: "202400000101",
     account: a101, tariff: flat, tags: {building: A, floor: "1", room: "101"}}
  - {id: a102_e, name: A102 电表, model: ddsy, link: sim1, address: "202400000102",
     account: a102, tariff: flat, tags: {building: A, floor: "1", room: "102"}}
  - {id: a103_e, name: A103 电表, model: ddsy, link: sim1, address: "202400000103",
     account: a103, tariff: flat, tags: {building: A, floor: "1", room: "103"}}
  - {id: b201_e, name: B201 电表, model: ddsy, link: sim1, address: "202400000201",
     account: b201, tariff: flat, tags: {building: B, floor: "2", room: "201"}}
accounts:
  - {id: a101, name: "张三 <b>", opening_balance: 100.00, tags: {building: A}}
  - {id: a102, name: 李四, opening_balance: 8.00, tags: {building: A}}
  - {id: a103, name: 赵六, opening_balance: 50.00, deposit: 200.00, tags: {building: A}}
  - {id: b201, name: 王五, opening_balance: -3.00, tags: {building: B}}
tariffs:
  - {id: flat, type: flat, price: 1.00}
"""


@asynccontextmanager
async def running_hub(folder: Path, text: str = SITE) -> AsyncIterator[str]:
    """The hub of ``text`` as a child process (SIGKILLed and reaped after); its base URL."""
    config = write_hub_yaml(folder, text)
    with (folder / "hub.log").open("ab") as log:
        async with child_process(sys.executable, str(CHILD), str(config), str(folder / "data"),
                                 stdout=asyncio.subprocess.PIPE, stderr=log, env=ENV,
                                 cwd=ROOT) as proc:
            assert proc.stdout is not None
            async with asyncio.timeout(START_TIMEOUT):
                while True:
                    line = (await proc.stdout.readline()).decode()
                    assert line, f"the hub ended before it served: {_tail(folder)}"
                    if line.startswith("READY "):
                        break
            yield f"http://127.0.0.1:{line.split()[1]}"


def _tail(folder: Path) -> str:
    return (folder / "hub.log").read_text(encoding="utf-8", errors="replace")[-3000:]


@asynccontextmanager
async def browser_page(viewport: dict[str, int] = DESKTOP) -> AsyncIterator[Page]:
    """A fresh page of Debian's Chromium (headless) at ``viewport``; any JavaScript error on
    it fails the test when the page is closed."""
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                   args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
            context.set_default_timeout(STEP_MS)
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
            yield page
        finally:
            await browser.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


async def login(page: Page, base: str, user: str = "admin") -> None:
    """Log in through the login form; lands on the overview."""
    await page.goto(f"{base}/login")
    await page.fill("input[name=user]", user)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")


async def shot(page: Page, name: str) -> Path:
    """A full-page screenshot into the artefacts folder (``<name>-<width>.png``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or DESKTOP
    path = ARTIFACTS / f"{name}-{size['width']}.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000, f"an empty screenshot: {path}"
    return path


async def text(page: Page, selector: str) -> str:
    """The visible text of the first element matching ``selector``, blanks collapsed."""
    return re.sub(r"\s+", " ", await page.inner_text(selector)).strip()


def money(value: Any) -> str:
    """How a page writes a yuan amount."""
    return f"¥{value:,.2f}" if value >= 0 else f"-¥{-value:,.2f}"
