"""Finding, loading and calling plugins (pluggy), with each plugin's failures kept to itself.

Sources, in order: the core's own plugins (``hub.*`` modules that implement hooks, like
Datasette's default plugins), the ``meterhub`` entry-point group (the built-in meter, link,
tariff and notifier plugins register there exactly as a community plugin does), and the
``plugins.dirs`` folders of loose ``.py`` files or packages (for a landlord's local tweaks).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import importlib.util
import inspect
import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pluggy

from . import hookspecs
from .const import ENTRY_POINT_GROUP, PLUGIN_SETUP_TIMEOUT
from .events import EVENT_PLUGIN_FAILED, EventCatalog
from .i18n import Text
from .messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)

if TYPE_CHECKING:
    from .core import Hub

__all__ = [
    "DuplicateName", "PluginInfo", "PluginManager", "Registries", "Registry",
]

_LOGGER = logging.getLogger(__name__)

# Core modules that implement hooks, registered before anything else, bottom layer first
# (docs/architecture.md): a set-up finds the components of the layers below it. When each
# stage starts is declared by the stages themselves (hub.startup).
CORE_PLUGINS: tuple[str, ...] = (
    "hub.storage", "hub.auth", "hub.metering", "hub.ledger", "hub.billing.tariffs", "hub.billing",
    "hub.billing.analysis", "hub.prepaid", "hub.prepaid.payments", "hub.devices", "hub.automation",
    "hub.web", "hub.dashboard", "hub.portal",
)

_T = TypeVar("_T")


async def await_me_maybe(value: Any) -> Any:
    """Resolve a hook result that may be a value, a callable or an awaitable."""
    if callable(value) and not inspect.isclass(value):
        value = value()
    if inspect.isawaitable(value):
        value = await value
    return value


@dataclass
class PluginInfo:
    """What the hub knows about one plugin."""

    name: str
    source: str  # core | entry_point | plugins_dir | manual
    module: object | None = None
    version: str | None = None
    distribution: str | None = None
    status: str = "loaded"  # loaded | failed | disabled
    error: str | None = None
    teardown: Any = None

    @property
    def hooks(self) -> list[str]:
        """Names of the hooks this plugin implements."""
        if self.module is None:
            return []
        return sorted(
            name
            for name in dir(self.module)
            if hasattr(getattr(self.module, name, None), "meterhub_impl")
        )

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly summary."""
        return {
            "name": self.name,
            "source": self.source,
            "version": self.version,
            "distribution": self.distribution,
            "status": self.status,
            "error": self.error,
            "hooks": self.hooks,
        }


class DuplicateName(Exception):
    """Two plugins registered the same name in one registry."""


class Registry(Generic[_T]):
    """Named registrations of one kind (meter models, link types...), by plugin."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, tuple[str, _T]] = {}

    def add(self, plugin: str, item: _T) -> None:
        """Add an item; raises DuplicateName naming both plugins if the name is taken."""
        name = getattr(item, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"{self.kind} from plugin {plugin!r} has no 'name': {item!r}")
        if name in self._items:
            owner = self._items[name][0]
            raise DuplicateName(Text("plugins.duplicate", kind=self.kind, name=name,
                                     plugin=plugin, owner=owner))
        self._items[name] = (plugin, item)

    def get(self, name: str) -> _T | None:
        """Return the registration with this name, or None."""
        entry = self._items.get(name)
        return entry[1] if entry else None

    def plugin_of(self, name: str) -> str | None:
        """Return the plugin that registered a name."""
        entry = self._items.get(name)
        return entry[0] if entry else None

    def names(self) -> list[str]:
        """Return all registered names, sorted."""
        return sorted(self._items)

    def drop_plugin(self, plugin: str) -> None:
        """Forget everything one plugin registered."""
        self._items = {k: v for k, v in self._items.items() if v[0] != plugin}

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[_T]:
        return iter(item for _plugin, item in self._items.values())

    def by_plugin(self) -> list[tuple[str, _T]]:
        """Return (plugin, item) for every registration, in the order they were added."""
        return list(self._items.values())

    def __len__(self) -> int:
        return len(self._items)


# hook name -> registry kind
REGISTRY_HOOKS: dict[str, str] = {
    "register_meter_models": "meter model",
    "register_protocols": "protocol",
    "register_link_types": "link type",
    "register_tariff_types": "tariff type",
    "register_notifier_types": "notifier type",
    "register_payment_providers": "payment provider",
    "register_event_types": "event type",
    "register_automation_triggers": "automation trigger",
    "register_automation_conditions": "automation condition",
    "register_automation_actions": "automation action",
}


@dataclass
class Registries:
    """Every registry the plugins fill."""

    meter_models: Registry[Any] = field(default_factory=lambda: Registry("meter model"))
    protocols: Registry[Any] = field(default_factory=lambda: Registry("protocol"))
    link_types: Registry[Any] = field(default_factory=lambda: Registry("link type"))
    tariff_types: Registry[Any] = field(default_factory=lambda: Registry("tariff type"))
    notifier_types: Registry[Any] = field(default_factory=lambda: Registry("notifier type"))
    payment_providers: Registry[Any] = field(
        default_factory=lambda: Registry("payment provider"))
    event_types: Registry[Any] = field(default_factory=lambda: Registry("event type"))
    automation_triggers: Registry[Any] = field(
        default_factory=lambda: Registry("automation trigger"))
    automation_conditions: Registry[Any] = field(
        default_factory=lambda: Registry("automation condition"))
    automation_actions: Registry[Any] = field(
        default_factory=lambda: Registry("automation action"))

    def for_hook(self, hook: str) -> Registry[Any]:
        """Return the registry a ``register_*`` hook fills."""
        attr = hook.removeprefix("register_")
        registry: Registry[Any] = getattr(self, attr)
        return registry

    def all(self) -> list[Registry[Any]]:
        """Return every registry."""
        return [self.for_hook(hook) for hook in REGISTRY_HOOKS]


class PluginManager:
    """Loads plugins and calls their hooks one plugin at a time, isolating failures."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("meterhub")
        self.pm.add_hookspecs(hookspecs)
        self.registries = Registries()
        self.config_schemas: dict[str, tuple[str, Any]] = {}
        # the core's event types; collect() adds the plugins'
        self.event_catalog = EventCatalog()
        self._info: dict[str, PluginInfo] = {}
        self._trace = os.environ.get("METERHUB_TRACE_PLUGINS", "") not in ("", "0")
        self._collected = False

    # --- loading ------------------------------------------------------------------

    def load(
        self,
        *,
        core: bool = True,
        entry_points: bool = True,
        dirs: Iterable[Path] = (),
        disabled: Iterable[str] = (),
    ) -> None:
        """Load plugins from every source; failures are recorded, never raised."""
        disabled_set = set(disabled)
        if core:
            for module_name in CORE_PLUGINS:
                self._load_module(module_name, module_name, "core", disabled_set)
        if entry_points:
            for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                self._load_entry_point(ep, disabled_set)
        for folder in dirs:
            self._load_dir(Path(folder), disabled_set)

    def register(self, plugin: object, name: str, *, source: str = "manual",
                 version: str | None = None) -> PluginInfo:
        """Register an already imported plugin object (module, class or instance)."""
        if name in self._info and self._info[name].status == "loaded":
            raise ValueError(f"a plugin named {name!r} is already loaded")  # i18n: internal (a bug)
        info = PluginInfo(name, source, plugin, version or getattr(plugin, "__version__", None))
        try:
            self.pm.register(plugin, name=name)
        except Exception as err:  # pluggy validates hook signatures
            info.status, info.module, info.error = "failed", None, _describe(err)
            _LOGGER.error("Plugin %s could not be registered: %s", name, info.error)
        self._info[name] = info
        return info

    def _load_module(self, module_name: str, name: str, source: str,
                     disabled: set[str]) -> None:
        if name in disabled:
            self._info[name] = PluginInfo(name, source, status="disabled")
            return
        try:
            module = importlib.import_module(module_name)
        except Exception as err:
            self._failed(PluginInfo(name, source), f"import failed: {_describe(err)}")
            return
        self.register(module, name, source=source)

    def _load_entry_point(self, ep: importlib.metadata.EntryPoint, disabled: set[str]) -> None:
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            ep.name,
            "entry_point",
            version=dist.version if dist else None,
            distribution=dist.name if dist else None,
        )
        if ep.name in disabled:
            info.status = "disabled"
            self._info[ep.name] = info
            return
        if ep.name in self._info:
            self._failed(info, f"another plugin is already named {ep.name!r} "
                               f"({self._info[ep.name].source})")
            return
        try:
            plugin = ep.load()
        except Exception as err:
            self._failed(info, f"import of {ep.value} failed: {_describe(err)}")
            return
        registered = self.register(plugin, ep.name, source="entry_point", version=info.version)
        registered.distribution = info.distribution

    def _load_dir(self, folder: Path, disabled: set[str]) -> None:
        if not folder.is_dir():
            _LOGGER.error("Plugin folder %s does not exist", folder)
            return
        for path in sorted(folder.iterdir()):
            if path.name.startswith(("_", ".")):
                continue
            if path.is_file() and path.suffix == ".py":
                name, init = path.stem, path
            elif path.is_dir() and (path / "__init__.py").is_file():
                name, init = path.name, path / "__init__.py"
            else:
                continue
            if name in disabled:
                self._info[name] = PluginInfo(name, "plugins_dir", status="disabled")
                continue
            if name in self._info:
                self._failed(PluginInfo(name, "plugins_dir"),
                             f"another plugin is already named {name!r}")
                continue
            module_name = f"meterhub_local_{name}"
            try:
                spec = importlib.util.spec_from_file_location(
                    module_name, init,
                    submodule_search_locations=[str(path)] if path.is_dir() else None,
                )
                if spec is None or spec.loader is None:
                    raise ImportError(Text("plugins.cannot_import", path=str(path)))

                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
            except Exception as err:
                sys.modules.pop(module_name, None)
                self._failed(PluginInfo(name, "plugins_dir"),
                             f"import of {path} failed: {_describe(err)}")
                continue
            self.register(module, name, source="plugins_dir")

    def _failed(self, info: PluginInfo, error: str, hub: Hub | None = None) -> None:
        info.status, info.error = "failed", error
        current = self._info.get(info.name)
        if current is not None and current is not info and current.status == "loaded":
            _LOGGER.error("Plugin %s (%s) refused: %s", info.name, info.source, error)
            return
        self._info[info.name] = info
        _LOGGER.error("Plugin %s failed and is left out: %s", info.name, error)
        if info.module is not None and self.pm.is_registered(info.module):
            self.pm.unregister(info.module)
        for registry in self.registries.all():
            registry.drop_plugin(info.name)
        self.config_schemas = {k: v for k, v in self.config_schemas.items()
                               if v[0] != info.name}
        if hub is not None:
            hub.bus.fire(EVENT_PLUGIN_FAILED, {"plugin": info.name, "error": error})

    # --- queries ------------------------------------------------------------------

    def info(self, name: str) -> PluginInfo | None:
        """Return what is known about a plugin."""
        return self._info.get(name)

    def all(self) -> list[PluginInfo]:
        """Every plugin seen, loaded or not."""
        return list(self._info.values())

    def loaded(self) -> list[PluginInfo]:
        """Plugins that are loaded and working."""
        return [info for info in self._info.values() if info.status == "loaded"]

    def failed(self) -> list[PluginInfo]:
        """Plugins left out because they failed."""
        return [info for info in self._info.values() if info.status == "failed"]

    # --- calling hooks ------------------------------------------------------------

    def call_each(self, hook: str, **kwargs: Any) -> list[tuple[PluginInfo, Any]]:
        """Call one hook on every loaded plugin that implements it, one at a time.

        A plugin whose implementation raises is marked failed and left out entirely.
        Results are returned as (plugin, result) in registration order.
        """
        results: list[tuple[PluginInfo, Any]] = []
        caller = getattr(self.pm.hook, hook)
        for impl in caller.get_hookimpls():  # registration order
            info = self._info.get(impl.plugin_name)
            if info is None or info.status != "loaded":
                continue
            started = time.perf_counter()
            try:
                args = {name: kwargs[name] for name in impl.argnames}
                result = impl.function(**args)
            except Exception as err:
                self._failed(info, f"hook {hook} raised {_describe(err)}", kwargs.get("hub"))
                continue
            if self._trace:
                _LOGGER.info("hook %s of %s took %.1f ms", hook, info.name,
                             (time.perf_counter() - started) * 1000)
            results.append((info, result))
        return results

    def collect(self) -> list[str]:
        """Gather config schemas and registrations from every plugin; return problems."""
        problems: list[str] = []
        if self._collected:
            return problems
        self._collected = True
        for info, schemas in self.call_each("config_schema", registries=self.registries):
            if not isinstance(schemas, dict):
                self._failed(info, "config_schema must return a dict of key: schema")
                continue
            for key, schema in schemas.items():
                if key in self.config_schemas:
                    owner = self.config_schemas[key][0]
                    problems.append(f"plugin '{info.name}' claims the config key '{key}' "
                                    f"already claimed by plugin '{owner}': ignored")
                    continue
                self.config_schemas[key] = (info.name, schema)
        for hook in REGISTRY_HOOKS:
            registry = self.registries.for_hook(hook)
            for info, items in self.call_each(hook):
                if info.status != "loaded":
                    continue
                if inspect.isawaitable(items) or not isinstance(items, list | tuple | type(None)):
                    if inspect.iscoroutine(items):
                        items.close()
                    self._failed(info, f"{hook} must return a list, got {type(items).__name__}")
                    continue
                for item in items or ():
                    try:
                        registry.add(info.name, item)
                    except (DuplicateName, TypeError) as err:
                        problems.append(str(err))
        problems.extend(self._catalog_events())
        for problem in problems:
            _LOGGER.error("%s", problem)
        return problems

    def _catalog_events(self) -> list[str]:
        """Add the plugins' event types to the catalog; return the ones refused."""
        problems = []
        for plugin, event_type in self.registries.event_types.by_plugin():
            try:
                self.event_catalog.add(event_type, plugin)
            except (TypeError, ValueError) as err:
                problems.append(f"{err}: ignored")
        return problems

    async def setup_all(self, hub: Hub) -> None:
        """Run every plugin's ``setup(hub)``; a failure leaves that plugin out."""
        self.collect()
        for info, result in self.call_each("setup", hub=hub):
            try:
                teardown = await asyncio.wait_for(await_me_maybe_coro(result),
                                                  PLUGIN_SETUP_TIMEOUT)
            except TimeoutError:
                self._failed(info, f"setup took longer than {PLUGIN_SETUP_TIMEOUT}s", hub)
                continue
            except Exception as err:
                self._failed(info, f"setup raised {_describe(err)}", hub)
                continue
            info.teardown = teardown

    async def teardown_all(self) -> None:
        """Call the teardown callables returned by setup(), newest plugin first."""
        for info in reversed(list(self._info.values())):
            teardown, info.teardown = info.teardown, None
            if teardown is None or not callable(teardown):
                continue
            try:
                await await_me_maybe(teardown)
            except Exception:
                _LOGGER.exception("Teardown of plugin %s failed", info.name)

    def translations(self) -> dict[str, dict[str, str]]:
        """Merge every plugin's translation tables."""
        merged: dict[str, dict[str, str]] = {}
        for info, table in self.call_each("translations"):
            if not isinstance(table, dict):
                _LOGGER.error("Plugin %s: translations must return {language: {key: text}}",
                              info.name)
                continue
            for language, strings in table.items():
                merged.setdefault(language, {}).update(strings)
        return merged


async def await_me_maybe_coro(value: Any) -> Any:
    """Await a hook result if it is awaitable (callables are returned, not called)."""
    if inspect.isawaitable(value):
        return await value
    return value


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"

