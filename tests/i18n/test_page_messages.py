"""The dashboard's refusals on a zh-CN site: a mistyped amount on an account's form, a
reversed range on the audit page and on a meter's history, each worded in Chinese."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import aiohttp
import pytest
from access_support import REQUEST_TIMEOUT, access_site, login
from common import bounded
from test_access_messages import ZH_SITE
from test_api_messages import english_words

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))  # the pages' helpers
from pages_support import hidden_fields


def alert(page: str) -> str:
    """The page's error message (its "not done:" heading left out)."""
    found = re.search(r'role="alert">(?:<strong>[^<]*</strong>)?\s*(.*?)</p>', page, re.S)
    assert found, page
    return html.unescape(re.sub(r"<[^>]+>", "", found[1])).strip()


@pytest.mark.timeout(200)
@bounded(150)
async def test_page_refusals_speak_the_pages_language(tmp_path: Path) -> None:
    async with access_site(tmp_path, ZH_SITE) as site:
        admin = site.bearer("admin")
        async with aiohttp.ClientSession(timeout=REQUEST_TIMEOUT, headers={"Origin": site.base},
                                         cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            assert (await login(browser, site.base, "admin"))[0] == 200
            async with browser.get(site.base + "/accounts/acc_a") as response:
                form = hidden_fields(await response.text(), "/accounts/acc_a/recharge")
            async with browser.post(site.base + "/accounts/acc_a/recharge", data={
                    **form, "amount": "abc", "amount_again": "abc", "method": "cash",
                    "reference": ""}) as response:
                status, page = response.status, await response.text()
        assert status == 400, page
        assert alert(page) == "amount：'abc' 不是金额"
        status, page, _ = await site.call("GET", "/audit?from=2026-02-01&to=2026-01-01",
                                          headers=admin)
        assert status == 400, page
        assert "to：2026-01-01 早于 from：2026-02-01" in alert(page), alert(page)
        status, body, _ = await site.call(
            "GET", "/api/meters/a1/history?start=2026-02-01&end=2026-01-01",
            headers={**admin, "Accept-Language": "zh-CN"})
        assert status == 400, body
        message = body["error"]["message"]
        assert message.startswith("start：必须早于结束时间"), message
        assert english_words(message.replace("start", "")) == [], message
        assert body["error"]["detail"].startswith("start: must be before end")
