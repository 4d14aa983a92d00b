"""From a hub.yaml path to a ready-to-start Hub: load, find plugins, validate, build."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import config as config_mod
from .config import ConfigError, HubConfig
from .core import Hub
from .i18n import Text, localize
from .plugins import PluginManager
from .util import dt
from .util.collector import collector_paused
from .validation import format_path
from .yamlload import Problem, position_of

_LOGGER = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


@dataclass
class Prepared:
    """The outcome of reading a configuration: a config, the plugins, and any problems."""

    config: HubConfig
    plugins: PluginManager
    problems: list[Problem]
    raw: Any = None  # the loaded YAML, with the positions problems are reported at

    def raise_on_problems(self) -> None:
        """Raise ConfigError listing every problem, if there are any."""
        if self.problems:
            raise ConfigError(self.problems)

    def forget_positions(self) -> None:
        """Let the loaded YAML go: its positions only place problems, and a hub that starts
        has none (with 10,000 meters, 40,000 mappings and their position tables)."""
        self.raw = None

    def report_problems(self) -> bool:
        """Print every problem to stderr under a count line; True if there were any."""
        count = len(self.problems)
        language = self.config.language  # the site's (the default when it is unreadable)
        if count:
            print(localize(Text("config.problem" if count == 1 else "config.problems",
                                count=count, path=self.config.config_path), language),
                  file=sys.stderr)
            for problem in self.problems:
                print(f"  {problem.text(language)}", file=sys.stderr)
        return bool(count)


def resolve_config_path(path: str | Path | None) -> Path:
    """The config to use: the one given, else ./hub.yaml, else the embedded demo."""
    if path is not None:
        return Path(path).resolve()
    local = Path("hub.yaml")
    # a symlinked hub.yaml (like this repository's, to the demo) includes files beside its
    # real location
    return local.resolve() if local.is_file() else config_mod.DEMO_CONFIG


def prepare(
    path: str | Path | None = None,
    *,
    data_dir: Path | None = None,
    entry_points: bool = True,
    plugins: PluginManager | None = None,
) -> Prepared:
    """Read hub.yaml and its includes, load plugins, validate everything.

    Never raises for user errors: every problem (YAML syntax, missing include, unknown
    secret, wrong type, unknown key, a plugin that failed to load) is returned.
    """
    config_path = resolve_config_path(path)
    with collector_paused():
        raw, ctx = config_mod.read(config_path)
    dirs, disabled = config_mod.plugin_settings(raw, config_path.parent)
    if plugins is None:
        plugins = PluginManager()
        plugins.load(entry_points=entry_points, dirs=dirs, disabled=disabled)
    plugin_problems = [Problem(None, "plugins", text) for text in plugins.collect()]
    def cross_check(blocks: dict[str, Any]) -> list[tuple[list[Any], str]]:
        found: list[tuple[list[Any], str]] = []
        for _info, result in plugins.call_each("check_config", config=blocks,
                                                   registries=plugins.registries):
            found.extend(result or [])
        return found

    with collector_paused():
        validated, problems = config_mod.validate(raw, plugins.config_schemas, ctx,
                                                  cross_check)
        hub_config = config_mod.build(validated, config_path.resolve(), data_dir)
    return Prepared(hub_config, plugins, problems + plugin_problems, raw)


async def check_setup(prepared: Prepared) -> list[Problem]:
    """Set every plugin up on a hub that never starts and ask ``check_setup`` what it sees."""
    hub = create_hub(prepared)
    await prepared.plugins.setup_all(hub)
    try:
        found = [problem for _info, result in prepared.plugins.call_each("check_setup", hub=hub)
                 for problem in result or []]
    finally:
        await prepared.plugins.teardown_all()
    return [Problem(position_of(prepared.raw, path), format_path(path), message)
            for path, message in found]


def create_hub(prepared: Prepared) -> Hub:
    """Build the Hub for a prepared configuration (raises ConfigError on problems)."""
    prepared.raise_on_problems()
    dt.set_site_time_zone(prepared.config.time_zone)
    return Hub(prepared.config, prepared.plugins)


def setup_logging(level: str = "info") -> None:
    """Log to stderr with time, level and logger name."""
    root = logging.getLogger()
    if not any(getattr(h, "_meterhub", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler._meterhub = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level.upper())
