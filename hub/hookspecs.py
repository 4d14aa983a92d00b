"""The plugin API: every hook a MeterHub plugin can implement, in one place.

A plugin is a module (or any object) with functions marked ``@hookimpl``, registered through
the ``meterhub`` entry-point group of its distribution, or dropped into a ``plugins_dir``::

    # pyproject.toml of a community plugin
    [project.entry-points.meterhub]
    acme_meters = "meterhub_acme"

    # meterhub_acme/__init__.py
    from hub.hookspecs import hookimpl

    @hookimpl
    def register_meter_models():
        return [ACME_DDSY_V2]

Every ``register_*`` hook returns a list of registrations; each registration has a unique
``name`` attribute (the word users write in YAML: ``model: ddsy``, ``type: tcp_dtu``,
``platform: time``). A name registered twice is reported with both plugins' names and the
second one is ignored. Hooks may be plain functions or ``async def``; results may be
values, callables or awaitables. A plugin whose hook raises is reported by name and the hub
starts without it.

Set ``METERHUB_TRACE_PLUGINS=1`` to log every hook call with its plugin and duration.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .core import Hub
    from .plugins import Registries

__all__ = [
    "hookimpl", "hookspec",
]

hookspec = pluggy.HookspecMarker("meterhub")
hookimpl = pluggy.HookimplMarker("meterhub")


@hookspec
def config_schema(registries: Registries) -> dict[str, Any]:
    """Return the top-level hub.yaml keys this plugin owns, each with its voluptuous schema.

    Called once, before the configuration is validated. Example: ``{"links": LINKS_SCHEMA}``.
    Use ``hub.validation`` validators so errors name the key path; ``check-config`` reports
    them with file and line. Two plugins claiming the same key is an error. ``registries``
    (meter models, link types, tariff types...) is filled by the time the schema runs, so a
    schema can dispatch on ``type:`` or ``model:`` to a registered class's own schema.
    """


@hookspec
def check_config(config: dict[str, Any], registries: Registries) -> list[tuple[list[Any], str]]:
    """Check references between blocks, on what passed the blocks' schemas.

    ``config`` maps every top-level key to its validated value; it runs even when schema
    errors were found, so one ``check-config`` run reports both: a list block then holds
    only its entries that passed (an entry with errors is left out; report paths by the
    index in the list given, the hub maps them back), and a problem about a reference to a
    left-out entry is dropped. ``registries`` are those
    ``config_schema`` had (declare the argument only if you need it). Return problems as
    ``(key path, message)``, e.g. ``(["meters", 3, "link"], "unknown link 'bus9'")``; the path
    is turned into file:line like any schema error.
    """


@hookspec
def check_setup(hub: Hub) -> list[tuple[list[Any], str]]:
    """Problems only a set-up hub can see, e.g. the services an automation calls.

    ``meterhub check-config`` calls it after every plugin's ``setup(hub)`` on a hub that is
    never started (nothing is bound, read, commanded or sent). Return ``(key path, message)``
    like ``check_config``; the path is turned into file:line.
    """


@hookspec
def register_meter_models() -> list[Any]:
    """Return meter models (``name``, kind, protocol, capabilities, point table, codec).

    Called at start-up. A model encodes requests and decodes replies as bytes; it never
    does I/O itself. Users pick one with ``model: <name>`` in a meter's YAML.
    """


@hookspec
def register_protocols() -> list[Any]:
    """Return protocol codecs (``hub.metering.model.ProtocolCodec``: ``name``, decode, encode)
    offered by ``meterhub frame decode|encode --protocol <name>``."""


@hookspec
def register_firmware_updaters() -> list[Any]:
    """Return firmware updaters (``hub.metering.firmware.FirmwareUpdater``: ``name``,
    ``supports``, ``start``, ``progress``) that ``device.firmware`` jobs can use."""


@hookspec
def register_link_types() -> list[Any]:
    """Return link types (``name``, config schema, factory): serial buses, DTU servers...

    Called at start-up. A link carries request frames to meters and replies back; users
    pick one with ``type: <name>`` in the ``links:`` block.
    """


@hookspec
def register_tariff_types() -> list[Any]:
    """Return tariff types (``name``, config schema, pricing) for ``type:`` in ``tariffs:``."""


@hookspec
def register_notifier_types() -> list[Any]:
    """Return notifier types (``name``, config schema, async send) for the ``notify:`` block."""


@hookspec
def register_payment_providers() -> list[Any]:
    """Return payment providers (``hub.prepaid.payments.PaymentProviderType``: ``name``, the
    keys of its ``payments: providers:`` entries, the factory of one merchant account).

    Users pick one with ``provider: <name>`` (cash, wechatpay, alipay, a bank's channel);
    the hub keeps the orders, credits the ledger once per transaction and calls the
    provider to open, query, close and refund orders and to verify its notifications
    (docs/payments.md).
    """


@hookspec
def register_event_types() -> list[Any]:
    """Return the event types this plugin fires (``hub.events.EventType``: ``name``, data
    TypedDict, one-line meaning, ``fired_by``), usually its ``events.EVENT_TYPES``.

    Collected at start-up into the event catalog (``PluginManager.event_catalog``) with the
    core's: automations' ``event`` triggers and ``check-config`` validate event names and data
    keys against it, and ``docs/events.md`` lists it. A name the core or another plugin
    already defines is reported with both sources and ignored. Define the TypedDicts in a
    module without ``from __future__ import annotations`` (Python 3.11 loses ``NotRequired``
    otherwise).
    """


@hookspec
def register_automation_triggers() -> list[Any]:
    """Return trigger types for automations (``hub.automation.TriggerType``: ``name``, the
    schema of its keys, ``attach(env, config, fire, where)`` returning the function that
    stops it). The engine's own (event, state, time, balance...) come through this hook too.
    """


@hookspec
def register_automation_conditions() -> list[Any]:
    """Return condition types for automations (``hub.automation.ConditionType``: ``name``,
    schema, ``build(env, config, where)`` returning a check of the run's variables)."""


@hookspec
def register_automation_actions() -> list[Any]:
    """Return action types for automations (``hub.automation.ActionType``: ``name`` — the
    key that marks the step —, schema, ``async run(env, config, variables)`` returning what
    the trace records)."""


@hookspec
def register_routes(hub: Hub) -> list[Any]:
    """Return aiohttp route definitions (``aiohttp.web.get(...)``...) to add to the web app.

    Called when the web server starts; paths should live under ``/api/<plugin>/`` or
    ``/<plugin>/``. Handlers reach the hub through ``request.app[HUB_KEY]``
    (``from hub.web.routes import HUB_KEY``). Every route needs a logged-in user: an
    unmarked GET is open to every role with the whole site in view, any other method to
    admins only; ``hub.web.routes.allow(*roles, scoped=...)`` says otherwise, and a handler
    that checks its caller itself (a signed platform push) is marked
    ``hub.web.routes.self_authenticated`` (docs/access.md).
    """


@hookspec
def register_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add sub-commands to the ``meterhub`` CLI (``subparsers.add_parser(...)``).

    Set ``func`` with ``parser.set_defaults(func=handler)``; ``handler(args)`` returns the
    exit code (it may be ``async def``). Only installed plugins (entry points) can add
    commands, since they are needed before any configuration is read.
    """


@hookspec
def translations() -> dict[str, dict[str, str]]:
    """Return user-facing strings: ``{language: {key: text}}`` (at least zh-CN and en)."""


@hookspec
def setup(hub: Hub) -> Any:
    """Set the plugin up on a hub that is starting: register services, listeners, stages.

    Called once, after the configuration is validated and before the hub's stages start;
    read your block with ``hub.config.block("<key>")``. May be ``async def`` (bounded by a
    timeout). May return a callable (sync or async) that is called at shutdown.
    """
