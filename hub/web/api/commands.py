"""Commands: relay and valve commands with their state (queued → sent → confirmed | failed).

The rows are the durable ones the command queue keeps (``Storage.commands``), newest first;
a scoped caller sees its own meters' only.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import voluptuous as vol
from aiohttp import web

from ... import validation as cv
from ...i18n import Text
from ...storage import Storage
from ..routes import caller_sees
from .base import (
    component,
    json_ok,
    operation,
    page_query,
    paginate,
    route_defs,
    unknown,
    validated_query,
)
from .errors import in_callers_words

LIST_QUERY = page_query({
    vol.Optional("meter_id"): cv.identifier,
    vol.Optional("state"): cv.ListOf(cv.slug, allow_single=True),
})
SCAN_LIMIT = 5000
COMMAND_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "command_id": {"type": "string"}, "meter_id": {"type": "string"},
    "command": {"type": "string"}, "state": {"type": "string"},
    "attempts": {"type": "integer"}, "error": {"type": ["string", "null"]},
}, "required": ["command_id", "meter_id", "command", "state"]}


def _storage(request: web.Request) -> Storage:
    return component(request, "storage", Storage, Text("web.commands_off"))


def _record(request: web.Request, record: Any) -> dict[str, Any]:
    out = asdict(record)
    for key in ("created", "updated"):
        out[key] = out[key].isoformat()
    # its error and its transitions' reasons in the caller's words
    return dict(in_callers_words(request, out))


@operation("GET", "/api/commands", "Relay and valve commands, newest first (by meter, state)",
           tag="commands", query=LIST_QUERY, paged=True, response=COMMAND_SCHEMA)
async def list_commands(request: web.Request) -> web.Response:
    """Commands the caller may see."""
    query = validated_query(request, LIST_QUERY)
    meter_id = query.get("meter_id")
    if meter_id is not None and not caller_sees(request, "meter_id", meter_id):
        return paginate(request, query, []).response()
    wanted = int(query.get("cursor") or 0) + int(query["limit"]) + 1
    found = await _storage(request).commands(meter_id=meter_id, states=query.get("state") or (),
                                             limit=min(SCAN_LIMIT, wanted * 4))
    visible = [_record(request, record) for record in found
               if caller_sees(request, "meter_id", record.meter_id)]
    return paginate(request, query, visible).response()


@operation("GET", "/api/commands/{command_id}", "One command with its transitions",
           tag="commands", response=COMMAND_SCHEMA)
async def get_command(request: web.Request) -> web.Response:
    """A command and its history (unknown and another's read alike)."""
    command_id = request.match_info["command_id"]
    record = await _storage(request).command(command_id)
    if record is None or not caller_sees(request, "meter_id", record.meter_id):
        raise unknown(request, "command", "command_id", command_id)
    return json_ok(_record(request, record))


def routes() -> list[web.RouteDef]:
    """The command routes."""
    return route_defs([list_commands, get_command])
