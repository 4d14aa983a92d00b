"""Reading plans (daily at a time, every N minutes, per tag), re-reads, stats, time sync.

Plans run in the site's local time. A meter whose planned read failed is re-read (补抄)
with a growing delay (``reread.first_delay`` × ``factor``ⁿ, at most ``max_delay``) until it
answers or the next run of its plan takes over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ..core import Context
from ..events import EVENT_HUB_STARTED
from ..util.dt import as_local, now, utcnow
from ..util.ids import slugify
from .model import Capability, ProtocolError
from .reading import ReadingSource
from .service import ReadFailed

if TYPE_CHECKING:
    from ..core import Hub
    from .service import MeteringService

_LOGGER = logging.getLogger(__name__)

STATS_INTERVAL = 60.0


def next_daily(at: time, current: datetime) -> datetime:
    """The next local occurrence of ``at`` strictly after ``current``."""
    local = as_local(current)
    candidate = local.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
    if candidate <= local:
        candidate = (local + timedelta(days=1)).replace(
            hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
    return candidate


def next_every(minutes: int, current: datetime) -> datetime:
    """The next local wall-clock multiple of ``minutes`` after ``current`` (from midnight)."""
    local = as_local(current)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = int((local - midnight).total_seconds() // 60)
    step = (elapsed // minutes + 1) * minutes
    return midnight + timedelta(minutes=step)


class Scheduler:
    """Runs reading plans, re-reads failures, publishes collection rates, syncs clocks."""

    def __init__(self, hub: Hub, service: MeteringService, plans: list[Mapping[str, Any]],
                 options: Mapping[str, Any]) -> None:
        self.hub = hub
        self.service = service
        self.plans = plans
        self.options = options
        self._rereads: dict[str, asyncio.Task[None]] = {}
        self.runs: dict[str, int] = {}

    def plan_id(self, index: int, plan: Mapping[str, Any]) -> str:
        """A plan's id: its own, or one made from its position."""
        return str(plan.get("id") or f"plan_{index + 1}")

    async def start(self) -> None:
        """Start one loop per plan and the stats loop."""
        for index, plan in enumerate(self.plans):
            self.hub.create_background_task(self._plan_loop(index, plan),
                                            f"reading plan {self.plan_id(index, plan)}")
        self.hub.create_background_task(self._stats_loop(), "collection stats")
        sync = self.options.get("time_sync") or {}
        if sync.get("mode", "off") != "off":
            self.hub.create_background_task(self._time_sync_loop(sync), "time sync")
        if self.options.get("read_on_start", True) and self.service.meters:
            self.hub.bus.listen_once(EVENT_HUB_STARTED, self._read_all_once)

    async def _read_all_once(self, _event: Any) -> None:
        """After start-up, read every meter once instead of waiting for the first plan."""
        plan = {"plan": "every", "minutes": 60 * 24, "id": "start"}
        await self.run_plan(-1, plan)

    async def stop(self) -> None:
        """Cancel pending re-reads (the plan loops are background tasks the hub cancels)."""
        for task in self._rereads.values():
            task.cancel()
        self._rereads.clear()

    def next_run(self, plan: Mapping[str, Any], current: datetime) -> datetime:
        """When a plan runs next."""
        if plan["plan"] == "daily":
            return next_daily(plan["at"], current)
        return next_every(int(plan["minutes"]), current)

    async def _plan_loop(self, index: int, plan: Mapping[str, Any]) -> None:
        while True:
            due = self.next_run(plan, utcnow())
            await asyncio.sleep(max(0.0, (due - now()).total_seconds()))
            try:
                await self.run_plan(index, plan)
            except Exception:
                _LOGGER.exception("Reading plan %s failed", self.plan_id(index, plan))

    async def run_plan(self, index: int, plan: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """Read a plan's meters now; schedule re-reads of those that failed."""
        plan_id = self.plan_id(index, plan)
        meters = self.service.select(meters=plan.get("meters", ()), tags=plan.get("tags"))
        for meter in meters:
            task = self._rereads.pop(meter.id, None)
            if task is not None:
                task.cancel()  # the new run takes over
        context = Context(origin=f"reading_plan:{plan_id}")
        started = asyncio.get_running_loop().time()
        ok, failed = await self.service.read_many(meters, source=ReadingSource.SCHEDULED,
                                                  points=plan.get("points"), context=context)
        self.runs[plan_id] = self.runs.get(plan_id, 0) + 1
        _LOGGER.info("Plan %s: %d read, %d failed in %.1f s", plan_id, len(ok), len(failed),
                     asyncio.get_running_loop().time() - started)
        reread = self.options.get("reread") or {}
        if reread.get("enabled", True):
            for meter_id in failed:
                self.schedule_reread(meter_id, plan, context)
        self.publish_stats()
        return ok, failed

    def schedule_reread(self, meter_id: str, plan: Mapping[str, Any],
                        context: Context | None = None) -> None:
        """Re-read a meter with back-off until it answers or its plan runs again."""
        if meter_id in self._rereads and not self._rereads[meter_id].done():
            return
        self._rereads[meter_id] = self.hub.create_background_task(
            self._reread(meter_id, plan, context), f"re-read {meter_id}")

    async def _reread(self, meter_id: str, plan: Mapping[str, Any],
                      context: Context | None) -> None:
        reread = self.options.get("reread") or {}
        delay: timedelta = reread.get("first_delay", timedelta(minutes=1))
        limit: timedelta = reread.get("max_delay", timedelta(minutes=30))
        factor = int(reread.get("factor", 2))
        give_up = self.next_run(plan, utcnow())
        try:
            while utcnow() + delay < give_up:
                await asyncio.sleep(delay.total_seconds())
                try:
                    await self.service.read(meter_id, points=plan.get("points"),
                                            source=ReadingSource.REREAD, context=context)
                    _LOGGER.info("Re-read of %s succeeded", meter_id)
                    self.publish_stats()
                    return
                except ReadFailed:
                    delay = min(delay * factor, limit)
            _LOGGER.info("Re-reads of %s gave up until the next plan run", meter_id)
        finally:
            if self._rereads.get(meter_id) is asyncio.current_task():
                del self._rereads[meter_id]

    def pending_rereads(self) -> list[str]:
        """Meters waiting for a re-read."""
        return sorted(mid for mid, task in self._rereads.items() if not task.done())

    def publish_stats(self) -> None:
        """Put collection rates into states ``sensor.collection_<scope>``."""
        today = as_local(utcnow()).date()
        for scope, entry in self.service.stats.summary(today).items():
            value = entry["today"]
            self.hub.states.set(
                f"sensor.collection_{slugify(scope)}",
                value if value is not None else "unknown",
                {"unit": "%", "friendly_name": f"Collection rate {scope}",
                 "rate_7d": entry["7d"], "rate_30d": entry["30d"],
                 "expected_today": entry["expected_today"],
                 "collected_today": entry["collected_today"]},
            )

    async def _stats_loop(self) -> None:
        while True:
            await asyncio.sleep(STATS_INTERVAL)
            self.publish_stats()

    async def _time_sync_loop(self, sync: Mapping[str, Any]) -> None:
        while True:
            due = next_daily(sync["at"], utcnow())
            await asyncio.sleep(max(0.0, (due - now()).total_seconds()))
            await self.sync_time(sync["mode"])

    async def sync_time(self, mode: str) -> int:
        """Set meter clocks: one broadcast per bus (or DTU) and protocol, or each meter.

        A protocol without a broadcast (CJ/T 188) gets its meters set one by one.
        Returns the number of frames sent.
        """
        done = 0
        broadcast_ok: dict[tuple[str, str], bool] = {}
        for meter in self.service.meters.values():
            if Capability.CLOCK not in meter.model.capabilities or (
                    Capability.SLEEPY in meter.model.capabilities):
                continue
            key = (meter.group, meter.model.protocol)
            if mode == "broadcast" and broadcast_ok.get(key):
                continue
            try:
                transport = meter.link.transport_for(meter.ref)
                if mode == "broadcast" and key not in broadcast_ok:
                    try:
                        await meter.model.sync_time(transport, None, now())
                        broadcast_ok[key] = True
                        done += 1
                        continue
                    except ProtocolError:
                        broadcast_ok[key] = False  # no broadcast: set each meter instead
                await meter.model.sync_time(transport, meter.ref, now())
                done += 1
            except Exception as err:
                _LOGGER.warning("Time sync of %s failed: %s", meter.id, err)
        return done
