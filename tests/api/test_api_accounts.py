"""The account routes of the REST API: money counted once, bad input refused and named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from access_support import Site, access_site
from common import bounded
from test_api_meters import SITE


async def ledger(site: Site, account: str = "acc_a") -> list[dict[str, Any]]:
    """Every entry of an account, newest first (following the next links)."""
    entries: list[dict[str, Any]] = []
    path: str | None = f"/api/accounts/{account}/ledger?limit=2"
    while path:
        status, body, _ = await site.call("GET", path, headers=site.bearer("admin"))
        assert status == 200, body
        entries += body["items"]
        path = body["next"]
    return entries


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_double_clicked_recharge_is_counted_once(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        clerk = {**site.bearer("operator"), "Idempotency-Key": "form-7f3a"}
        answers = [await site.call("POST", "/api/accounts/acc_a/recharge",
                                   json={"amount": "50.00", "method": "cash"}, headers=clerk)
                   for _ in range(2)]
        assert [(s, b["response"]["duplicate"]) for s, b, _ in answers] == [(200, False),
                                                                           (200, True)]
        assert answers[0][1]["response"]["entry"]["id"] == answers[1][1]["response"][
            "entry"]["id"]
        _s, balance, _ = await site.call("GET", "/api/accounts/acc_a/balance",
                                         headers=site.bearer("operator"))
        assert balance == {"account_id": "acc_a", "balance": "150.00"}
        recharges = [e for e in await ledger(site) if e["kind"] == "recharge"]
        assert len(recharges) == 1 and recharges[0]["operator"] == "operator"
        # the same key for another amount is refused, not counted
        status, body, _ = await site.call("POST", "/api/accounts/acc_a/recharge",
                                          json={"amount": "60.00", "method": "cash"},
                                          headers=clerk)
        assert status == 400 and body["error"]["field"] == "reference", body
        # without a reference or a key there is nothing to count once by: refused
        status, body, _ = await site.call("POST", "/api/accounts/acc_a/recharge",
                                          json={"amount": "1.00", "method": "cash"},
                                          headers=site.bearer("operator"))
        assert status == 400 and body["error"]["field"] == "reference", body


@pytest.mark.timeout(150)
@bounded(120)
async def test_bad_money_input_is_refused_with_the_field_and_nothing_changes(
        tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        finance = site.bearer("finance")
        before = await ledger(site)
        cases: list[tuple[str, Any, str | None, str]] = [
            ("recharge", {"amount": "abc", "method": "cash", "reference": "r1"}, "amount",
             "invalid"),
            ("recharge", {"amount": 12.345, "method": "cash", "reference": "r1"}, "amount",
             "invalid"),
            ("recharge", {"amount": "5", "method": "gold", "reference": "r1"}, "method",
             "invalid"),
            ("recharge", {"amount": ["5"], "method": "cash", "reference": "r1"}, "amount",
             "invalid"),
            ("recharge", {"amount": "5", "method": "cash", "reference": "r1",
                          "account_id": "acc_b"}, "account_id", "invalid"),
            ("refund", {"amount": "500.00", "reference": "f1"}, "amount", "invalid"),
            ("adjustment", {"amount": "0", "reason": "x"}, "amount", "invalid"),
            ("trip_policy", {"mode": "sometimes"}, "mode", "invalid"),
            ("move_in", {"name": "丙"}, "move_in", "invalid"),
            ("holds", {"kind": "forever", "reason": "x"}, "kind", "invalid"),
        ]
        for action, body, field, code in cases:
            status, answer, _ = await site.call("POST", f"/api/accounts/acc_a/{action}",
                                                json=body, headers=site.bearer("admin"))
            assert status == 400, (action, body, answer)
            assert answer["error"]["code"] == code and answer["error"]["field"] == field, (
                action, body, answer)
        for raw in ("{not json", "[1, 2]", "\"text\""):
            status, answer, _ = await site.call(
                "POST", "/api/accounts/acc_a/recharge", data=raw,
                headers={**finance, "Content-Type": "application/json"})
            assert (status, answer["error"]["code"], answer["error"]["field"]) == (
                400, "bad_json", "body"), raw
        status, answer, _ = await site.call(
            "POST", "/api/accounts/acc_a/recharge", data="x" * (1024 * 1024 + 10),
            headers={**finance, "Content-Type": "application/json"})
        assert status == 413 and answer["error"]["code"] == "too_large"
        status, answer, _ = await site.call("POST", "/api/accounts/zz/recharge", json={
            "amount": "1", "method": "cash", "reference": "r9"}, headers=finance)
        assert status == 404 and answer["error"]["field"] == "account_id"  # unknown id
        assert await ledger(site) == before  # nothing changed


@pytest.mark.timeout(200)
@bounded(170)
async def test_refund_adjust_reverse_emergency_holds_policy_and_moving(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        admin = site.bearer("admin")

        async def post(path: str, body: dict[str, Any], headers: dict[str, str] = admin
                       ) -> dict[str, Any]:
            status, answer, _ = await site.call("POST", path, json=body, headers=headers)
            assert status == 200, (path, answer)
            return dict(answer)

        await post("/api/accounts/acc_a/refund", {"amount": "10.00", "reference": "rf1"},
                   site.bearer("finance"))
        made = await post("/api/accounts/acc_a/adjustment",
                          {"amount": "-5.00", "reason": "meter swap"}, site.bearer("finance"))
        entry = made["response"]["entry"]["id"]
        await post(f"/api/ledger/entries/{entry}/reverse", {"reason": "wrong"},
                   site.bearer("finance"))
        kinds = [e["kind"] for e in await ledger(site)]
        assert kinds[:3] == ["reversal", "adjustment", "refund"], kinds
        _s, balance, _ = await site.call("GET", "/api/accounts/acc_a/balance", headers=admin)
        assert balance["balance"] == "90.00"
        await post("/api/accounts/acc_a/holds", {"kind": "keep_on", "reason": "hospital",
                    "until": "2099-01-01"},
                   site.bearer("landlord_a"))
        _s, holds, _ = await site.call("GET", "/api/accounts/acc_a/holds", headers=admin)
        assert [(h["kind"], h["operator"]) for h in holds["holds"]] == [
            ("keep_on", "landlord_a")]
        await post("/api/accounts/acc_a/holds/release", {"reason": "well again"})
        _s, holds, _ = await site.call("GET", "/api/accounts/acc_a/holds", headers=admin)
        assert holds["holds"] == []
        await post("/api/accounts/acc_a/trip_policy", {"mode": "delayed", "at": "09:30"},
                   site.bearer("landlord_a"))
        _s, account, _ = await site.call("GET", "/api/accounts/acc_a", headers=admin)
        assert account["settings"]["trip_policy"] == {"mode": "delayed", "at": "09:30:00"}
        await post("/api/accounts/acc_a/move_in", {"move_in": "2026-01-01", "name": "丁"})
        _s, account, _ = await site.call("GET", "/api/accounts/acc_a", headers=admin)
        assert (account["settings"]["name"], account["settings"]["move_in"]) == (
            "丁", "2026-01-01")
        moved = await post("/api/accounts/acc_b/move_out", {"read": False},
                           site.bearer("finance"))
        assert moved["response"], moved
        # emergency credit: once per period
        given = await post("/api/accounts/acc_a/emergency_credit", {})
        assert given["response"]["entry"]["kind"] == "emergency_credit"
        status, body, _ = await site.call("POST", "/api/accounts/acc_a/emergency_credit",
                                          json={}, headers=admin)
        assert status == 400 and "already took" in body["error"]["detail"], body
        # a landlord of B reaching for A: hidden, nothing changed
        status, body, access = await site.call("POST", "/api/accounts/acc_a/holds", json={
            "kind": "force_off", "reason": "x"}, headers=site.bearer("landlord_b"))
        assert (status, access) == (404, "hidden")
        _s, holds, _ = await site.call("GET", "/api/accounts/acc_a/holds", headers=admin)
        assert holds["holds"] == []


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_form_shown_before_another_change_is_refused_with_412(tmp_path: Path) -> None:
    async with access_site(tmp_path, SITE) as site:
        async with site.session.get(f"{site.base}/api/accounts/acc_a",
                                    headers=site.bearer("operator")) as response:
            shown = response.headers["ETag"]
        assert shown.startswith('"')
        # another clerk recharges meanwhile
        status, _b, _ = await site.call("POST", "/api/accounts/acc_a/recharge", json={
            "amount": "20.00", "method": "cash", "reference": "other"},
            headers=site.bearer("finance"))
        assert status == 200
        stale = {**site.bearer("operator"), "If-Match": shown}
        status, body, _ = await site.call("POST", "/api/accounts/acc_a/recharge", json={
            "amount": "20.00", "method": "cash", "reference": "mine"}, headers=stale)
        assert (status, body["error"]["code"], body["error"]["field"]) == (412, "stale",
                                                                           "If-Match")
        entries = await ledger(site)
        assert [e["detail"].get("reference") for e in entries if e["kind"] == "recharge"] == [
            "other"]  # nothing changed
        async with site.session.get(f"{site.base}/api/accounts/acc_a/balance",
                                    headers=site.bearer("operator")) as response:
            fresh = response.headers["ETag"]
        assert fresh != shown
        status, body, _ = await site.call("POST", "/api/accounts/acc_a/recharge", json={
            "amount": "20.00", "method": "cash", "reference": "mine"},
            headers={**site.bearer("operator"), "If-Match": fresh})
        assert status == 200, body
