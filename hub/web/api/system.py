"""What the hub offers: its services and plugins (for a scoped caller, what it may use).

A caller with a scope sees only the services it may call on its own meters and accounts,
and the plugins by name, version and status (no errors, sources or hooks: those describe
the whole installation).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...auth import SCOPED_SERVICES, may, right_of_service
from ..routes import principal_of
from .base import hub_of, json_ok, operation, page_query, paginate, route_defs, validated_query


@operation("GET", "/api/services", "Services by domain with their descriptions (a scoped "
           "caller: the ones it may call)", tag="hub", response={"type": "object"})
async def services(request: web.Request) -> web.Response:
    """The registered services the caller may call."""
    principal = principal_of(request)
    out: dict[str, dict[str, Any]] = {}
    for domain, entries in hub_of(request).services.all().items():
        for name, service in entries.items():
            full = f"{domain}.{name}"
            if principal is not None and principal.scoped and not (
                    full in SCOPED_SERVICES and may(principal.role, right_of_service(full))):
                continue
            out.setdefault(domain, {})[name] = {
                "description": service.description,
                "response": str(service.supports_response)}
    return json_ok(out)


PLUGIN_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "name": {"type": "string"}, "version": {"type": ["string", "null"]},
    "status": {"type": "string"}, "source": {"type": "string"},
    "distribution": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]},
    "hooks": {"type": "array", "items": {"type": "string"}},
}, "required": ["name", "version", "status"]}


@operation("GET", "/api/plugins", "Every plugin seen, with its status (a scoped caller: "
           "names, versions and status only)", tag="hub", query=page_query(), paged=True,
           response=PLUGIN_SCHEMA)
async def plugins(request: web.Request) -> web.Response:
    """The plugins."""
    query = validated_query(request, page_query())
    principal = principal_of(request)
    found = [info.as_dict() for info in hub_of(request).plugins.all()]
    if principal is not None and principal.scoped:
        found = [{key: plugin[key] for key in ("name", "version", "status")} for plugin in found]
    return paginate(request, query, found).response()


def routes() -> list[web.RouteDef]:
    """The hub routes."""
    return route_defs([services, plugins])
