"""One message per fact: an automation and a built-in notice may not tell the same receiver.

A built-in notice answers one event (catalog.py); an automation whose trigger answers the
same fact and whose steps notify the same receiver would send a second message. "The same
receiver": the same notifier, or the tenant — reached by a notice through the account's
``contacts.notify`` URLs, by an automation through ``notify.tenant`` or any notifier with
``to_account: true``. check-config reports each such pair with the way out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .catalog import CATALOG, NOTICES, NoticeSpec
from .const import CONF_NOTICES, CONF_NOTIFY, LANDLORD, TENANT

_COMMAND_NOTICES = {spec.command: spec.kind for spec in CATALOG if spec.command}


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def facts(trigger: Mapping[str, Any]) -> set[str]:
    """The built-in notices whose fact a trigger answers."""
    kind = trigger.get("trigger") or trigger.get("platform")
    if kind == "event":
        events = set(map(str, _listed(trigger.get("event_type"))))
        command = (trigger.get("event_data") or {}).get("command")
        return {spec.kind for spec in CATALOG if spec.event in events
                and (spec.command is None or command is None
                     or spec.command in map(str, _listed(command)))}
    if kind == "balance":
        return ({"balance_low"} if "below" in trigger else set()) | (
            {"balance_restored"} if "above" in trigger else set())
    if kind == "alarm":
        return set() if trigger.get("cleared") else {"alarm"}
    if kind in ("meter_offline", "bill_issued"):
        return {str(kind)}
    if kind == "payment":
        return {"payment_received"}
    if kind == "command" and "confirmed" in map(str, _listed(trigger.get("state"))):
        commands = _listed(trigger.get("command")) or list(_COMMAND_NOTICES)
        return {_COMMAND_NOTICES[str(c)] for c in commands if str(c) in _COMMAND_NOTICES}
    return set()


def notified(node: Any) -> Iterator[str]:
    """The notifier names an automation's steps send to (anywhere in them)."""
    if isinstance(node, Mapping):
        if isinstance(node.get("notify"), str):
            yield node["notify"]
        for key in ("action", "service"):
            name = node.get(key)
            if isinstance(name, str) and name.startswith("notify."):
                yield name.split(".", 1)[1]
        for value in node.values():
            yield from notified(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from notified(value)


class Receivers:
    """Who a notifier name reaches: itself, and the tenant for ``to_account`` notifiers."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.notifiers: Mapping[str, Any] = config.get(CONF_NOTIFY) or {}
        self.tenant_urls = any(
            ((account.get("contacts") or {}).get("notify"))
            for account in config.get("accounts") or () if isinstance(account, Mapping))

    def of(self, name: str) -> set[str]:
        """The receivers a message to notifier ``name`` reaches."""
        entry = self.notifiers.get(name)
        tenant = name == TENANT or (isinstance(entry, Mapping) and entry.get("to_account"))
        return {name} | ({TENANT} if tenant else set())

    def of_notice(self, spec: NoticeSpec, options: Mapping[str, Any]) -> set[str]:
        """The receivers of an enabled notice."""
        found: set[str] = set()
        if options.get("tenant", spec.tenant) and self.tenant_urls:
            found.add(TENANT)
        names = options.get("notify")
        if names is None:
            names = [LANDLORD] if spec.landlord and LANDLORD in self.notifiers else []
        for name in names:
            found |= self.of(str(name))
        return found


def overlaps(config: Mapping[str, Any]) -> list[tuple[list[Any], str]]:
    """Each enabled automation that tells a receiver a fact an enabled notice tells it."""
    notices: Mapping[str, Any] = config.get(CONF_NOTICES) or {}
    if not notices.get("enabled", True):
        return []
    receivers = Receivers(config)
    problems: list[tuple[list[Any], str]] = []
    for index, automation in enumerate(config.get("automation") or ()):
        if not isinstance(automation, Mapping) or not automation.get("enabled", True):
            continue
        told = set().union(*(receivers.of(name) for name in notified(
            automation.get("actions") or automation.get("action") or [])))
        kinds = set().union(*(facts(trigger) for trigger in _listed(
            automation.get("triggers") or automation.get("trigger"))
            if isinstance(trigger, Mapping)))
        for kind in sorted(kinds):
            options: Mapping[str, Any] = notices.get(kind) or {}
            if not options.get("enabled", True) or options.get("start_up_only"):
                continue  # off, or handed over to the automations once they run
            both = sorted(told & receivers.of_notice(NOTICES[kind], options))
            if both:
                problems.append((["automation", index], (
                    f"automation '{automation.get('id')}' and the built-in notice '{kind}' "
                    f"both tell {' and '.join(both)} of {NOTICES[kind].event}: one message "
                    f"per fact — switch the notice off (notices: {kind}: {{enabled: false}}) "
                    f"or leave {both[0]} out of one of them")))
    return problems
