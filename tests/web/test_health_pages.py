"""Device health: links with meters online and collection rates, offline meters named, each
caller shown only their scope's meters."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_support import SITE, access_site
from common import bounded
from pages_support import browser, page, section, text_of

from hub.metering.service import MeteringService, ReadFailed
from hub.util.dt import as_local, utcnow

DEAD = SITE.replace("metering: {read_on_start: false}",
                    "metering: {read_on_start: false, retries: 0, offline_after: 2, "
                    "timeout: 1s}").replace("accounts:", """\
  - {id: c1, model: ddsy, link: sim1, address: "202400000003", tags: {building: C},
     link_options: {faults: {silent: true}}}
accounts:""", 1)


@pytest.mark.timeout(150)
@bounded(120)
async def test_links_rates_and_offline_meters(tmp_path: Path) -> None:
    async with access_site(tmp_path, DEAD) as site:
        service = site.hub.component("metering", MeteringService)
        await service.read("a1")
        for _ in range(2):
            with pytest.raises(ReadFailed):
                await service.read("c1")
        rate = service.stats.rate("link_sim1", as_local(utcnow()).date(), 1)
        assert rate is not None and rate < 100
        async with browser(site, "admin") as admin:
            status, html = await page(admin, site.base + "/devices?lang=en")
            assert status == 200
            link = text_of(section(html, "links"))
            assert "sim1" in link and " / 3" in link and f"{rate} %" in link
            assert "c1" in text_of(section(html, "offline-meters"))
        async with browser(site, "landlord_a") as landlord:
            status, html = await page(landlord, site.base + "/devices")
            assert status == 200 and "/ 1" in text_of(section(html, "links"))
            assert 'id="offline-meters"' not in html  # c1 is building C's
