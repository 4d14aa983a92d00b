"""hub.yaml: loading, validation of the core blocks and of every plugin's own blocks.

The core owns ``site``, ``http``, ``logger``, ``plugins`` and ``storage``-independent
basics; every other top-level key belongs to whichever plugin (built-in or community)
declares it through the ``config_schema`` hook. An unclaimed key is an error, so a typo is
never silently ignored. Every problem is reported with file, line and key path, all at once.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import voluptuous as vol

from . import validation as cv
from .const import (
    DEFAULT_CURRENCY,
    DEFAULT_HTTP_HOST,
    DEFAULT_HTTP_PORT,
    DEFAULT_LANGUAGE,
    DEFAULT_TIME_ZONE,
)
from .exceptions import HubError
from .i18n import Text
from .yamlload import LoadContext, NodeDict, Problem, load_yaml, position_of

__all__ = [
    "LANGUAGES",
    "ConfigError",
    "HubConfig",
]

_LOGGER = logging.getLogger(__name__)

DEMO_CONFIG = Path(__file__).parent / "demo" / "hub.yaml"
LANGUAGES = ("zh-CN", "en")
LOG_LEVELS = ("critical", "fatal", "error", "warning", "warn", "info", "debug", "notset")

SITE_SCHEMA = cv.Strict(
    {
        vol.Optional("name", default="MeterHub"): cv.string,
        vol.Optional("time_zone", default=DEFAULT_TIME_ZONE): cv.time_zone,
        vol.Optional("language", default=DEFAULT_LANGUAGE): cv.one_of(*LANGUAGES),
        vol.Optional("currency", default=DEFAULT_CURRENCY): cv.one_of("CNY"),
    }
)

def _api_token_removed(value: Any) -> Any:
    raise vol.Invalid(Text("config.api_token_gone"))


def _network(value: Any) -> str:
    try:
        return str(ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        raise vol.Invalid(Text("config.network", value=value)) from None


HTTP_SCHEMA = cv.Strict(
    {
        vol.Optional("host", default=DEFAULT_HTTP_HOST): cv.string,
        vol.Optional("port", default=DEFAULT_HTTP_PORT): cv.listen_port,
        vol.Optional("api_token"): _api_token_removed,
        vol.Inclusive("ssl_certificate", "tls"): cv.string,
        vol.Inclusive("ssl_key", "tls"): cv.string,
        vol.Optional("trusted_proxies", default=[]): cv.ListOf(_network, allow_single=True),
        vol.Optional("allowed_hosts"): cv.ListOf(cv.string, allow_single=True),
    }
)

LOGGER_SCHEMA = cv.Strict(
    {
        vol.Optional("default", default="info"): cv.one_of(*LOG_LEVELS),
        vol.Optional("logs", default={}): {cv.string: cv.one_of(*LOG_LEVELS)},
    }
)

PLUGINS_SCHEMA = cv.Strict(
    {
        vol.Optional("dirs", default=[]): cv.ListOf(cv.string, allow_single=True),
        vol.Optional("disable", default=[]): cv.ListOf(cv.string, allow_single=True),
    }
)

CORE_SCHEMAS: dict[str, Any] = {
    "site": SITE_SCHEMA,
    "http": HTTP_SCHEMA,
    "logger": LOGGER_SCHEMA,
    "plugins": PLUGINS_SCHEMA,
}


class ConfigError(HubError):
    """The configuration has problems; ``problems`` lists every one with file:line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the configuration:\n"
                         f"{lines}")


@dataclass
class HubConfig:
    """The validated configuration of one hub."""

    site_name: str = "MeterHub"
    time_zone: str = DEFAULT_TIME_ZONE
    language: str = DEFAULT_LANGUAGE
    currency: str = DEFAULT_CURRENCY
    http_host: str = DEFAULT_HTTP_HOST
    http_port: int = DEFAULT_HTTP_PORT
    ssl_certificate: Path | None = None
    ssl_key: Path | None = None
    trusted_proxies: list[str] = field(default_factory=list)
    allowed_hosts: list[str] | None = None
    """Host names the web server answers to (None: this machine's names and addresses)."""
    log_default: str = "info"
    log_levels: dict[str, str] = field(default_factory=dict)
    plugin_dirs: list[Path] = field(default_factory=list)
    disabled_plugins: list[str] = field(default_factory=list)
    config_path: Path | None = None
    data_dir: Path = field(default_factory=lambda: Path("meterhub-data"))
    blocks: dict[str, Any] = field(default_factory=dict)
    """Validated plugin-owned blocks by top-level key (``meters``, ``links``...)."""

    @classmethod
    def default(cls) -> HubConfig:
        """A configuration with every default: no meters, no plugins' blocks."""
        return cls()

    @property
    def config_dir(self) -> Path:
        """The folder holding hub.yaml (relative paths in the config start here)."""
        return self.config_path.parent if self.config_path else Path.cwd()

    def block(self, key: str, default: Any = None) -> Any:
        """Return a validated plugin block, or ``default`` when it was not written."""
        return self.blocks.get(key, default)


def plugin_settings(raw: Any, config_dir: Path) -> tuple[list[Path], list[str]]:
    """Read just the ``plugins:`` block (dirs, disable) before plugins are loaded.

    Errors are ignored here: full validation reports them later with file and line.
    """
    block = raw.get("plugins") if isinstance(raw, Mapping) else None
    try:
        settings = PLUGINS_SCHEMA(block or {})
    except vol.Invalid:
        return [], []
    dirs = [Path(os.path.expanduser(d)) for d in settings["dirs"]]
    return [d if d.is_absolute() else config_dir / d for d in dirs], list(settings["disable"])


CrossCheck = Callable[[dict[str, Any]], list[tuple[list[Any], str]]]


def validate(
    raw: Any,
    plugin_schemas: Mapping[str, tuple[str, Any]],
    ctx: LoadContext | None = None,
    cross_check: CrossCheck | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """Validate loaded YAML against the core schemas and the plugins' schemas.

    ``plugin_schemas`` maps a top-level key to (plugin name, schema); ``cross_check`` then
    looks at references between blocks. It runs whatever the schemas found, on the parts
    that passed (see ``salvage``), so one run reports schema and reference problems alike;
    a reference to an item that failed its schema is not reported again (its own errors
    are). Returns the validated blocks and every problem found (load problems first).
    """
    problems = list(ctx.problems) if ctx else []
    if raw is None and not problems:  # an empty file (or comments only) is no site
        problems.append(Problem(None, "", Text("config.empty")))
    if raw is None:
        raw = NodeDict()
    if not isinstance(raw, Mapping):
        problems.append(Problem(getattr(raw, "pos", None), "", Text("config.not_mapping")))
        return {}, problems
    failed_ids: set[str] = set()
    kept_items: dict[str, list[int]] = {}
    known: dict[str, Any] = dict(CORE_SCHEMAS)
    known.update({key: schema for key, (_plugin, schema) in plugin_schemas.items()})
    validated: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            close = difflib.get_close_matches(str(key), list(known), 1, 0.6)
            problems.append(Problem(
                position_of(raw, [key]),
                str(key),
                Text("config.unknown_block_hint", hint=close[0], key=key) if close
                else Text("config.unknown_block", key=key),
            ))
            continue
        if value is None:
            continue  # written empty (or its include failed, already reported): as if absent
        schema = known[key]
        if not isinstance(schema, vol.Schema):
            schema = vol.Schema(schema)
        try:
            validated[key] = schema(value)
        except vol.Invalid as err:
            for single in cv.flatten_invalid(err):
                path, message = cv.describe_invalid(single, value)
                problems.append(Problem(
                    position_of(raw, [key, *path]),
                    cv.format_path([key, *path]),
                    message,
                ))
            part = salvage(schema, value, err)
            failed_ids |= part.failed_ids
            if part.found:
                validated[key] = part.value
                if part.kept is not None:
                    kept_items[key] = part.kept
    for key, schema in known.items():
        if key in validated or raw.get(key) is not None:
            continue
        try:
            validated[key] = (schema if isinstance(schema, vol.Schema) else vol.Schema(schema))(
                _empty_like(schema)
            )
        except vol.Invalid:
            pass  # a block that must be written when used; absent is fine
    if cross_check is not None:
        failed_ids -= _ids_in(validated)
        for found_path, message in cross_check(validated):
            path = _original_path(found_path, kept_items)
            if not _names_failed_item(raw, path, message, failed_ids):
                problems.append(Problem(position_of(raw, path), cv.format_path(path), message))
    secrets = sorted(ctx.secret_texts, key=len, reverse=True) if ctx else []
    if secrets:
        redacted = []
        for problem in problems:
            message = problem.message
            for text in secrets:
                message = re.sub(rf"(?<!\w){re.escape(text)}(?!\w)", "<secret>", message)
            redacted.append(Problem(problem.position, problem.path, message))
        problems = redacted
    return validated, problems


_NOTHING: Any = object()
_SALVAGE_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class Salvaged:
    """What of a block passed its schema once the items with errors were left out."""

    value: Any
    """The validated rest of the block, or ``_NOTHING`` when nothing of it passes."""
    kept: list[int] | None
    """For a list block, the original index of each item kept (cross-check paths map back)."""
    failed_ids: set[str]
    """The ids of the items left out (references to them are not reported again)."""

    @property
    def found(self) -> bool:
        """Whether any part of the block passed its schema."""
        return self.value is not _NOTHING


def salvage(schema: Any, value: Any, err: vol.Invalid) -> Salvaged:
    """Validate a block again without each top-level item (list item or key) an error is in.

    An item whose removal leaves the block invalid (a required key) takes the whole block
    with it; a few rounds settle errors that appear only once an item is gone.
    """
    if isinstance(value, list):
        keys: list[Any] = list(range(len(value)))
    elif isinstance(value, Mapping):
        keys = list(value)
    else:
        return Salvaged(_NOTHING, None, set())
    for _round in range(_SALVAGE_ROUNDS):
        heads = set()
        for single in cv.flatten_invalid(err):
            path = list(single.path)
            if not path:
                heads = set(keys) | {None}  # the block as a whole is wrong
                break
            head = getattr(path[0], "schema", path[0])
            heads.add(keys[head] if isinstance(value, list) and isinstance(head, int)
                      and 0 <= head < len(keys) else head)
        if not heads <= set(keys):  # a required item, or the block itself: nothing salvaged
            return Salvaged(_NOTHING, None, _item_ids(value, list(range(len(value)))
                                                      if isinstance(value, list) else list(value)))
        keys = [key for key in keys if key not in heads]
        part: Any = ([value[i] for i in keys] if isinstance(value, list)
                     else {key: value[key] for key in keys})
        try:
            result = schema(part)
        except vol.Invalid as again:
            err = again
            continue
        dropped = [key for key in (range(len(value)) if isinstance(value, list) else value)
                   if key not in keys]
        return Salvaged(result, keys if isinstance(value, list) else None,
                        _item_ids(value, dropped))
    return Salvaged(_NOTHING, None, set())


def _item_ids(block: Any, keys: list[Any]) -> set[str]:
    """The ids of a block's items (an entry's ``id``, else its key in a mapping block)."""
    ids: set[str] = set()
    for key in keys:
        item = block[key]
        if not isinstance(item, Mapping):
            continue
        ident = item.get("id", None if isinstance(block, list) else key)
        if isinstance(ident, str | int) and not isinstance(ident, bool):
            ids.add(str(ident))
    return ids


def _ids_in(validated: Mapping[str, Any]) -> set[str]:
    """The ids of every validated list entry (an id still valid somewhere is not failed)."""
    return {str(item["id"]) for block in validated.values() if isinstance(block, list)
            for item in block if isinstance(item, Mapping) and "id" in item}


def _original_path(path: list[Any], kept_items: Mapping[str, list[int]]) -> list[Any]:
    """Map a cross-check path into a salvaged list block back to the item's own index."""
    if len(path) > 1 and path[0] in kept_items and isinstance(path[1], int):
        kept = kept_items[path[0]]
        if 0 <= path[1] < len(kept):
            return [path[0], kept[path[1]], *path[2:]]
    return list(path)


def _names_failed_item(raw: Any, path: list[Any], message: str, failed_ids: set[str]) -> bool:
    """Whether a reference problem is about an item that failed its schema (the value at its
    path is that item's id, or the message quotes it)."""
    if not failed_ids:
        return False
    found, value = cv.lookup(raw, path)
    if found and isinstance(value, str | int) and str(value) in failed_ids:
        return True
    return any(f"'{ident}'" in message for ident in failed_ids)


def _empty_like(schema: Any) -> Any:
    inner = schema.schema if isinstance(schema, vol.Schema) else schema
    if isinstance(inner, cv.ListOf | list):
        return []
    return {}


def build(validated: Mapping[str, Any], config_path: Path | None,
          data_dir: Path | None = None) -> HubConfig:
    """Turn validated blocks into a HubConfig."""
    site = validated.get("site") or SITE_SCHEMA({})
    http = validated.get("http") or HTTP_SCHEMA({})
    logger = validated.get("logger") or LOGGER_SCHEMA({})
    config_dir = config_path.parent if config_path else Path.cwd()
    dirs, disabled = plugin_settings(validated, config_dir)
    return HubConfig(
        site_name=site["name"],
        time_zone=site["time_zone"],
        language=site["language"],
        currency=site["currency"],
        http_host=http["host"],
        http_port=http["port"],
        ssl_certificate=_path(http.get("ssl_certificate"), config_dir),
        ssl_key=_path(http.get("ssl_key"), config_dir),
        trusted_proxies=list(http["trusted_proxies"]),
        allowed_hosts=list(http["allowed_hosts"]) if "allowed_hosts" in http else None,
        log_default=logger["default"],
        log_levels=dict(logger["logs"]),
        plugin_dirs=dirs,
        disabled_plugins=disabled,
        config_path=config_path,
        data_dir=data_dir or default_data_dir(config_path),
        blocks={k: v for k, v in validated.items() if k not in CORE_SCHEMAS},
    )


def _path(value: str | None, config_dir: Path) -> Path | None:
    if value is None:
        return None
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else config_dir / path


def default_data_dir(config_path: Path | None) -> Path:
    """Where the database and other state live when ``--data`` is not given.

    Beside a landlord's hub.yaml; for the embedded demo, in the user's data folder.
    """
    if config_path is None or config_path.resolve() == DEMO_CONFIG.resolve():
        base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
        return Path(base) / "meterhub"
    return config_path.parent / "meterhub-data"


def read(path: Path) -> tuple[Any, LoadContext]:
    """Load hub.yaml and its includes; problems are kept in the returned context."""
    return load_yaml(path, root=path.parent)


def apply_logging(config: HubConfig) -> None:
    """Apply the ``logger:`` block: a default level and levels per logger name."""
    logging.getLogger().setLevel(config.log_default.upper())
    for name, level in config.log_levels.items():
        logging.getLogger(name).setLevel(level.upper())
