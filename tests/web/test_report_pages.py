"""The reports page: each report as a table with its chart data, downloads and print
button; bad parameters shown, not a crash; finance and admin only."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from access_support import SITE, access_site
from common import bounded, settle
from pages_support import browser, page, text_of

from hub.billing.analysis.base import Period
from hub.ledger import Ledger


def site_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.mark.timeout(150)
@bounded(120)
async def test_reports_render_with_charts_and_downloads(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        ledger = site.hub.component("ledger", Ledger)
        await ledger.post("acc_a", "recharge", Decimal("88.80"),
                          key="pay:1", detail={"method": "cash"})
        await settle(site.hub)
        async with browser(site, "finance") as finance:
            status, html = await page(finance, site.base + "/reports?report=receivable&by=day"
                                      "&lang=en")
            assert status == 200, text_of(html)[:300]
            assert "¥88.80" in html  # the table's money, with ¥ and two decimals
            chart = json.loads(re.search(r'id="report-chart-data">(.*?)</script>', html,
                                         re.S).group(1))  # type: ignore[union-attr]
            assert chart["series"]["received"] == ["88.80"]  # exact decimal text
            href = re.search(r'href="([^"]+)" download id="download-csv"', html)
            assert href is not None
            async with finance.get(site.base + href.group(1).replace("&amp;", "&")) as got:
                assert got.status == 200 and "88.80" in (await got.read()).decode("utf-8-sig")
            assert "data-print" in html
            status, html = await page(finance, site.base + "/reports?report=trend&by=week")
            assert status == 400 and "by 应为 day（日）、month（月）或 year（年）" in text_of(html)
            for name in ("trend", "intensity", "loss", "arrears", "consumption"):
                status, html = await page(finance, site.base + f"/reports?report={name}")
                assert status == 200, (name, text_of(html)[:300])
                assert 'id="report-table"' in html
            # the consumption per building names the tag in the caller's words
            status, html = await page(finance, site.base + "/reports?report=consumption")
            table = text_of(html[html.index('id="report-table"'):])
            assert status == 200 and "楼栋 A" in table and "building" not in table, table
            # the empty "from" and "to" show the range the report covers: last month here
            last_month = Period.month_of(site_today()).previous().label
            assert f'name="from" value="" placeholder="{last_month}"' in html
            assert f'name="to" value="" placeholder="{last_month}"' in html
            # the tag is chosen from the meters' own tags, in the caller's words
            form = html[html.index('name="tag"'):]
            form = form[:form.index("</select>")]
            assert re.findall(r'<option value="building" selected>楼栋</option>', form), form
            status, html = await page(finance, site.base + "/reports?report=trend")
            form = html[html.index('name="tag"'):]
            form = form[:form.index("</select>")]
            choices = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', form)
            today = site_today()  # a trend by month: from January to this month
            assert f'placeholder="{today.year}-01"' in html
            assert f'placeholder="{today:%Y-%m}"' in html
            assert ("", "全部") in choices and ("building=A", "楼栋 A") in choices \
                and ("building=B", "楼栋 B") in choices, choices
        async with browser(site, "viewer") as viewer:
            status, _html = await page(viewer, site.base + "/reports")
            assert status == 403
