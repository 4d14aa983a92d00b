"""The overview's figures, kept cheap enough to show on every page load at 10,000 meters.

- The accounts to act on (prepaid, in arrears or at or below their highest low level):
  assessed once for every account, then again for the accounts of each committed batch of
  entries and each account changed at runtime.
- Money (应收 receivable, 实收 received, today and this month): per account, summed once from
  the ledger (one query since the start of the month, again when the day changes), then kept
  up to date by the ledger's committed entries (``Ledger.add_listener``). Reversals count
  under the kind they undo, as in the receivable report.
- Consumption (today, this month, per kind): from storage's rollups by building tag (one row
  set per building) or, for meters without a building, per meter; cached for
  :data:`CONSUMPTION_TTL` seconds per scope.
- Commands: outstanding ones from the control queue, failed ones since midnight from storage.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..billing.analysis.base import UNIT_OF_KIND, quantity_of
from ..billing.reports import money_bucket
from ..storage import to_ms
from .parts import control_of, ledger_of, metering_of, money_of, storage_of

if TYPE_CHECKING:
    from ..core import Context, Hub
    from ..ledger import Account, Entry
    from ..metering.service import Meter
    from ..storage import ConsumptionRow, Storage

CONSUMPTION_TTL = 60.0
"""Seconds the overview's consumption figures are reused before they are read again."""

BUCKETS = ("receivable", "received", "refunded")


@dataclass
class ActOn:
    """An account low or in arrears."""

    account_id: str
    name: str
    balance: Decimal
    state: str  # arrears | low
    meters: list[str] = field(default_factory=list)


def balance_state(account: Account, balance: Decimal) -> str | None:
    """``arrears`` (at or below the trip level), ``low`` (at or below the highest low-balance
    level) or None, for a prepaid account; None for a postpaid one."""
    from ..ledger import in_arrears

    if account.billing != "prepaid":
        return None
    if in_arrears(balance, account.thresholds):
        return "arrears"
    if account.thresholds.low and balance <= max(account.thresholds.low):
        return "low"
    return None


class Figures:
    """Money, consumption and command figures for the overview, per caller's scope."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.zone = ZoneInfo(hub.config.time_zone)
        self._day: date | None = None
        self._day_ms = 0
        self._month_ms = 0
        self._today: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._month: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._listening = False
        self._early: list[Entry] | None = None
        self._site_today: dict[str, int] = defaultdict(int)
        self._site_month: dict[str, int] = defaultdict(int)
        self._act_on: dict[str, ActOn] | None = None
        self._seeding = asyncio.Lock()
        self._consumption: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}

    # --- components ----------------------------------------------------------------------

    # --- money -----------------------------------------------------------------------------

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, day_time(), self.zone)

    def _listen(self) -> None:
        """Follow committed entries and runtime account changes (once)."""
        ledger = ledger_of(self.hub)
        if self._listening or ledger is None:
            return
        self._listening = True
        ledger.add_listener(self._on_entries)
        if self.hub.has_component("accounts"):
            from ..ledger import AccountBook

            self.hub.component("accounts", AccountBook).add_listener(self._account_changed)

    async def _seed(self, today: date) -> None:
        """Sum this month's entries per account from storage (again on a new day)."""
        storage, ledger = storage_of(self.hub), ledger_of(self.hub)
        if storage is None or ledger is None:
            return
        async with self._seeding:
            if self._day == today:
                return
            self._listen()
            day_ms = to_ms(self._midnight(today))
            month_ms = to_ms(self._midnight(today.replace(day=1)))
            self._day = None
            self._early = []  # entries committed while the query runs: added if it missed them
            try:
                rows, last = await storage.money_read(
                    lambda store: store.kind_sums_since(month_ms, day_ms))
            finally:
                early, self._early = self._early, None
            for sums in (self._today, self._month, self._site_today, self._site_month):
                sums.clear()
            self._day, self._day_ms, self._month_ms = today, day_ms, month_ms
            for account_id, kind, reversed_kind, is_today, fen in rows:
                self._add(account_id, money_bucket(kind, reversed_kind), fen, is_today)
            self._on_entries([entry for entry in early if (entry.seq or 0) > last])

    def _add(self, account_id: str, bucket: str | None, fen: int, today: bool) -> None:
        if bucket is None or bucket not in BUCKETS:
            return
        self._month[account_id][bucket] += fen
        self._site_month[bucket] += fen
        if today:
            self._today[account_id][bucket] += fen
            self._site_today[bucket] += fen

    def _on_entries(self, entries: list[Entry]) -> None:
        """Add committed entries of today and this month; assess their accounts again."""
        if self._act_on is not None:
            for account_id in {entry.account_id for entry in entries}:
                self._assess(account_id)
        if self._early is not None:
            self._early.extend(entries)
            return
        if self._day is None:
            return
        for entry in entries:
            ts = to_ms(entry.time)
            if ts < self._month_ms:
                continue
            reversed_kind = None
            if entry.kind == "reversal":
                reversed_kind = (entry.detail.get("reversed") or {}).get("kind")
            self._add(entry.account_id, money_bucket(str(entry.kind), reversed_kind),
                      int(entry.amount * 100), ts >= self._day_ms)

    async def money(self, account_ids: Collection[str] | None, today: date
                    ) -> dict[str, Any]:
        """Receivable, received and refunded today and this month over ``account_ids`` (None:
        the whole site), in yuan, with the month's collection rate."""
        if self._day != today:
            await self._seed(today)
        out: dict[str, Any] = {}
        for name, sums, site in (("today", self._today, self._site_today),
                                 ("month", self._month, self._site_month)):
            totals = dict.fromkeys(BUCKETS, 0)
            if account_ids is None:
                totals.update(site)
            else:
                for account_id in account_ids:
                    found = sums.get(account_id)
                    if found:
                        for bucket in BUCKETS:
                            totals[bucket] += found.get(bucket, 0)
            # charges and refunds are debits (negative amounts): shown as positive money
            out[name] = {"receivable": Decimal(-totals["receivable"]) / 100,
                         "received": Decimal(totals["received"]) / 100,
                         "refunded": Decimal(-totals["refunded"]) / 100}
        month = out["month"]
        net = max(month["received"] - month["refunded"], Decimal(0))
        out["collected_percent"] = (
            None if month["receivable"] <= 0
            else (min(net, month["receivable"]) * 100 / month["receivable"]).quantize(
                Decimal("0.1")))
        return out

    # --- accounts to act on ----------------------------------------------------------------

    def act_on(self, account_ids: Collection[str] | None) -> list[ActOn]:
        """The accounts to act on among ``account_ids`` (None: all), lowest balance first."""
        if self._act_on is None:
            self._listen()
            self._act_on = {}
            for account_id in list(self._accounts()):
                self._assess(account_id)
        found = (list(self._act_on.values()) if account_ids is None
                 else [item for key, item in self._act_on.items() if key in account_ids])
        found.sort(key=lambda item: (item.balance, item.account_id))
        return found

    def _accounts(self) -> Mapping[str, Account]:
        money = money_of(self.hub)
        return money.accounts if money is not None else {}

    def _assess(self, account_id: str) -> None:
        """Whether an account is to act on now (kept in ``_act_on``)."""
        assert self._act_on is not None
        ledger = ledger_of(self.hub)
        account = self._accounts().get(account_id) if ledger is not None else None
        state = (balance_state(account, ledger.balance(account_id))
                 if account is not None and ledger is not None else None)
        if state is None or account is None or ledger is None:
            self._act_on.pop(account_id, None)
            return
        self._act_on[account_id] = ActOn(account_id, account.name or account_id,
                                         ledger.balance(account_id), state)

    def _account_changed(self, account_id: str, _context: Context) -> None:
        if self._act_on is not None:
            self._assess(account_id)

    # --- consumption -------------------------------------------------------------------------

    async def consumption(self, meters: Iterable[Meter], today: date, *,
                          everyone: bool = False) -> list[dict[str, Any]]:
        """Per kind: today's and this month's consumption of ``meters`` (``everyone``: they
        are every meter of the site), with the unit."""
        meters = list(meters)
        storage = storage_of(self.hub)
        if storage is None or not meters:
            return []
        key = (today, None if everyone else frozenset(meter.id for meter in meters))
        cached = self._consumption.get(key)
        if cached is not None and time.monotonic() - cached[0] < CONSUMPTION_TTL:
            return list(cached[1]["rows"])
        kinds = sorted({meter.kind for meter in meters})
        start_month = self._midnight(today.replace(day=1))
        start_day = self._midnight(today)
        end = self._midnight(today + timedelta(days=1))
        days = await self._rows(storage, meters, start_month, end)
        rows = []
        for kind in kinds:
            month_rows = [row for row in days if row.start >= start_month]
            today_rows = [row for row in days if row.start >= start_day]
            rows.append({"kind": kind, "unit": UNIT_OF_KIND.get(kind, ""),
                         "today": quantity_of(kind, today_rows),
                         "month": quantity_of(kind, month_rows)})
        self._consumption[key] = (time.monotonic(), {"rows": rows})
        if len(self._consumption) > 64:
            self._consumption.pop(next(iter(self._consumption)))
        return rows

    async def _rows(self, storage: Storage, meters: list[Meter], start: datetime,
                    end: datetime) -> list[ConsumptionRow]:
        """Daily consumption rows of the meters: by building where every meter of the
        building is included, else meter by meter."""
        included = {meter.id for meter in meters}
        buildings: dict[str, list[str]] = defaultdict(list)
        alone: list[str] = []
        for meter in meters:
            building = meter.tags.get("building")
            (buildings[building] if building else alone).append(meter.id)
        everyone = self._all_meters()
        out: list[ConsumptionRow] = []
        for building, ids in buildings.items():
            whole = {m.id for m in everyone if m.tags.get("building") == building}
            if whole <= included:
                out += await storage.consumption(tags={"building": building}, start=start,
                                                 end=end, resolution="day")
            else:
                alone += ids
        for meter_id in alone:
            out += await storage.consumption(meter_id, start=start, end=end, resolution="day")
        return out

    def _all_meters(self) -> list[Meter]:
        metering = metering_of(self.hub)
        return list(metering.meters.values()) if metering is not None else []

    # --- commands ----------------------------------------------------------------------------

    async def commands(self, meter_ids: Collection[str] | None, since: datetime
                       ) -> dict[str, int]:
        """Outstanding control commands and those failed since ``since`` of ``meter_ids``
        (None: every meter)."""
        pending = failed = 0
        control = control_of(self.hub)
        if control is not None:
            pending = sum(1 for p in control.commands.all_outstanding()
                          if meter_ids is None or p.meter_id in meter_ids)
        storage = storage_of(self.hub)
        if storage is not None and storage.available:
            failed = sum(1 for row in await storage.commands(states=("failed",), since=since)
                         if meter_ids is None or row.meter_id in meter_ids)
        return {"pending": pending, "failed": failed}
