"""Scoped views (reports, ledger audit, services, plugins, rates, alarms), /health, /metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_support import SITE, access_site
from common import bounded

from hub.storage import Storage

ALARM_SITE = SITE + """
alarms: {defaults: {over_voltage: {above: 100}}}
"""


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_landlord_gets_its_own_rows_of_site_wide_views(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        for user, mine, other in (("landlord_a", "acc_a", "acc_b"),
                                  ("landlord_b", "acc_b", "acc_a")):
            headers = site.bearer(user)
            status, table, _ = await site.call("GET", "/api/reports/arrears", headers=headers)
            assert status == 200 and [r["account_id"] for r in table["rows"]] == [mine]
            status, audit, _ = await site.call("GET", "/api/ledger/audit", headers=headers)
            assert status == 200 and audit["accounts"] == 1 and other not in str(audit)
            status, services, _ = await site.call("GET", "/api/services", headers=headers)
            assert status == 200 and "recharge" in services["account"]
            assert "refund" not in services["account"] and "bill" not in services
            status, plugins, _ = await site.call("GET", "/api/plugins", headers=headers)
            assert status == 200 and plugins["items"] and all(
                set(p) == {"name", "version", "status"} for p in plugins["items"])
        _s, table, _ = await site.call("GET", "/api/reports/arrears",
                                       headers=site.bearer("admin"))
        assert sorted(r["account_id"] for r in table["rows"]) == ["acc_a", "acc_b"]
        _s, services, _ = await site.call("GET", "/api/services", headers=site.bearer("admin"))
        assert "refund" in services["account"]
        # bad input: a report that does not exist, a month that is not one
        status, body, _ = await site.call("GET", "/api/reports/receivable?from=2026-13",
                                          headers=site.bearer("landlord_a"))
        assert status == 400 and body["error"]["code"] == "invalid"


@pytest.mark.timeout(150)
@bounded(120)
async def test_alarms_are_listed_and_acknowledged_with_who_and_when(tmp_path: Path) -> None:
    async with access_site(tmp_path, ALARM_SITE) as site:
        admin = site.bearer("admin")
        status, body, _ = await site.call("POST", "/api/services/meter/read",
                                          json={"meters": ["a1", "b1"]}, headers=admin)
        assert status == 200, body
        status, alarms, _ = await site.call("GET", "/api/alarms?active=true", headers=admin)
        found = {(a["meter_id"], a["kind"]): a for a in alarms["items"]}
        assert set(found) == {("a1", "over_voltage"), ("b1", "over_voltage")}, alarms
        a1 = found[("a1", "over_voltage")]["alarm_id"]
        b1 = found[("b1", "over_voltage")]["alarm_id"]
        _s, mine, _ = await site.call("GET", "/api/alarms", headers=site.bearer("landlord_a"))
        assert [a["meter_id"] for a in mine["items"]] == ["a1"]
        status, acked, _ = await site.call("POST", f"/api/alarms/{a1}/acknowledge", json={
            "note": "checked the wiring"}, headers=site.bearer("operator"))
        assert status == 200 and acked["acknowledged"]["by"] == "operator"
        assert acked["acknowledged"]["note"] == "checked the wiring"
        when = acked["acknowledged"]["at"]
        status, again, _ = await site.call("POST", f"/api/alarms/{a1}/acknowledge", json={},
                                           headers=admin)
        assert again["acknowledged"] == {"by": "operator", "at": when,
                                         "note": "checked the wiring"}  # the first stays
        _s, listed, _ = await site.call("GET", "/api/alarms?acknowledged=false", headers=admin)
        assert [a["alarm_id"] for a in listed["items"]] == [b1]
        # another's alarm, a made-up one, a bad note: refused, nothing stored
        status, body, access = await site.call("POST", f"/api/alarms/{b1}/acknowledge",
                                               json={}, headers=site.bearer("landlord_a"))
        assert (status, access) == (404, "hidden")
        status, body, _ = await site.call("POST", "/api/alarms/123-a1-x/acknowledge", json={},
                                          headers=admin)
        assert status == 404 and body["error"]["field"] == "alarm_id"
        status, body, _ = await site.call("POST", f"/api/alarms/{b1}/acknowledge",
                                          json={"note": ["x"]}, headers=admin)
        assert status == 400 and body["error"]["field"] == "note"
        _s, listed, _ = await site.call("GET", "/api/alarms?acknowledged=false", headers=admin)
        assert [a["alarm_id"] for a in listed["items"]] == [b1]


def samples(text: str) -> dict[str, float]:
    """The Prometheus samples of an exposition text (each line must be one)."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


@pytest.mark.timeout(150)
@bounded(120)
async def test_health_and_metrics(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        status, body, _ = await site.call("GET", "/health")  # public
        assert (status, body) == (200, {"status": "ok"})
        status, text, _ = await site.call("GET", "/metrics", headers=site.bearer("viewer"))
        assert status == 200 and "meterhub_up 1" in text
        before = samples(text)
        status, _b, _ = await site.call("POST", "/api/accounts/acc_a/recharge", json={
            "amount": "3.00", "method": "cash", "reference": "m1"}, headers=site.bearer("admin"))
        status, _b, _ = await site.call("POST", "/api/services/meter/read", json={
            "meter_id": "a1"}, headers=site.bearer("admin"))
        _s, text, _ = await site.call("GET", "/metrics", headers=site.bearer("viewer"))
        after = samples(text)
        assert after['meterhub_reads_total{result="success"}'] == before[
            'meterhub_reads_total{result="success"}'] + 1
        assert after['meterhub_ledger_postings_total{kind="recharge"}'] == 1
        assert after['meterhub_meters{state="online"}'] == 2
        assert 'meterhub_queue_depth{queue="commands"}' in after
        assert (await site.call("GET", "/metrics"))[0] == 401
        assert (await site.call("GET", "/metrics", headers=site.bearer("operator")))[0] == 403
        status, body, _ = await site.call("GET", "/health?live=perhaps")
        assert status == 400


@pytest.mark.timeout(150)
@bounded(120)
async def test_health_is_503_with_the_reason_when_the_database_is_closed(
        tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        storage = site.hub.component("storage", Storage)
        await storage.stop()  # the database closes under the running hub
        status, body, _ = await site.call("GET", "/health")
        assert status == 503 and body == {"status": "unavailable",
                                          "problems": ["storage: stopped"]}
        status, body, _ = await site.call("GET", "/health?live=1")
        assert (status, body) == (200, {"status": "ok"})  # alive, not ready
