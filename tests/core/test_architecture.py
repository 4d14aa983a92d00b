"""The house plan, enforced: no import cycle between hub's packages, plugins on the public API.

Every import counts: at module level, inside a function and under ``TYPE_CHECKING``. The
public API a plugin may import is the table in docs/plugin-api.md; each module listed there
declares ``__all__``, and a plugin may import only names in it.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HUB = ROOT / "hub"
PLUGIN_ROOTS = [path for path in (ROOT / "plugins", ROOT / "integrations") if path.is_dir()]
PLUGIN_API_DOC = ROOT / "docs" / "plugin-api.md"

# hub's top-level modules, its utilities (hub.util) and the event catalog (hub.events) make
# up the core: bus, states, services, config, plugins, hookspecs, start-up, event catalog.
# These are the faces and glue on top of every package: the CLI, its HTTP client, bootstrap,
# the catalog's doc generator.
FACES = {"hub.cli", "hub.client", "hub.bootstrap", "hub.__main__", "hub.events.__main__"}
CORE_PACKAGES = {"hub.events", "hub.util"}


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to an absolute module name."""

    module: str  # the importing module
    target: str  # the imported module (for ``from X import a``: X)
    names: tuple[str, ...]  # ``a``, ... for ``from X import a``; () for ``import X``
    where: str  # file:line


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path) -> Iterator[Import]:
    """Every import in a file, wherever it stands (functions, TYPE_CHECKING blocks...)."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, (), f"{where}:{node.lineno}")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield Import(module, target, tuple(alias.name for alias in node.names),
                         f"{where}:{node.lineno}")


def package_of(module: str) -> str | None:
    """The node of the package graph a hub module belongs to (None: outside hub)."""
    parts = module.split(".")
    if parts[0] != "hub":
        return None
    if module in FACES:
        return module
    if len(parts) > 1 and (HUB / parts[1]).is_dir() and f"hub.{parts[1]}" not in CORE_PACKAGES:
        return f"hub.{parts[1]}"
    return "hub (core)"


def hub_import_graph() -> dict[str, dict[str, list[str]]]:
    """Edges between hub's packages: {from: {to: [file:line, ...]}}."""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(HUB.rglob("*.py")):
        for imp in imports_of(path, ROOT):
            source, target = package_of(imp.module), package_of(imp.target)
            if imp.target == "hub" and imp.names:  # ``from hub import validation``
                target = package_of(f"hub.{imp.names[0]}")
            if source is None or target is None or source == target:
                continue
            graph.setdefault(source, {}).setdefault(target, []).append(imp.where)
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted({*graph, *(t for targets in graph.values() for t in targets)}):
        if node not in index:
            visit(node)
    return found


def describe_cycle(graph: dict[str, dict[str, list[str]]], members: list[str]) -> str:
    lines = [" <-> ".join(members)]
    for source in members:
        for target, places in sorted(graph.get(source, {}).items()):
            if target in members:
                lines.append(f"  {source} -> {target}: {', '.join(places[:5])}"
                             + (f" (+{len(places) - 5} more)" if len(places) > 5 else ""))
    return "\n".join(lines)


def test_no_import_cycle_between_hub_packages() -> None:
    graph = hub_import_graph()
    found = cycles(graph)
    assert not found, "import cycles between hub packages:\n" + "\n".join(
        describe_cycle(graph, members) for members in found)


# The layers of docs/architecture.md, bottom first: a package imports only from layers below
# it (or its own). The faces (web, CLI, its client, bootstrap) are on top; a package's own
# CLI and API modules may use their toolkit (hub.bootstrap, hub.client, hub.web.routes).
LAYERS = ["hub (core)", "hub.metering", "hub.storage", "hub.auth", "hub.ledger", "hub.billing",
          "hub.prepaid", "hub.automation"]
TOP = {"hub.web", "hub.dashboard", *FACES}


def test_layers_import_only_downwards() -> None:
    graph = hub_import_graph()
    rank = {name: position for position, name in enumerate(LAYERS)}
    unknown = sorted(node for node in {*graph, *(t for ts in graph.values() for t in ts)}
                     if node not in rank and node not in TOP)
    assert not unknown, f"packages with no layer in LAYERS (docs/architecture.md): {unknown}"
    upwards = [f"{source} -> {target}: {', '.join(places[:3])}"
               for source, targets in sorted(graph.items()) if source in rank
               for target, places in sorted(targets.items())
               if target in rank and rank[target] > rank[source]]
    assert not upwards, "imports from a higher layer:\n" + "\n".join(upwards)


def test_cycle_finder_finds_a_cycle_and_names_its_imports() -> None:
    graph = {"hub.billing": {"hub.prepaid": ["hub/billing/engine.py:81"]},
             "hub.prepaid": {"hub.billing": ["hub/prepaid/money.py:12"],
                             "hub.storage": ["hub/prepaid/money.py:13"]},
             "hub.storage": {"hub (core)": ["hub/storage/db.py:3"]}}
    found = cycles(graph)
    assert found == [["hub.billing", "hub.prepaid"]]
    text = describe_cycle(graph, found[0])
    assert "hub/billing/engine.py:81" in text and "hub/prepaid/money.py:12" in text
    assert "storage" not in text


def test_imports_inside_functions_and_type_checking_blocks_count(tmp_path: Path) -> None:
    source = tmp_path / "hub" / "billing" / "x.py"
    source.parent.mkdir(parents=True)
    source.write_text("from typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n    from ..prepaid import money\n"
                      "def f():\n    from hub.ledger.book import Book\n")
    targets = {(imp.target, imp.names) for imp in imports_of(source, tmp_path)}
    assert ("hub.prepaid", ("money",)) in targets
    assert ("hub.ledger.book", ("Book",)) in targets


# --- the public plugin API ---------------------------------------------------------------


def public_modules() -> list[str]:
    """The modules listed in docs/plugin-api.md's table (first column, as `hub.x`)."""
    text = PLUGIN_API_DOC.read_text(encoding="utf-8")
    listed = re.findall(r"^\|\s*`(hub(?:\.[a-z_0-9]+)*)`\s*\|", text, flags=re.MULTILINE)
    assert listed, f"{PLUGIN_API_DOC} lists no module (a table row: | `hub.x` | ... |)"
    return listed


@pytest.mark.parametrize("name", public_modules())
def test_each_public_module_declares_all(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{name} is listed in docs/plugin-api.md but has no __all__"
    missing = [item for item in exported if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"


def plugin_import_problems() -> list[str]:
    public = set(public_modules())
    exported = {name: set(importlib.import_module(name).__all__) for name in public}
    problems: list[str] = []
    for root in PLUGIN_ROOTS:
        for path in sorted(root.rglob("*.py")):
            # a plugin's source root is the folder holding its meterhub_* package
            package_dir = next((parent for parent in path.parents
                                if parent.name.startswith("meterhub_")), None)
            if package_dir is None:
                continue
            source_root = package_dir.parent
            own = package_dir.name
            problems.extend(problem for imp in imports_of(path, source_root)
                            for problem in _check_plugin_import(imp, own, public, exported))
    return problems


def _check_plugin_import(imp: Import, own: str, public: set[str],
                         exported: dict[str, set[str]]) -> list[str]:
    top = imp.target.split(".")[0]
    if top.startswith("meterhub_") and top != own:
        return [f"{imp.where}: imports another plugin's module {imp.target}"]
    if top != "hub":
        return []
    if not imp.names:  # import hub.x
        return [] if imp.target in public else [
            f"{imp.where}: imports {imp.target}, which is not in the public API"]
    if imp.target not in public:
        # ``from hub import validation`` names a public module, not a name of hub
        submodules = [f"{imp.target}.{name}" for name in imp.names]
        if all(name in public for name in submodules):
            return []
        return [f"{imp.where}: imports from {imp.target}, which is not in the public API"]
    return [f"{imp.where}: {imp.target}.{name} is not in its __all__"
            for name in imp.names if name not in exported[imp.target]
            and f"{imp.target}.{name}" not in public]


def test_plugins_import_only_the_public_api() -> None:
    problems = plugin_import_problems()
    assert not problems, "plugins reaching past the public API:\n" + "\n".join(problems)


def test_plugin_import_check_catches_private_and_cross_plugin_imports() -> None:
    public = {"hub.core", "hub.validation"}
    exported = {"hub.core": {"Hub"}, "hub.validation": {"string"}}

    def check(target: str, *names: str) -> list[str]:
        return _check_plugin_import(Import("meterhub_x.link", target, names, "x.py:1"),
                                    "meterhub_x", public, exported)

    assert check("hub.core", "Hub") == []
    assert check("hub", "validation") == []
    assert check("meterhub_x.stream", "StreamLink") == []
    assert check("hub.core", "_private") == ["x.py:1: hub.core._private is not in its __all__"]
    assert check("hub.storage.storage", "Storage") == [
        "x.py:1: imports from hub.storage.storage, which is not in the public API"]
    assert check("meterhub_rs485.stream", "StreamLink") == [
        "x.py:1: imports another plugin's module meterhub_rs485.stream"]
    assert check("hub.web.server") == [
        "x.py:1: imports hub.web.server, which is not in the public API"]
