"""The dashboard in a real browser (Debian's Chromium, headless) against a hub running as a
real process: log in, the overview, meters filtered by building, a meter's chart, trip and
close with the confirmed state, a recharge at the counter with its receipt, a move-out with
its statement, the language switch, and the overview on a 390 px phone. Screenshots of the
main pages (1280 and 390 px wide) go to test-artifacts/browser/."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from browser_support import (
    DESKTOP,
    PHONE,
    SITE,
    browser_page,
    login,
    money,
    running_hub,
    shot,
    text,
)
from common import bounded, token_headers

pytestmark = pytest.mark.timeout(400)


@bounded(360)
async def test_overview_meters_chart_language_and_the_phone(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as base:
        async with browser_page(DESKTOP) as page:
            await login(page, base)
            # the overview: every meter read, the accounts to act on, lowest balance first
            await page.wait_for_selector("#tile-online")
            assert (await text(page, "#tile-online .value")) == "4 / 4"
            act_on = await page.inner_text("#act-on tbody")
            assert act_on.index("b201") < act_on.index("a102")
            assert "a101" not in act_on and "a103" not in act_on
            assert await page.title() and "阳光公寓 <测试>" in await page.inner_text("header")
            await shot(page, "overview")
            await page.goto(f"{base}/accounts")
            await shot(page, "accounts")

            # meters, filtered by building B from the filter form
            await page.click("nav.main >> text=表计")
            await page.wait_for_selector("#meter-list")
            assert await page.locator("#meter-list tbody tr").count() == 4
            await page.select_option("select[name=building]", "B")
            await page.click("#meter-filters button[type=submit]")
            await page.wait_for_url("**/meters?*building=B*")
            rows = page.locator("#meter-list tbody tr")
            assert await rows.count() == 1
            assert await rows.first.get_attribute("data-meter") == "b201_e"
            await page.goto(f"{base}/meters")
            await shot(page, "meters")

            # a meter's chart: drawn by uPlot from the history API, by day and by month
            await page.click("#meter-list a[href='/meters/a101_e']")
            await page.wait_for_selector("#chart canvas")
            points = int(await page.get_attribute("#chart", "data-points") or 0)
            assert points >= 6, f"the day chart has {points} bars"  # a week of history
            await page.click("#chart-resolutions [data-resolution=month]")
            await page.wait_for_selector("#chart[data-resolution=month] canvas")
            assert int(await page.get_attribute("#chart", "data-points") or 0) >= 1
            assert "kWh" in await text(page, "#chart-unit")
            await shot(page, "meter")

            # the language switch, remembered on the next page
            await page.click("header .langs a[hreflang=en]")
            await page.wait_for_selector("html[lang=en]")
            assert "Consumption" in await page.inner_text("#chart-card h2")
            await page.goto(f"{base}/")
            assert await page.inner_text("nav.main a.current") == "Overview"
            assert "Accounts to act on" in await page.inner_text("#act-on h2")

        async with browser_page(PHONE) as phone:
            await login(phone, base)
            await phone.wait_for_selector("#act-on")
            # nothing wider than the phone: no sideways scrolling of the page
            width = await phone.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"the overview is {width} px wide at 390 px"
            balance = phone.locator("#act-on tbody tr").first.locator("td.num")
            box = await balance.bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"], box
            assert (await balance.inner_text()).startswith("-¥")
            await shot(phone, "overview")
            for path, name in (("/meters", "meters"), ("/meters/a101_e", "meter"),
                               ("/accounts", "accounts"), ("/accounts/a101", "account")):
                await phone.goto(base + path)
                await phone.wait_for_selector("main h1")
                width = await phone.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"], f"{path} is {width} px wide at 390 px"
                await shot(phone, name)


@bounded(360)
async def test_trip_and_close_a_meter_and_see_the_confirmed_state(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as base, browser_page(DESKTOP) as page:
        await login(page, base)
        await page.goto(f"{base}/meters/a101_e")
        assert await page.get_attribute("#supply", "data-state") == "closed"
        await page.click("button[data-action=trip]")  # the browser asks; the test accepts
        await page.wait_for_url(f"{base}/meters/a101_e")
        assert "拉闸" in await text(page, "p.flash")
        # the live part is polled until the meter's read-back confirms it
        await page.wait_for_selector("#supply[data-state=open]")
        assert "断电" in await text(page, "#supply-state")
        await page.wait_for_selector("#supply-pending", state="detached")
        await page.reload()
        assert (await text(page, "#commands tbody tr:first-child")).count("已确认") == 1

        await page.click("button[data-action=close]")
        await page.wait_for_url(f"{base}/meters/a101_e")
        await page.wait_for_selector("#supply[data-state=closed]")
        assert "通电" in await text(page, "#supply-state")
        await shot(page, "meter-after-trip-and-close")


@bounded(360)
async def test_recharge_at_the_counter_and_move_a_tenant_out(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as base, browser_page(DESKTOP) as page:
        await login(page, base)
        await page.goto(f"{base}/accounts/a102")
        before = await text(page, "#balance .value")
        await page.fill("#recharge input[name=amount]", "50.00")
        await page.fill("#recharge input[name=amount_again]", "50.00")
        await page.select_option("#recharge select[name=method]", "wechat")
        await page.fill("#recharge input[name=reference]", "WX-20261207-001")
        asked: list[str] = []
        page.on("dialog", lambda dialog: asked.append(dialog.message))
        await page.click("#recharge button[type=submit]")
        await page.wait_for_selector("#receipt")
        assert len(asked) == 1 and "¥50.00" in asked[0], asked  # the question names the sum
        assert await text(page, "#receipt-amount") == "¥50.00"
        assert "WX-20261207-001" in await text(page, "#receipt")
        assert "微信支付" in await text(page, "#receipt")
        receipt_balance = await text(page, "#receipt-balance")
        await shot(page, "receipt")
        await page.emulate_media(media="print")  # printed: the receipt alone, no menus
        assert not await page.is_visible("nav.main")
        assert not await page.is_visible("header.top")
        assert await page.is_visible("#receipt")
        await shot(page, "receipt-print")
        await page.emulate_media(media="screen")
        await page.click("main a[href='/accounts/a102']")
        await page.wait_for_selector("#balance")
        after = await text(page, "#balance .value")
        assert after != before and after == receipt_balance
        assert "WX-20261207-001" in await page.inner_text("#ledger")
        await shot(page, "account")

        # two amounts that differ are refused by the page, nothing posted
        await page.fill("#recharge input[name=amount]", "10.00")
        await page.fill("#recharge input[name=amount_again]", "100.00")
        await page.click("#recharge button[type=submit]")
        assert await page.evaluate(
            "document.querySelector('#recharge input[name=amount_again]').validity.valid"
        ) is False
        assert await text(page, "#balance .value") == after

        # move-out in one step: final read, final bill, deposit applied, the rest refunded
        await page.goto(f"{base}/accounts/a103/move_out")
        await page.click("#move-out button[type=submit]")
        await page.wait_for_selector("#statement")
        assert await text(page, "#final-balance") == "¥0.00"
        statement = await page.inner_text("#statement-text")
        assert "押金抵扣   200.00" in statement and "退还租户" in statement
        await shot(page, "statement")
        await page.goto(f"{base}/accounts/a103")
        assert "退租" in await page.inner_text("main p.muted")


def yuan(shown: str) -> Decimal:
    """The amount a page shows (``-¥1,234.50``) as a Decimal."""
    return Decimal(shown.replace("¥", "").replace(",", ""))


WATER_METER = """  - {id: a101_w, name: A101 水表, model: cjt188_water, link: sim1,
     address: "00000001000101", account: a101, tariff: water,
     tags: {building: A, floor: "1", room: "101"}}
"""
A102 = "  - {id: a102, name: 李四, opening_balance: 8.00, tags: {building: A}}"
WATER_SITE = (SITE.replace("accounts:", WATER_METER + "accounts:")
              .replace(A102, A102[:-1] + ", emergency_credit: {amount: 20.00}}")
              .replace("tariffs:", "tariffs:\n  - {id: water, type: flat, unit: m3, price: 0.10}"))


@bounded(360)
async def test_close_and_open_a_water_valve_and_take_emergency_credit(tmp_path: Path) -> None:
    """The valve buttons (closed: red, open: green, both confirmed by the meter's read-back)
    and the emergency-credit form on an account that allows it, in the browser."""
    async with running_hub(tmp_path, WATER_SITE) as base, browser_page(DESKTOP) as page:
        await login(page, base)
        await page.goto(f"{base}/meters/a101_w")
        await page.wait_for_selector("#supply[data-point=valve][data-state=open]")
        green = await page.eval_on_selector("#supply-state", "e => getComputedStyle(e).color")
        await page.click("button[data-action=valve_close]")  # asked; the test accepts
        await page.wait_for_url(f"{base}/meters/a101_w")
        await page.wait_for_selector("#supply[data-state=closed]")
        await page.wait_for_selector("#supply-pending", state="detached")
        assert "阀门关" in await text(page, "#supply-state")
        red = await page.eval_on_selector("#supply-state", "e => getComputedStyle(e).color")
        assert red != green, (red, green)  # an open valve is not shown like a closed one
        await shot(page, "meter-valve-closed")
        await page.click("button[data-action=valve_open]")
        await page.wait_for_url(f"{base}/meters/a101_w")
        await page.wait_for_selector("#supply[data-state=open]")
        assert await page.eval_on_selector(
            "#supply-state", "e => getComputedStyle(e).color") == green

        await page.goto(f"{base}/accounts/a102")
        before = await text(page, "#balance .value")
        await page.click("#emergency summary")
        await page.click("#emergency button[type=submit]")
        await page.wait_for_url(f"{base}/accounts/a102")
        assert "应急" in await text(page, "p.flash")
        after = await text(page, "#balance .value")
        assert after == money(yuan(before) + 20), (before, after)  # the account's ¥20.00
        assert "应急" in await page.inner_text("#ledger")
        # once per period: the second is refused and the balance stays
        await page.click("#emergency summary")
        await page.click("#emergency button[type=submit]")
        await page.wait_for_selector("p.flash.error")
        assert await text(page, "#balance .value") == after


@bounded(300)
async def test_the_meter_page_follows_the_event_stream_not_a_poll(tmp_path: Path) -> None:
    """A meter's live part is fetched again when the event stream says the meter was read
    (its poll is 120 s: only the stream can bring the new reading within the wait)."""
    async with running_hub(tmp_path) as base, browser_page(DESKTOP) as page:
        await login(page, base)
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url)
                if request.url.endswith("/meters/a101_e/live") else None)
        async with page.expect_response(lambda response: "/api/events?" in response.url
                                        and "meter_id=a101_e" in response.url):
            await page.goto(f"{base}/meters/a101_e")  # the stream is open once it answers
        before = await text(page, "#live h2 small")
        assert fetched == []
        async with aiohttp.ClientSession() as session, session.post(
                f"{base}/api/services/meter/read", json={"meter_id": "a101_e"},
                headers=token_headers(tmp_path / "data")) as response:
            assert response.status == 200, await response.text()
        await page.wait_for_function(
            "before => document.querySelector('#live h2 small').textContent.trim() !== before",
            arg=before, timeout=20_000)
        assert 1 <= len(fetched) <= 3, fetched  # one per burst of events, not per event
        # another meter's reading brings nothing
        count = len(fetched)
        async with aiohttp.ClientSession() as session, session.post(
                f"{base}/api/services/meter/read", json={"meter_id": "a102_e"},
                headers=token_headers(tmp_path / "data")) as response:
            assert response.status == 200
        await page.wait_for_timeout(2_000)
        assert len(fetched) == count
