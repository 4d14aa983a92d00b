"""The alarms page: the alarms raised in the last days (meters' readings and loss analysis),
whether each is still active or cleared, and its acknowledgement — who and when, kept in
storage, the same record as ``POST /api/alarms/{alarm_id}/acknowledge`` — with a button to
acknowledge it; within the caller's scope."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..events import EVENT_ALARM, EVENT_ALARM_CLEARED
from ..i18n import Text
from ..storage import AlarmAck, Storage, from_ms
from ..util.dt import utcnow
from ..web.api.alarms import alarm_id
from ..web.pages import PageKit, caller, refused
from ..web.routes import allow, caller_sees
from .admin_strings import ADMIN_STRINGS

if TYPE_CHECKING:
    from ..core import Hub

DAYS = 14  # how far back the page looks
SHOWN = 200  # alarms shown at most, newest first


def _shown(ack: AlarmAck | None) -> dict[str, Any] | None:
    """An acknowledgement as the page shows it: who, when (aware), the note."""
    if ack is None:
        return None
    return {"user_id": ack.acked_by, "at": from_ms(ack.acked_ts), "note": ack.note}


class AlarmPages:
    """``/alarms`` and ``POST /alarms/ack``."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.i18n.add(ADMIN_STRINGS)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [web.get("/alarms", self.alarms), web.post("/alarms/ack", self.ack)]

    def _storage(self) -> Storage:
        if not self.hub.has_component("storage"):
            raise refused(404, Text("web.alarms_off"))
        return self.hub.component("storage", Storage)

    async def _recent(self, request: web.Request) -> list[dict[str, Any]]:
        """Alarms raised in the last DAYS, newest first, each with its clearing and ack."""
        storage = self._storage()
        events = await storage.events(utcnow() - timedelta(days=DAYS),
                                      event_types=(EVENT_ALARM, EVENT_ALARM_CLEARED),
                                      limit=20_000)
        raised: list[dict[str, Any]] = []
        open_alarm: dict[tuple[Any, Any, Any], dict[str, Any]] = {}
        for event in events:  # oldest first
            data = event.data
            if not caller_sees(request, "meter_id", str(data.get("meter_id"))):
                continue
            what = (data.get("meter_id"), data.get("kind"), data.get("phase"))
            if event.event_type == EVENT_ALARM:
                entry = {"key": alarm_id(event), "time": event.time_fired, **data,
                         "cleared": None}
                raised.append(entry)
                open_alarm[what] = entry
            elif what in open_alarm:
                open_alarm.pop(what)["cleared"] = event.time_fired
        shown = list(reversed(raised))[:SHOWN]
        acks = await storage.alarm_acks([entry["key"] for entry in shown])
        for entry in shown:
            entry["ack"] = _shown(acks.get(entry["key"]))
        return shown

    @allow("admin", "operator", "landlord", "finance", "viewer", scoped=True)
    async def alarms(self, request: web.Request) -> web.Response:
        """Recent alarms, active first."""
        kit = PageKit.of(request.app)
        found = await self._recent(request)
        found.sort(key=lambda entry: entry["cleared"] is not None)  # stable: newest first
        return kit.render(request, "alarms.html", alarms=found, days=DAYS,
                          can_ack=str(caller(request).role) != "viewer")

    @allow("admin", "operator", "landlord", "finance", scoped=True)
    async def ack(self, request: web.Request) -> web.Response:
        """Acknowledge one alarm (the caller and the time are kept)."""
        kit = PageKit.of(request.app)
        form = await kit.form(request)
        t = kit.translator(request)
        key = form.get("alarm_key", "")
        entry = next((e for e in await self._recent(request) if e["key"] == key), None)
        if entry is None:
            return kit.redirect(request, "/alarms", t("alarm.unknown"), "error")
        now = utcnow()
        asked = AlarmAck(key, str(entry["meter_id"]), str(entry["kind"]),
                         round(entry["time"].timestamp() * 1000), round(now.timestamp() * 1000),
                         caller(request).user_id, form.get("note") or None)
        kept = await self._storage().acknowledge_alarm(asked)
        return kit.redirect(request, "/alarms", t("alarm.acked" if kept == asked else
                                                  "alarm.already",
                                                  kind=entry["kind"], meter=entry["meter_id"]))
