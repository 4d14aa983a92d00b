"""Bills per period with their lines, each line traced to the readings that made it; a
landlord of another building finds nothing."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from access_support import SITE, access_site
from common import bounded, settle
from pages_support import browser, page, text_of

from hub.ledger import Ledger
from hub.metering.service import MeteringService
from hub.util.dt import as_local, utcnow

LIMITS = SITE.replace("storage: {commit_interval: 0.02}",
                      "storage: {commit_interval: 0.02, max_rate: {electricity: 100000000}}")


@pytest.mark.timeout(150)
@bounded(120)
async def test_bills_lines_and_their_readings(tmp_path: Path) -> None:
    async with access_site(tmp_path, LIMITS) as site:
        service = site.hub.component("metering", MeteringService)
        readings = []
        for energy in ("10.00", "12.50", "13.25"):
            service.meters["a1"].link.simulators["a1"].energy[0] = Decimal(energy)  # type: ignore[attr-defined]
            reading, not_stored = await service.read_stored("a1")
            assert not_stored is None
            readings.append(reading)
        ledger = site.hub.component("ledger", Ledger)

        async def charged() -> int:
            await settle(site.hub)
            return len(await ledger.entries("acc_a", kinds=["charge"], limit=None))
        async with asyncio.timeout(60):
            while await charged() < 2:  # both counted readings charged before the bill
                await asyncio.sleep(0.05)
        status, made, _ = await site.call(
            "POST", "/api/services/bill/create?return_response=1",
            json={"account_id": "acc_a",
                  "period_start": as_local(utcnow()).date().replace(day=1).isoformat()},
            headers=site.bearer("admin"))
        assert status == 200, made
        bill_id = made["response"]["bill_id"]
        async with browser(site, "landlord_a") as landlord:
            status, html = await page(landlord, site.base + "/bills?lang=en")
            assert status == 200 and f'id="bill-{bill_id}"' in html
            status, html = await page(landlord, site.base + f"/bills/{bill_id}?lang=en")
            assert status == 200
            lines = text_of(html[html.index('id="bill-lines"'):])
            assert "3.25 kWh" in lines and "¥3.25" in lines
            status, html = await page(landlord, site.base + f"/bills/{bill_id}?line=1&lang=en")
            trace = html[html.index('id="trace-rows"'):]
            # the two readings that counted (the first was the baseline), 2.5 and 0.75
            assert readings[1].id in trace and readings[2].id in trace
            assert readings[0].id not in trace
            assert "2.5" in text_of(trace) and "0.75" in text_of(trace)
            status, _html = await page(landlord, site.base + f"/bills/{bill_id}?line=99")
            assert status == 404
        async with browser(site, "landlord_b") as other:
            status, html = await page(other, site.base + "/bills")
            assert status == 200 and bill_id not in html
            assert (await page(other, site.base + f"/bills/{bill_id}"))[0] == 404
