"""The guard against a browser on another site, a rebound host name, brute force, stolen or
stale credentials and abusive bodies — all over real loopback sockets."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from access_support import (
    PASSWORD,
    REQUEST_TIMEOUT,
    ROOT,
    SITE,
    Site,
    access_site,
    login,
)
from aiohttp import web
from common import bounded, start_hub

from hub.auth import Auth
from hub.core import Hub
from hub.hookspecs import hookimpl
from hub.web.access import SESSION_COOKIE
from hub.web.server import WebServer

EVIL = "http://evil.example"
RECHARGE = "/api/services/account/recharge"


def _recharge(reference: str) -> dict[str, str]:
    return {"account_id": "acc_a", "amount": "77.00", "method": "cash",
            "reference": reference}


def _browser(site: Site) -> aiohttp.ClientSession:
    """A browser's cookie jar (it keeps cookies of 127.0.0.1)."""
    return aiohttp.ClientSession(timeout=REQUEST_TIMEOUT,
                                 cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _balance(site: Site) -> str:
    _status, body, _ = await site.call("GET", "/api/accounts/acc_a",
                                       headers=site.bearer("admin"))
    return str(body["balance"])


async def _post(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> int:
    async with session.post(url, allow_redirects=False, **kwargs) as response:
        await response.read()
        return response.status


# --- cross-site requests (CSRF) --------------------------------------------------------------

@pytest.mark.timeout(150)
@bounded(120)
async def test_a_cross_origin_form_post_and_a_no_cors_fetch_are_refused(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site, _browser(site) as browser:
        assert (await login(browser, site.base, "finance"))[0] == 200
        url = site.base + RECHARGE
        form = '{"account_id": "acc_a", "amount": "77.00", "method": "cash", "x": "=' + '"}'
        # <form enctype="text/plain"> on evil.example: no preflight, the cookie rides along
        assert await _post(browser, url, data=form, headers={
            "Content-Type": "text/plain", "Origin": EVIL}) == 403
        # fetch(url, {mode: "no-cors", method: "POST", credentials: "include"})
        assert await _post(browser, url, data=form, headers={
            "Content-Type": "text/plain", "Origin": EVIL, "Sec-Fetch-Mode": "no-cors",
            "Sec-Fetch-Site": "cross-site"}) == 403
        # an old browser that sends no Origin, but says where the page is
        assert await _post(browser, url, json=_recharge("r1"),
                           headers={"Sec-Fetch-Site": "cross-site"}) == 403
        # the hub's own page, but a text/plain body: refused too (JSON or a form with CSRF)
        assert await _post(browser, url, data=form, headers={
            "Content-Type": "text/plain", "Origin": site.base}) == 415
        assert await _balance(site) == "0.00"
        # the hub's own page with JSON: the same session may change money
        assert await _post(browser, url, json=_recharge("r2"),
                           headers={"Origin": site.base}) == 200
        assert await _balance(site) == "77.00"


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_form_needs_its_own_sessions_csrf_token(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site, _browser(site) as first, \
            _browser(site) as second:
        _status, mine = await login(first, site.base, "finance")
        _status, theirs = await login(second, site.base, "finance")
        url = site.base + RECHARGE
        fields = _recharge("f1")
        assert await _post(first, url, data={**fields, "csrf": theirs["csrf"]}) == 403
        assert await _post(first, url, data=fields) == 403  # none at all
        assert await _balance(site) == "0.00"
        # the page's logout form carries the session's own token: accepted
        assert await _post(first, site.base + "/logout", data={"csrf": mine["csrf"]}) == 303
        async with first.get(site.base + "/api/auth/me") as response:
            assert response.status == 401  # that session is over


# --- Host (DNS rebinding) --------------------------------------------------------------------

@pytest.mark.timeout(150)
@bounded(120)
async def test_a_foreign_host_name_is_refused_even_with_a_token(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        for host, status in (("evil.example", 421), ("evil.example:8123", 421),
                             ("localhost", 200), (f"127.0.0.1:{site.base.rsplit(':', 1)[1]}",
                                                  200)):
            got, _body, _ = await site.call("GET", "/api/", headers={
                **site.bearer("admin"), "Host": host})
            assert got == status, host
        got, _body, _ = await site.call("POST", RECHARGE, json=_recharge("h1"), headers={
            **site.bearer("admin"), "Host": "evil.example"})
        assert got == 421 and await _balance(site) == "0.00"
        got, _body, _ = await site.call("GET", "/login", headers={"Host": "evil.example"})
        assert got == 421  # the login page too: a rebound name gets nothing


@pytest.mark.timeout(150)
@bounded(120)
async def test_allowed_hosts_replace_the_default(tmp_path: Path) -> None:
    text = SITE.replace("http: {host: 127.0.0.1, port: 0}",
                        "http: {host: 127.0.0.1, port: 0, allowed_hosts: [hub.lan]}")
    async with access_site(tmp_path, text) as site:
        ok, _b, _ = await site.call("GET", "/api/", headers={**site.bearer("admin"),
                                                              "Host": "hub.lan:8123"})
        no, _b, _ = await site.call("GET", "/api/", headers={**site.bearer("admin"),
                                                              "Host": "localhost"})
        assert (ok, no) == (200, 421)


# --- logins ----------------------------------------------------------------------------------

@pytest.mark.timeout(150)
@bounded(120)
async def test_failed_logins_are_limited_per_user_and_per_address(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with access_site(tmp_path) as site:
        for _ in range(5):
            assert (await login(site.session, site.base, "viewer", "wrong-pass-1"))[0] == 401
        status, body = await login(site.session, site.base, "viewer")  # the right password
        assert status == 429 and "too many failed logins" in body["error"]["detail"]
        assert (await login(site.session, site.base, "finance"))[0] == 200  # another user
        for index in range(15):  # 20 failures from this address in all
            await login(site.session, site.base, f"nobody{index}", "wrong-pass-1")
        assert (await login(site.session, site.base, "finance"))[0] == 429
        failed = [r for r in caplog.records if "Failed login" in r.getMessage()]
        assert len(failed) == 20 and "127.0.0.1" in failed[0].getMessage()
        assert "wrong-pass-1" not in caplog.text and PASSWORD not in caplog.text
        # the attempts are in the audit trail too
        _s, rows, _ = await site.call("GET", "/api/audit?user=viewer",
                                      headers=site.bearer("admin"))
        assert [r["action"] for r in rows["items"]].count("login_failed") == 5


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_session_cookie_is_httponly_strict_and_secure_behind_tls(
        tmp_path: Path) -> None:
    text = SITE.replace("http: {host: 127.0.0.1, port: 0}",
                        "http: {host: 127.0.0.1, port: 0, trusted_proxies: [127.0.0.1]}")
    async with access_site(tmp_path, text) as site:
        for proto, secure in (("http", False), ("https", True)):
            async with site.session.post(site.base + "/login", json={
                    "user": "viewer", "password": PASSWORD},
                    headers={"X-Forwarded-Proto": proto}) as response:
                assert response.status == 200
                cookie = response.cookies[SESSION_COOKIE]
            assert cookie["httponly"] is True and cookie["samesite"] == "Strict"
            assert bool(cookie["secure"]) is secure


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_login_page_works_with_a_plain_form(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site, _browser(site) as browser:
        async with browser.get(site.base + "/", allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/login?next=/"
        async with browser.get(site.base + "/login?next=/") as response:
            html = await response.text()
        assert 'name="password"' in html and 'type="password"' in html
        csrf = html.split('name="csrf" value="')[1].split('"')[0]
        async with browser.post(site.base + "/login", allow_redirects=False, data={
                "user": "landlord_a", "password": PASSWORD, "csrf": csrf,
                "next": "//evil.example/"}) as response:
            assert response.status == 303 and response.headers["Location"] == "/"
        async with browser.get(site.base + "/") as response:
            page = await response.text()
        assert response.status == 200 and "landlord_a" in page and "acc_a" in page
        async with browser.post(site.base + "/login", data={
                "user": "viewer", "password": PASSWORD, "csrf": "forged"}) as response:
            assert response.status == 403  # a login form not from the hub's page


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_set_up_code_makes_the_first_admin_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with start_hub(tmp_path, SITE) as hub, \
            aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as session:
        base = f"http://127.0.0.1:{hub.component('web', WebServer).port}"
        code = next(r.getMessage().split("set-up code ")[1].split()[0]
                    for r in caplog.records if "set-up code" in r.getMessage())
        async with session.get(base + "/login", allow_redirects=False) as response:
            assert response.headers["Location"] == "/setup"
        body = {"code": "AAAA-BBBB-CCCC", "user": "boss", "password": PASSWORD}
        async with session.post(base + "/setup", json=body) as response:
            assert response.status == 401
        async with session.post(base + "/setup", json={**body, "code": code}) as response:
            assert response.status == 200 and (await response.json())["role"] == "admin"
        async with session.post(base + "/setup", json={**body, "code": code,
                                                       "user": "boss2"}) as response:
            assert response.status == 401  # used
        assert (await login(session, base, "boss"))[0] == 200


# --- revocation, disabled users, stale cookies ----------------------------------------------

@pytest.mark.timeout(150)
@bounded(120)
async def test_a_revoked_token_stops_and_its_last_use_is_recorded(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        status, created, _ = await site.call("POST", "/api/auth/tokens", json={
            "name": "erp"}, headers=site.bearer("finance"))
        assert status == 200 and created["token"].startswith("mht_")
        token = {"Authorization": f"Bearer {created['token']}"}
        assert (await site.call("GET", "/api/accounts", headers=token))[0] == 200
        _s, listed, _ = await site.call("GET", "/api/auth/tokens", headers=token)
        mine = next(t for t in listed["items"] if t["id"] == created["id"])
        assert mine["last_used"] and mine["last_address"] == "127.0.0.1"
        assert "token" not in mine and created["token"] not in str(listed)
        status, _b, _ = await site.call("POST", f"/api/auth/tokens/{created['id']}/revoke",
                                        json={}, headers=site.bearer("finance"))
        assert status == 200
        status, body, _ = await site.call("GET", "/api/accounts", headers=token)
        assert status == 401 and "revoked" in body["error"]["detail"]
        # a landlord cannot revoke (or see) another user's token: "no token"
        status, _b, _ = await site.call(
            "POST", f"/api/auth/tokens/{created['id']}/revoke", json={},
            headers=site.bearer("landlord_b"))
        assert status == 404


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_revoked_session_and_a_disabled_user_are_logged_out(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site, _browser(site) as phone, \
            _browser(site) as laptop:
        await login(phone, site.base, "operator")
        await login(laptop, site.base, "operator")
        async with laptop.get(site.base + "/api/auth/sessions") as response:
            sessions = (await response.json())["items"]
        assert len(sessions) == 2
        phone_id = next(s["id"] for s in sessions)  # newest first: the laptop's
        async with laptop.post(site.base + f"/api/auth/sessions/{phone_id}/revoke",
                               json={}) as response:
            assert response.status == 200
        async with laptop.get(site.base + "/api/auth/me") as response:
            assert response.status == 401  # that was the laptop's own
        async with phone.get(site.base + "/api/auth/me") as response:
            assert response.status == 200
        status, _b, _ = await site.call("POST", "/api/auth/users/operator",
                                        json={"disabled": True}, headers=site.bearer("admin"))
        assert status == 200
        async with phone.get(site.base + "/api/auth/me") as response:
            assert response.status == 401
        status, _b, _ = await site.call("GET", "/api/states", headers=site.bearer("operator"))
        assert status == 401  # the disabled user's token too
        assert (await login(site.session, site.base, "operator"))[0] == 401


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_tampered_or_expired_cookie_is_nobody(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site, _browser(site) as browser:
        await login(browser, site.base, "viewer")
        secret = next(c.value for c in browser.cookie_jar if c.key == SESSION_COOKIE)
        tampered = secret[:-2] + ("AA" if not secret.endswith("AA") else "BB")
        for value in (tampered, "", "x" * 5000):
            status, _b, _ = await site.call("GET", "/api/auth/me",
                                            headers={"Cookie": f"{SESSION_COOKIE}={value}"})
            assert status in (400, 401)
        status, _b, _ = await site.call("GET", "/api/auth/me",
                                        headers={"Cookie": f"{SESSION_COOKIE}={secret}"})
        assert status == 200
        site.auth.clock = lambda: time.time() + 15 * 86_400  # past its 14 days
        status, _b, _ = await site.call("GET", "/api/auth/me",
                                        headers={"Cookie": f"{SESSION_COOKIE}={secret}"})
        assert status == 401


# --- bodies ----------------------------------------------------------------------------------

@pytest.mark.timeout(150)
@bounded(120)
async def test_a_huge_body_is_refused_and_a_slow_one_is_dropped(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        huge = b'{"account_id": "acc_a", "x": "' + b"x" * (2 * 1024 * 1024) + b'"}'
        status, _b, _ = await site.call("POST", RECHARGE, data=huge, headers={
            **site.bearer("admin"), "Content-Type": "application/json"})
        assert status == 413
        site.hub.component("web", WebServer).guard.body_timeout = 0.5
        port = int(site.base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write((f"POST {RECHARGE} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: {site.bearer('admin')['Authorization']}\r\n"
                      "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{").encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readline(), 10)
        writer.close()
        assert b" 408 " in head
        assert await _balance(site) == "0.00"


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_client_that_never_finishes_its_headers_is_cut_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hub.web.server.IDLE_TIMEOUT", 1.0)
    async with start_hub(tmp_path, SITE) as hub:
        port = hub.component("web", WebServer).port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        await writer.drain()
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 20) == b""  # closed, nothing served
        writer.close()
        assert time.monotonic() - started < 10


@pytest.mark.timeout(150)
@bounded(120)
async def test_static_files_do_not_lead_outside_their_folder(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        for path in ("/static/../../hub/auth/manager.py", "/static/..%2f..%2fpyproject.toml",
                     "/static/%2e%2e/%2e%2e/pyproject.toml"):
            status, body, _ = await site.call("GET", path)
            assert status in (403, 404), path
            assert "argon2" not in str(body) and "import" not in str(body)
        status, css, _ = await site.call("GET", "/static/hub.css")
        assert status == 200 and "{" in css


# --- routes of plugins -----------------------------------------------------------------------

class _Plugin:
    """A plugin with routes that say nothing about who may call them."""

    @hookimpl
    def register_routes(self, hub: Hub) -> list[web.RouteDef]:
        async def change(request: web.Request) -> web.Response:
            return web.json_response({"changed": True})

        async def read(request: web.Request) -> web.Response:
            return web.json_response({"everything": True})
        return [web.post("/api/plugin/change", change), web.get("/api/plugin/read", read)]


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_plugin_route_without_a_rule_is_admin_only_for_changes(tmp_path: Path) -> None:
    async with start_hub(tmp_path, SITE, plugins=[(_Plugin(), "p")]) as hub, \
            aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as session:
        live = Site(hub, f"http://127.0.0.1:{hub.component('web', WebServer).port}", session)
        for name, role, scope in (("boss", "admin", {}), ("fin", "finance", {}),
                                  ("lla", "landlord", {"building": "A"})):
            await live.auth.add_user(name, role, scope, PASSWORD, by="@test")
            _row, live.tokens[name] = await live.auth.create_token(name, "t", None, None,
                                                                   by=ROOT)
        got = {name: (await live.call("POST", "/api/plugin/change", json={},
                                      headers=live.bearer(name)))[0] for name in live.tokens}
        assert got == {"boss": 200, "fin": 403, "lla": 403}
        got = {name: (await live.call("GET", "/api/plugin/read",
                                      headers=live.bearer(name)))[0] for name in live.tokens}
        assert got == {"boss": 200, "fin": 200, "lla": 403}  # the whole site: not for a scope


@pytest.mark.timeout(150)
@bounded(120)
async def test_failed_logins_still_count_after_a_restart(tmp_path: Path) -> None:
    async with start_hub(tmp_path, SITE) as hub:
        await hub.component("auth", Auth).add_user("viewer", "viewer", {}, PASSWORD, by="@test")
        base = f"http://127.0.0.1:{hub.component('web', WebServer).port}"
        async with aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as session:
            for _ in range(5):
                assert (await login(session, base, "viewer", "wrong-pass-1"))[0] == 401
    async with start_hub(tmp_path, SITE) as hub:  # the same database, a new process state
        base = f"http://127.0.0.1:{hub.component('web', WebServer).port}"
        async with aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as session:
            status, body = await login(session, base, "viewer")
            assert status == 429 and "too many failed logins" in body["error"]["detail"]
