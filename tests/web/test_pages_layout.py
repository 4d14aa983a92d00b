"""The dashboard's layout: navigation by role, the caller in the header, the language switch
remembered, money as ¥ with two decimals (never from a float), times in the site's zone,
everything escaped; and the overview's figures and the accounts to act on."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import jinja2
import pytest
from access_support import SITE, access_site
from common import TZ, bounded, settle
from pages_support import browser, page, section, text_of

from hub.metering.reading import Reading
from hub.storage import Storage
from hub.web.pages import fen_text, money_text
from hub.web.pages.kit import LANG_COOKIE, supply_tone
from meterhub_frontend import STATIC, TEMPLATES

PAGES_SITE = SITE.replace("""accounts:
  - {id: acc_a, name: 甲}
  - {id: acc_b, name: 乙}""", """accounts:
  - {id: acc_a, name: "<b>甲</b>", opening_balance: -5.00, tags: {building: A}}
  - {id: acc_a2, name: 低余额, opening_balance: 12.34, tags: {building: A}}
  - {id: acc_a3, name: 富足, opening_balance: 500.00, tags: {building: A}}
  - {id: acc_b, name: 乙, opening_balance: 3.00}""")


def test_money_is_yuan_with_two_decimals_rounded_half_up_and_never_a_float() -> None:
    assert money_text(Decimal("1234.505")) == "¥1,234.51"
    assert money_text(Decimal("-12.3")) == "-¥12.30"
    assert money_text(Decimal("-0.004")) == "¥0.00"  # no "-¥0.00"
    assert money_text(None) == "—"
    assert fen_text(123456) == "¥1,234.56"
    assert fen_text(-5) == "-¥0.05"
    with pytest.raises(TypeError, match="float"):
        money_text(12.3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        fen_text(1.5)  # type: ignore[arg-type]
    env = jinja2.Environment(autoescape=True)
    env.filters["money"] = money_text
    with pytest.raises(TypeError):
        env.from_string("{{ 0.1|money }}").render()


def test_a_supply_badge_is_green_when_power_or_water_flows_and_red_when_cut() -> None:
    # a relay *closed* and a valve *open* both let the supply through: the colour follows
    # the supply, not the word (an open valve was shown red like a tripped relay)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    env.filters.update(supply_tone=supply_tone, money=money_text)
    macros = env.get_template("_macros.html").make_module({"t": lambda key, **_: key})
    seen = {(point, state): str(macros.supply_badge(point, state))
            for point in ("relay", "valve") for state in ("open", "closed", None)}
    assert 'class="badge supply-on"' in seen["relay", "closed"]
    assert 'class="badge supply-off"' in seen["relay", "open"]
    assert 'class="badge supply-on"' in seen["valve", "open"]
    assert 'class="badge supply-off"' in seen["valve", "closed"]
    assert 'class="badge supply-unknown"' in seen["valve", None]
    assert "supply.valve.open" in seen["valve", "open"]
    css = (STATIC / "hub.css").read_text(encoding="utf-8")
    ok_rule = next(line for line in css.splitlines() if "var(--ok)" in line and ".badge." in line)
    bad_rule = next(line for line in css.splitlines() if "var(--bad)" in line and ".badge." in line)
    assert ".badge.supply-on" in ok_rule and ".badge.supply-off" in bad_rule


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_layout_shows_the_caller_the_navigation_of_their_role_and_switches_language(
        tmp_path: Path) -> None:
    async with access_site(tmp_path, PAGES_SITE) as site:
        async with browser(site, "finance") as finance:
            status, html = await page(finance, site.base + "/")
            assert status == 200
            assert '<html lang="zh-CN">' in html  # hub.yaml's language (the default)
            nav = html[html.index('<nav class="main"'):html.index("</nav>")]
            # no payments: block on this site, so no 支付 (its page would be a 404)
            assert re.findall(r">([^<]+)</a>", nav) == [
                "总览", "表计", "账户", "账单与报表", "告警", "自动化", "设备", "审计"]
            assert 'href="/" aria-current="page"' in nav  # the section we are in
            header = html[html.index('<header class="top"'):html.index("</header>")]
            assert "finance" in text_of(header) and 'action="/logout"' in header
            assert 'name="csrf" value="' in header  # log-out is a form with the session's token

            # the switch goes back where it was pressed, and the choice is remembered
            async with finance.get(site.base + "/lang/en?next=/states",
                                   allow_redirects=False) as response:
                assert response.status == 303 and response.headers["Location"] == "/states"
                assert response.cookies[LANG_COOKIE].value == "en"
            status, html = await page(finance, site.base + "/")
            assert '<html lang="en">' in html and ">Overview</a>" in html
            assert "总览" not in text_of(html[html.index("<nav"):html.index("</nav>")])
            async with finance.get(site.base + "/lang/en?next=//evil.example/x",
                                   allow_redirects=False) as response:
                assert response.headers["Location"] == "/"  # never off the hub
            async with finance.get(site.base + "/lang/xx", allow_redirects=False) as response:
                assert response.status == 404
        async with browser(site, "admin", **{LANG_COOKIE: "en"}) as admin:
            _status, html = await page(admin, site.base + "/")
            nav = html[html.index('<nav class="main"'):html.index("</nav>")]
            assert ">Users</a>" in nav and ">Audit</a>" in nav
        async with browser(site, "viewer") as viewer:
            _status, html = await page(viewer, site.base + "/")
            nav = html[html.index('<nav class="main"'):html.index("</nav>")]
            assert "用户" not in nav and "审计" not in nav


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_overview_lists_the_accounts_to_act_on_escaped_and_in_scope(
        tmp_path: Path) -> None:
    async with access_site(tmp_path, PAGES_SITE) as site:
        await settle(site.hub)
        async with browser(site, "admin") as admin:
            _status, html = await page(admin, site.base + "/")
            act_on = section(html, "act-on")
            assert act_on.index("acc_a<") < act_on.index("acc_b") < act_on.index("acc_a2")
            assert "acc_a3" not in act_on  # 500.00 is above every low level
            assert "&lt;b&gt;甲&lt;/b&gt;" in act_on and "<b>甲</b>" not in html
            assert "-¥5.00" in act_on and "¥12.34" in act_on and "¥3.00" in act_on
            assert "欠费" in act_on and "余额不足" in act_on
            assert "2" in text_of(section(html, "tile-online"))  # two meters configured
        async with browser(site, "landlord_b") as landlord_b:
            _status, html = await page(landlord_b, site.base + "/")
            act_on = section(html, "act-on")
            assert "acc_b" in act_on and "acc_a" not in html  # building A is not theirs


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_overview_counts_money_received_today_as_it_is_posted(tmp_path: Path) -> None:
    async with access_site(tmp_path, PAGES_SITE) as site:
        await site.hub.services.call("account", "recharge", {
            "account_id": "acc_a3", "amount": Decimal("50.00"), "method": "cash",
            "reference": "before-first-look"})
        await settle(site.hub)
        async with browser(site, "admin") as admin:
            _status, html = await page(admin, site.base + "/")
            assert "¥50.00" in text_of(section(html, "tile-income-today"))
            # after the figures were first summed, new entries arrive through the ledger
            await site.hub.services.call("account", "recharge", {
                "account_id": "acc_b", "amount": Decimal("20.10"), "method": "wechat",
                "reference": "after-first-look"})
            await settle(site.hub)  # the ledger has told its listeners
            _status, html = await page(admin, site.base + "/")
            assert "¥70.10" in text_of(section(html, "money-received"))
        async with browser(site, "landlord_b") as landlord_b:
            _status, html = await page(landlord_b, site.base + "/")
            assert "¥20.10" in text_of(section(html, "tile-income-today"))  # only acc_b's


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_accounts_to_act_on_follow_payments_and_account_changes(
        tmp_path: Path) -> None:
    async with access_site(tmp_path, PAGES_SITE) as site:
        await settle(site.hub)
        async with browser(site, "admin") as admin:
            _status, html = await page(admin, site.base + "/")
            assert "acc_a2" in section(html, "act-on")  # 12.34: below the low level of 20
            await site.hub.services.call("account", "recharge", {
                "account_id": "acc_a2", "amount": Decimal("100.00"), "method": "cash",
                "reference": "topped-up"})
            await settle(site.hub)
            _status, html = await page(admin, site.base + "/")
            assert "acc_a2" not in section(html, "act-on")  # 112.34 now
            # a landlord raises the account's warning level above its balance
            await site.hub.services.call("account", "update", {
                "account_id": "acc_a3", "changes": {"low_balance": [600]}})
            await settle(site.hub)
            _status, html = await page(admin, site.base + "/")
            act_on = section(html, "act-on")
            assert "acc_a3" in act_on and "¥500.00" in act_on


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_overview_counts_commands_reads_and_consumption_in_scope(
        tmp_path: Path) -> None:
    site_text = PAGES_SITE.replace("storage: {commit_interval: 0.02}",
                                   "storage: {commit_interval: 0.02}\n"
                                   "control: {confirm_delay: 1h}"  # a trip stays outstanding
                                   ).replace("tariff: flat,", "tariff: flat, alarms: "
                                             "{over_voltage: {above: 200}},")  # 220 V read

    async with access_site(tmp_path, site_text) as site:
        storage = site.hub.component("storage", Storage)
        for meter_id in ("a1", "b1"):
            await site.hub.services.call("meter", "read", {"meter_id": meter_id})
        for meter_id in ("a1", "b1"):
            await site.hub.services.call("meter", "trip", {"meter_id": meter_id,
                                                           "reason": "test"})
        await storage.create_command("cmd-old", "b1", "trip")  # a failed one on B's meter
        await storage.transition_command("cmd-old", "failed", error="no answer")
        midnight = datetime.combine(datetime.now(TZ).date(), time(), TZ)
        for when, total in ((midnight, "10"), (midnight + timedelta(minutes=1), "12.5")):
            storage.enqueue_reading(Reading("b1", when, {"energy_import_total": Decimal(total)},
                                            {}, {}, device="dev-b1", link_id="sim1"))
        await storage.flush()
        await settle(site.hub)
        async with browser(site, "admin") as admin:
            _status, html = await page(admin, site.base + "/")
        commands = text_of(section(html, "tile-commands")).split()
        assert commands[2:6] == ["2", "待执行", "1", "今日失败"]
        assert "100.0 %" in text_of(section(html, "tile-collection"))  # a1 was read today
        assert "2.50 kWh" in text_of(section(html, "consumption-electricity"))
        alarms = section(html, "alarms")
        assert "over_voltage" in alarms and "/meters/a1" in alarms and "/meters/b1" in alarms
        async with browser(site, "landlord_a") as landlord:
            _status, html = await page(landlord, site.base + "/")
        # building A: a1's trip is outstanding; B's trip, failure and consumption are not theirs
        commands = text_of(section(html, "tile-commands")).split()
        assert commands[2:6] == ["1", "待执行", "0", "今日失败"]
        assert "2.50 kWh" not in html
        alarms = section(html, "alarms")
        assert "/meters/a1" in alarms and "/meters/b1" not in alarms


def test_every_unit_a_template_shows_goes_through_the_unit_filter() -> None:
    # m3 is how files and the API write it; a page shows m³ (the overview showed "5.89 m3");
    # the tenant's pages get units already written for people (test_portal_pages)
    bare = []
    for path in sorted(TEMPLATES.glob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            bare += [f"{path.name}:{number}: {found}" for found in
                     re.findall(r"\{\{[^}|]*\.unit\s*\}\}", line)]
    assert not bare, bare


@pytest.mark.timeout(240)
@bounded(200)
async def test_every_menu_entry_a_role_sees_opens_for_it(tmp_path: Path) -> None:
    """A landlord's menu led to 账单与报表 (/reports, admins and finance only), which answered
    a raw 403: each role's menu names only pages that open for it."""
    failures: list[tuple[str, str, int]] = []
    async with access_site(tmp_path, PAGES_SITE) as site:
        for user in ("admin", "landlord_a", "operator", "finance", "viewer"):
            async with browser(site, user) as session:
                _status, html = await page(session, site.base + "/")
                nav = html[html.index('<nav class="main"'):html.index("</nav>")]
                links = re.findall(r'href="(/[^"]*)"', nav)
                assert links, user
                for link in links:
                    status, _html = await page(session, site.base + link)
                    if status != 200:
                        failures.append((user, link, status))
        assert not failures, failures
        async with browser(site, "landlord_a") as landlord:
            _status, html = await page(landlord, site.base + "/")
            nav = html[html.index('<nav class="main"'):html.index("</nav>")]
            assert 'href="/bills"' in nav and 'href="/reports"' not in nav
            _status, html = await page(landlord, site.base + "/bills")
            assert 'href="/reports"' not in html  # nor a tab of the bills page
        async with browser(site, "finance") as finance:
            _status, html = await page(finance, site.base + "/bills")
            assert 'href="/reports"' in html


@pytest.mark.timeout(180)
@bounded(150)
async def test_a_page_the_caller_may_not_open_or_that_is_not_there_is_a_page(
        tmp_path: Path) -> None:
    """A landlord who typed /reports got the guard's raw JSON 403; an id outside the scope
    or unknown, a handler's bare English text: a browser now gets a page in the caller's
    language with the menu, saying the same for hidden and missing."""
    html_accept = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    async with access_site(tmp_path, PAGES_SITE) as site, \
            browser(site, "landlord_a") as landlord:
        status, html = await page(landlord, site.base + "/reports", headers=html_accept)
        assert status == 403 and 'data-status="403"' in html
        text = said(html)
        assert "您的角色（房东）不能打开此页面" in text and re.search(r"[A-Za-z]{3}", text) is None
        assert 'href="/meters"' in html[html.index('<nav class="main"'):]  # the menu is there
        hidden = await page(landlord, site.base + "/meters/b1", headers=html_accept)
        missing = await page(landlord, site.base + "/meters/nope", headers=html_accept)
        assert hidden[0] == missing[0] == 404
        assert said(hidden[1]) == said(missing[1])  # nothing said about what is hidden
        assert "页面不存在" in hidden[1]
        status, html = await page(landlord, site.base + "/reports?lang=en",
                                  headers=html_accept)
        assert status == 403 and "Your role (landlord) cannot open this page" in html
        # scripts, the API and htmx keep their own answers
        async with landlord.get(site.base + "/reports") as response:
            assert response.status == 403 and response.content_type == "application/json"
        async with landlord.get(site.base + "/api/meters/b1", headers=html_accept) as response:
            assert response.status == 404 and response.content_type == "application/json"
        async with landlord.get(site.base + "/meters/nope",
                                headers={**html_accept, "HX-Request": "true"}) as response:
            assert response.status == 404 and "page-error" not in await response.text()


def said(html: str) -> str:
    """The error page's words."""
    return text_of(section(html, "page-error").split(">", 1)[1])
