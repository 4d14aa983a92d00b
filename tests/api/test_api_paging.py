"""The lists that answered bare arrays (states, plugins, users, sessions, tokens, audit) are
paged like every other list: walked one item at a time each item comes exactly once, a bad
``limit`` gets the error body, and the CLI's client follows ``next`` to the end."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from access_support import PASSWORD, Site, access_site
from common import bounded

from hub import client as client_module
from hub.client import HubClient

LISTS = [  # path, caller, the key that tells items apart
    ("/api/states", "admin", "entity_id"),
    ("/api/plugins", "admin", "name"),
    ("/api/auth/users", "admin", "user"),
    ("/api/auth/sessions?all=1", "admin", "id"),
    ("/api/auth/tokens?all=1", "admin", "id"),
    ("/api/audit", "finance", None),  # a row has no id: the whole row
]
BAD_LIMITS = ("0", "501", "-1", "ten", "")


def _key(item: dict[str, Any], key: str | None) -> str:
    return str(item[key]) if key else json.dumps(item, sort_keys=True)


async def _walk(site: Site, path: str, user: str) -> list[dict[str, Any]]:
    """Every item, one per page, following ``next`` (and checking its Link header)."""
    found: list[dict[str, Any]] = []
    url: str | None = path + ("&" if "?" in path else "?") + "limit=1"
    pages = 0
    while url is not None:
        async with site.session.get(site.base + url, headers=site.bearer(user)) as response:
            assert response.status == 200, (url, await response.text())
            page = await response.json()
            link = response.headers.get("Link")
        assert set(page) == {"items", "total", "next"}, page
        assert len(page["items"]) == 1, (url, page)
        assert link == (f'<{page["next"]}>; rel="next"' if page["next"] else None), link
        found += page["items"]
        url = page["next"]
        pages += 1
        assert pages < 1000, "the next links never end"
    return found


async def _sessions(site: Site) -> None:
    for user in ("admin", "viewer", "finance"):
        await site.auth.login(user, PASSWORD, "127.0.0.1", "test")


@pytest.mark.timeout(240)
@bounded(200)
async def test_each_list_paged_by_one_gives_every_item_exactly_once(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        await _sessions(site)
        for path, user, key in LISTS:
            status, whole, _ = await site.call(
                "GET", path + ("&" if "?" in path else "?") + "limit=500",
                headers=site.bearer(user))
            assert status == 200 and whole["next"] is None, (path, whole)
            full = [_key(item, key) for item in whole["items"]]
            assert len(full) >= 3, (path, full)  # enough to need several pages
            if whole["total"] is not None:
                assert whole["total"] == len(full), path
            walked = [_key(item, key) for item in await _walk(site, path, user)]
            assert Counter(walked) == Counter(full), (path, walked, full)
            assert walked == full, path  # and in the same order


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_bad_limit_or_cursor_gets_the_error_body(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        for path, user, _key_name in LISTS:
            joiner = "&" if "?" in path else "?"
            for limit in BAD_LIMITS:
                status, body, _ = await site.call("GET", f"{path}{joiner}limit={limit}",
                                                  headers=site.bearer(user))
                assert status == 400, (path, limit, body)
                error = body["error"]
                assert (error["code"], error["field"]) == ("invalid", "limit"), (path, body)
                assert error["message"] and error["detail"], body
            status, body, _ = await site.call("GET", f"{path}{joiner}cursor=abc",
                                              headers=site.bearer(user))
            assert (status, body["error"]["field"]) == (400, "cursor"), (path, body)
        status, body, _ = await site.call("GET", "/api/audit?start=yesterday&limit=5",
                                          headers=site.bearer("admin"))
        assert (status, body["error"]["field"]) == (400, "start"), body


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_openapi_document_pages_these_lists(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        _s, doc, _ = await site.call("GET", "/api/openapi.json", headers=site.bearer("admin"))
        for path, _user, _key_name in LISTS:
            operation = doc["paths"][path.split("?")[0]]["get"]
            answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert answer["required"] == ["items", "total", "next"], (path, answer)
            assert answer["properties"]["items"]["items"].get("properties"), (path, answer)
            names = {p["name"] for p in operation["parameters"]}
            assert {"limit", "cursor"} <= names, (path, names)


@pytest.mark.timeout(150)
@bounded(120)
async def test_the_cli_client_follows_next_to_the_end(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "PAGE_SIZE", 2)  # several pages from a few users
    async with access_site(tmp_path) as site:
        client = HubClient(site.hub.config, int(site.base.rsplit(":", 1)[1]), timeout=30)
        client.token = site.tokens["admin"]
        users = await asyncio.to_thread(client.items, "/api/auth/users")
        _s, whole, _ = await site.call("GET", "/api/auth/users?limit=500",
                                       headers=site.bearer("admin"))
        assert users == whole["items"] and len(users) == 6
        tokens = await asyncio.to_thread(client.items, "/api/auth/tokens", {"all": "1"})
        assert len(tokens) == 6  # everyone's, the parameter kept on every page
        _s, audit, _ = await site.call("GET", "/api/audit?limit=500",
                                       headers=site.bearer("admin"))
        first = await asyncio.to_thread(client.items, "/api/audit", None, 5)
        assert first == audit["items"][:5]  # --limit 5: five rows, from three pages
