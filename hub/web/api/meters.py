"""Meters: the list (tag filters, search), one meter, its live values, read, trip, close, valve.

Changes call the services the CLI calls (``meter.read``, ``meter.trip``...), as the caller.
(The chart data, ``GET /api/meters/{meter_id}/history``, is the pages' module's.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol
from aiohttp import web

from ... import validation as cv
from ...i18n import Text
from ..routes import caller_sees
from .base import (
    ApiError,
    component,
    hub_of,
    json_ok,
    operation,
    page_query,
    paginate,
    route_defs,
    service_operation,
    validated_query,
)
from .errors import language_of

if TYPE_CHECKING:
    from ...metering.service import Meter, MeteringService

TAG_FILTERS = ("building", "floor", "room", "line", "department")

LIST_QUERY = page_query({
    **{vol.Optional(tag, description=f"only meters tagged {tag}=VALUE"): cv.string
       for tag in TAG_FILTERS},
    vol.Optional("kind"): cv.one_of("electricity", "water"),
    vol.Optional("account_id"): cv.identifier,
    vol.Optional("online"): cv.boolean,
    vol.Optional("q", description="search in id, name, address, account and tags"):
        vol.All(cv.string, vol.Length(max=100)),
})

METER_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "id": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
    "model": {"type": "string"}, "link": {"type": "string"}, "address": {"type": "string"},
    "account_id": {"type": ["string", "null"]}, "tags": {"type": "object"},
    "online": {"type": ["boolean", "null"]}, "entity_id": {"type": "string"},
}, "required": ["id", "kind", "tags"]}
LIVE_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "meter_id": {"type": "string"}, "online": {"type": ["boolean", "null"]},
    "last_read": {"type": ["string", "null"]}, "registers": {"type": "object"},
    "values": {"type": "object"}, "status": {"type": "object"},
    "last_error": {"type": ["string", "null"]}, "alarms": {"type": "array"},
}, "required": ["meter_id", "registers", "values", "status"]}


def metering(request: web.Request) -> MeteringService:
    """The metering component (404 when it is off)."""
    from ...metering.service import MeteringService

    return component(request, "metering", MeteringService, Text("web.metering_off"))


def meter_summary(meter: Meter) -> dict[str, Any]:
    """What a list shows of a meter."""
    return {"id": meter.id, "name": meter.name, "kind": meter.kind, "model": meter.model.name,
            "link": meter.link.id, "address": meter.ref.address,
            "account_id": meter.config.get("account"), "tags": dict(meter.tags),
            "online": meter.online, "entity_id": meter.entity_id}


def _matches(meter: Meter, query: dict[str, Any]) -> bool:
    if any(meter.tags.get(tag) != query[tag] for tag in TAG_FILTERS if tag in query):
        return False
    if "kind" in query and meter.kind != query["kind"]:
        return False
    if "account_id" in query and meter.config.get("account") != query["account_id"]:
        return False
    if "online" in query and bool(meter.online) != query["online"]:
        return False
    text = str(query.get("q") or "").strip().lower()
    if text:
        haystack = " ".join([meter.id, meter.name, meter.ref.address,
                             str(meter.config.get("account") or ""),
                             *(f"{k}={v}" for k, v in meter.tags.items())]).lower()
        return text in haystack
    return True


def _meter(request: web.Request) -> Meter:
    meter_id = request.match_info["meter_id"]
    meter = metering(request).meters.get(meter_id)
    if meter is None:
        raise ApiError(404, "not_found", Text("api.unknown", what=Text("what.meter"),
                                              value=meter_id), "meter_id")
    return meter


def _live(request: web.Request, meter: Meter) -> dict[str, Any]:
    hub = hub_of(request)
    alarms: list[dict[str, Any]] = []
    if hub.has_component("metering.alarms"):
        from ...metering.alarms import AlarmMonitor

        monitor = hub.component("metering.alarms", AlarmMonitor)
        alarms = [{"kind": alarm.kind, "phase": alarm.phase, "value": alarm.value,
                   "threshold": alarm.threshold} for alarm in monitor.active_for(meter.id)]
    reading = meter.last_reading
    return {"meter_id": meter.id, "online": meter.online, "misses": meter.misses,
            "last_read": reading.time.isoformat() if reading else None,
            "registers": dict(meter.registers), "values": dict(meter.values),
            "status": dict(meter.status), "alarms": alarms,
            # why the last read failed, in the caller's words
            "last_error": hub.i18n.text(meter.last_error, language_of(request))
            if meter.last_error else None}


@operation("GET", "/api/meters", "Meters, filtered by tags (building, floor, room, line, "
           "department), kind, account, online, and a search text", tag="meters",
           query=LIST_QUERY, paged=True, response=METER_SCHEMA)
async def list_meters(request: web.Request) -> web.Response:
    """The meters the caller sees, filtered."""
    query = validated_query(request, LIST_QUERY)
    found = [meter_summary(meter) for meter in sorted(metering(request).meters.values(),
                                                      key=lambda m: m.id)
             if _matches(meter, query) and caller_sees(request, "meter_id", meter.id)]
    return paginate(request, query, found).response()


@operation("GET", "/api/meters/{meter_id}", "One meter: its set-up and live values",
           tag="meters", response=METER_SCHEMA)
async def get_meter(request: web.Request) -> web.Response:
    """A meter with its live values."""
    meter = _meter(request)
    return json_ok({**meter_summary(meter), "live": _live(request, meter),
                    "capabilities": sorted(str(c) for c in getattr(
                        meter.model, "capabilities", ()) or ())})


@operation("GET", "/api/meters/{meter_id}/live", "A meter's latest values, status bits "
           "and active alarms", tag="meters", response=LIVE_SCHEMA)
async def live_values(request: web.Request) -> web.Response:
    """The latest values of a meter."""
    return json_ok(_live(request, _meter(request)))


read_now = service_operation("POST", "/api/meters/{meter_id}/read", "meter.read",
                             "Read the meter now (answers when the reading is stored)",
                             tag="meters", path_keys=("meter_id",))
trip = service_operation("POST", "/api/meters/{meter_id}/trip", "meter.trip",
                         "Trip the relay (cut power); answers the confirmed command",
                         tag="meters", path_keys=("meter_id",))
close = service_operation("POST", "/api/meters/{meter_id}/close", "meter.close",
                          "Close the relay (restore power)", tag="meters",
                          path_keys=("meter_id",))
valve = service_operation("POST", "/api/meters/{meter_id}/valve", "meter.valve",
                          "Open or close a water meter's valve (state: open|close)",
                          tag="meters", path_keys=("meter_id",))
why = service_operation("POST", "/api/meters/{meter_id}/why", "meter.why",
                        "Why the meter is off or on: its last commands and the policy",
                        tag="meters", path_keys=("meter_id",))


def routes() -> list[web.RouteDef]:
    """The meter routes."""
    return route_defs([list_meters, get_meter, live_values, read_now, trip, close, valve, why])
