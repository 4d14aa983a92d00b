"""Alarms: the recorded ``alarm`` and ``link_alarm`` events, whether each is still active,
and who acknowledged it when (kept in storage, schema v10).

An alarm's id is ``<time in epoch ms>-<meter or link>-<kind>[-<phase>]``. A scoped caller
sees its own meters' alarms; link alarms are the whole site's and not shown to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol
from aiohttp import web

from ... import validation as cv
from ...i18n import Text
from ...storage import AlarmAck, Storage
from ...util.dt import utcnow
from ..routes import caller_sees, principal_of
from .base import (
    caller,
    component,
    hub_of,
    json_ok,
    operation,
    page_query,
    paginate,
    route_defs,
    unknown,
    validated_body,
    validated_query,
)
from .errors import in_callers_words

if TYPE_CHECKING:
    from ...core import Event

KINDS = ("alarm", "link_alarm")
LIST_QUERY = page_query({
    vol.Optional("days", default=30): vol.All(vol.Coerce(int), vol.Range(min=1, max=366)),
    vol.Optional("meter_id"): cv.identifier,
    vol.Optional("active"): cv.boolean,
    vol.Optional("acknowledged"): cv.boolean,
})
ACK_SCHEMA = vol.Schema({vol.Optional("note"): vol.All(cv.string, vol.Length(max=500))})
ALARM_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "alarm_id": {"type": "string"}, "type": {"type": "string"},
    "meter_id": {"type": ["string", "null"]}, "kind": {"type": "string"},
    "raised": {"type": "string"}, "active": {"type": "boolean"},
    "acknowledged": {"type": ["object", "null"]},
}, "required": ["alarm_id", "kind", "raised", "active"]}


def _storage(request: web.Request) -> Storage:
    return component(request, "storage", Storage, Text("web.alarms_off"))


def alarm_id(event: Event) -> str:
    """The id of a recorded alarm event."""
    data = event.data
    subject = data.get("meter_id") or data.get("link") or "hub"
    parts = [str(int(event.time_fired_ts * 1000)), str(subject), str(data.get("kind"))]
    if data.get("phase"):
        parts.append(str(data["phase"]))
    return "-".join(parts)


def _active(request: web.Request) -> set[tuple[str, str, str | None]]:
    hub = hub_of(request)
    if not hub.has_component("metering.alarms"):
        return set()
    from ...metering.alarms import AlarmMonitor

    return set(hub.component("metering.alarms", AlarmMonitor).active)


def _visible(request: web.Request, event: Event) -> bool:
    principal = principal_of(request)
    if principal is None or not principal.scoped:
        return True
    meter_id = event.data.get("meter_id")
    return event.event_type == "alarm" and isinstance(meter_id, str) and \
        caller_sees(request, "meter_id", meter_id)


def _ack(ack: AlarmAck | None) -> dict[str, Any] | None:
    if ack is None:
        return None
    at = datetime.fromtimestamp(ack.acked_ts / 1000, UTC)
    return {"by": ack.acked_by, "at": at.isoformat(), "note": ack.note}


async def _alarms(request: web.Request, days: int) -> list[tuple[Event, dict[str, Any]]]:
    """Recorded alarms of the last ``days``, newest first, with their state."""
    storage = _storage(request)
    events = await storage.events(utcnow() - timedelta(days=days), event_types=KINDS,
                                  limit=10_000)
    events = [event for event in reversed(events) if _visible(request, event)]
    acks = await storage.alarm_acks([alarm_id(event) for event in events])
    active = _active(request)
    # an alarm is active while the monitor holds it and no later one of the same key exists
    seen: set[tuple[str, str, str | None]] = set()
    out = []
    for event in events:
        data = event.data
        key = (str(data.get("meter_id")), str(data.get("kind")), data.get("phase"))
        ident = alarm_id(event)
        out.append((event, {
            "alarm_id": ident, "type": event.event_type, "meter_id": data.get("meter_id"),
            "link": data.get("link"), "kind": data.get("kind"), "phase": data.get("phase"),
            "value": data.get("value"), "threshold": data.get("threshold"),
            "message": data.get("message"), "raised": event.time_fired.isoformat(),
            "active": key in active and key not in seen,
            "acknowledged": _ack(acks.get(ident))}))
        seen.add(key)
    return out


@operation("GET", "/api/alarms", "Alarms of the last days (30 by default), newest first: "
           "still active or not, acknowledged by whom", tag="alarms", query=LIST_QUERY,
           paged=True, response=ALARM_SCHEMA)
async def list_alarms(request: web.Request) -> web.Response:
    """The alarms the caller sees."""
    query = validated_query(request, LIST_QUERY)
    found = [row for _event, row in await _alarms(request, query["days"])
             if ("meter_id" not in query or row["meter_id"] == query["meter_id"])
             and ("active" not in query or row["active"] == query["active"])
             and ("acknowledged" not in query or
                  (row["acknowledged"] is not None) == query["acknowledged"])]
    found = in_callers_words(request, found)  # their messages
    return paginate(request, query, found).response()


@operation("POST", "/api/alarms/{alarm_id}/acknowledge", "Acknowledge an alarm (who and "
           "when are kept; the first acknowledgement stays)", tag="alarms",
           roles=("admin", "landlord", "operator"), body=ACK_SCHEMA, response=ALARM_SCHEMA)
async def acknowledge(request: web.Request) -> web.Response:
    """Acknowledge one alarm as the caller."""
    principal = caller(request)
    wanted = request.match_info["alarm_id"]
    data = await validated_body(request, ACK_SCHEMA)
    head = wanted.split("-", 1)[0]
    if not head.isdigit() or len(head) > 15:
        raise unknown(request, "alarm", "alarm_id", wanted)
    days = max(1, (utcnow().timestamp() * 1000 - int(head)) // 86_400_000 + 2)
    found = next((pair for pair in await _alarms(request, min(int(days), 3660))
                  if pair[1]["alarm_id"] == wanted), None)
    if found is None:
        raise unknown(request, "alarm", "alarm_id", wanted)
    event, row = found
    ack = await _storage(request).acknowledge_alarm(AlarmAck(
        wanted, event.data.get("meter_id"), str(event.data.get("kind")),
        int(event.time_fired_ts * 1000), int(utcnow().timestamp() * 1000), principal.user_id,
        data.get("note")))
    return json_ok({**row, "acknowledged": _ack(ack)})


def routes() -> list[web.RouteDef]:
    """The alarm routes."""
    return route_defs([list_alarms, acknowledge])
