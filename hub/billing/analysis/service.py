"""The ``analysis`` component: 公摊 splits, loss checks and reports, and their nightly job.

Every night at ``loss.at`` (default 01:00 local), and once shortly after start-up:

- loss of every parent meter for yesterday, and — during the first days of a month, until
  its data is complete — for the previous month; alarms as :mod:`.loss` says;
- each share group's split of the previous month, posted to the ledger once its meters'
  data is complete, or ``wait_days`` after the month ended with whatever is there; then a
  ``share_allocated`` event {group, period, cost, shares...}. A group whose shares are
  already in the ledger is left alone (the idempotency keys make a repeat harmless anyway).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ...core import Context
from ...events import EVENT_SHARE_ALLOCATED, EVENT_SHARE_FAILED
from ...i18n import Text
from ...ledger import Ledger, load_accounts
from ...util import dt
from ..invoice_split import post_invoice, split_invoice
from ..loss import LossAlarms, LossRow, LossSettings, analyse
from ..reports import (
    LedgerView,
    Table,
    arrears_report,
    consumption_report,
    receivable_report,
)
from ..sharing import Allocation, ShareCalculator, ShareError, ShareGroup, post_allocation
from ..trends import building_intensity, consumption_trend
from .base import Catalog, Period

if TYPE_CHECKING:
    from ...core import Hub, States
    from ...ledger.accounts import Account
    from ...storage import Storage
    from ..tariffs import TariffBook

_LOGGER = logging.getLogger(__name__)

STARTUP_DELAY = 120.0  # seconds before the catch-up run: let the first reads come in
MONTH_CHECK_DAYS = 3  # a month's loss is checked on the first days of the next one


class Analysis:
    """Cost sharing, loss analysis and reports over storage, tariffs, accounts and ledger."""

    def __init__(self, storage: Storage, catalog: Catalog, accounts: Mapping[str, Account], *,
                 tariffs: TariffBook | None = None, ledger: LedgerView | None = None,
                 groups: Sequence[ShareGroup] = (), loss: LossSettings | None = None,
                 hub: Hub | None = None, clock: Callable[[], datetime] = dt.now) -> None:
        self.storage = storage
        self.catalog = catalog
        self.accounts = accounts
        self.tariffs = tariffs
        self.ledger = ledger
        self.groups = {group.id: group for group in groups}
        self.loss_settings = loss or LossSettings.from_block(None)
        self.hub = hub
        self.clock = clock
        self.shares = ShareCalculator(storage, tariffs, catalog, accounts)
        self.alarms = LossAlarms(hub) if hub is not None else None
        self.startup_delay = STARTUP_DELAY
        self._task: asyncio.Task[None] | None = None
        self._settled: set[tuple[str, str]] = set()
        self.buildings: list[dict[str, Any]] = []
        # the meters in force (the meter book's, with runtime changes), taken at start
        self.meter_source: Mapping[str, Mapping[str, Any]] | None = None

    def use_meters(self, meters: Mapping[str, Mapping[str, Any]]) -> None:
        """Take the meters in force (after a runtime change): the catalog is rebuilt."""
        registries = self.hub.plugins.registries if self.hub is not None else None
        self.catalog = Catalog.from_config(list(meters.values()), registries)
        self.shares.catalog = self.catalog

    @classmethod
    def from_hub(cls, hub: Hub) -> Analysis:
        """Build from a hub set up with storage (and, when there, tariffs and the ledger)."""
        from ...storage import Storage
        from ..tariffs import TariffBook

        catalog = Catalog.from_config(hub.config.block("meters"), hub.plugins.registries)
        ledger = hub.component("ledger", Ledger) if hub.has_component("ledger") else None
        analysis = cls(
            hub.component("storage", Storage), catalog, load_accounts(hub),
            tariffs=(hub.component("tariffs", TariffBook) if hub.has_component("tariffs")
                     else None),
            ledger=ledger,
            groups=[ShareGroup.from_config(entry, catalog)
                    for entry in hub.config.block("share_groups") or []],
            loss=LossSettings.from_block(hub.config.block("loss")), hub=hub)
        analysis.buildings = list(hub.config.block("buildings") or [])
        return analysis

    @property
    def states(self) -> States | None:
        """The hub's states (None outside a hub)."""
        return self.hub.states if self.hub is not None else None

    # --- cost sharing -------------------------------------------------------------

    def group(self, group_id: str) -> ShareGroup:
        """A share group; KeyError naming the known ones."""
        found = self.groups.get(group_id)
        if found is None:
            known = ", ".join(sorted(self.groups)) or "none configured"
            raise KeyError(f"unknown share group '{group_id}' (share groups: {known})")
        return found

    async def share_preview(self, group_id: str, period: Period) -> Allocation:
        """The allocation of a group for a month, without posting anything."""
        return await self.shares.allocation(self.group(group_id), _month(period))

    async def share_run(self, group_id: str, period: Period, *,
                        context: Context | None = None) -> Allocation:
        """Allocate, post the shares (when the group posts and a ledger exists), tell."""
        group = self.group(group_id)
        allocation = await self.shares.allocation(group, _month(period))
        context = context or Context(origin="share")
        posted = 0
        ledger = self._ledger()
        if group.post and ledger is not None:
            results = await post_allocation(ledger, allocation, self.accounts, context)
            posted = sum(1 for r in results if not isinstance(r, Exception) and r.created)
        self._settled.add((group.id, allocation.period.label))
        if self.hub is not None:
            self.hub.bus.fire(EVENT_SHARE_ALLOCATED, {**allocation.as_dict(), "posted": posted},
                              context=context)
        _LOGGER.info("Share group %s for %s: cost %s split %s among %d accounts (%d posted)",
                     group.id, allocation.period.label, allocation.cost, group.split,
                     len(allocation.lines), posted)
        return allocation

    async def share_split(self, data: Mapping[str, Any], *,
                          context: Context | None = None) -> dict[str, Any]:
        """Split an invoice's amount among a group's members (``share.split``); with ``post``
        post each share once under the invoice number. ShareError says what is wrong."""
        try:
            group = self.group(data["group"])
        except KeyError as err:
            raise ShareError(err.args[0]) from None
        members = [] if data.get("split", group.split) == "ratios" and "ratios" in data \
            else self.shares.members(group)
        result = split_invoice(group, members, self.accounts, amount=data["amount"],
                               start=data["start"], end=data["end"],
                               invoice=data.get("invoice"), split=data.get("split"),
                               ratios=data.get("ratios"))
        posted: int | None = None
        if data.get("post"):
            ledger = self._ledger()
            if ledger is None:
                raise ShareError(Text("billing.split_no_ledger"))
            posted = await post_invoice(ledger, result, self.accounts,
                                        context or Context(origin="share"))
            _LOGGER.info("Invoice %s of share group %s: %s split %s among %d accounts (%d "
                         "posted)", result.invoice, group.id, result.amount, result.split,
                         len(result.lines), posted)
        return {**result.as_dict(), "posted": posted}

    def _ledger(self) -> Ledger | None:
        """The ledger when it can take posts (reports need only a LedgerView)."""
        return self.ledger if isinstance(self.ledger, Ledger) else None

    async def _already_posted(self, allocation: Allocation) -> bool:
        ledger = self._ledger()
        paying = [line for line in allocation.lines if line.amount > 0]
        if ledger is None or not paying:
            return False
        return await ledger.find(allocation.key(paying[0].account_id)) is not None

    async def settle_shares(self, today: date) -> list[Allocation]:
        """Split the previous month for every group that is due (see the module doc)."""
        period = Period.month_of(today).previous()
        done = []
        for group in self.groups.values():
            if group.invoices_only or (group.id, period.label) in self._settled:
                continue
            try:
                allocation = await self.shares.allocation(group, period)
                if await self._already_posted(allocation):
                    self._settled.add((group.id, period.label))
                    continue
                if not allocation.complete and today < period.end + timedelta(
                        days=group.wait_days):
                    _LOGGER.info("Share group %s for %s waits for data of %s", group.id,
                                 period.label, ", ".join(allocation.missing))
                    continue
                done.append(await self.share_run(group.id, period))
            except ShareError as err:
                _LOGGER.error("Share group %s for %s not split: %s", group.id, period.label,
                              err)
                if self.hub is not None:
                    self.hub.bus.fire(EVENT_SHARE_FAILED, {
                        "group": group.id, "period": period.label, "error": str(err)},
                        context=Context(origin="share"))
        return done

    # --- loss -----------------------------------------------------------------------

    async def loss_rows(self, period: Period) -> list[LossRow]:
        """Loss of every parent meter over a day or month."""
        return await analyse(self.storage, self.catalog, self.loss_settings, period)

    async def loss_check(self, period: Period, context: Context | None = None) -> list[LossRow]:
        """Loss rows for a period, with alarms raised or cleared as they call for."""
        rows = await self.loss_rows(period)
        if self.alarms is not None:
            self.alarms.apply(rows, context)
        return rows

    # --- reports --------------------------------------------------------------------

    async def consumption_report(self, key: str, months: Sequence[Period],
                                 kinds: Sequence[str] = ("electricity", "water")) -> Table:
        """Consumption per tag value and month with 环比 and 同比."""
        return await consumption_report(self.storage, key, months, kinds=kinds)

    async def arrears_report(self) -> Table:
        """Accounts in arrears."""
        return await arrears_report(self.accounts, self.catalog, self.ledger, self.states)

    async def receivable_report(self, months: Sequence[Period]) -> Table:
        """应收 / 实收 per month, landlord and building (needs the ledger)."""
        if self.ledger is None:
            raise ShareError(Text("billing.receivable_no_ledger"))
        return await receivable_report(self.accounts, self.catalog, self.ledger, months,
                                       self.storage.tz)

    async def trend_report(self, periods: Sequence[Period], *,
                           kinds: Sequence[str] = ("electricity", "water"),
                           tags: Mapping[str, str] | None = None,
                           meter_id: str | None = None) -> Table:
        """Consumption per day, month or year with 环比 and 同比."""
        top = [meter.id for meter in self.catalog.meters.values() if meter.parent is None]
        return await consumption_trend(self.storage, periods, kinds=kinds, tags=tags,
                                       meter_id=meter_id, site_meters=top)

    async def intensity_report(self, period: Period,
                               kinds: Sequence[str] = ("electricity", "water")) -> Table:
        """Energy use per building, per m² and per person."""
        return await building_intensity(self.storage, self.catalog, self.accounts,
                                         self.buildings, period, kinds=kinds)

    # --- the nightly job --------------------------------------------------------------

    async def nightly(self, today: date) -> dict[str, Any]:
        """Loss checks for yesterday (and last month early in a month), then due splits."""
        summary: dict[str, Any] = {"loss": [], "shares": []}
        if self.loss_settings.enabled and self.catalog.parents():
            periods = [Period.day(today - timedelta(days=1))]
            if today.day <= MONTH_CHECK_DAYS:
                periods.append(Period.month_of(today).previous())
            for period in periods:
                try:
                    rows = await self.loss_check(period)
                except Exception:
                    _LOGGER.exception("Loss analysis for %s failed", period.label)
                    continue
                summary["loss"].append((period.label, [row.status for row in rows]))
        if self.groups:
            summary["shares"] = [a.group_id for a in await self.settle_shares(today)]
        return summary

    async def start(self) -> None:
        """Start the nightly loop (its first run comes ``startup_delay`` after start-up)."""
        if self.meter_source is not None:
            self.use_meters(self.meter_source)
        if self.hub is None or (not self.groups and not self.catalog.parents()):
            return
        self._task = self.hub.create_background_task(self._loop(), "analysis nightly")

    async def stop(self) -> None:
        """Stop the nightly loop."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _loop(self) -> None:
        await asyncio.sleep(self.startup_delay)
        while True:
            try:
                await self.nightly(self.clock().date())
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("The nightly analysis failed; it runs again tomorrow")
            await asyncio.sleep(self._seconds_to_next_run())

    def _seconds_to_next_run(self) -> float:
        now = self.clock()
        at = self.loss_settings.at
        target = now.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
        if target <= now:
            target += timedelta(days=1)
        return max(1.0, (target - now).total_seconds())


def _month(period: Period) -> Period:
    if period.resolution != "month":
        raise ShareError(Text("billing.share_month", month=f"{period.start:%Y-%m}",
                              period=period.label))
    return period
