"""Bills, share groups, collection rates, commands, automations and the hub routes of the
REST API, each with bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from access_support import SITE, Site, access_site
from common import bounded
from test_api_meters import confirmed

MORE_SITE = SITE.replace("""accounts:""", """\
  - {id: c1, model: ddsy, link: sim1, address: "202400000009", tariff: flat,
     tags: {building: A}}
share_groups:
  - {id: stair_a, name: 楼梯灯, meter: c1, members: [acc_a], split: equal}
automation:
  - id: ping
    alias: ping
    triggers: [{trigger: event, event_type: custom_ping}]
    actions:
      - service: meter.read
        data: {meter_id: a1}
accounts:""")


async def ok(site: Site, method: str, path: str, user: str = "admin", **kwargs: Any) -> Any:
    status, body, _ = await site.call(method, path, headers=site.bearer(user), **kwargs)
    assert status == 200, (method, path, body)
    return body


async def refused(site: Site, method: str, path: str, status: int, field: str | None,
                  user: str = "admin", **kwargs: Any) -> None:
    got, body, _ = await site.call(method, path, headers=site.bearer(user), **kwargs)
    assert (got, body["error"]["field"]) == (status, field), (method, path, body)


@pytest.mark.timeout(150)
@bounded(120)
async def test_bills_from_creation_to_statement(tmp_path: Path) -> None:
    async with access_site(tmp_path, MORE_SITE) as site:
        made = await ok(site, "POST", "/api/bills", "finance", json={"account_id": "acc_a"})
        bill = made["response"]["bill_id"]
        listed = await ok(site, "GET", "/api/bills?status=draft")
        assert [b["bill_id"] for b in listed["items"]] == [bill]
        assert (await ok(site, "GET", f"/api/bills/{bill}"))["account_id"] == "acc_a"
        await ok(site, "POST", f"/api/bills/{bill}/issue", "finance", json={})
        assert (await ok(site, "GET", f"/api/bills/{bill}"))["status"] == "issued"
        status, text, _ = await site.call("GET", f"/api/bills/{bill}/statement?lang=en",
                                          headers=site.bearer("landlord_a"))
        assert status == 200 and "甲" in text, text
        await ok(site, "POST", "/api/bills/run", "finance", json={})
        await refused(site, "GET", "/api/bills?status=lost", 400, "status[0]")
        await refused(site, "GET", f"/api/bills/{bill}/statement?format=pdf", 400, "format")
        await refused(site, "GET", f"/api/bills/{bill}/lines/x/readings", 400, "no")
        await refused(site, "GET", f"/api/bills/{bill}/lines/99/readings", 404, "no")
        await refused(site, "POST", "/api/bills", 400, "account_id", json={
            "account_id": "zz"})
        await refused(site, "POST", "/api/bills/nope/issue", 404, "bill_id", json={})
        _s, body, access = await site.call("GET", f"/api/bills/{bill}",
                                           headers=site.bearer("landlord_b"))
        assert (body["error"]["code"], access) == ("not_found", "hidden")


@pytest.mark.timeout(150)
@bounded(120)
async def test_share_groups_rates_commands_and_hub_routes(tmp_path: Path) -> None:
    async with access_site(tmp_path, MORE_SITE) as site:
        groups = await ok(site, "GET", "/api/share_groups")
        assert [(g["id"], g["meters"], g["members"]) for g in groups["items"]] == [
            ("stair_a", ["c1"], ["acc_a"])]
        assert (await ok(site, "GET", "/api/share_groups", "landlord_a"))["total"] == 1
        assert (await ok(site, "GET", "/api/share_groups", "landlord_b"))["total"] == 0
        assert (await ok(site, "GET", "/api/share_groups/stair_a"))["split"] == "equal"
        await refused(site, "GET", "/api/share_groups/stair_a", 404, None, "landlord_b")
        await refused(site, "GET", "/api/share_groups/zz", 404, "group_id")
        await refused(site, "POST", "/api/share_groups/split", 400, "group", json={
            "group": "zz", "amount": "10.00", "start": "2026-01-01", "end": "2026-01-31"})
        await ok(site, "POST", "/api/meters/a1/read", json={})
        rates = (await ok(site, "GET", "/api/collection_rates"))["rates"]
        assert rates["building_A"]["collected_today"] >= 1
        mine = (await ok(site, "GET", "/api/collection_rates", "landlord_b"))["rates"]
        assert set(mine) <= {"building_B"}
        await refused(site, "GET", "/api/collection_rates?window=9", 400, "window")
        await ok(site, "POST", "/api/meters/c1/trip", json={"reason": "t"})
        trip = (await ok(site, "GET", "/api/commands?meter_id=c1"))["items"][0]["command_id"]
        await confirmed(site, site.bearer("admin"), trip)
        done = (await ok(site, "GET", "/api/commands?state=confirmed"))["items"]
        assert trip in {c["command_id"] for c in done}
        assert {c["state"] for c in done} == {"confirmed"}
        theirs = (await ok(site, "GET", "/api/commands", "landlord_b"))["items"]
        assert {c["meter_id"] for c in theirs} <= {"b1"}  # never A's trip
        await refused(site, "GET", "/api/commands?meter_id=a b", 400, "meter_id")
        await refused(site, "GET", "/api/commands/zz", 404, "command_id")
        status = await ok(site, "GET", "/api/")
        assert status["state"] == "running"
        states = await ok(site, "GET", "/api/states?domain=meter", "landlord_a")
        assert {s["entity_id"] for s in states["items"]} <= {"meter.a1", "meter.c1"}


@pytest.mark.timeout(150)
@bounded(120)
async def test_automations_listed_run_disabled_and_traced(tmp_path: Path) -> None:
    async with access_site(tmp_path, MORE_SITE) as site:
        listed = await ok(site, "GET", "/api/automations")
        assert [(a["id"], a["enabled"]) for a in listed["items"]] == [("ping", True)]
        await ok(site, "POST", "/api/automations/ping/run", json={})
        traces = await ok(site, "GET", "/api/automations/ping/traces")
        assert traces["total"] == 1
        run_id = traces["items"][0]["run_id"]
        one = await ok(site, "GET", f"/api/automations/ping/traces?run_id={run_id}")
        assert [t["run_id"] for t in one["items"]] == [run_id]
        await ok(site, "POST", "/api/automations/ping/disable", json={})
        assert not (await ok(site, "GET", "/api/automations"))["items"][0]["enabled"]
        await ok(site, "POST", "/api/automations/ping/enable", json={})
        assert (await ok(site, "GET", "/api/automations"))["items"][0]["enabled"]
        await refused(site, "POST", "/api/automations/zz/run", 404, "automation_id", json={})
        await refused(site, "GET", "/api/automations/ping/traces?run_id=nope", 400, "run_id")
        await refused(site, "POST", "/api/automations/ping/run", 400, "variables", json={
            "variables": "x"})
        got, _b, access = await site.call("GET", "/api/automations",
                                          headers=site.bearer("finance"))
        assert (got, access) == (403, "denied")
