"""Write the event catalog of the core and the built-in plugins as docs/events.md.

    python -m hub.events > docs/events.md

The built-in plugins are the ``meterhub`` entry points of this distribution; each adds its
event types through the ``register_event_types`` hook, as a community plugin would.
"""

from __future__ import annotations

import importlib.metadata
import sys

from ..plugins import PluginManager
from .catalog import EventCatalog
from .markdown import catalog_markdown

__all__ = ["builtin_catalog", "main"]


def builtin_catalog() -> EventCatalog:
    """The core's event types plus those of the plugins that ship with MeterHub (a community
    plugin installed beside them documents its own)."""
    manager = PluginManager()
    manager.load(core=False)
    manager.collect()
    own = _own_distribution()
    catalog = EventCatalog()
    for plugin, event_type in manager.registries.event_types.by_plugin():
        info = manager.info(plugin)
        if info is not None and info.distribution == own:
            catalog.add(event_type, plugin)
    return catalog


def _own_distribution() -> str:
    names = importlib.metadata.packages_distributions().get("hub")
    return names[0] if names else "meterhub"


def main() -> int:
    """Print docs/events.md."""
    sys.stdout.write(catalog_markdown(builtin_catalog()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
