"""Gaps in a meter's history filled from its own memory: daily frozen data (日冻结), or the
interval load records (负荷记录) of a model that keeps them (capability LOAD_PROFILE).

When a reading arrives more than ``fill_after`` (26 h) after the meter's previous one — the
link was down, the meter off-line, a DTU away — and the meter's model keeps daily frozen
registers, the hub reads the freezes made in between and stores each as a reading at its
frozen time (source ``reread``, quality ``{"frozen": "daily"}``). Storage places them by its
late-reading rule (counter rule 8): the consumption of the gap is re-split at the frozen
times, so daily rollups and bills are what an uninterrupted run would have given. A late
reading (older than the meter's newest: a concentrator's or an NB-IoT meter's batch) is
checked against its stored neighbours, and a gap on either side of it is filled alike. A record
with an impossible date is refused and reported, never stored. Which days were filled, per
meter, is answered by ``device.history``, and kept in storage (``device_history``) so the
report survives a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from ..core import Context, Event
from ..events import EVENT_READING
from ..i18n import Text, restored, stored
from ..metering.link import LinkUnavailable
from ..metering.model import Capability, FrozenDays, MeterRefused, NoReply, ProtocolError
from ..metering.reading import Reading, ReadingSource
from ..util import dt as dt_util
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .parts import DevicePart

if TYPE_CHECKING:
    from ..core import Hub, Unsubscribe
    from ..metering.service import Meter, MeteringService
    from ..storage import DeviceStore

_LOGGER = logging.getLogger(__name__)

FROZEN_QUALITY: Final = "frozen"
MAX_REPORT: Final = 400  # filled days remembered per meter
MEMORY: Final = timedelta(days=62)  # how far back a meter keeps its daily freezes
FILLED: Final = "filled"
REFUSED: Final = "refused"
INTERVALS: Final = "intervals"


class HistoryFiller(DevicePart):
    """Fills gaps between a meter's readings with its daily frozen records."""

    def __init__(self, hub: Hub, fill_after: timedelta = timedelta(hours=26)) -> None:
        self.hub = hub
        self.fill_after = fill_after
        self._last: dict[str, datetime] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._first: list[tuple[Meter, Reading, Context]] = []  # awaiting their check
        self._service: MeteringService | None = None
        self._unsub: Unsubscribe | None = None
        self.filled: dict[str, list[str]] = {}  # meter -> ISO frozen times stored
        self.refused: dict[str, list[str]] = {}  # meter -> records not taken, with the reason
        self.intervals: dict[str, list[str]] = {}  # meter -> load-record fills, summarised

    async def start(self) -> None:
        """Load the report kept in storage; watch readings."""
        for meter_id, kind, detail in await self.storage.device_read(lambda s: s.history()):
            _remember(self._book(kind), meter_id, [restored(detail)])
        self._unsub = self.hub.bus.listen(EVENT_READING, self._on_reading)

    async def stop(self) -> None:
        """Stop watching; let fills under way finish (bounded)."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)

    def report(self, meter_id: str | None = None) -> dict[str, Any]:
        """Days filled from each meter's memory, and records refused."""
        ids = [meter_id] if meter_id else sorted(
            set(self.filled) | set(self.refused) | set(self.intervals))
        return {m: {"filled": list(self.filled.get(m, [])),
                    "refused": list(self.refused.get(m, [])),
                    "intervals": list(self.intervals.get(m, []))} for m in ids}

    def _book(self, kind: str) -> dict[str, list[str]]:
        return {FILLED: self.filled, REFUSED: self.refused}.get(kind, self.intervals)

    def _on_reading(self, event: Event) -> None:
        reading = event.data.get("reading")
        if not isinstance(reading, Reading) or reading.quality.get(FROZEN_QUALITY):
            return
        service = self._service
        if service is None:  # looked up once: the property imports and asks the hub
            service = self._service = self.metering
        meter = service.meters.get(reading.meter_id)
        if meter is None or Capability.DAILY_FROZEN not in meter.model.capabilities:
            return
        previous = self._last.get(reading.meter_id)
        if previous is not None and reading.time == previous:
            return
        late = previous is not None and reading.time < previous
        if not late:
            self._last[reading.meter_id] = reading.time
        if late:  # rare: a gap on either side of it, from its stored neighbours
            self._track(self._check_late(meter, reading, event.context),
                        f"history fill {reading.meter_id}")
        elif previous is None:  # the first since start-up: the stored one before it, batched
            self._first.append((meter, reading, event.context))
            if len(self._first) == 1:
                self._track(self._check_first(), "history fill: first readings")
        elif reading.time - previous > self.fill_after:  # decided here, not in a task
            self._track(self.fill(meter, previous, reading.time, event.context),
                        f"history fill {reading.meter_id}")

    def _track(self, work: Coroutine[Any, Any, object], name: str) -> None:
        task = self.hub.create_task(work, name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check_first(self) -> None:
        """Compare the first readings since start-up (those fired until this task runs) with
        the stored reading before each, in one query; fill the gaps that are too long."""
        firsts, self._first = self._first, []
        before = await self.storage.reading_times_before([
            (reading.meter_id, reading.time - MEMORY, reading.time)
            for _meter, reading, _context in firsts])
        for meter, reading, context in firsts:
            previous = before.get(reading.meter_id)
            if previous is not None and reading.time - previous > self.fill_after:
                self._track(self.fill(meter, previous, reading.time, context),
                            f"history fill {reading.meter_id}")

    async def _check_late(self, meter: Meter, reading: Reading, context: Context) -> None:
        """Fill the gaps before and after a late reading (up to its stored neighbours) when
        longer than ``fill_after``."""
        stored = await self.storage.readings(meter.id, reading.time - MEMORY,
                                             reading.time + MEMORY)
        times = sorted(r.time for r in stored if r.id != reading.id)
        if reading.time in times:
            return  # a duplicate: storage keeps the first
        earlier = [t for t in times if t < reading.time]
        later = [t for t in times if t > reading.time]
        if earlier and reading.time - earlier[-1] > self.fill_after:
            await self.fill(meter, earlier[-1], reading.time, context)
        if later and later[0] - reading.time > self.fill_after:
            await self.fill(meter, reading.time, later[0], context)

    async def fill(self, meter: Meter, after: datetime, before: datetime,
                   context: Context) -> list[str]:
        """Store the meter's load records (a model with LOAD_PROFILE) or daily freezes
        between ``after`` and ``before``; the times stored."""
        profile = Capability.LOAD_PROFILE in meter.model.capabilities

        async def work(current: Meter, transport: Any) -> FrozenDays:
            if profile:
                return await current.model.read_load_records(transport, current.ref, after,
                                                             before)
            return await current.model.read_daily_frozen(transport, current.ref, after)

        try:
            found = await self.metering.exchange(meter.id, work)
        except (MeterRefused, NoReply, TimeoutError, LinkUnavailable, ProtocolError) as err:
            _LOGGER.warning("Meter %s: the gap %s .. %s was not filled from its memory: %s",
                            meter.id, after.isoformat(), before.isoformat(), err)
            return []
        stored = []
        for record in found.records:
            when = record.meter_time
            if when is None or not after < when < before:
                continue
            self.metering.scale(meter, record, when)  # CT/PT ratios, as every reading
            self.hub.bus.fire(EVENT_READING, {"meter_id": meter.id, "reading": Reading(
                meter.id, when, registers=dict(record.registers), device=meter.ref.address,
                link_id=meter.link.id, source=ReadingSource.REREAD,
                quality={FROZEN_QUALITY: "load" if profile else "daily"})}, context=context)
            stored.append(when.isoformat())
        if profile and stored:  # one line per fill: the records are many
            await self._keep(meter.id, [], list(found.refused), [
                Text("devices.load_filled", first=stored[0], last=stored[-1],
                     count=len(stored))])
        else:
            await self._keep(meter.id, stored, list(found.refused))
        for reason in found.refused:
            _LOGGER.warning("Meter %s: %s", meter.id, reason)
        if stored:
            _LOGGER.info("Meter %s: %d %s filled from its memory (%s .. %s)", meter.id,
                         len(stored), "load records" if profile else "days", stored[0],
                         stored[-1])
        return stored

    async def _keep(self, meter_id: str, stored: list[str], refused: list[str],
                    intervals: Sequence[str] = ()) -> None:
        """Remember filled days, refused records and load-record fills, in memory and in
        storage."""
        ms = int(dt_util.utcnow().timestamp() * 1000)
        for kind, details in ((FILLED, stored), (REFUSED, refused),
                              (INTERVALS, list(intervals))):
            if details:
                _remember(self._book(kind), meter_id, details)
                await self.storage.device_write(partial(_store, meter_id, kind, details, ms))


def _store(meter_id: str, kind: str, details: list[str], ms: int, store: DeviceStore) -> None:
    store.add_history(meter_id, kind, [stored(detail) for detail in details], ms, MAX_REPORT)


def _remember(book: dict[str, list[str]], meter_id: str, items: list[str]) -> None:
    if items:
        kept = book.setdefault(meter_id, [])
        kept.extend(items)
        del kept[:-MAX_REPORT]

