"""The overview: what a landlord checks first, and the accounts to act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..web.pages import PageKit
from ..web.routes import allow, caller_sees
from .figures import Figures

if TYPE_CHECKING:
    from ..core import Hub
    from ..ledger import Account, Money
    from ..metering.service import MeteringService

ACT_ON_LIMIT = 50
"""Accounts listed at most on the overview (the worst first); the accounts page has all."""


@dataclass
class ActOn:
    """An account low or in arrears."""

    account_id: str
    name: str
    balance: Decimal
    state: str  # arrears | low
    meters: list[str] = field(default_factory=list)


class OverviewPage:
    """``/``: meters online, consumption and income, money to collect, alarms, commands."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.figures = Figures(hub)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [web.get("/", self.overview)]

    def _metering(self) -> MeteringService | None:
        hub = self.hub
        if not hub.has_component("metering"):
            return None
        from ..metering.service import MeteringService

        return hub.component("metering", MeteringService)

    def _money(self) -> Money | None:
        hub = self.hub
        if not hub.has_component("money"):
            return None
        from ..ledger import Money

        return hub.component("money", Money)

    @allow(scoped=True)
    async def overview(self, request: web.Request) -> web.Response:
        """The overview page in the caller's scope."""
        kit = PageKit.of(request.app)
        metering = self._metering()
        meters = [meter for meter in (metering.meters.values() if metering else ())
                  if caller_sees(request, "meter_id", meter.id)]
        online = sum(1 for meter in meters if meter.online is True)
        offline = sum(1 for meter in meters if meter.online is False)
        accounts = self._visible_accounts(request)
        act_on = self._act_on(accounts)
        today = kit.now().date()
        start_of_day = datetime.combine(today, time(), kit.zone)
        collection = metering.stats.rate("overall", today, 1) if metering else None
        alarms = self._alarms(request)
        commands = await self.figures.commands(
            {meter.id for meter in meters}, since=start_of_day)
        money = await self.figures.money(set(accounts), today)
        consumption = await self.figures.consumption(meters, today)
        return kit.render(
            request, "overview.html", meters_total=len(meters), online=online,
            offline=offline, accounts_total=len(accounts), act_on=act_on[:ACT_ON_LIMIT],
            act_on_total=len(act_on), arrears=sum(1 for a in act_on if a.state == "arrears"),
            collection=collection, alarms=alarms, commands=commands, money=money,
            consumption=consumption)

    def _visible_accounts(self, request: web.Request) -> dict[str, Account]:
        money = self._money()
        if money is None:
            return {}
        return {account_id: account for account_id, account in money.accounts.items()
                if caller_sees(request, "account_id", account_id)}

    def _act_on(self, accounts: dict[str, Account]) -> list[ActOn]:
        """Prepaid accounts in arrears or below their first low level, lowest balance first."""
        money = self._money()
        if money is None:
            return []
        from ..ledger import in_arrears

        found = []
        for account_id, account in accounts.items():
            if account.billing != "prepaid":
                continue
            balance = money.ledger.balance(account_id)
            thresholds = account.thresholds
            if in_arrears(balance, thresholds):
                state = "arrears"
            elif thresholds.low and balance <= max(thresholds.low):
                state = "low"
            else:
                continue
            found.append(ActOn(account_id, account.name or account_id, balance, state))
        found.sort(key=lambda item: (item.balance, item.account_id))
        return found

    def _alarms(self, request: web.Request) -> list[dict[str, Any]]:
        hub = self.hub
        if not hub.has_component("metering.alarms"):
            return []
        from ..metering.alarms import AlarmMonitor

        monitor = hub.component("metering.alarms", AlarmMonitor)
        return [{"meter_id": meter_id, "kind": kind, "phase": phase, "value": alarm.value,
                 "threshold": alarm.threshold}
                for (meter_id, kind, phase), alarm in sorted(monitor.active.items(),
                                                             key=lambda kv: str(kv[0]))
                if caller_sees(request, "meter_id", meter_id)]
