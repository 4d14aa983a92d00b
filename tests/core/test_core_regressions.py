"""Regression tests for core bugs found by the core test suite: event data immutability,
shutdown with misbehaving stages, plugin ordering and duplicates, secret redaction."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import voluptuous as vol
from aiohttp import web
from common import web_client, write
from core_support import HubFactory

from hub import validation as cv
from hub.bootstrap import prepare
from hub.core import Event, Hub
from hub.events import EVENT_HUB_FINAL_WRITE
from hub.exceptions import InvalidEntityId
from hub.hookspecs import hookimpl
from hub.plugins import PluginManager
from hub.web.routes import HUB_KEY


@dataclass(frozen=True)
class Model:
    name: str


class ModelPlugin:
    def __init__(self, *models: str) -> None:
        self.models = models

    @hookimpl
    def register_meter_models(self) -> list[Model]:
        return [Model(name) for name in self.models]


# --- core.Hub.stop ---------------------------------------------------------------------


async def test_async_final_write_listener_runs_before_stop_returns(
    make_hub: HubFactory,
) -> None:
    """hub_final_write is where storage flushes; an async listener must get to run.

    Today stop() fires the event and cancels all tasks at once, so the listener's task is
    cancelled before its first step (and Python warns "coroutine was never awaited").
    """
    hub = make_hub()
    await hub.start()
    flushed: list[str] = []

    async def flush_on_final_write(event: Event) -> None:
        await asyncio.sleep(0)
        flushed.append("flushed")

    hub.bus.listen(EVENT_HUB_FINAL_WRITE, flush_on_final_write)
    async with asyncio.timeout(5):
        await hub.stop()
    assert flushed == ["flushed"]


async def test_stage_stop_ignoring_cancellation_does_not_hang_shutdown(
    make_hub: HubFactory,
) -> None:
    """A stage stop that swallows the timeout's cancellation must not block stop().

    asyncio.wait_for() waits for the cancelled coroutine to finish, so today stop() hangs
    for as long as the misbehaving stage wants.
    """
    hub = make_hub()
    release = asyncio.Event()

    async def stubborn_stop() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await release.wait()  # ignores the cancellation until released

    hub.add_stage("stubborn", stop=stubborn_stop, stop_timeout=0.05)
    await hub.start()
    stopping = asyncio.create_task(hub.stop())
    done, _pending = await asyncio.wait({stopping}, timeout=1.0)
    release.set()
    async with asyncio.timeout(5):
        await stopping
        await asyncio.sleep(0.01)  # let a detached stubborn task finish, if fixed so
    assert stopping in done, "stop() was still waiting for the stage 1 s after its timeout"


# --- core.Event / core.State -----------------------------------------------------------


async def test_listener_cannot_change_event_data_seen_by_later_listeners(hub: Hub) -> None:
    """Events are immutable records, but Event.data is the caller's own dict."""
    seen: list[dict[str, Any]] = []

    def meddler(event: Event) -> None:
        try:
            event.data["amount"] = "0.00"  # type: ignore[index]
        except TypeError:
            pass  # read-only data: what we want

    hub.bus.listen("payment", meddler)
    hub.bus.listen("payment", lambda event: seen.append(dict(event.data)))
    payload = {"amount": "50.00"}
    hub.bus.fire("payment", payload)

    assert seen == [{"amount": "50.00"}]
    assert payload == {"amount": "50.00"}


async def test_event_and_state_attributes_cannot_be_deleted(hub: Hub) -> None:
    """__setattr__ is blocked, __delattr__ is not: ``del event.context`` succeeds."""
    seen: list[Event] = []
    hub.bus.listen("reading", seen.append)
    hub.bus.fire("reading")
    state = hub.states.set("meter.r101_e", "1")
    deleted: list[str] = []
    for obj, name in [(seen[0], "context"), (state, "state")]:
        try:
            delattr(obj, name)
            deleted.append(f"{type(obj).__name__}.{name}")
        except AttributeError:
            pass
    assert deleted == []


async def test_entity_id_lookup_agrees_with_set(hub: Hub) -> None:
    """set() lower-cases the id, get() and ``in`` do not: a set entity cannot be found.

    Either lookups lower-case too, or set() rejects upper-case ids.
    """
    try:
        hub.states.set("Meter.R101_E", "1")
    except InvalidEntityId:
        return  # rejecting upper-case ids is a consistent fix too
    assert hub.states.get("Meter.R101_E") is not None
    assert "Meter.R101_E" in hub.states


# --- plugins.PluginManager ---------------------------------------------------------------


def test_call_each_runs_plugins_in_registration_order() -> None:
    """The docstring says registration order; today it reverses pluggy's (already
    registration-ordered) get_hookimpls(), so the newest plugin runs first."""

    class Named:
        @hookimpl
        def translations(self) -> dict[str, dict[str, str]]:
            return {}

    manager = PluginManager()
    for name in ("first", "second", "third"):
        manager.register(Named(), name)
    assert [info.name for info, _ in manager.call_each("translations")] == [
        "first", "second", "third"]


def test_first_loaded_plugin_keeps_a_duplicate_name() -> None:
    """A later plugin (e.g. a plugins_dir file) must not take a model name from an
    earlier one (a core or built-in plugin); today the later one wins and the earlier one
    is reported as the duplicate."""
    manager = PluginManager()
    manager.register(ModelPlugin("ddsy"), "builtin_meters")
    manager.register(ModelPlugin("ddsy"), "local_tweak")
    problems = manager.collect()
    assert manager.registries.meter_models.plugin_of("ddsy") == "builtin_meters"
    assert problems == ["meter model 'ddsy' from plugin 'local_tweak' is already registered "
                        "by plugin 'builtin_meters': ignored"]


def test_second_plugin_with_the_same_name_does_not_knock_out_the_first(
    tmp_path: Path,
) -> None:
    """Two plugins named 'twin': the second is refused, but today its failed record
    replaces the first one's, dropping the first plugin's config schema too."""
    for folder, key in (("one", "twin_one"), ("two", "twin_two")):
        write(tmp_path / folder / "twin.py", f"""
            from hub.hookspecs import hookimpl

            @hookimpl
            def config_schema():
                return {{"{key}": dict}}
        """)
    manager = PluginManager()
    manager.load(core=False, entry_points=False, dirs=[tmp_path / "one", tmp_path / "two"])
    manager.collect()

    assert [info.name for info in manager.loaded()] == ["twin"]
    assert "twin_one" in manager.config_schemas
    assert "twin_two" not in manager.config_schemas


def test_register_hook_returning_a_single_object_fails_only_that_plugin() -> None:
    """``return MODEL`` instead of ``return [MODEL]``: today collect() raises TypeError,
    which crashes check-config and run with a traceback instead of naming the plugin."""

    class SingleObject:
        @hookimpl
        def register_meter_models(self) -> Any:
            return Model("lonely")

    manager = PluginManager()
    manager.register(ModelPlugin("ddsy"), "good")
    manager.register(SingleObject(), "single_object")
    manager.collect()  # must not raise

    info = manager.info("single_object")
    assert info is not None and info.status == "failed"
    assert "register_meter_models" in (info.error or "")
    assert manager.registries.meter_models.names() == ["ddsy"]


def test_async_register_hook_does_not_crash_collect() -> None:
    """hookspecs.py: "Hooks may be plain functions or async def". An async register hook
    makes collect() raise TypeError ('coroutine' object is not iterable) today. Either
    await it or fail that plugin by name."""

    class AsyncModels:
        @hookimpl
        async def register_meter_models(self) -> list[Model]:
            return [Model("async_ddsy")]

    manager = PluginManager()
    manager.register(AsyncModels(), "async_models")
    manager.collect()  # must not raise

    info = manager.info("async_models")
    assert info is not None
    registered = "async_ddsy" in manager.registries.meter_models
    failed_by_name = info.status == "failed" and "register_meter_models" in (info.error or "")
    assert registered or failed_by_name


# --- config: secrets never shown -----------------------------------------------------------


def test_numeric_secret_value_never_appears_in_error_messages(tmp_path: Path) -> None:
    """Only str secrets become SecretStr; a number from secrets.yaml is shown as is."""
    write(tmp_path / "secrets.yaml", "meter_pin: 987654\n")
    path = write(tmp_path / "hub.yaml", "http:\n  port: !secret meter_pin\n")
    problems = [str(p) for p in prepare(path, plugins=PluginManager()).problems]
    assert len(problems) == 1
    assert problems[0].startswith("hub.yaml:2 http.port:")
    assert "987654" not in problems[0]


def test_secret_passed_through_cv_string_is_still_hidden(tmp_path: Path) -> None:
    """cv.string turns a SecretStr into a plain str, so the next validator shows it."""

    class TokenPlugin:
        @hookimpl
        def config_schema(self) -> dict[str, Any]:
            return {"token_site": cv.Strict({vol.Required("token"): vol.All(cv.string,
                                                                            cv.slug)})}

    write(tmp_path / "secrets.yaml", "token: Top Secret Value\n")
    path = write(tmp_path / "hub.yaml", "token_site:\n  token: !secret token\n")
    manager = PluginManager()
    manager.register(TokenPlugin(), "token_plugin")
    problems = [str(p) for p in prepare(path, plugins=manager).problems]
    assert len(problems) == 1
    assert problems[0].startswith("hub.yaml:2 token_site.token:")
    assert "Top Secret Value" not in problems[0]


# --- web -------------------------------------------------------------------------------


async def test_plugin_route_reaches_hub_as_documented(make_hub: HubFactory,
                                                      tmp_path: Path) -> None:
    """hookspecs.register_routes: 'Handlers reach the hub through request.app["hub"]'.
    The app stores it under an aiohttp AppKey, so that lookup raises KeyError (HTTP 500).
    Fix the code or the documentation (then use HUB_KEY here)."""

    class RoutesPlugin:
        @hookimpl
        def register_routes(self, hub: Hub) -> list[Any]:
            async def site(request: web.Request) -> web.Response:
                return web.json_response({"site": request.app[HUB_KEY].config.site_name})

            return [web.get("/api/routes_plugin/site", site)]

    manager = PluginManager()
    manager.register(RoutesPlugin(), "routes_plugin")
    hub = make_hub(plugins=manager)
    async with web_client(hub, tmp_path) as client:
        response = await client.get("/api/routes_plugin/site")
        assert response.status == 200
        assert await response.json() == {"site": "MeterHub"}
