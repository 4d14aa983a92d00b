"""What an automation names, checked: event types, meters and accounts (from the configuration,
for check-config) and services with their data (against the running hub's services).

Each check walks a validated automation and returns ``(key path, message)`` problems.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .. import validation as cv
from ..exceptions import ServiceValidationError
from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .subjects import tagged
from .template import is_template

if TYPE_CHECKING:
    from ..core import Hub
    from ..events.catalog import EventCatalog

__all__ = ["CUSTOM_EVENT_PREFIX", "reference_problems", "service_problems"]

CUSTOM_EVENT_PREFIX: Final = "custom_"  # a landlord's own events, fired and heard by automations

Problems = list[tuple[list[Any], str]]


def _unknown_event(catalog: EventCatalog, name: str, verb: str) -> str:
    return (catalog.check_data(name, {})[0] + f": {verb} a catalog event (docs/events.md) or "
            f"your own '{CUSTOM_EVENT_PREFIX}...'")


def reference_problems(catalog: EventCatalog, meters: set[str], accounts: set[str], node: Any,
                       path: list[Any]) -> Problems:
    """Every event type, meter id and account id an automation names that does not exist."""
    problems: Problems = []
    if isinstance(node, Mapping):
        if node.get("trigger") == "event":
            problems += [([*path, "event_type", position], _unknown_event(catalog, name, "use"))
                         for position, name in enumerate(node.get("event_type") or [])
                         if catalog.get(name) is None
                         and not name.startswith(CUSTOM_EVENT_PREFIX)]
        if node.get("kind") == "event" and catalog.get(node["event"]) is None \
                and not node["event"].startswith(CUSTOM_EVENT_PREFIX):
            problems.append(([*path, "event"], _unknown_event(catalog, node["event"], "fire")))
        for key, known, what in (("meter_id", meters, Text("automation.meter")),
                                 ("account_id", accounts, Text("automation.account"))):
            if key not in node:
                continue
            values = node[key]
            for position, value in enumerate(cv.ensure_list(values)):
                if isinstance(value, str) and not is_template(value) and value not in known:
                    where = [*path, key, position] if isinstance(values, list) else [*path, key]
                    problems.append((where, Text("automation.unknown_ref", what=what,
                                                 value=value)))
        for key, value in node.items():
            if key not in ("meter_id", "account_id"):
                problems += reference_problems(catalog, meters, accounts, value, [*path, key])
    elif isinstance(node, list):
        for position, item in enumerate(node):
            problems += reference_problems(catalog, meters, accounts, item, [*path, position])
    return problems


def _has_template(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_has_template(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_template(item) for item in value)
    return is_template(value)


def _unknown_service(hub: Hub, name: str) -> str:
    known = [f"{domain}.{service}" for domain, services in hub.services.all().items()
             for service in services]
    close = difflib.get_close_matches(name, known, n=1)
    return f"unknown service '{name}'" + (f" (did you mean '{close[0]}'?)" if close else "")


def _sample_call(hub: Hub, domain: str, data: Mapping[str, Any],
                 target: Mapping[str, Any]) -> dict[str, Any] | None:
    """The data of one call of a fanned-out step (its first meter or account); None when
    its tags match nothing yet (an account created later may match)."""
    for key in ("meter_id", "account_id"):
        if target.get(key):
            return {**data, key: cv.ensure_list(target[key])[0]}
    if target.get("tags"):
        kind = "account" if domain == "account" else "meter"
        found = tagged(hub, kind, target["tags"])
        return {**data, f"{kind}_id": found[0]} if found else None
    return dict(data)


def service_problems(hub: Hub, node: Any, path: list[Any]) -> Problems:
    """Every service an automation calls that the hub does not have, and data (without
    templates) that its schema refuses."""
    problems: Problems = []
    if isinstance(node, Mapping):
        kind = node.get("kind")
        if kind == "action":
            domain, service = node["action"].split(".", 1)
            target = node.get("target") or {}
            if not hub.services.has(domain, service):
                problems.append(([*path, "action"], _unknown_service(hub, node["action"])))
            elif not _has_template(node["data"]) and not _has_template(target) and (
                    sample := _sample_call(hub, domain, node["data"], target)) is not None:
                try:
                    hub.services.validate(domain, service, sample)
                except ServiceValidationError as err:
                    problems += [([*path, "data"], f"{node['action']}: {error}")
                                 for error in err.errors]
        elif kind == "notify" and not hub.services.has("notify", node["notify"]):
            problems.append(([*path, "notify"],
                             _unknown_service(hub, f"notify.{node['notify']}")
                             + ": notifiers are configured under notify:"))
        for key, value in node.items():
            problems += service_problems(hub, value, [*path, key])
    elif isinstance(node, list):
        for position, item in enumerate(node):
            problems += service_problems(hub, item, [*path, position])
    return problems
