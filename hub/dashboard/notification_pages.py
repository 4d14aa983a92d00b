"""The notifications page: every message the hub sent, is still trying to send, merged into
a summary or gave up on in the last days — to whom, about which account, what it said, and
why it failed, in the reader's language. The same record as ``GET /api/notifications``,
within the caller's scope."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ..web.api.notifications import STATES, notifications
from ..web.pages import PageKit
from ..web.routes import allow
from .admin_strings import ADMIN_STRINGS

if TYPE_CHECKING:
    from ..core import Hub

DAYS = (1, 7, 30, 90)  # the periods the page offers
SHOWN = 300  # rows shown at most, newest first


class NotificationPages:
    """``/notifications``."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.i18n.add(ADMIN_STRINGS)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [web.get("/notifications", self.notifications)]

    @allow("admin", "landlord", "operator", scoped=True)
    async def notifications(self, request: web.Request) -> web.Response:
        """Recent notifications, newest first; filtered by state, period and account."""
        kit = PageKit.of(request.app)
        state = request.query.get("state") or None
        state = state if state in STATES else None
        days = int(request.query["days"]) if request.query.get("days", "").isdigit() else 7
        days = days if days in DAYS else 7
        account_id = request.query.get("account_id") or None
        found = await notifications(request, days, state=state, account_id=account_id)
        return kit.render(request, "notifications.html", rows=found[:SHOWN],
                          more=len(found) > SHOWN, state=state, days=days, periods=DAYS,
                          states=STATES, account_id=account_id,
                          failed=sum(1 for row in found if row["state"] == "failed"))
