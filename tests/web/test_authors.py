"""Every change has its author: the user behind the session or token, never what a caller
typed; ``GET /api/audit`` lists who did what, by user, account, meter and time."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_support import Site, access_site
from common import bounded, db_rows, settle


async def _call(site: Site, caller: str, service: str, data: dict[str, object]) -> None:
    domain, _, name = service.partition(".")
    status, body, _ = await site.call("POST", f"/api/services/{domain}/{name}", json=data,
                                      headers=site.bearer(caller))
    assert status == 200, (service, caller, body)


@pytest.mark.timeout(150)
@bounded(120)
async def test_entries_commands_holds_and_settings_carry_the_authenticated_author(
        tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        await _call(site, "finance", "account.recharge", {
            "account_id": "acc_a", "amount": "50.00", "method": "cash", "reference": "p1",
            "operator": "admin"})  # a typed name is a note, not the author
        await _call(site, "admin", "account.adjust", {
            "account_id": "acc_b", "amount": "-1.00", "reason": "meter swap"})
        await _call(site, "operator", "account.hold", {
            "account_id": "acc_a", "kind": "force_off", "reason": "works",
            "operator": "somebody"})
        await _call(site, "landlord_a", "account.update", {
            "account_id": "acc_a", "changes": {"name": "甲二"}})
        await settle(site.hub)
        data = site.hub.config.data_dir
        entries = db_rows(data, "SELECT kind, operator, context_user_id, detail FROM "
                                "ledger_entry WHERE kind IN ('recharge', 'adjustment') "
                                "ORDER BY entry_key")
        assert [(k, o, u) for k, o, u, _d in entries] == [
            ("recharge", "finance", "finance"), ("adjustment", "admin", "admin")]
        assert '"operator_note":"admin"' in str(entries[0][3])
        assert db_rows(data, "SELECT operator, context_user_id FROM account_hold") == [
            ("operator (somebody)", "operator")]  # the typed name: a note beside the author
        # the commands the recharge (close) and the force-off hold (trip) caused are theirs
        assert {("finance",), ("operator",)} <= set(db_rows(
            data, "SELECT context_user_id FROM command WHERE meter_id = 'a1'"))
        admin = site.bearer("admin")
        _s, rows, _ = await site.call("GET", "/api/audit?account=acc_a", headers=admin)
        rows = rows["items"]
        got = {(row["source"], row["action"], row["user"]) for row in rows}
        assert {("ledger", "recharge", "finance"), ("hold", "force_off", "operator"),
                ("setting", "account.name set", "landlord_a")} <= got
        assert all(row["account_id"] == "acc_a" for row in rows)
        _s, rows, _ = await site.call("GET", "/api/audit?meter=a1", headers=admin)
        rows = rows["items"]
        assert {(row["source"], row["user"]) for row in rows} == {("command", "finance"),
                                                                  ("command", "operator")}
        _s, rows, _ = await site.call("GET", "/api/audit?user=admin", headers=admin)
        rows = rows["items"]
        assert [(row["source"], row["action"]) for row in rows
                if row["source"] != "access"] == [("ledger", "adjustment")]
        _s, rows, _ = await site.call("GET", "/api/audit?end=2000-01-01", headers=admin)
        assert rows == {"items": [], "total": None, "next": None}
        status, body, _ = await site.call("GET", "/api/audit?start=yesterday", headers=admin)
        assert status == 400 and body["error"]["field"] == "start"
        assert "yesterday" in body["error"]["detail"]
