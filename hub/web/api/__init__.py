"""The REST API under ``/api/``: one module per domain, all on the same few rules.

Each handler is an :func:`~hub.web.api.base.operation` (who may call it, its schemas),
calls the services and queries the CLI uses, as the caller, and answers JSON; every error
has one body (:mod:`hub.web.api.errors`); every list is paged; the OpenAPI document is
generated from the routes. See docs/api.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import (
    accounts,
    alarms,
    automations,
    bills,
    commands,
    events,
    health,
    meters,
    notifications,
    openapi,
    payments,
    reports,
    system,
)
from .base import ApiError, describe, operation, service_operation
from .errors import STRINGS, api_errors

if TYPE_CHECKING:
    from aiohttp import web

    from ...core import Hub

__all__ = ["STRINGS", "ApiError", "api_errors", "describe", "install", "operation",
           "service_operation"]


def install(app: web.Application, hub: Hub) -> None:
    """Add the API's routes, its event feed and its metrics to ``app`` (the error middleware
    is added by the server, outermost)."""
    for module in (meters, accounts, bills, reports, commands, alarms, notifications,
                   automations, system, events, openapi, health):
        app.add_routes(module.routes())
    events.install(app, hub)
    health.install(app, hub)
    payments.install(app, hub)
