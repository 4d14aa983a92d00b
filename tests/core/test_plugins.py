"""Plugins: plugins_dir loading, broken plugins isolated by name, duplicates, async setup."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from core_support import PLUGINS_BROKEN, PLUGINS_GOOD, HubFactory, write

import hub.plugins as plugins_mod
from hub.bootstrap import create_hub, prepare
from hub.const import EVENT_PLUGIN_FAILED, HubState
from hub.core import Event, Hub
from hub.hookspecs import hookimpl
from hub.plugins import PluginManager, await_me_maybe

BROKEN = ("bad_signature", "broken_import", "hook_raises", "setup_hangs", "setup_raises")
GOOD = ("async_setup", "good_file", "good_pkg")


def dir_plugins(*dirs: Path, disabled: tuple[str, ...] = ()) -> PluginManager:
    """A plugin manager with only plugins_dir plugins (no core, no entry points)."""
    manager = PluginManager()
    manager.load(core=False, entry_points=False, dirs=dirs, disabled=disabled)
    return manager


@dataclass(frozen=True)
class Model:
    name: str


class ModelPlugin:
    """Registers meter models and claims config keys, by constructor arguments."""

    def __init__(self, *models: str, keys: tuple[str, ...] = ()) -> None:
        self.models = models
        self.keys = keys

    @hookimpl
    def register_meter_models(self) -> list[Model]:
        return [Model(name) for name in self.models]

    @hookimpl
    def config_schema(self) -> dict[str, Any]:
        return dict.fromkeys(self.keys, dict)


# --- plugins_dir ---------------------------------------------------------------------


def test_plugins_dir_loads_py_files_and_packages_only() -> None:
    manager = dir_plugins(PLUGINS_GOOD)
    assert sorted(info.name for info in manager.all()) == list(GOOD)
    assert all(info.status == "loaded" for info in manager.all())
    assert all(info.source == "plugins_dir" for info in manager.all())
    assert manager.info("_not_a_plugin") is None


def test_plugin_package_registrations_are_collected() -> None:
    manager = dir_plugins(PLUGINS_GOOD)
    assert manager.collect() == []
    assert manager.registries.meter_models.names() == ["good_pkg_meter"]
    assert manager.registries.meter_models.plugin_of("good_pkg_meter") == "good_pkg"
    assert manager.config_schemas["good_file"][0] == "good_file"


def test_plugin_info_lists_hooks() -> None:
    manager = dir_plugins(PLUGINS_GOOD)
    info = manager.info("good_file")
    assert info is not None
    assert info.hooks == ["config_schema", "setup"]
    assert info.as_dict()["hooks"] == ["config_schema", "setup"]
    assert info.as_dict()["status"] == "loaded"


async def test_dir_plugins_set_up_with_sync_and_async_setup(make_hub: HubFactory) -> None:
    hub = make_hub(plugins=dir_plugins(PLUGINS_GOOD))
    await hub.start()

    assert await hub.services.call("good_file", "ping", return_response=True) == {
        "reply": "pong"}
    assert await hub.services.call("async_setup", "hello", return_response=True) == {
        "hello": "world"}
    state = hub.states.get("good_pkg.status")
    assert state is not None and state.state == "ready"


async def test_teardown_returned_by_setup_is_called_at_stop_newest_first(
    make_hub: HubFactory,
) -> None:
    hub = make_hub(plugins=dir_plugins(PLUGINS_GOOD))
    torn_down: list[str] = []
    hub.bus.listen("plugin_teardown", lambda e: torn_down.append(e.data["plugin"]))
    await hub.start()
    assert torn_down == []
    await hub.stop()
    # async_setup loads before good_file (sorted), so it is torn down after it
    assert torn_down == ["good_file", "async_setup"]


async def test_failing_teardown_is_logged_and_others_still_run(
    make_hub: HubFactory, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    class FailingTeardown:
        @hookimpl
        def setup(self, hub: Hub) -> Any:
            def teardown() -> None:
                raise RuntimeError("teardown exploded")

            return teardown

    class GoodTeardown:
        @hookimpl
        async def setup(self, hub: Hub) -> Any:
            async def teardown() -> None:
                calls.append("good")

            return teardown

    manager = PluginManager()
    manager.register(GoodTeardown(), "good_teardown")
    manager.register(FailingTeardown(), "failing_teardown")
    hub = make_hub(plugins=manager)
    await hub.start()
    await hub.stop()

    assert calls == ["good"]
    assert any("failing_teardown" in r.getMessage() for r in caplog.records
               if r.levelno >= logging.ERROR)


def test_disabled_plugin_is_not_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "meterhub_local_good_file", raising=False)
    manager = dir_plugins(PLUGINS_GOOD, disabled=("good_file",))

    info = manager.info("good_file")
    assert info is not None
    assert info.status == "disabled"
    assert info.module is None
    assert "meterhub_local_good_file" not in sys.modules
    assert "good_file" not in [i.name for i in manager.loaded()]
    manager.collect()
    assert "good_file" not in manager.config_schemas


async def test_disabled_plugin_from_config_is_not_set_up(
    tmp_path: Path, make_hub: HubFactory
) -> None:
    path = write(tmp_path / "hub.yaml", f"""
        plugins:
          dirs: ["{PLUGINS_GOOD}"]
          disable: [good_file, async_setup]
    """)
    prepared = prepare(path, entry_points=False)
    assert prepared.problems == []
    assert prepared.config.disabled_plugins == ["good_file", "async_setup"]
    manager = prepared.plugins
    statuses = {name: manager.info(name).status for name in GOOD}  # type: ignore[union-attr]
    assert statuses == {"async_setup": "disabled", "good_file": "disabled",
                        "good_pkg": "loaded"}


def test_relative_plugin_dirs_are_relative_to_the_config_file(tmp_path: Path) -> None:
    write(tmp_path / "site/my_plugins/local_one.py", """
        from hub.hookspecs import hookimpl

        @hookimpl
        def config_schema():
            return {"local_one": {"enabled": bool}}
    """)
    path = write(tmp_path / "site/hub.yaml", """
        plugins: {dirs: my_plugins}
        local_one: {enabled: true}
    """)
    prepared = prepare(path, entry_points=False)
    assert [str(p) for p in prepared.problems] == []
    assert prepared.config.block("local_one") == {"enabled": True}


def test_missing_plugin_dir_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    manager = dir_plugins(tmp_path / "nowhere")
    assert manager.all() == []
    assert any("nowhere" in r.getMessage() for r in caplog.records)


# --- broken plugins ------------------------------------------------------------------


async def test_broken_plugins_are_reported_by_name_and_the_hub_still_starts(
    make_hub: HubFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(plugins_mod, "PLUGIN_SETUP_TIMEOUT", 0.2)
    manager = dir_plugins(PLUGINS_GOOD, PLUGINS_BROKEN)
    hub = make_hub(plugins=manager)
    failed_events: list[Event] = []
    hub.bus.listen(EVENT_PLUGIN_FAILED, failed_events.append)

    async with asyncio.timeout(5):
        await hub.start()

    assert hub.state is HubState.RUNNING
    assert sorted(info.name for info in manager.failed()) == list(BROKEN)
    assert sorted(info.name for info in manager.loaded()) == list(GOOD)
    errors = {info.name: info.error or "" for info in manager.failed()}
    assert "ModuleNotFoundError" in errors["broken_import"]
    assert "meterhub_no_such_module_for_tests" in errors["broken_import"]
    assert "config_schema" in errors["hook_raises"]
    assert "schema exploded" in errors["hook_raises"]
    assert "setup" in errors["setup_raises"]
    assert "ValueError: setup exploded" in errors["setup_raises"]
    assert errors["setup_hangs"] == "setup took longer than 0.2s"
    assert "unexpected" in errors["bad_signature"]
    # each failure is logged naming the plugin
    logged = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    for name in BROKEN:
        assert name in logged
    # failures during setup are announced on the bus
    assert sorted(e.data["plugin"] for e in failed_events) == ["setup_hangs", "setup_raises"]
    # the good plugins work
    assert await hub.services.call("good_file", "ping", return_response=True) == {
        "reply": "pong"}


def test_broken_plugins_in_config_dirs_are_not_config_problems(tmp_path: Path) -> None:
    path = write(tmp_path / "hub.yaml", f"""
        plugins:
          dirs: ["{PLUGINS_BROKEN}"]
    """)
    prepared = prepare(path, entry_points=False)
    assert [str(p) for p in prepared.problems] == []
    failed = sorted(info.name for info in prepared.plugins.failed())
    # setup has not run yet: only the plugins that fail to import, register or collect
    assert failed == ["bad_signature", "broken_import", "hook_raises"]
    create_hub(prepared)  # does not raise


def test_failed_plugin_registrations_and_schemas_are_dropped() -> None:
    class HalfBroken:
        @hookimpl
        def config_schema(self) -> dict[str, Any]:
            return {"half": dict}

        @hookimpl
        def register_link_types(self) -> list[Any]:
            raise RuntimeError("link table missing")

    manager = PluginManager()
    manager.register(HalfBroken(), "half_broken")
    manager.collect()
    info = manager.info("half_broken")
    assert info is not None and info.status == "failed"
    assert "register_link_types" in (info.error or "")
    assert "half" not in manager.config_schemas


def test_config_schema_must_return_a_dict() -> None:
    class WrongSchema:
        @hookimpl
        def config_schema(self) -> Any:
            return ["not", "a", "dict"]

    manager = PluginManager()
    manager.register(WrongSchema(), "wrong_schema")
    manager.collect()
    info = manager.info("wrong_schema")
    assert info is not None and info.status == "failed"
    assert "config_schema must return a dict" in (info.error or "")


def test_registration_without_name_is_reported() -> None:
    class Nameless:
        @hookimpl
        def register_tariff_types(self) -> list[Any]:
            return [object()]

    manager = PluginManager()
    manager.register(Nameless(), "nameless")
    problems = manager.collect()
    assert len(problems) == 1
    assert "tariff type from plugin 'nameless' has no 'name'" in problems[0]


# --- duplicates ----------------------------------------------------------------------


def test_duplicate_registration_name_names_both_plugins() -> None:
    manager = PluginManager()
    manager.register(ModelPlugin("ddsy", "dtsy"), "acme")
    manager.register(ModelPlugin("ddsy"), "copycat")

    problems = manager.collect()

    assert len(problems) == 1
    match = re.fullmatch(r"meter model 'ddsy' from plugin '(\w+)' is already registered by "
                         r"plugin '(\w+)': ignored", problems[0])
    assert match is not None, problems[0]
    assert sorted(match.groups()) == ["acme", "copycat"]
    # the plugin named as the owner really owns the name; the other one was ignored
    assert manager.registries.meter_models.plugin_of("ddsy") == match[2]
    assert manager.registries.meter_models.names() == ["ddsy", "dtsy"]


def test_duplicate_config_key_names_both_plugins() -> None:
    manager = PluginManager()
    manager.register(ModelPlugin(keys=("links",)), "first")
    manager.register(ModelPlugin(keys=("links",)), "second")

    problems = manager.collect()

    assert len(problems) == 1
    match = re.fullmatch(r"plugin '(\w+)' claims the config key 'links' already claimed by "
                         r"plugin '(\w+)': ignored", problems[0])
    assert match is not None, problems[0]
    assert sorted(match.groups()) == ["first", "second"]
    assert manager.config_schemas["links"][0] == match[2]


def test_duplicate_registration_is_a_config_problem(tmp_path: Path) -> None:
    manager = PluginManager()
    manager.register(ModelPlugin("ddsy"), "acme")
    manager.register(ModelPlugin("ddsy"), "copycat")
    prepared = prepare(write(tmp_path / "hub.yaml", "site: {name: x}\n"), plugins=manager)
    assert len(prepared.problems) == 1
    assert "'copycat'" in str(prepared.problems[0])
    assert "'acme'" in str(prepared.problems[0])


def test_registering_a_loaded_name_twice_is_refused() -> None:
    manager = PluginManager()
    manager.register(ModelPlugin(), "acme")
    with pytest.raises(ValueError, match="already loaded"):
        manager.register(ModelPlugin(), "acme")


# --- hook results --------------------------------------------------------------------


async def test_await_me_maybe_accepts_values_callables_and_awaitables() -> None:
    async def coro() -> str:
        return "awaited"

    assert await await_me_maybe("value") == "value"
    assert await await_me_maybe(lambda: "called") == "called"
    assert await await_me_maybe(coro()) == "awaited"
    assert await await_me_maybe(coro) == "awaited"
    assert await await_me_maybe(Model) is Model  # classes are values, not called


async def test_setup_hook_returning_a_coroutine_is_awaited(make_hub: HubFactory) -> None:
    order: list[str] = []

    class SlowSetup:
        @hookimpl
        async def setup(self, hub: Hub) -> None:
            await asyncio.sleep(0.01)
            order.append("setup done")

    stage_log: list[str] = []

    class Staged:
        @hookimpl
        def setup(self, hub: Hub) -> None:
            async def start() -> None:
                stage_log.append(f"stage start after {order}")

            hub.add_stage("staged", start=start)

    manager = PluginManager()
    manager.register(SlowSetup(), "slow_setup")
    manager.register(Staged(), "staged")
    hub = make_hub(plugins=manager)
    await hub.start()
    assert stage_log == ["stage start after ['setup done']"]


async def test_plugin_translations_are_merged(make_hub: HubFactory) -> None:
    class Strings:
        @hookimpl
        def translations(self) -> dict[str, dict[str, str]]:
            return {"en": {"acme.hello": "Hello {name}"}, "zh-CN": {"acme.hello": "你好 {name}"}}

    manager = PluginManager()
    manager.register(Strings(), "strings")
    hub = make_hub(plugins=manager)
    await hub.start()
    assert hub.i18n("acme.hello", "en", name="Li") == "Hello Li"
    assert hub.i18n("acme.hello", "zh-CN", name="李") == "你好 李"


def test_trace_env_logs_hook_durations(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("METERHUB_TRACE_PLUGINS", "1")
    caplog.set_level(logging.INFO, logger="hub.plugins")
    manager = PluginManager()
    manager.register(ModelPlugin("ddsy"), "traced")
    manager.collect()
    assert any("register_meter_models" in r.getMessage() and "traced" in r.getMessage()
               for r in caplog.records)
