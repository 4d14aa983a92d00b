"""A site with two landlords' buildings and a user of every role, served on 127.0.0.1
(imported by name: tests/ is on sys.path). Generic helpers: common.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from common import start_hub

from hub.auth import Auth, Principal, Role
from hub.core import Hub
from hub.web.server import WebServer

PASSWORD = "correct-horse-7"
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)

SITE = """
site: {name: Access, time_zone: Asia/Shanghai}
http: {host: 127.0.0.1, port: 0}
metering: {read_on_start: false}
storage: {commit_interval: 0.02}
links:
  - {id: sim1, type: sim, speed: 0}
meters:
  - {id: a1, model: ddsy, link: sim1, address: "202400000001", account: acc_a, tariff: flat,
     tags: {building: A}}
  - {id: b1, model: ddsy, link: sim1, address: "202400000002", account: acc_b, tariff: flat,
     tags: {building: B}}
accounts:
  - {id: acc_a, name: 甲}
  - {id: acc_b, name: 乙}
tariffs:
  - {id: flat, type: flat, price: 1.00}
"""

USERS: dict[str, tuple[str, dict[str, str]]] = {
    "admin": ("admin", {}),
    "viewer": ("viewer", {}),
    "operator": ("operator", {"building": "A"}),
    "finance": ("finance", {}),
    "landlord_a": ("landlord", {"building": "A"}),
    "landlord_b": ("landlord", {"building": "B"}),
}
"""Login name -> (role, scope): the callers of the auth matrix."""

ROOT = Principal("@test", Role.ADMIN, {}, "cli")


@dataclass
class Site:
    """A started hub, its base URL, each user's API token, and a client session."""

    hub: Hub
    base: str
    session: aiohttp.ClientSession
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def auth(self) -> Auth:
        return self.hub.component("auth", Auth)

    def bearer(self, user: str) -> dict[str, str]:
        """The Authorization header of ``user``'s token."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, str]:
        """A real request: (status, JSON body or text, the X-Access header or "")."""
        kwargs.setdefault("allow_redirects", False)
        async with self.session.request(method, self.base + path, **kwargs) as response:
            text = await response.text()
            try:
                body: Any = await response.json(content_type=None) if text else None
            except ValueError:
                body = text
            return response.status, body, response.headers.get("X-Access", "")


@asynccontextmanager
async def access_site(tmp_path: Path, text: str = SITE) -> AsyncIterator[Site]:
    """The site started, every user of :data:`USERS` with a password and an API token."""
    async with start_hub(tmp_path, text) as hub, \
            aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as session:
        site = Site(hub, f"http://127.0.0.1:{hub.component('web', WebServer).port}", session)
        for name, (role, scope) in USERS.items():
            await site.auth.add_user(name, role, scope, PASSWORD, by="@test")
            _row, site.tokens[name] = await site.auth.create_token(name, "matrix", None, None,
                                                                   by=ROOT)
        yield site


async def login(session: aiohttp.ClientSession, base: str, user: str,
                password: str = PASSWORD, **kwargs: Any) -> tuple[int, Any]:
    """POST /login as JSON; (status, body) — the session cookie lands in ``session``."""
    async with session.post(f"{base}/login", json={"user": user, "password": password},
                            **kwargs) as response:
        return response.status, await response.json(content_type=None)
