"""Automations: the list, enable and disable, run now, and the traces of their runs.

Each calls the ``automation.*`` service (admins only, like the services themselves).
"""

from __future__ import annotations

import voluptuous as vol
from aiohttp import web

from ... import validation as cv
from .base import (
    call_service,
    operation,
    page_query,
    paginate,
    route_defs,
    service_operation,
    validated_query,
)
from .errors import in_callers_words

_KEY = ("automation_id",)
TRACES_QUERY = page_query({vol.Optional("run_id"): cv.string})


@operation("GET", "/api/automations", "Automations with their state and last run",
           tag="automations", roles=("admin",), scoped=False, query=page_query(), paged=True,
           response={"type": "object", "properties": {
               "id": {"type": "string"}, "enabled": {"type": "boolean"}},
               "required": ["id", "enabled"]})
async def list_automations(request: web.Request) -> web.Response:
    """Every automation."""
    query = validated_query(request, page_query())
    found = await call_service(request, "automation.list", {})
    return paginate(request, query, found["automations"]).response()


@operation("GET", "/api/automations/{automation_id}/traces", "The stored runs of an "
           "automation, newest first (one with run_id)", tag="automations", roles=("admin",),
           scoped=False, query=TRACES_QUERY, paged=True, response={"type": "object"})
async def traces(request: web.Request) -> web.Response:
    """An automation's traces."""
    query = validated_query(request, TRACES_QUERY)
    data = {"automation_id": request.match_info["automation_id"]}
    if query.get("run_id"):
        data["run_id"] = query["run_id"]
    found = await call_service(request, "automation.traces", data)
    return paginate(request, query, in_callers_words(request, found["traces"])).response()


enable = service_operation("POST", "/api/automations/{automation_id}/enable",
                           "automation.turn_on", "Enable an automation", tag="automations",
                           path_keys=_KEY, roles=("admin",))
disable = service_operation("POST", "/api/automations/{automation_id}/disable",
                            "automation.turn_off", "Disable an automation", tag="automations",
                            path_keys=_KEY, roles=("admin",))
run = service_operation("POST", "/api/automations/{automation_id}/run", "automation.trigger",
                        "Run an automation now (skip_condition, variables)",
                        tag="automations", path_keys=_KEY, roles=("admin",))
reload = service_operation("POST", "/api/automations/reload", "automation.reload",
                           "Read automations from the configuration again", tag="automations",
                           roles=("admin",))


def routes() -> list[web.RouteDef]:
    """The automation routes."""
    return route_defs([list_automations, traces, enable, disable, run, reload])
