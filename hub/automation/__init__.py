"""Automations in YAML: triggers, conditions, actions, templates, modes and traces.

A core plugin at the top of the stack: it claims ``automation:`` in hub.yaml, registers the
built-in trigger and condition types through the same hooks a plugin uses, runs the engine
as the ``automation`` stage (after every stage whose events it listens to) and offers the
``automation.*`` services: trigger, turn_on, turn_off, reload, list, traces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from ..config import read
from ..const import SupportsResponse
from ..core import ServiceCall
from ..exceptions import ServiceValidationError
from ..hookspecs import hookimpl
from ..i18n import Text, text_of
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .check import reference_problems, service_problems
from .conditions import BUILTIN_CONDITIONS
from .editor import check_block, plugin_problems, problem_text
from .engine import Automation, AutomationEngine, automations_schema
from .script import MAX_DELAY, MAX_REPEAT
from .template import Template, TemplateError
from .triggers import BUILTIN_TRIGGERS
from .types import ActionType, AutomationEnv, ConditionType, TriggerAction, TriggerType

if TYPE_CHECKING:
    from ..core import Hub
    from ..plugins import Registries

__all__ = [
    "MAX_DELAY",
    "MAX_REPEAT",
    "ActionType",
    "Automation",
    "AutomationEngine",
    "AutomationEnv",
    "ConditionType",
    "Template",
    "TemplateError",
    "TriggerAction",
    "TriggerType",
]

DOMAIN = "automation"


@hookimpl
def register_automation_triggers() -> list[Any]:
    """The built-in trigger types."""
    return list(BUILTIN_TRIGGERS)


@hookimpl
def register_automation_conditions() -> list[Any]:
    """The built-in condition types (and/or/not are part of the language)."""
    return list(BUILTIN_CONDITIONS)


@hookimpl
def config_schema(registries: Registries) -> dict[str, Any]:
    """Claim ``automation:``: a list of automations."""
    return {DOMAIN: automations_schema(registries.automation_triggers,
                                       registries.automation_conditions,
                                       registries.automation_actions)}


@hookimpl
def check_config(config: dict[str, Any], registries: Registries) -> list[tuple[list[Any], str]]:
    """Event types against the catalog, meters and accounts named in targets and triggers."""
    from ..events.catalog import EventCatalog

    catalog = EventCatalog()
    for plugin, event_type in registries.event_types.by_plugin():
        try:
            catalog.add(event_type, plugin)
        except (TypeError, ValueError):
            continue  # reported where the plugin is loaded
    meters = {meter["id"] for meter in config.get("meters") or []}
    accounts = {account["id"] for account in config.get("accounts") or []}
    problems: list[tuple[list[Any], str]] = []
    for index, automation in enumerate(config.get(DOMAIN) or []):
        problems += reference_problems(catalog, meters, accounts, automation, [DOMAIN, index])
    return problems


@hookimpl
def check_setup(hub: Hub) -> list[tuple[list[Any], str]]:
    """The services each automation calls, and their data, against the hub's services."""
    return [([DOMAIN, index, *path], message)
            for index, automation in enumerate(hub.config.block(DOMAIN) or [])
            for path, message in service_problems(hub, automation, [])]


@hookimpl
def setup(hub: Hub) -> None:
    """The engine as the ``automation`` stage, and the automation.* services."""
    registries = hub.plugins.registries
    engine = AutomationEngine(hub, registries.automation_triggers,
                              registries.automation_conditions, registries.automation_actions,
                              hub.plugins.event_catalog)
    hub.add_component(DOMAIN, engine)
    configs = hub.config.block(DOMAIN) or []

    async def start() -> None:
        await engine.start(configs)

    hub.add_stage(DOMAIN, start=start, stop=engine.stop,
                  after=("notify", "storage", "ledger", "metering", "billing", "analysis",
                         "control", "links"))
    _register_services(hub, engine)


_ID = vol.Schema({vol.Required("automation_id"): cv.identifier})


def _register_services(hub: Hub, engine: AutomationEngine) -> None:
    optional = SupportsResponse.OPTIONAL

    def find(call: ServiceCall) -> Automation:
        try:
            return engine.get(call.data["automation_id"])
        except KeyError as err:
            raise ServiceValidationError(call.name, [err.args[0]]) from None

    async def trigger(call: ServiceCall) -> dict[str, Any]:
        """Run an automation now (its conditions skipped unless skip_condition: false)."""
        automation = find(call)
        if automation.problems:
            raise ServiceValidationError(call.name, [
                Text("automation.not_set_up", automation=automation.id), *automation.problems])
        trace = automation.trigger(
            {"trigger": {"platform": "manual", "description": "run by hand"},
             **call.data["variables"]}, call.context,
            skip_condition=call.data["skip_condition"], user_id=call.context.user_id)
        return {"run_id": trace.run_id, "outcome": trace.outcome or "running"}

    async def turn_on(call: ServiceCall) -> None:
        """Enable an automation: its triggers are watched again. Refused when the running set
        with it on would fail the other plugins' checks (it would tell a receiver a fact a
        built-in notice tells it too), as a reload of that file would be."""
        automation = find(call)
        if not automation.enabled:
            running = [{**other.config, "enabled": other.enabled or other is automation}
                       for other in engine.automations.values()]
            problems = [message for _where, message in plugin_problems(hub, running)]
            if problems:
                raise ServiceValidationError(call.name, [
                    Text("automation.stays_off", automation=automation.id), *problems])
        automation.set_enabled(True)

    async def turn_off(call: ServiceCall) -> None:
        """Disable an automation: its triggers are no longer watched (runs go on)."""
        find(call).set_enabled(False)

    async def reload(call: ServiceCall) -> dict[str, Any]:
        """Read automation: from hub.yaml again; a broken file keeps the running set."""
        return {"loaded": await reload_automations(hub, engine, call.name)}

    async def list_all(call: ServiceCall) -> dict[str, Any]:
        """Every automation with its state and last run."""
        return {"automations": [a.summary() for a in engine.automations.values()]}

    async def traces(call: ServiceCall) -> dict[str, Any]:
        """The stored runs of an automation, newest first (one with run_id)."""
        automation = find(call)
        found = [trace.as_dict() for trace in reversed(automation.traces)]
        run_id = call.data.get("run_id")
        if run_id:
            found = [trace for trace in found if trace["run_id"] == run_id]
            if not found:
                raise ServiceValidationError(call.name, [
                    Text("automation.no_run", run=run_id, automation=automation.id)])
        return {"automation_id": automation.id, "traces": found}

    hub.services.register(DOMAIN, "trigger", trigger, _ID.extend({
        vol.Optional("skip_condition", default=True): cv.boolean,
        vol.Optional("variables", default={}): vol.Schema({cv.slug: object}),
    }), supports_response=optional)
    hub.services.register(DOMAIN, "turn_on", turn_on, _ID)
    hub.services.register(DOMAIN, "turn_off", turn_off, _ID)
    hub.services.register(DOMAIN, "reload", reload, vol.Schema({}), supports_response=optional)
    hub.services.register(DOMAIN, "list", list_all, vol.Schema({}),
                          supports_response=SupportsResponse.ONLY)
    hub.services.register(DOMAIN, "traces", traces, _ID.extend({
        vol.Optional("run_id"): cv.string}), supports_response=SupportsResponse.ONLY)


async def reload_automations(hub: Hub, engine: AutomationEngine, name: str) -> int:
    """Validate ``automation:`` from the configuration file and swap it in, or say why not
    (every problem with its file:line; the running set is kept)."""
    path = hub.config.config_path
    if path is None:
        raise ServiceValidationError(name, [Text("automation.nothing_to_reload")])
    raw, ctx = read(path)
    problems = [problem_text(problem) for problem in ctx.problems]
    block = raw.get(DOMAIN) if isinstance(raw, Mapping) else None
    validated: list[Any] = []
    if not problems:
        validated, problems = check_block(hub, engine, raw, block, [DOMAIN])
    if problems:
        raise ServiceValidationError(name, [
            Text("automation.kept_problems", count=len(problems), path=path), *problems])
    try:
        return await engine.replace(validated)
    except TemplateError as err:
        raise ServiceValidationError(name, [Text("automation.kept"), text_of(err)]) from None
