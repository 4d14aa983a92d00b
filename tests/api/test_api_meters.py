"""The meter routes of the REST API, on a real hub over loopback, as real users."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from access_support import SITE as ACCESS_SITE
from access_support import Site, access_site
from common import bounded

SITE = ACCESS_SITE.split("meters:")[0] + """meters:
  - {id: a1, model: ddsy, link: sim1, address: "202400000001", account: acc_a, tariff: flat,
     tags: {building: A, floor: "1", room: "101"}}
  - {id: a2, model: ddsy, link: sim1, address: "202400000003", account: acc_a, tariff: flat,
     tags: {building: A, floor: "2", room: "201", line: L2}}
  - {id: b1, model: ddsy, link: sim1, address: "202400000002", account: acc_b, tariff: flat,
     tags: {building: B, floor: "1", department: shop}}
accounts:
  - {id: acc_a, name: 甲, opening_balance: 100}
  - {id: acc_b, name: 乙, opening_balance: 100}
tariffs:
  - {id: flat, type: flat, price: 1.00}
"""


async def confirmed(site: Site, headers: dict[str, str], command_id: str) -> None:
    """Wait (bounded) until a command is confirmed, as the API tells it."""
    async with asyncio.timeout(60):
        while True:
            status, body, _ = await site.call("GET", f"/api/commands/{command_id}",
                                              headers=headers)
            assert status == 200, body
            assert body["state"] != "failed", body
            if body["state"] == "confirmed":
                return
            await asyncio.sleep(0.05)


@pytest.mark.timeout(150)
@bounded(120)
async def test_list_filters_by_tag_and_search_and_pages_with_a_next_link(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        admin = site.bearer("admin")

        async def ids(query: str) -> list[str]:
            status, body, _ = await site.call("GET", f"/api/meters{query}", headers=admin)
            assert status == 200, body
            return [meter["id"] for meter in body["items"]]

        assert await ids("") == ["a1", "a2", "b1"]
        assert await ids("?building=A") == ["a1", "a2"]
        assert await ids("?building=A&floor=2") == ["a2"]
        assert await ids("?line=L2") == ["a2"]
        assert await ids("?department=shop") == ["b1"]
        assert await ids("?room=101") == ["a1"]
        assert await ids("?q=0003") == ["a2"]  # the address
        assert await ids("?q=ACC_B") == ["b1"]  # the account, any case
        assert await ids("?building=C") == []
        # pages: two at a time, the next link gives the rest
        status, first, _ = await site.call("GET", "/api/meters?limit=2", headers=admin)
        assert [m["id"] for m in first["items"]] == ["a1", "a2"] and first["total"] == 3
        status, second, _ = await site.call("GET", first["next"], headers=admin)
        assert [m["id"] for m in second["items"]] == ["b1"] and second["next"] is None
        # a landlord of A sees A's meters only, whatever it asks
        status, body, _ = await site.call("GET", "/api/meters?building=B",
                                          headers=site.bearer("landlord_a"))
        assert body["items"] == [] and body["total"] == 0
        # bad input: each named, nothing else
        for query, field in (("?limit=0", "limit"), ("?limit=501", "limit"),
                             ("?online=maybe", "online"), ("?cursor=x", "cursor"),
                             ("?kind=gas", "kind"), ("?colour=red", "colour")):
            status, body, _ = await site.call("GET", f"/api/meters{query}", headers=admin)
            assert status == 400 and body["error"]["field"] == field, (query, body)


@pytest.mark.timeout(150)
@bounded(120)
async def test_read_now_live_values_and_trip_then_close_with_the_confirmed_state(
        tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        operator = site.bearer("operator")  # building A
        status, body, _ = await site.call("POST", "/api/meters/a1/read", json={},
                                          headers=operator)
        assert status == 200, body
        status, live, _ = await site.call("GET", "/api/meters/a1/live", headers=operator)
        assert status == 200 and live["last_read"] is not None
        assert live["registers"], live
        status, meter, _ = await site.call("GET", "/api/meters/a1", headers=operator)
        assert meter["tags"]["building"] == "A" and meter["live"]["meter_id"] == "a1"
        status, body, _ = await site.call("POST", "/api/meters/a1/trip",
                                          json={"reason": "api test"}, headers=operator)
        assert status == 200 and body["response"]["queued"], body
        await confirmed(site, operator, body["response"]["queued"][0])
        _s, live, _ = await site.call("GET", "/api/meters/a1/live", headers=operator)
        assert live["status"]["relay"] == "open"  # read back: the power is cut
        status, commands, _ = await site.call("GET", "/api/commands?meter_id=a1",
                                              headers=operator)
        assert [c["command"] for c in commands["items"]] == ["trip"]
        status, body, _ = await site.call("POST", "/api/meters/a1/close", json={},
                                          headers=operator)
        assert status == 200, body
        await confirmed(site, operator, body["response"]["queued"][0])
        _s, live, _ = await site.call("GET", "/api/meters/a1/live", headers=operator)
        assert live["status"]["relay"] == "closed"
        # bad input: a valve on an electricity meter, an unknown key, another's meter
        status, body, _ = await site.call("POST", "/api/meters/a1/valve",
                                          json={"state": "open"}, headers=operator)
        assert status == 400 and body["error"]["code"] == "invalid", body
        status, body, _ = await site.call("POST", "/api/meters/a1/trip",
                                          json={"meter_id": "a2"}, headers=operator)
        assert status == 400 and body["error"]["field"] == "meter_id"
        status, body, access = await site.call("POST", "/api/meters/b1/trip", json={},
                                               headers=operator)
        assert (status, access) == (404, "hidden") and "b1" not in str(body)
        status, body, _ = await site.call("GET", "/api/meters/zz", headers=site.bearer("admin"))
        assert status == 404 and body["error"]["field"] == "meter_id"
