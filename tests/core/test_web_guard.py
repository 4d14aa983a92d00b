"""The API guard: changes only from the hub's own machine (and not from another site's page
open in its browser) or with the API token, except routes that authenticate their callers
themselves (platform pushes, payment notices).

Over a real socket: the hub's web server on 127.0.0.1 and aiohttp's client, so the guard sees
what aiohttp really gives it (peer address, headers, a text/plain form body). A loopback
socket cannot come from another address, so only the remote-address cases use a mocked
request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from unittest import mock

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from hub.config import HubConfig
from hub.core import Hub, ServiceCall
from hub.hookspecs import hookimpl
from hub.plugins import PluginManager
from hub.web.routes import self_authenticated
from hub.web.server import WebServer

TOKEN = "s3cret-token"
TRIP = "/api/services/meter/trip"
EVIL = "http://evil.example"
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=20)


async def _ok(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@self_authenticated
async def _push(request: web.Request) -> web.Response:
    return web.json_response({"pushed": True})


class _PushRoutes:
    """A plugin with a route that authenticates its callers itself (a platform push)."""

    @hookimpl
    def register_routes(self, hub: Hub) -> list[web.RouteDef]:
        return [web.post("/api/push/platform", _push)]


class Served:
    """A hub's web server listening on 127.0.0.1, the trips its service saw, a client."""

    def __init__(self, server: WebServer, trips: list[ServiceCall],
                 session: aiohttp.ClientSession) -> None:
        self.server = server
        self.trips = trips
        self.session = session
        self.origin = f"http://127.0.0.1:{server.port}"

    async def send(self, method: str, path: str, **kwargs: Any) -> int:
        """Send a real HTTP request; the response's status."""
        async with self.session.request(method, self.origin + path, **kwargs) as response:
            await response.read()
            return response.status


async def _serve(token: str | None) -> AsyncIterator[Served]:
    plugins = PluginManager()
    plugins.register(_PushRoutes(), "push_routes")
    hub = Hub(HubConfig(api_token=token, http_host="127.0.0.1", http_port=0), plugins)
    trips: list[ServiceCall] = []
    hub.services.register("meter", "trip", trips.append)
    server = WebServer(hub)
    await server.start()
    try:
        async with aiohttp.ClientSession(timeout=REQUEST_TIMEOUT) as session:
            yield Served(server, trips, session)
    finally:
        await server.stop()


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    """No API token configured."""
    async for found in _serve(None):
        yield found


@pytest.fixture
async def served_with_token() -> AsyncIterator[Served]:
    """The API token configured."""
    async for found in _serve(TOKEN):
        yield found


def _form(origin: str | None) -> dict[str, Any]:
    """What a page's <form enctype="text/plain" method="post"> sends: no CORS preflight, and
    a field named ``{"meter_id": "r101_e", "x": "`` with the value ``"}`` makes it JSON."""
    headers = {"Content-Type": "text/plain"}
    if origin is not None:
        headers["Origin"] = origin
    return {"data": '{"meter_id": "r101_e", "x": "=' + '"}', "headers": headers}


async def test_a_change_from_the_hub_itself_is_served(served: Served) -> None:
    assert await served.send("POST", TRIP, json={"meter_id": "r101_e"}) == 200
    assert await served.send("POST", TRIP, **_form(None)) == 200  # curl, a script: no Origin
    assert [call.data["meter_id"] for call in served.trips] == ["r101_e", "r101_e"]


async def test_a_change_from_the_hubs_own_page_is_served(served: Served) -> None:
    headers = {"Origin": served.origin, "Sec-Fetch-Site": "same-origin"}
    assert await served.send("POST", TRIP, json={"meter_id": "r101_e"}, headers=headers) == 200
    assert len(served.trips) == 1


@pytest.mark.parametrize("origin", [EVIL, "null", "http://127.0.0.1:1", "https://127.0.0.1"])
async def test_a_cross_origin_form_post_from_a_browser_on_the_hub_is_refused(
        served: Served, origin: str) -> None:
    """A page from elsewhere, open in a browser on the hub's machine, posts to 127.0.0.1."""
    assert await served.send("POST", TRIP, **_form(origin)) == 403
    assert served.trips == []


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
async def test_a_browser_request_from_another_site_without_origin_is_refused(
        served: Served, site: str) -> None:
    form = _form(None)
    form["headers"]["Sec-Fetch-Site"] = site
    assert await served.send("POST", TRIP, **form) == 403
    assert served.trips == []


async def test_reading_from_another_origin_is_not_a_change(served: Served) -> None:
    assert await served.send("GET", "/api/states", headers={"Origin": EVIL}) == 200


async def test_the_token_is_enough_from_any_origin(served_with_token: Served) -> None:
    headers = {"Origin": EVIL, "Authorization": f"Bearer {TOKEN}"}
    assert await served_with_token.send("POST", TRIP, json={}, headers=headers) == 200
    assert len(served_with_token.trips) == 1


async def test_a_wrong_token_does_not_open_a_cross_origin_change(
        served_with_token: Served) -> None:
    form = _form(EVIL)
    form["headers"]["Authorization"] = "Bearer wrong"
    assert await served_with_token.send("POST", TRIP, **form) == 403
    assert served_with_token.trips == []


async def test_the_hub_itself_reads_the_api_without_the_token(
        served_with_token: Served) -> None:
    assert await served_with_token.send("GET", "/api/states") == 200
    assert await served_with_token.send("POST", TRIP, json={}) == 200


async def test_a_self_authenticated_route_takes_cross_origin_posts(served: Served) -> None:
    assert await served.send("POST", "/api/push/platform", **_form(EVIL)) == 200


# --- another machine (a loopback socket cannot be one: a mocked request's peer) --------------

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
    config = HubConfig(api_token=TOKEN)
    server = WebServer(Hub(config, PluginManager()))
    app = web.Application()
    app.add_routes([web.post(TRIP, _ok), web.get("/api/states", _ok),
                    web.post("/api/push/platform", _push)])
    return server, app


@pytest.mark.parametrize(("method", "path", "headers", "status"), [
    ("POST", TRIP, None, 403),
    ("POST", TRIP, {"Authorization": f"Bearer {TOKEN}"}, 200),
    ("POST", TRIP, {"Authorization": "Bearer wrong"}, 403),
    ("GET", "/api/states", None, 401),
    ("GET", "/api/states", {"Authorization": f"Bearer {TOKEN}"}, 200),
    ("POST", "/api/push/platform", None, 200),
])
async def test_guard_for_another_machine(guarded: tuple[WebServer, web.Application],
                                         method: str, path: str,
                                         headers: dict[str, str] | None, status: int) -> None:
    server, app = guarded
    assert await _through_guard(server, app, method, path, "203.0.113.7", headers) == status
