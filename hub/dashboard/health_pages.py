"""Device health: every link online or not with its counters and collection rates (today, 7
and 30 days), every DTU behind a DTU link, and the last report of each NB-IoT meter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web

from ..i18n import Text
from ..metering.dtu import DtuLink
from ..metering.model import Capability
from ..web.pages import PageKit, refused
from ..web.routes import allow, caller_sees
from .admin_strings import ADMIN_STRINGS

if TYPE_CHECKING:
    from ..core import Hub
    from ..metering.service import MeteringService


class HealthPages:
    """``/devices``."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.i18n.add(ADMIN_STRINGS)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [web.get("/devices", self.health)]

    @allow("admin", "operator", "viewer", "finance", "landlord", scoped=True)
    async def health(self, request: web.Request) -> web.Response:
        """Links, DTUs and NB-IoT meters, with success rates."""
        kit = PageKit.of(request.app)
        if not self.hub.has_component("metering"):
            raise refused(404, Text("web.metering_off"))
        from ..metering.service import MeteringService

        metering: MeteringService = self.hub.component("metering", MeteringService)
        today = kit.now().date()
        rates = metering.stats.summary(today)
        visible = [m for m in metering.meters.values() if caller_sees(request, "meter_id", m.id)]
        links = []
        for link_id, link in sorted(metering.links.items()):
            mine = [m for m in visible if m.link.id == link_id]
            if not mine:
                continue
            dtus = []
            if isinstance(link, DtuLink):
                for dtu_id, dtu in sorted(link.table.status().items()):
                    seen = dtu.get("last_seen")
                    dtus.append({**dtu, "id": dtu_id,
                                 "rate": rates.get(f"dtu_{link_id}_{dtu_id}", {}),
                                 "last_seen_at": datetime.fromtimestamp(seen, UTC)
                                 if isinstance(seen, int | float) else None})
            links.append({**link.status(), "meters": len(mine),
                          "online_meters": sum(1 for m in mine if m.online),
                          "rate": rates.get(f"link_{link_id}", {}), "dtus": dtus})
        sleepy = [{"id": m.id, "link": m.link.id, "online": m.online,
                   "last": m.last_reading.time if m.last_reading else None,
                   "registers": dict(m.last_reading.registers) if m.last_reading else {}}
                  for m in visible if Capability.SLEEPY in m.model.capabilities]
        offline = [m for m in visible if m.online is False]
        return kit.render(request, "devices.html", links=links, sleepy=sleepy,
                          offline=offline, overall=rates.get("overall", {}))

