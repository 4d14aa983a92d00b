"""The auth matrix: every route of the running hub's router, called by every kind of caller,
answered as the table below says — so a route added without a rule fails here.

Callers: anonymous, and a token of each role (viewer, operator of building A, finance,
landlord A, landlord B, admin). Outcomes: ``ok`` (the guard let it through; the handler
answered, maybe with its own error), ``denied`` (401/403 from the access rules),
``hidden`` (404 from the access rules: outside the caller's scope, said like "unknown").
The paths use building A's ids (and a bill of A's account), so landlord B is the one who
must find nothing. ``tenant`` holds the portal link of A's account: it opens the
``/tenant/{token}`` routes in their URL, and sent as a bearer token anywhere else it is
refused (it is no API token). That the link reaches no other account's bill or order is
tests/web/test_portal_pages.py's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from access_support import Site, access_site
from common import bounded

from hub.web.server import WebServer

CALLERS = ("anonymous", "viewer", "operator", "finance", "landlord_a", "landlord_b", "admin",
           "tenant")
OK, NO, HID = "ok", "denied", "hidden"

EVERYONE = dict.fromkeys(CALLERS, OK)
USERS = {**dict.fromkeys(CALLERS, OK), "anonymous": NO, "tenant": NO}
WHOLE_SITE = {**USERS, "operator": NO, "landlord_a": NO, "landlord_b": NO}
A_ONLY = {**USERS, "landlord_b": HID}
ADMIN = {**dict.fromkeys(CALLERS, NO), "admin": OK}
PUBLIC = {**EVERYONE, "tenant": NO}  # anyone, but a tenant link is no bearer token
TENANT = EVERYONE  # the link in the URL is the key; a user's token changes nothing
MONEY_READERS = {**ADMIN, "finance": OK}
PAYMENT_READERS = {**MONEY_READERS, "landlord_a": OK, "landlord_b": OK}  # landlords: scoped
MONEY_A = {**MONEY_READERS, "landlord_b": HID}  # another's id in the path: hidden first
CONTROLLERS = {**A_ONLY, "viewer": NO, "finance": NO}
ACCOUNT_EDITORS = {**ADMIN, "landlord_a": OK, "landlord_b": HID}
MESSAGE_READERS = {**USERS, "viewer": NO, "finance": NO}  # scoped: their own accounts' only
SCOPED_HIDDEN = {**USERS, "operator": HID, "landlord_a": HID, "landlord_b": HID}
BAD: dict[str, Any] = {"json": {"bogus": 1}}
HIDDEN_BODY = {"error": {"code": "not_found", "message": "未找到。", "field": None,
                         "detail": "not found"}}

# (method, route as the router names it) -> (the path and request sent, outcome per caller)
MATRIX: dict[tuple[str, str], tuple[str, dict[str, Any], dict[str, str]]] = {
    ("GET", "/"): ("/", {}, A_ONLY | {"landlord_b": OK}),
    ("GET", "/states"): ("/states", {}, USERS),
    ("GET", "/lang/{language}"): ("/lang/en", {}, USERS),
    ("GET", "/meters"): ("/meters", {}, USERS),
    ("GET", "/meters/{meter_id}"): ("/meters/a1", {}, A_ONLY),
    ("GET", "/meters/{meter_id}/live"): ("/meters/a1/live", {}, A_ONLY),
    ("POST", "/meters/{meter_id}/{action}"): (
        "/meters/a1/trip", {"json": {}}, {**A_ONLY, "viewer": NO, "finance": NO}),
    ("GET", "/api/meters/{meter_id}/history"): ("/api/meters/a1/history", {}, A_ONLY),
    ("GET", "/accounts"): ("/accounts", {}, USERS),
    ("GET", "/accounts/{account_id}"): ("/accounts/acc_a", {}, A_ONLY),
    ("GET", "/accounts/{account_id}/receipt/{entry_id}"): (
        "/accounts/acc_a/receipt/nope", {}, A_ONLY),
    ("GET", "/accounts/{account_id}/move_out"): ("/accounts/acc_a/move_out", {}, A_ONLY),
    ("POST", "/accounts/{account_id}/move_out"): (
        "/accounts/acc_a/move_out", {"json": {}}, {**MONEY_READERS}),
    ("POST", "/accounts/{account_id}/{action}"): (
        "/accounts/acc_a/recharge", {"json": {}}, {**A_ONLY, "viewer": NO}),
    ("GET", "/login"): ("/login", {}, PUBLIC),
    ("POST", "/login"): ("/login", {"json": {"user": "viewer", "password": "wrong-pw-1"}},
                         PUBLIC),
    ("GET", "/setup"): ("/setup", {}, PUBLIC),
    ("POST", "/setup"): ("/setup", {"json": {"code": "XXXX-XXXX-XXXX"}}, PUBLIC),
    ("POST", "/logout"): ("/logout", {"json": {}}, USERS),
    ("GET", "/api/auth/me"): ("/api/auth/me", {}, USERS),
    ("GET", "/api/auth/users"): ("/api/auth/users", {}, ADMIN),
    ("POST", "/api/auth/users"): ("/api/auth/users", {"json": {"user": "?"}}, ADMIN),
    ("POST", "/api/auth/users/{user_id}"): ("/api/auth/users/viewer", {"json": {}}, ADMIN),
    ("GET", "/api/auth/sessions"): ("/api/auth/sessions", {}, USERS),
    ("POST", "/api/auth/sessions/{session_id}/revoke"): (
        "/api/auth/sessions/nope/revoke", {"json": {}}, USERS),
    ("GET", "/api/auth/tokens"): ("/api/auth/tokens", {}, USERS),
    ("POST", "/api/auth/tokens"): ("/api/auth/tokens", {"json": {"name": ""}}, USERS),
    ("POST", "/api/auth/tokens/{token_id}/revoke"): (
        "/api/auth/tokens/nope/revoke", {"json": {}}, USERS),
    ("GET", "/api/audit"): ("/api/audit", {}, MONEY_READERS),
    ("GET", "/api/"): ("/api/", {}, USERS),
    ("GET", "/api/states"): ("/api/states", {}, USERS),
    ("GET", "/api/states/{entity_id}"): ("/api/states/account.acc_a", {}, A_ONLY),
    ("GET", "/api/services"): ("/api/services", {}, USERS),
    ("GET", "/api/plugins"): ("/api/plugins", {}, USERS),
    ("POST", "/api/services/{domain}/{service}"): (
        "/api/services/meter/why", {"json": {"meter_id": "a1"}}, A_ONLY),
    ("GET", "/static"): ("/static/hub.css", {}, EVERYONE),
    ("GET", "/api/accounts"): ("/api/accounts", {}, USERS),
    ("GET", "/api/accounts/{account_id}"): ("/api/accounts/acc_a", {}, A_ONLY),
    ("GET", "/api/accounts/{account_id}/ledger"): ("/api/accounts/acc_a/ledger", {}, A_ONLY),
    ("GET", "/api/ledger/audit"): ("/api/ledger/audit", {}, USERS),
    ("GET", "/api/bills"): ("/api/bills", {}, USERS),
    ("GET", "/api/bills/{bill_id}"): ("/api/bills/BILL", {}, A_ONLY),
    ("GET", "/api/bills/{bill_id}/statement"): ("/api/bills/BILL/statement", {}, A_ONLY),
    ("GET", "/api/bills/{bill_id}/lines/{no}/readings"): (
        "/api/bills/BILL/lines/1/readings", {}, A_ONLY),
    ("GET", "/api/reports/{name}"): ("/api/reports/consumption", {}, USERS),
    # the REST API (hub/web/api): a bad body where a call would change something, so the
    # outcome is the access rules' alone (a 400 past them is "ok")
    ("GET", "/api/meters"): ("/api/meters", {}, USERS),
    ("GET", "/api/meters/{meter_id}"): ("/api/meters/a1", {}, A_ONLY),
    ("GET", "/api/meters/{meter_id}/live"): ("/api/meters/a1/live", {}, A_ONLY),
    ("POST", "/api/meters/{meter_id}/read"): ("/api/meters/a1/read", BAD, CONTROLLERS),
    ("POST", "/api/meters/{meter_id}/trip"): ("/api/meters/a1/trip", BAD, CONTROLLERS),
    ("POST", "/api/meters/{meter_id}/close"): ("/api/meters/a1/close", BAD, CONTROLLERS),
    ("POST", "/api/meters/{meter_id}/valve"): ("/api/meters/a1/valve", BAD, CONTROLLERS),
    ("POST", "/api/meters/{meter_id}/why"): ("/api/meters/a1/why", BAD, A_ONLY),
    ("GET", "/api/accounts/{account_id}/balance"): ("/api/accounts/acc_a/balance", {}, A_ONLY),
    ("GET", "/api/accounts/{account_id}/holds"): ("/api/accounts/acc_a/holds", {}, A_ONLY),
    ("POST", "/api/accounts/{account_id}/recharge"): (
        "/api/accounts/acc_a/recharge", BAD, {**A_ONLY, "viewer": NO}),
    ("POST", "/api/accounts/{account_id}/emergency_credit"): (
        "/api/accounts/acc_a/emergency_credit", BAD, {**A_ONLY, "viewer": NO}),
    ("POST", "/api/accounts/{account_id}/refund"): ("/api/accounts/acc_a/refund", BAD, MONEY_A),
    ("POST", "/api/accounts/{account_id}/adjustment"): (
        "/api/accounts/acc_a/adjustment", BAD, MONEY_A),
    ("POST", "/api/accounts/{account_id}/move_out"): ("/api/accounts/acc_a/move_out", BAD,
                                                      MONEY_A),
    ("POST", "/api/ledger/entries/{entry_id}/reverse"): ("/api/ledger/entries/x/reverse", BAD,
                                                         MONEY_READERS),
    ("POST", "/api/accounts/{account_id}/holds"): ("/api/accounts/acc_a/holds", BAD,
                                                   CONTROLLERS),
    ("POST", "/api/accounts/{account_id}/holds/release"): (
        "/api/accounts/acc_a/holds/release", BAD, CONTROLLERS),
    ("POST", "/api/accounts/{account_id}/trip_policy"): ("/api/accounts/acc_a/trip_policy",
                                                         BAD, ACCOUNT_EDITORS),
    ("POST", "/api/accounts/{account_id}/settings"): ("/api/accounts/acc_a/settings", BAD,
                                                      ACCOUNT_EDITORS),
    ("POST", "/api/accounts/{account_id}/move_in"): ("/api/accounts/acc_a/move_in", BAD,
                                                     ACCOUNT_EDITORS),
    ("POST", "/api/accounts"): ("/api/accounts", BAD, ADMIN),
    ("POST", "/api/bills"): ("/api/bills", BAD, MONEY_READERS),
    ("POST", "/api/bills/run"): ("/api/bills/run", BAD, MONEY_READERS),
    ("POST", "/api/bills/{bill_id}/issue"): ("/api/bills/BILL/issue", BAD, MONEY_READERS),
    ("GET", "/api/commands"): ("/api/commands", {}, USERS),
    ("GET", "/api/commands/{command_id}"): ("/api/commands/nope", {}, SCOPED_HIDDEN),
    ("GET", "/api/share_groups"): ("/api/share_groups", {}, USERS),
    ("GET", "/api/share_groups/{group_id}"): ("/api/share_groups/nope", {}, SCOPED_HIDDEN),
    ("POST", "/api/share_groups/split"): ("/api/share_groups/split", BAD, ADMIN),
    ("GET", "/api/collection_rates"): ("/api/collection_rates", {}, USERS),
    ("GET", "/api/alarms"): ("/api/alarms", {}, USERS),
    ("GET", "/api/notifications"): ("/api/notifications", {}, MESSAGE_READERS),
    ("POST", "/api/alarms/{alarm_id}/acknowledge"): ("/api/alarms/1-a1-x/acknowledge", {
        "json": {}}, {**CONTROLLERS, "operator": HID, "landlord_a": HID, "landlord_b": HID}),
    ("GET", "/api/automations"): ("/api/automations", {}, ADMIN),
    ("GET", "/api/automations/{automation_id}/traces"): ("/api/automations/x/traces", {},
                                                         ADMIN),
    ("POST", "/api/automations/{automation_id}/enable"): ("/api/automations/x/enable", BAD,
                                                          ADMIN),
    ("POST", "/api/automations/{automation_id}/disable"): ("/api/automations/x/disable", BAD,
                                                           ADMIN),
    ("POST", "/api/automations/{automation_id}/run"): ("/api/automations/x/run", BAD, ADMIN),
    ("POST", "/api/automations/reload"): ("/api/automations/reload", BAD, ADMIN),
    ("GET", "/api/events"): ("/api/events?close_after=0", {}, USERS),
    ("GET", "/api/openapi.json"): ("/api/openapi.json", {}, USERS),
    ("GET", "/api/docs"): ("/api/docs", {}, USERS),
    ("GET", "/health"): ("/health", {}, PUBLIC),
    ("GET", "/metrics"): ("/metrics", {}, WHOLE_SITE),
    # set-up (/manage), automations and reports pages
    ("GET", "/manage"): ("/manage", {}, {**ADMIN, "operator": OK}),
    ("GET", "/manage/accounts/new"): ("/manage/accounts/new", {}, ADMIN),
    ("GET", "/manage/buildings/new"): ("/manage/buildings/new", {}, ADMIN),
    ("POST", "/manage/buildings/new"): ("/manage/buildings/new", {"json": {}}, ADMIN),
    ("POST", "/manage/accounts/new"): ("/manage/accounts/new", {"json": {}}, ADMIN),
    ("GET", "/manage/meters/new"): ("/manage/meters/new", {}, ADMIN),
    ("POST", "/manage/meters/new"): ("/manage/meters/new", {"json": {}}, ADMIN),
    ("GET", "/manage/meters/{meter_id}/edit"): ("/manage/meters/a1/edit", {}, ADMIN),
    ("POST", "/manage/meters/{meter_id}/edit"): ("/manage/meters/a1/edit", {"json": {}}, ADMIN),
    ("GET", "/manage/meters/{meter_id}/replace"): (
        "/manage/meters/a1/replace", {}, {**ADMIN, "operator": OK}),
    ("POST", "/manage/meters/{meter_id}/replace"): (
        "/manage/meters/a1/replace", {"json": {}}, {**ADMIN, "operator": OK}),
    ("GET", "/automations"): ("/automations", {}, WHOLE_SITE),
    ("GET", "/automations/edit"): ("/automations/edit", {}, ADMIN),
    ("POST", "/automations/edit"): ("/automations/edit", {"json": {}}, ADMIN),
    ("GET", "/automations/{automation_id}"): ("/automations/nope", {}, WHOLE_SITE),
    ("POST", "/automations/{automation_id}/{action}"): (
        "/automations/nope/disable", {"json": {}}, ADMIN),
    ("GET", "/reports"): ("/reports", {}, MONEY_READERS),
    ("GET", "/devices"): ("/devices", {}, USERS),
    ("GET", "/alarms"): ("/alarms", {}, USERS),
    ("GET", "/notifications"): ("/notifications", {}, MESSAGE_READERS),
    ("GET", "/users"): ("/users", {}, ADMIN),
    ("POST", "/users"): ("/users", {"json": {}}, ADMIN),
    ("POST", "/users/{user_id}/{action}"): ("/users/nobody/enable", {"json": {}}, ADMIN),
    ("POST", "/users/{user_id}/password"): ("/users/nobody/password", {"json": {}}, ADMIN),
    ("GET", "/me"): ("/me", {}, USERS),
    ("POST", "/me/password"): ("/me/password", {"json": {}}, USERS),
    ("POST", "/tokens/{token_id}/revoke"): ("/tokens/nope/revoke", {"json": {}}, ADMIN),
    ("GET", "/audit"): ("/audit", {}, MONEY_READERS),
    ("GET", "/bills"): ("/bills", {}, USERS),
    ("GET", "/bills/{bill_id}"): ("/bills/BILL", {}, A_ONLY),
    # the payments pages (this site has no payments: the handler's 404 once let through)
    ("GET", "/payments"): ("/payments", {}, PAYMENT_READERS),
    ("GET", "/payments/orders/{order_id}"): ("/payments/orders/o1", {}, PAYMENT_READERS),
    ("POST", "/payments/orders/{order_id}/refund"): (
        "/payments/orders/o1/refund", {"json": {}}, MONEY_READERS),
    ("GET", "/payments/reconciliation"): ("/payments/reconciliation", {}, PAYMENT_READERS),
    ("POST", "/payments/reconciliation"): ("/payments/reconciliation", {"json": {}},
                                           MONEY_READERS),
    ("POST", "/alarms/ack"): ("/alarms/ack", {"json": {}}, {**USERS, "viewer": NO}),
    # platform pushes check their own token or signature (none configured here: 404 link)
    ("POST", "/api/nbiot/{link_id}/ctwing"): ("/api/nbiot/nb1/ctwing", {"json": {}}, PUBLIC),
    ("GET", "/api/nbiot/{link_id}/onenet"): ("/api/nbiot/nb1/onenet", {}, PUBLIC),
    ("POST", "/api/nbiot/{link_id}/onenet"): ("/api/nbiot/nb1/onenet", {"json": {}}, PUBLIC),
    # the tenant portal: the link's token in the URL (A's account)
    ("GET", "/tenant/{token}"): ("/tenant/TOKEN", {}, TENANT),
    ("GET", "/tenant/{token}/bills"): ("/tenant/TOKEN/bills", {}, TENANT),
    ("GET", "/tenant/{token}/bills/{bill_id}"): ("/tenant/TOKEN/bills/BILL", {}, TENANT),
    ("GET", "/tenant/{token}/ledger"): ("/tenant/TOKEN/ledger", {}, TENANT),
    ("GET", "/tenant/{token}/notices"): ("/tenant/TOKEN/notices", {}, TENANT),
    ("GET", "/tenant/back"): ("/tenant/back", {}, TENANT),  # the link in a cookie
    ("GET", "/tenant/back/wechat"): ("/tenant/back/wechat", {}, TENANT),
    ("GET", "/tenant/{token}/orders/{order_id}"): ("/tenant/TOKEN/orders/o1", {}, TENANT),
    ("POST", "/tenant/{token}/emergency"): ("/tenant/TOKEN/emergency", {}, TENANT),
    ("POST", "/tenant/{token}/pay"): ("/tenant/TOKEN/pay", {"json": {"amount": "20"}}, TENANT),
}

# the service calls: which role may call which service, on building A's meter or account
SERVICES: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "meter.why": ({"meter_id": "a1"}, A_ONLY),
    "meter.trip": ({"meter_id": "a1", "reason": "matrix"},
                   {**A_ONLY, "viewer": NO, "finance": NO}),
    "account.recharge": ({"account_id": "acc_a", "amount": "1.00", "method": "cash",
                          "reference": "matrix-{caller}"}, {**A_ONLY, "viewer": NO}),
    "account.refund": ({"account_id": "acc_a", "amount": "0.01", "reference": "r-{caller}"},
                       {**MONEY_READERS}),
    "account.adjust": ({"account_id": "acc_a", "amount": "0.01", "reason": "matrix"},
                       {**MONEY_READERS}),
    "account.update": ({"account_id": "acc_a", "changes": {"name": "甲"}},
                       {**ADMIN, "landlord_a": OK, "landlord_b": HID}),
    "account.create": ({"account": {"id": "acc_{caller}", "name": "x"}}, ADMIN),
    "bill.run": ({}, MONEY_READERS),
}


def _outcome(status: int, access: str) -> str:
    return access if access in (NO, HID) else OK


def _headers(site: Site, caller: str, path: str = "") -> dict[str, str]:
    if caller == "tenant":  # its link opens its URL; elsewhere it can only be sent as bearer
        return {} if path.startswith("/tenant/") else {
            "Authorization": f"Bearer {site.tokens['tenant']}"}
    return {} if caller == "anonymous" else site.bearer(caller)


async def _tenant_link(site: Site) -> None:
    """Issue A's portal link: the ``tenant`` caller's key."""
    status, made, _ = await site.call("POST", "/api/services/tenant/link?return_response=1",
                                      json={"account_id": "acc_a"}, headers=site.bearer("admin"))
    assert status == 200, made
    site.tokens["tenant"] = made["response"]["token"]


def _routes(site: Site) -> set[tuple[str, str]]:
    app = site.hub.component("web", WebServer).runner.app  # type: ignore[union-attr]
    return {(route.method, route.resource.canonical) for route in app.router.routes()
            if route.resource is not None and route.method != "HEAD"}


@pytest.mark.timeout(270)
@bounded(240)
async def test_every_route_answers_every_caller_as_the_table_says(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        routes = _routes(site)
        assert routes == set(MATRIX), (
            f"routes without a row in MATRIX: {sorted(routes - set(MATRIX))}; rows of no "
            f"route: {sorted(set(MATRIX) - routes)}")
        status, made, _ = await site.call(  # building A's bill, for the bill routes
            "POST", "/api/services/bill/create?return_response=1",
            json={"account_id": "acc_a"}, headers=site.bearer("admin"))
        assert status == 200, made
        bill = made["response"]["bill_id"]
        await site.hub.services.call("bill", "issue", {"bill_id": bill})
        await _tenant_link(site)
        wrong = []
        for (method, route), (template, request, expected) in sorted(MATRIX.items()):
            path = template.replace("BILL", bill).replace("TOKEN", site.tokens["tenant"])
            for caller in CALLERS:
                for verb in (method, "HEAD") if method == "GET" else (method,):
                    status, body, access = await site.call(
                        verb, path, headers=_headers(site, caller, path), **request)
                    got = _outcome(status, access)
                    if got != expected[caller]:
                        wrong.append(f"{verb} {route} as {caller}: {got} ({status} {body}), "
                                     f"expected {expected[caller]}")
        assert not wrong, "\n".join(wrong)


@pytest.mark.timeout(270)
@bounded(240)
async def test_each_service_is_called_only_by_the_roles_the_table_names(
        tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        await _tenant_link(site)
        wrong = []
        for name, (template, expected) in SERVICES.items():
            domain, _, service = name.partition(".")
            for caller in CALLERS:
                data = {key: value.format(caller=caller) if isinstance(value, str) else value
                        for key, value in template.items()}
                if "account" in data:
                    data["account"] = {**data["account"], "id": f"acc_{caller}"}
                status, body, access = await site.call(
                    "POST", f"/api/services/{domain}/{service}", json=data,
                    headers=_headers(site, caller))
                got = _outcome(status, access)
                if got != expected[caller]:
                    wrong.append(f"{name} as {caller}: {got} ({status} {body}), expected "
                                 f"{expected[caller]}")
                if got == HID:  # nothing about building A leaks to landlord B
                    assert "acc_a" not in str(body) and "a1" not in str(body), body
        assert not wrong, "\n".join(wrong)
        # and what the denied did not do: only allowed callers' recharges are in the ledger
        status, body, _ = await site.call("GET", "/api/accounts/acc_a/ledger",
                                          headers=site.bearer("admin"))
        references = sorted(entry["detail"]["reference"] for entry in body["entries"]
                            if entry["kind"] == "recharge")
        assert references == sorted(f"matrix-{caller}" for caller in CALLERS
                                    if SERVICES["account.recharge"][1][caller] == OK)


@pytest.mark.parametrize("caller", ["landlord_a", "landlord_b", "operator"])
@pytest.mark.timeout(150)
@bounded(120)
async def test_lists_show_a_scoped_caller_only_their_buildings(tmp_path: Path,
                                                               caller: str) -> None:
    mine = {"landlord_a": "a", "operator": "a", "landlord_b": "b"}[caller]
    async with access_site(tmp_path) as site:
        _status, states, _ = await site.call("GET", "/api/states", headers=site.bearer(caller))
        ids = {state["entity_id"] for state in states["items"]}
        assert ids == {f"account.acc_{mine}", f"meter.{mine}1"} - (
            set() if f"meter.{mine}1" in ids else {f"meter.{mine}1"})
        assert not any(entity.endswith(("_a", "a1") if mine == "b" else ("_b", "b1"))
                       for entity in ids)
        _status, accounts, _ = await site.call("GET", "/api/accounts",
                                               headers=site.bearer(caller))
        assert [account["id"] for account in accounts["items"]] == [f"acc_{mine}"]
        status, page, _ = await site.call("GET", "/", headers=site.bearer(caller))
        other = "b" if mine == "a" else "a"
        assert status == 200 and f"acc_{mine}" in page and f"acc_{other}" not in page
        bills = {}
        for account in ("acc_a", "acc_b"):
            _status, made, _ = await site.call(
                "POST", "/api/services/bill/create?return_response=1",
                json={"account_id": account}, headers=site.bearer("admin"))
            bills[account] = made["response"]["bill_id"]
        _status, listed, _ = await site.call("GET", "/api/bills", headers=site.bearer(caller))
        assert [bill["bill_id"] for bill in listed["items"]] == [bills[f"acc_{mine}"]]
        # another landlord's id, a made-up id and a filter: all "not found", alike
        answers = set()
        for path in (f"/api/accounts/acc_{other}", "/api/accounts/acc_zz",
                     f"/api/states/meter.{other}1", "/api/states/meter.zz",
                     f"/api/bills/{bills[f'acc_{other}']}", "/api/bills/zz",
                     f"/api/bills/{bills[f'acc_{other}']}/statement"):
            status, body, access = await site.call("GET", path, headers=site.bearer(caller))
            answers.add((status, str(body), access))
        assert answers == {(404, str(HIDDEN_BODY), "hidden")}


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_scoped_read_by_tags_stays_inside_the_scope(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        answers = {}
        for tags in ({"building": "A"}, {"building": "B"}, {}, {"floor": "1"}):
            status, body, access = await site.call(
                "POST", "/api/services/meter/read?return_response=1", json={"tags": tags},
                headers=site.bearer("landlord_a"))
            answers[str(tags)] = (status, access, sorted((body.get("response") or {})
                                                         .get("read", [])) if status == 200
                                  else body)
        assert answers == {
            "{'building': 'A'}": (200, "", ["a1"]),
            "{'building': 'B'}": (404, "hidden", HIDDEN_BODY),
            "{}": (404, "hidden", HIDDEN_BODY),
            "{'floor': '1'}": (404, "hidden", HIDDEN_BODY),
        }
