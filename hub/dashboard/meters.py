"""Meters: the list (tag filters, search, pages) and a meter's page (live values, relay or
valve with trip and close, charts, events, commands with their read-back, ``meter.why``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..metering.model import Capability
from ..util.dt import utcnow
from ..web.pages import PageError, PageKit, paged, refused_unknown
from ..web.routes import allow
from .parts import control_of, metering_of, storage_of

if TYPE_CHECKING:
    from ..core import Hub
    from ..metering.service import Meter
    from ..storage import Storage

FILTER_TAGS = ("building", "floor", "room", "line", "department")
"""The tags the meter list filters by (any other tag: ``?tag=key:value``)."""
PAGE_SIZE = 100
RECENT_DAYS = 30
RECENT_SHOWN = 20
COMMANDS_SHOWN = 10
# The live part is refreshed when the event stream names its meter (LIVE_EVENTS, hub.js);
# the polls are what is left when the stream is down (a proxy that buffers it, no JS)
FAST_POLL = "every 5s"  # while a command is outstanding
SLOW_POLL = "every 120s"
LIVE_EVENTS = ("reading", "read_failed", "meter_online", "meter_offline", "relay_changed",
               "command_queued", "command_sent", "command_confirmed", "command_failed",
               "command_superseded", "meter_replaced")
SUPPLY_POINTS = (("relay", Capability.RELAY), ("valve", Capability.VALVE))


def main_value(meter: Meter) -> tuple[str | None, Any]:
    """The meter's main register and its last value."""
    from ..metering.const import MAIN_REGISTERS

    for name, unit in MAIN_REGISTERS:
        if name in meter.registers:
            return unit, meter.registers[name]
    return None, None


def matches(meter: Meter, tags: Mapping[str, str], search: str) -> bool:
    """Whether a meter carries every tag and the search text (id, name, address, tags)."""
    if any(meter.tags.get(key) != value for key, value in tags.items()):
        return False
    if not search:
        return True
    haystack = " ".join([meter.id, meter.name, meter.ref.address, *meter.tags.values(),
                         str(meter.config.get("account") or "")]).lower()
    return all(word in haystack for word in search.lower().split())


class MeterPages:
    """``/meters``, ``/meters/{meter_id}`` and its live part, trip/close/valve posts."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [
            web.get("/meters", self.meters),
            web.get("/meters/{meter_id}", self.meter),
            web.get("/meters/{meter_id}/live", self.live),
            web.post("/meters/{meter_id}/{action:trip|close|valve_open|valve_close}",
                     self.command),
        ]

    # --- components ------------------------------------------------------------------------

    def _meter(self, request: web.Request) -> Meter:
        metering = metering_of(self.hub)
        meter = metering.meters.get(request.match_info["meter_id"]) if metering else None
        if meter is None:
            raise refused_unknown("meter", request.match_info["meter_id"])
        return meter

    # --- the list --------------------------------------------------------------------------

    @allow(scoped=True)
    async def meters(self, request: web.Request) -> web.Response:
        """Every meter in the caller's scope, filtered by tags and a search text."""
        kit = PageKit.of(request.app)
        metering = metering_of(self.hub)
        view = kit.in_view(request)
        visible = [meter for meter in (metering.meters.values() if metering else ())
                   if view is None or meter.id in view[0]]
        query = request.query
        tags = {key: query[key] for key in FILTER_TAGS if query.get(key)}
        search = query.get("q", "").strip()
        found = sorted((meter for meter in visible if matches(meter, tags, search)),
                       key=lambda meter: (meter.tags.get("building", ""), meter.id))
        options = {key: sorted({meter.tags[key] for meter in visible if key in meter.tags})
                   for key in FILTER_TAGS}
        shown = paged(query, found, PAGE_SIZE)
        return kit.render(request, "meters.html", rows=[self._row(m) for m in shown.items],
                          total=len(found), all_total=len(visible), tags=tags, search=search,
                          options={k: v for k, v in options.items() if v}, **shown.values())

    def _row(self, meter: Meter) -> dict[str, Any]:
        unit, value = main_value(meter)
        point, state, _pending = self._supply(meter)
        return {"id": meter.id, "name": meter.name, "kind": meter.kind, "online": meter.online,
                "value": value, "unit": unit, "point": point, "state": state,
                "tags": meter.tags, "account": meter.config.get("account"),
                "last_read": meter.last_reading.time if meter.last_reading else None}

    def _supply(self, meter: Meter) -> tuple[str | None, str | None, Any]:
        """The meter's relay or valve point, its last known state and the outstanding
        command (None each when it has neither)."""
        for point, capability in SUPPLY_POINTS:
            if capability in meter.model.capabilities:
                control = control_of(self.hub)
                if control is None:
                    status = meter.status.get(point)
                    return point, str(status) if status is not None else None, None
                return (point, control.commands.known_state(meter.id, point),
                        control.commands.outstanding(meter.id))
        return None, None, None

    # --- one meter -------------------------------------------------------------------------

    @allow(scoped=True)
    async def meter(self, request: web.Request) -> web.Response:
        """A meter's page."""
        meter = self._meter(request)
        return PageKit.of(request.app).render(request, "meter.html",
                                              **await self._page(request, meter))

    async def _page(self, request: web.Request, meter: Meter) -> dict[str, Any]:
        storage = storage_of(self.hub, open_only=True)
        events: list[Any] = []
        commands: list[dict[str, Any]] = []
        why = None
        if storage is not None:
            events = await storage.meter_events(meter.id, utcnow() - timedelta(days=RECENT_DAYS),
                                                RECENT_SHOWN)
            commands = await self._commands(storage, meter.id)
            control = control_of(self.hub)
            if control is not None:
                why = await control.why_cut(meter_id=meter.id)
        return {"meter": meter, **self._live(request, meter), "events": events,
                "commands": commands, "why": why, "main": main_value(meter)}

    async def _commands(self, storage: Storage, meter_id: str) -> list[dict[str, Any]]:
        """The newest control commands of a meter with what was read back to confirm them."""
        rows = await storage.control_read(lambda store: store.latest(
            meter_ids=[meter_id], limit=COMMANDS_SHOWN))
        out = []
        for row in rows:
            record = await storage.command(row.command_id)
            readback = None
            for step in (record.transitions if record else ()):
                if step.get("to") in ("confirmed", "failed") and step.get("detail"):
                    readback = step["detail"]
            out.append({"row": row, "readback": readback})
        return out

    def _live(self, request: web.Request, meter: Meter) -> dict[str, Any]:
        kit = PageKit.of(request.app)
        point, state, pending = self._supply(meter)
        actions: list[str] = []
        if point == "relay" and kit.may_call(request, "meter.trip"):
            actions = ["trip", "close"]
        elif point == "valve" and kit.may_call(request, "meter.valve"):
            actions = ["valve_close", "valve_open"]
        return {"point": point, "state": state, "pending": pending, "actions": actions,
                "poll": FAST_POLL if pending is not None else SLOW_POLL,
                "live_events": ",".join(LIVE_EVENTS)}

    @allow(scoped=True)
    async def live(self, request: web.Request) -> web.Response:
        """The live part of a meter's page (values, relay/valve state, the command
        outstanding), polled by htmx."""
        kit = PageKit.of(request.app)
        meter = self._meter(request)
        return kit.render(request, "_meter_live.html", meter=meter, **self._live(request, meter))

    @allow("admin", "landlord", "operator", scoped=True)
    async def command(self, request: web.Request) -> web.Response:
        """Trip, close or a valve command, after confirmation; back to the meter's page."""
        kit = PageKit.of(request.app)
        t = kit.translator(request)
        meter = self._meter(request)
        action = request.match_info["action"]
        form = await kit.form(request)
        label = t(f"meter.action.{action}")
        asked = kit.confirm(request, form, title=f"{label}: {meter.name}",
                            message=t(f"meter.confirm.{action}", meter=meter.name),
                            danger=action in ("trip", "valve_close"))
        if asked is not None:
            return asked
        reason = form.get("reason") or t("meter.reason_default")
        if action.startswith("valve_"):
            domain, service = "meter", "valve"
            data: dict[str, Any] = {"meter_id": meter.id, "reason": reason,
                                    "state": action.removeprefix("valve_")}
        else:
            domain, service = "meter", action
            data = {"meter_id": meter.id, "reason": reason}
        try:
            await kit.call_service(request, domain, service, data)
        except PageError as err:  # refused (a hold, arrears, no relay): nothing was queued
            return kit.fail(request, "meter.html", f"{label}: {err.message}",
                            status=err.status, **await self._page(request, meter))
        return kit.redirect(request, f"/meters/{meter.id}", t("meter.queued", action=label))
