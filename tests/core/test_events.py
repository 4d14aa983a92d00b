"""The event catalog: one definition per event type, every fired event in it, docs current."""

from __future__ import annotations

import ast
import functools
import importlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NotRequired, TypedDict

import pytest

from hub import events
from hub.events import CORE_EVENTS, EventCatalog, EventType, catalog_markdown
from hub.events.__main__ import builtin_catalog
from hub.hookspecs import hookimpl
from hub.plugins import PluginManager

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "hub", ROOT / "plugins"]
DOC = ROOT / "docs" / "events.md"
REGENERATE = "python -m hub.events > docs/events.md"

# What fires: ``<anything>.fire(event_type, ...)`` and ``.fire_threadsafe(loop, event_type)``.
PRIMITIVES = {"fire": (0, "event_type"), "fire_threadsafe": (1, "event_type")}



@pytest.fixture(scope="module")
def catalog() -> EventCatalog:
    return builtin_catalog()


# --- docs/events.md is generated from the catalog -----------------------------------------


def test_docs_events_md_is_current(catalog: EventCatalog) -> None:
    expected = catalog_markdown(catalog)
    current = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
    assert current == expected, (
        f"docs/events.md is not what the event catalog generates: run `{REGENERATE}`")


def test_docs_list_every_event_and_the_plugins_ones(catalog: EventCatalog) -> None:
    text = catalog_markdown(catalog)
    for name in catalog.names():
        assert f"## `{name}`" in text
    assert catalog.source("nbiot_command") == "nbiot"
    assert catalog.source("notify_failed") == "notify"
    assert catalog.source("notify_sent") == "notify"
    assert "| `account_id` | `str \\| None` | yes |" in text  # pipes escaped in tables
    assert "| `meter_id` | `str` | no |" in text  # billing_error's optional key


# --- every event fired in hub/ and plugins/ is in the catalog -----------------------------


@dataclass(frozen=True)
class FireSite:
    """The event-type argument of one call that fires an event."""

    path: Path
    module: str
    arg: ast.expr | None  # None: the call has no event-type argument
    line: int
    loops: tuple[ast.For, ...]  # the for loops around the call (innermost first)

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def module_name(path: Path) -> str:
    """The import name of a file of hub/ or of a plugin (meterhub_x.y)."""
    parts = list(path.with_suffix("").parts)
    start = next((i for i, part in enumerate(parts) if part.startswith("meterhub_")), None)
    if start is None:
        start = len(parts) - 1 - parts[::-1].index("hub")
    parts = parts[start:]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _params(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    names = [arg.arg for arg in [*func.args.posonlyargs, *func.args.args]]
    return names[1:] if names[:1] in (["self"], ["cls"]) else names


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position and not any(
            isinstance(arg, ast.Starred) for arg in call.args[:position + 1]):
        return call.args[position]
    return next((kw.value for kw in call.keywords if kw.arg == keyword), None)


def fire_sites(path: Path, source: str | None = None,
               module: str | None = None) -> list[FireSite]:
    """Every call of a module that fires an event, through helpers that pass the type on.

    A helper is a function whose own parameter is what it fires (``def _fire(self,
    event_type, ...)``); its callers in the module are then the sites. ``fire = bus.fire``
    makes ``fire(...)`` a site too.
    """
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    parents = _parents(tree)
    callees: dict[str, tuple[int, str]] = dict(PRIMITIVES)  # called as x.name(...)
    bare: dict[str, tuple[int, str]] = {}  # called as name(...)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Attribute) and node.value.attr in PRIMITIVES):
            bare[node.targets[0].id] = PRIMITIVES[node.value.attr]
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]

    def spec(call: ast.Call) -> tuple[int, str] | None:
        if isinstance(call.func, ast.Attribute):
            return callees.get(call.func.attr)
        if isinstance(call.func, ast.Name):
            return bare.get(call.func.id) or callees.get(call.func.id)
        return None

    def enclosing(node: ast.AST, kind: type | tuple[type, ...]) -> Iterator[Any]:
        while node in parents:
            node = parents[node]
            if isinstance(node, kind):
                yield node

    forwarded: set[ast.Call] = set()
    changed = True
    while changed:  # helpers calling helpers: until nothing new is found
        changed = False
        for call in calls:
            found = spec(call)
            if found is None or call in forwarded:
                continue
            arg = _argument(call, *found)
            func = next(enclosing(call, (ast.FunctionDef, ast.AsyncFunctionDef)), None)
            if isinstance(arg, ast.Name) and func is not None and arg.id in _params(func):
                forwarded.add(call)
                callees[func.name] = (_params(func).index(arg.id), arg.id)
                changed = True
    module = module or module_name(path)
    return [FireSite(path, module, _argument(call, *found), call.lineno,
                     tuple(enclosing(call, ast.For)))
            for call in calls if call not in forwarded and (found := spec(call)) is not None]


def resolve(site: FireSite, expr: ast.expr | None = None) -> list[str] | None:
    """The event names an argument can be (None: cannot tell)."""
    expr = site.arg if expr is None else expr
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.IfExp):
        body, orelse = resolve(site, expr.body), resolve(site, expr.orelse)
        return None if body is None or orelse is None else body + orelse
    if isinstance(expr, ast.Name):
        for loop in site.loops:  # for point, event_type in (("relay", EVENT_X), ...):
            values = _loop_values(site, loop, expr.id)
            if values is not None:
                return values
    if isinstance(expr, ast.Name | ast.Attribute):
        value = _lookup(site.module, ast.unparse(expr))
        return [value] if isinstance(value, str) else None
    return None


def _loop_values(site: FireSite, loop: ast.For, name: str) -> list[str] | None:
    if not isinstance(loop.iter, ast.Tuple | ast.List):
        return None
    if isinstance(loop.target, ast.Name) and loop.target.id == name:
        picked = list(loop.iter.elts)
    elif isinstance(loop.target, ast.Tuple) and name in [
            getattr(elt, "id", None) for elt in loop.target.elts]:
        index = [getattr(elt, "id", None) for elt in loop.target.elts].index(name)
        picked = [elt.elts[index] if isinstance(elt, ast.Tuple) else elt
                  for elt in loop.iter.elts]
    else:
        return None
    values: list[str] = []
    for elt in picked:
        found = resolve(site, elt)
        if found is None:
            return None
        values += found
    return values


def _lookup(module_name: str, dotted: str) -> Any:
    """A name as the module sees it (its own constant or an import), else hub.events'."""
    for module in (_import(module_name), events):
        value: Any = module
        for part in dotted.split("."):
            value = getattr(value, part, None)
        if value is not None:
            return value
    return None


def _import(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


@functools.cache
def all_fire_sites() -> tuple[FireSite, ...]:
    return tuple(site for root in SOURCES for path in sorted(root.rglob("*.py"))
                 for site in fire_sites(path))


# Sites that forward a name a user chose, each checked where it is fired: (file, argument).
USER_CHOSEN = {
    # the automations' event action: a catalog event (its data checked against the
    # catalog) or the landlord's own custom_... event
    ("hub/automation/script.py", "name"),
}


def test_every_fired_event_is_in_the_catalog(catalog: EventCatalog) -> None:
    problems = []
    sites = all_fire_sites()
    for site in sites:
        names = resolve(site)
        if names is None and (site.where.split(":")[0], ast.unparse(site.arg or ast.Constant(
                None))) in USER_CHOSEN:
            continue
        if names is None:
            shown = ast.unparse(site.arg) if site.arg is not None else "no argument"
            problems.append(f"{site.where}: cannot tell which event this fires ({shown}): "
                            "fire a constant of the event catalog")
            continue
        problems += [f"{site.where}: fires '{name}', which is not in the event catalog "
                     "(hub/events/, or the plugin's events.py)"
                     for name in names if name not in catalog]
    assert not problems, "\n".join(problems)
    assert len(sites) > 50, f"only {len(sites)} places fire events: is the finder broken?"


def test_every_catalog_entry_is_fired_somewhere(catalog: EventCatalog) -> None:
    fired = {name for site in all_fire_sites() for name in resolve(site) or ()}
    stale = sorted(set(catalog.names()) - fired)
    assert not stale, f"in the catalog but fired nowhere in hub/ or plugins/: {stale}"


def test_fire_site_finder_follows_helpers_aliases_loops_and_branches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = '''
EVENT_A = "a"

class Thing:
    def _fire(self, event_type, data):
        self.hub.bus.fire(event_type, data)

    def _change(self, kind, event_type):
        self._fire(event_type, {})

    def run(self, on):
        fire = self.hub.bus.fire
        fire(EVENT_A, {})
        self._fire("b" if on else EVENT_A, {})
        for point, event_type in (("relay", "c"), ("valve", "d")):
            self._change(point, event_type)
        self._fire(event_type=EVENT_A, data={})
        self.hub.bus.fire_threadsafe(loop, "e")
        self.hub.bus.fire(self.kind)
'''
    module = ModuleType("meterhub_test_thing")
    module.EVENT_A = "a"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    sites = fire_sites(tmp_path / "thing.py", source, module.__name__)
    found = {site.line: resolve(site) for site in sites}
    assert found == {13: ["a"], 14: ["b", "a"], 16: ["c", "d"], 17: ["a"], 18: ["e"],
                     19: None}


# --- no second, drifting definition of an event name --------------------------------------


def event_constants() -> Iterator[tuple[Path, str, int, Any]]:
    """Every module-level ``EVENT_* = ...`` in hub/ and plugins/, with its value."""
    for root in SOURCES:
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target, value = node.targets[0], node.value
                elif isinstance(node, ast.AnnAssign) and node.value is not None:
                    target, value = node.target, node.value
                else:
                    continue
                if not isinstance(target, ast.Name) or not target.id.startswith("EVENT_") or (
                        target.id == "EVENT_TYPES"):  # a plugin's list of its event types
                    continue
                if isinstance(value, ast.Constant):
                    yield path, target.id, node.lineno, value.value
                else:
                    yield path, target.id, node.lineno, _lookup(module_name(path), target.id)


def is_catalog_module(path: Path) -> bool:
    """The event catalog: hub/events/, or a plugin's own events.py."""
    relative = path.relative_to(ROOT)
    return relative.parts[:2] == ("hub", "events") or (
        relative.parts[0] == "plugins" and path.name == "events.py")


def test_every_event_constant_is_defined_once_in_the_catalog(catalog: EventCatalog) -> None:
    problems = []
    seen = 0
    for path, name, line, value in event_constants():
        seen += 1
        where = f"{path.relative_to(ROOT)}:{line}"
        if not is_catalog_module(path):
            problems.append(f"{where}: {name} is defined outside the event catalog: import it "
                            "from hub.events (or the plugin's events.py)")
        elif value not in catalog:
            problems.append(f"{where}: {name} = {value!r} is no event type of the catalog "
                            "(add its EventType to the module's EVENT_TYPES)")
    assert not problems, "\n".join(problems)
    assert seen > 50


def test_core_constants_match_their_event_types() -> None:
    names = [et.name for et in CORE_EVENTS]
    assert len(names) == len(set(names))
    constants = {value for key, value in vars(events).items() if key.startswith("EVENT_")}
    assert constants == set(names)
    assert set(events.__all__) >= {key for key in vars(events) if key.startswith("EVENT_")}


# --- check_data ---------------------------------------------------------------------------


def test_check_data_accepts_data_as_fired() -> None:
    catalog = EventCatalog()
    assert catalog.check_data("billing_error", {
        "account_id": None, "bill_id": "b1", "error": "no tariff"}) == []
    assert catalog.check_data("hub_started", {}) == []


def test_check_data_names_a_missing_key() -> None:
    problems = EventCatalog().check_data("balance_low", {
        "account_id": "a1", "level": 1, "balance": 0})
    assert problems == ["event 'balance_low': required key 'entry_id' is missing"]


def test_check_data_names_an_undeclared_key() -> None:
    problems = EventCatalog().check_data("meter_online", {"meter_id": "m1", "colour": "red"})
    assert len(problems) == 1
    assert "event 'meter_online'" in problems[0] and "key 'colour' is not declared" in problems[0]


def test_check_data_names_an_unknown_event() -> None:
    catalog = EventCatalog()
    assert catalog.check_data("balance_lwo", {}) == [
        "unknown event type 'balance_lwo' (did you mean 'balance_low'?)"]
    assert catalog.check_data("no_such_thing", {}) == ["unknown event type 'no_such_thing'"]


def test_keys_come_from_the_typeddict() -> None:
    catalog = EventCatalog()
    assert catalog.keys("billing_error") == (frozenset({"account_id", "error"}),
                                             frozenset({"meter_id", "reading_id", "bill_id"}))
    required, optional = catalog.keys("command_failed")  # inherited keys count
    assert {"command_id", "meter_id", "error", "expired"} <= required and not optional
    with pytest.raises(KeyError, match="unknown event type 'nope'"):
        catalog.keys("nope")


# --- one definition per name --------------------------------------------------------------


# the call syntax: this module's annotations are strings (from __future__ import annotations)
_PingData = TypedDict("_PingData", {"link": str, "rtt_ms": NotRequired[int]})  # noqa: UP013


def test_add_refuses_a_duplicate_naming_both_sources() -> None:
    catalog = EventCatalog()
    catalog.add(EventType("ping", _PingData, "A ping came back", "plugin a"), "plugin_a")
    with pytest.raises(ValueError, match="'ping' from plugin_b is already defined by plugin_a"):
        catalog.add(EventType("ping", _PingData, "A ping came back", "plugin b"), "plugin_b")
    with pytest.raises(ValueError, match="'reading' from plugin_b is already defined by core"):
        catalog.add(EventType("reading", _PingData, "A reading", "plugin b"), "plugin_b")
    assert catalog.source("ping") == "plugin_a"
    assert catalog.keys("ping") == (frozenset({"link"}), frozenset({"rtt_ms"}))


def test_add_refuses_malformed_definitions() -> None:
    catalog = EventCatalog()
    with pytest.raises(TypeError, match="data must be a TypedDict"):
        catalog.add(EventType("x", dict, "X", "p"), "p")
    with pytest.raises(ValueError, match="lower case"):
        catalog.add(EventType("Bad Name", _PingData, "X", "p"), "p")
    with pytest.raises(ValueError, match="one line"):
        catalog.add(EventType("x", _PingData, "two\nlines", "p"), "p")
    namespace: dict[str, Any] = {}
    exec("from __future__ import annotations\nfrom typing import NotRequired, TypedDict\n"
         "class Late(TypedDict):\n    a: NotRequired[int]\n", namespace)
    with pytest.raises(TypeError, match="key 'a' of Late is a string annotation"):
        catalog.add(EventType("late", namespace["Late"], "X", "p"), "p")


def test_plugin_event_types_reach_the_catalog_through_the_hook() -> None:
    manager = PluginManager()
    plugin = ModuleType("meterhub_fake")

    def register_event_types() -> list[EventType]:
        return [EventType("fake_ping", _PingData, "A ping came back", "plugin fake"),
                EventType("reading", _PingData, "A second definition", "plugin fake")]

    plugin.register_event_types = hookimpl(register_event_types)  # type: ignore[attr-defined]
    manager.register(plugin, "fake")
    problems = manager.collect()
    assert manager.event_catalog.get("fake_ping") is not None
    assert manager.event_catalog.source("fake_ping") == "fake"
    assert manager.event_catalog.get("reading").meaning != "A second definition"
    assert problems == ["event type 'reading' from fake is already defined by core: ignored"]


def test_catalog_iterates_sorted_and_knows_membership(catalog: EventCatalog) -> None:
    names = [et.name for et in catalog]
    assert names == sorted(names) == catalog.names()
    assert "reading" in catalog and "nbiot_command" in catalog and "nope" not in catalog
    assert len(catalog) == len(names) > len(CORE_EVENTS)
