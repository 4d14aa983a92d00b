"""Web: the read-only REST API and the dashboard in zh-CN and en."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from common import web_client
from core_support import PLUGINS_BROKEN, HubFactory

from hub import __version__
from hub.config import HubConfig
from hub.core import Hub, ServiceCall
from hub.plugins import PluginManager
from hub.web.routes import HUB_KEY
from hub.web.server import WebServer


@pytest.fixture
async def client(hub: Hub, tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    """An aiohttp test client on the hub's web app."""
    hub.states.set("meter.r101_e", Decimal("1234.56"),
                   {"unit": "kWh", "friendly_name": "101 电表"})
    hub.states.set("meter.r102_e", Decimal("88.00"), {"unit": "kWh"})
    hub.states.set("relay.r101", "closed")
    async with web_client(hub, tmp_path) as test_client:
        yield test_client


async def test_api_status(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/")
    assert response.status == 200
    body = await response.json()
    assert body["version"] == __version__
    assert body["state"] == "running"
    assert body["site"] == "MeterHub"


async def test_api_states_lists_every_state_with_exact_decimals(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get("/api/states")
    assert response.status == 200
    states = {item["entity_id"]: item for item in (await response.json())["items"]}
    assert sorted(states) == ["meter.r101_e", "meter.r102_e", "relay.r101"]
    assert states["meter.r101_e"]["state"] == "1234.56"  # Decimal as text, not a float
    assert states["meter.r102_e"]["state"] == "88.00"
    assert states["meter.r101_e"]["attributes"] == {"unit": "kWh",
                                                    "friendly_name": "101 电表"}
    assert states["relay.r101"]["last_changed"]


async def test_api_states_filters_by_domain(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/states", params={"domain": "relay"})
    assert [item["entity_id"] for item in (await response.json())["items"]] == ["relay.r101"]


async def test_api_state_of_one_entity(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/states/meter.r101_e")
    assert response.status == 200
    body = await response.json()
    assert body["entity_id"] == "meter.r101_e"
    assert body["state"] == "1234.56"
    assert set(body["context"]) == {"id", "parent_id", "user_id", "origin"}


async def test_api_state_unknown_entity_is_404(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/states/meter.nobody")
    assert response.status == 404
    assert response.content_type == "application/json"
    assert "meter.nobody" in (await response.json())["error"]["detail"]


async def test_api_services_lists_descriptions_and_response_mode(
    hub: Hub, client: TestClient[Any, Any]
) -> None:
    async def read(call: ServiceCall) -> None:
        """Read a meter now."""

    hub.services.register("meter", "read", read)
    hub.services.register("account", "balance", read, supports_response="only",
                          description="Balance of an account")
    response = await client.get("/api/services")
    assert response.status == 200
    assert await response.json() == {
        "meter": {"read": {"description": "Read a meter now.", "response": "none"}},
        "account": {"balance": {"description": "Balance of an account",
                                "response": "only"}},
    }


async def test_api_plugins_lists_status_and_hooks(make_hub: HubFactory, tmp_path: Path) -> None:
    manager = PluginManager()
    manager.register(importlib.import_module("hub.web"), "hub.web", source="core")
    hub = make_hub(plugins=manager)
    async with web_client(hub, tmp_path) as client:
        response = await client.get("/api/plugins")
        assert response.status == 200
        plugins = (await response.json())["items"]
    assert plugins == [{"name": "hub.web", "source": "core", "version": None,
                        "distribution": None, "status": "loaded", "error": None,
                        "hooks": ["setup", "translations"]}]


async def test_dashboard_renders_in_chinese_by_default(client: TestClient[Any, Any]) -> None:
    response = await client.get("/states")
    assert response.status == 200
    assert response.content_type == "text/html"
    html = await response.text()
    assert '<html lang="zh-CN">' in html
    assert "MeterHub 计量管理" in html
    assert "实体" in html
    assert "Entities" not in html
    assert "101 电表" in html
    assert "1234.56 kWh" in html


async def test_dashboard_renders_in_english_with_lang_en(client: TestClient[Any, Any]) -> None:
    response = await client.get("/states", params={"lang": "en"})
    assert response.status == 200
    html = await response.text()
    assert '<html lang="en">' in html
    assert "Entities" in html
    assert "Plugins" in html
    assert "实体" not in html


async def test_dashboard_escapes_entity_names(hub: Hub, client: TestClient[Any, Any]) -> None:
    hub.states.set("meter.r103_e", "1", {"friendly_name": "<script>alert(1)</script>"})
    html = await (await client.get("/states")).text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


async def test_dashboard_and_api_report_failed_plugins(make_hub: HubFactory,
                                                       tmp_path: Path) -> None:
    manager = PluginManager()
    manager.load(core=False, entry_points=False, dirs=[PLUGINS_BROKEN])
    hub = make_hub(plugins=manager)
    async with web_client(hub, tmp_path) as client:
        html = await (await client.get("/states", params={"lang": "en"})).text()
        plugins = (await (await client.get("/api/plugins")).json())["items"]
    failed = {p["name"]: p["error"] for p in plugins if p["status"] == "failed"}
    assert "meterhub_no_such_module_for_tests" in failed["broken_import"]
    assert 'class="plugin-failed"><td>broken_import</td>' in html
    assert "meterhub_no_such_module_for_tests" in html


async def test_dashboard_shows_site_name_and_empty_state(make_hub: HubFactory,
                                                         tmp_path: Path) -> None:
    config = replace(HubConfig.default(), site_name="阳光公寓 <A栋>", language="en")
    hub = make_hub(config)
    async with web_client(hub, tmp_path) as client:
        html = await (await client.get("/states")).text()
    assert "阳光公寓 &lt;A栋&gt;" in html
    assert "No entities yet" in html


async def test_web_plugin_serves_on_a_real_port_as_a_stage(make_hub: HubFactory) -> None:
    config = replace(HubConfig.default(), http_host="127.0.0.1", http_port=0,
                     site_name="Real Port")
    manager = PluginManager()
    manager.register(importlib.import_module("hub.web"), "hub.web", source="core")
    hub = make_hub(config, manager)
    await hub.start()
    server = hub.component("web", WebServer)
    assert server.port

    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.get(f"http://127.0.0.1:{server.port}/api/") as response:
            assert response.status == 401  # no free pass, not even from this machine
        async with session.get(f"http://127.0.0.1:{server.port}/static/hub.css") as response:
            assert response.status == 200

    await hub.stop()
    assert server.runner is None
    async with aiohttp.ClientSession(timeout=timeout) as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"http://127.0.0.1:{server.port}/api/")


async def test_plugin_routes_are_added(make_hub: HubFactory, tmp_path: Path) -> None:
    from aiohttp import web

    from hub.hookspecs import hookimpl

    class RoutesPlugin:
        @hookimpl
        def register_routes(self, hub: Hub) -> list[Any]:
            async def hello(request: web.Request) -> web.Response:
                return web.json_response({"site": request.app[HUB_KEY].config.site_name})

            return [web.get("/api/routes_plugin/hello", hello)]

    manager = PluginManager()
    manager.register(RoutesPlugin(), "routes_plugin")
    hub = make_hub(plugins=manager)
    async with web_client(hub, tmp_path) as client:
        response = await client.get("/api/routes_plugin/hello")
        assert response.status == 200
        assert await response.json() == {"site": "MeterHub"}


async def test_dashboard_shows_site_times_and_no_none(make_hub: HubFactory, tmp_path: Path) -> None:
    """Times in the site's zone (Asia/Shanghai: UTC+8), never 'UTC'; a value-less state is a
    dash, never the text None."""
    hub = make_hub()
    await hub.start()
    hub.states.set("sensor.empty", None, {"friendly_name": "空"})
    hub.states.set("meter.r101_e", Decimal("12.5"), {"unit": "kWh"})
    updated = hub.states.get("meter.r101_e")
    assert updated is not None
    local = updated.last_updated.astimezone(ZoneInfo(hub.config.time_zone))
    async with web_client(hub, tmp_path) as client:
        html = await (await client.get("/states")).text()
    assert local.strftime("%Y-%m-%d %H:%M:%S") in html
    assert "UTC" not in html and "None" not in html
    row = html[html.index('data-entity="sensor.empty"'):]
    assert "<td>—</td>" in row[:row.index("</tr>")]
