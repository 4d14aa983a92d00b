"""The overview: what a landlord checks first, and the accounts to act on."""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..web.api.notifications import notifications
from ..web.pages import PageKit
from ..web.routes import allow
from .figures import Figures
from .parts import metering_of, money_of

if TYPE_CHECKING:
    from ..core import Hub

ACT_ON_LIMIT = 50
"""Accounts listed at most on the overview (the worst first); the accounts page has all."""
UNDELIVERED_DAYS = 7
"""How far back the overview counts the messages not delivered (a tile, only when some)."""


class OverviewPage:
    """``/``: meters online, consumption and income, money to collect, alarms, commands."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.figures = Figures(hub)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [web.get("/", self.overview)]

    @allow(scoped=True)
    async def overview(self, request: web.Request) -> web.Response:
        """The overview page in the caller's scope."""
        kit = PageKit.of(request.app)
        view = kit.in_view(request)
        scoped = view is not None
        metering = metering_of(self.hub)
        meters = list(metering.meters.values()) if metering else []
        money = money_of(self.hub)
        account_ids: set[str] | None = None  # None: every account (no scope to apply)
        meter_ids: set[str] | None = None
        if view is not None:
            meter_ids, account_ids = view
            meters = [meter for meter in meters if meter.id in meter_ids]
        accounts_total = len(account_ids) if account_ids is not None else \
            len(money.accounts) if money else 0
        online = sum(1 for meter in meters if meter.online is True)
        offline = sum(1 for meter in meters if meter.online is False)
        act_on = self.figures.act_on(account_ids)
        today = kit.now().date()
        start_of_day = datetime.combine(today, time(), kit.zone)
        collection = metering.stats.rate("overall", today, 1) if metering else None
        return kit.render(
            request, "overview.html", meters_total=len(meters), online=online,
            offline=offline, accounts_total=accounts_total, act_on=act_on[:ACT_ON_LIMIT],
            act_on_total=len(act_on), arrears=sum(1 for a in act_on if a.state == "arrears"),
            collection=collection, alarms=self._alarms(meter_ids),
            commands=await self.figures.commands(meter_ids, since=start_of_day),
            money=await self.figures.money(account_ids, today),
            consumption=await self.figures.consumption(meters, today, everyone=not scoped),
            undelivered=await self._undelivered(request, kit), undelivered_days=UNDELIVERED_DAYS)

    async def _undelivered(self, request: web.Request, kit: PageKit) -> int:
        """Messages of the last days the outbox gave up on, in the caller's scope (0 when the
        notifications page is not in the caller's menu)."""
        if not any(item["href"] == "/notifications" for item in kit.nav(request)):
            return 0
        return len(await notifications(request, UNDELIVERED_DAYS, state="failed"))

    def _alarms(self, meter_ids: set[str] | None) -> list[dict[str, Any]]:
        """The active alarms of ``meter_ids`` (None: of every meter)."""
        hub = self.hub
        if not hub.has_component("metering.alarms"):
            return []
        from ..metering.alarms import AlarmMonitor

        monitor = hub.component("metering.alarms", AlarmMonitor)
        return [{"meter_id": meter_id, "kind": kind, "phase": phase, "value": alarm.value,
                 "threshold": alarm.threshold}
                for (meter_id, kind, phase), alarm in sorted(monitor.active.items(),
                                                             key=lambda kv: str(kv[0]))
                if meter_ids is None or meter_id in meter_ids]
