"""The API guard: changes only from the hub's own machine or with the API token, except
routes that authenticate their callers themselves (platform pushes, payment notices)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from hub.config import HubConfig
from hub.core import Hub
from hub.plugins import PluginManager
from hub.web.routes import self_authenticated
from hub.web.server import WebServer


async def _ok(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@self_authenticated
async def _push(request: web.Request) -> web.Response:
    return web.json_response({"pushed": True})


def _request(app: web.Application, method: str, path: str, remote: str,
             headers: dict[str, str] | None = None) -> web.Request:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (remote, 40000) if name == "peername" else default)
    return make_mocked_request(method, path, headers=headers or {}, app=app,
                               transport=transport)


async def _through_guard(server: WebServer, app: web.Application, method: str, path: str,
                         remote: str, headers: dict[str, str] | None = None) -> int:
    request = _request(app, method, path, remote, headers)
    match = await app.router.resolve(request)
    request._match_info = match  # what aiohttp does before the middlewares run
    match.add_app(app)
    response: Any = await server.guard(request, match.handler)
    return int(response.status)


@pytest.fixture
def guarded() -> tuple[WebServer, web.Application]:
    config = HubConfig(api_token="s3cret-token")
    server = WebServer(Hub(config, PluginManager()))
    app = web.Application()
    app.add_routes([web.post("/api/services/meter/trip", _ok), web.get("/api/states", _ok),
                    web.post("/api/push/platform", _push)])
    return server, app


@pytest.mark.parametrize(("method", "path", "remote", "headers", "status"), [
    ("POST", "/api/services/meter/trip", "127.0.0.1", None, 200),
    ("POST", "/api/services/meter/trip", "203.0.113.7", None, 403),
    ("POST", "/api/services/meter/trip", "203.0.113.7",
     {"Authorization": "Bearer s3cret-token"}, 200),
    ("POST", "/api/services/meter/trip", "203.0.113.7", {"Authorization": "Bearer wrong"}, 403),
    ("GET", "/api/states", "203.0.113.7", None, 401),
    ("GET", "/api/states", "::1", None, 200),
    ("POST", "/api/push/platform", "203.0.113.7", None, 200),
])
async def test_guard(guarded: tuple[WebServer, web.Application], method: str, path: str,
                     remote: str, headers: dict[str, str] | None, status: int) -> None:
    server, app = guarded
    assert await _through_guard(server, app, method, path, remote, headers) == status
