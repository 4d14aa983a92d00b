"""The link toolkit is the only thing links share: no plugin imports another plugin, links
reach storage and the web through their public modules, and metering never imports storage."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import meterhub_nbiot
import meterhub_rs485
from hub.metering.link import DownlinkQueue, Link

REPO = Path(__file__).resolve().parents[2]
PLUGIN_ROOTS = [REPO / "plugins" / kind for kind in ("links", "meters", "tariffs", "notifiers")]


def _imports(path: Path) -> Iterator[str]:
    """Every module a file imports, at the top, inside functions or under TYPE_CHECKING."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _plugin_files() -> Iterator[tuple[str, Path]]:
    for root in PLUGIN_ROOTS:
        for package in sorted(root.glob("meterhub_*")):
            for path in sorted(package.rglob("*.py")):
                yield package.name, path


def test_no_plugin_imports_another_plugin() -> None:
    found = [f"{path.relative_to(REPO)} imports {module}"
             for package, path in _plugin_files() for module in _imports(path)
             if module.startswith("meterhub_") and module.split(".")[0] != package
             and module.split(".")[0] != "meterhub_frontend"]
    assert not found, found


def test_links_reach_storage_and_the_web_through_their_public_modules() -> None:
    private = ("hub.storage.", "hub.web.server")
    found = [f"{path.relative_to(REPO)} imports {module}"
             for package, path in _plugin_files() if "links" in path.parts
             for module in _imports(path) if module.startswith(private)]
    assert not found, found


def test_metering_never_imports_storage() -> None:
    found = [f"{path.relative_to(REPO)} imports {module}"
             for path in sorted((REPO / "hub" / "metering").rglob("*.py"))
             for module in _imports(path)
             if module.startswith("hub.storage")]
    found += [f"{path.relative_to(REPO)}: relative import of storage"
              for path in sorted((REPO / "hub" / "metering").rglob("*.py"))
              for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
              if isinstance(node, ast.ImportFrom) and node.level >= 2
              and (node.module or "").startswith("storage")]
    assert not found, found


def test_sleeping_meters_queue_commands_through_the_link_contract() -> None:
    assert Link.downlink_queue is meterhub_rs485.Rs485Link.downlink_queue  # awake: None
    assert issubclass(meterhub_nbiot.NbiotLink, DownlinkQueue)
    assert meterhub_nbiot.NbiotLink.command_event == meterhub_nbiot.EVENT_COMMAND


def test_no_hub_code_names_a_link_type_or_duck_types_a_link() -> None:
    found = [str(path.relative_to(REPO)) for path in sorted((REPO / "hub").rglob("*.py"))
             if "nbiot" in (text := path.read_text(encoding="utf-8")).lower()
             or "getattr(meter.link" in text]
    assert not found, found
