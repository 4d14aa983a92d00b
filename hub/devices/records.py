"""Meters' own event logs read on a schedule: cover opened, power down, programming, clock
changes, relay trips — stored as ``meter_event`` events with the meter's timestamps.

Each read asks the meter for its counts and the records added since the counts the hub saw
last. A record is known by (meter, kind, start time as the meter recorded it): one already
seen — in this run or in the recorded ``meter_event`` events of earlier runs — is never
stored or alarmed again, however often the log is read. Tamper records (meter cover,
terminal cover: 防窃电) also raise ``alarm`` with the record's kind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from ..core import Context
from ..events import EVENT_ALARM
from ..events.devices import EVENT_METER_EVENT
from ..i18n import Text, text_of
from ..metering.link import LinkUnavailable
from ..metering.model import (
    Capability,
    MeterEventRecord,
    MeterEvents,
    MeterRefused,
    NoReply,
    ProtocolError,
)
from ..util.dt import utcnow
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .parts import DevicePart, cancelled

if TYPE_CHECKING:
    from ..core import Hub
    from ..metering.service import Meter

_LOGGER = logging.getLogger(__name__)

SEEN_DAYS: Final = 400  # recorded meter_event events loaded at start-up for de-duplication


def record_key(meter_id: str, kind: str, started: str) -> tuple[str, str, str]:
    """What makes a record the same record across reads and restarts."""
    return (meter_id, kind, started)


class EventLogReader(DevicePart):
    """Reads meters' event logs (on a schedule and on demand), de-duplicated."""

    def __init__(self, hub: Hub, every: timedelta | None) -> None:
        self.hub = hub
        self.every = every
        self._counts: dict[str, dict[str, int]] = {}
        self._seen: set[tuple[str, str, str]] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Load the records stored before; start the schedule."""
        events = await self.storage.events(utcnow() - timedelta(days=SEEN_DAYS),
                                           event_types=[EVENT_METER_EVENT], limit=100_000)
        for event in events:
            data = event.data
            self._seen.add(record_key(str(data.get("meter_id")), str(data.get("kind")),
                                      str(data.get("started"))))
        if self.every is not None and self.every.total_seconds() > 0:
            self._task = self.hub.create_background_task(self._schedule(), "meter event logs")

    async def stop(self) -> None:
        """Stop the schedule."""
        await cancelled(self._task)
        self._task = None

    async def _schedule(self) -> None:
        assert self.every is not None
        while True:
            await asyncio.sleep(self.every.total_seconds())
            meters = [m for m in self.metering.meters.values()
                      if Capability.EVENTS in m.model.capabilities]
            for meter in meters:
                await self.read(meter, Context())

    def meters(self, ids: Iterable[str]) -> list[Meter]:
        """The meters among ``ids`` whose model keeps event records."""
        return [m for i in ids if (m := self.metering.meters.get(i)) is not None
                and Capability.EVENTS in m.model.capabilities]

    async def read(self, meter: Meter, context: Context) -> dict[str, Any]:
        """Read one meter's log; store and alarm what is new; answer what happened."""
        known = dict(self._counts.get(meter.id, {}))

        async def work(current: Meter, transport: Any) -> MeterEvents:
            return await current.model.read_events(transport, current.ref, known)

        try:
            found = await self.metering.exchange(meter.id, work)
        except (MeterRefused, NoReply, TimeoutError, LinkUnavailable, ProtocolError) as err:
            _LOGGER.warning("Meter %s: event log not read: %s", meter.id, err)
            return {"read": False, "error": text_of(err)}
        self._counts[meter.id] = dict(found.counts)
        new = [record for record in found.records if self._new(meter.id, record)]
        for record in new:
            self._store(meter, record, context)
        return {"read": True, "counts": found.counts, "new": len(new),
                "not_kept": found.errors}

    def _new(self, meter_id: str, record: MeterEventRecord) -> bool:
        key = record_key(meter_id, record.kind, record.started.isoformat())
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _store(self, meter: Meter, record: MeterEventRecord, context: Context) -> None:
        data: dict[str, Any] = {"meter_id": meter.id, "kind": record.kind,
                                "started": record.started.isoformat(), "count": record.count,
                                "tamper": record.tamper}
        if record.ended is not None:
            data["ended"] = record.ended.isoformat()
        detail = {k: v for k, v in (("operator", record.operator),
                                    *(record.detail or {}).items()) if v is not None}
        if detail:
            data["detail"] = detail
        self.hub.bus.fire(EVENT_METER_EVENT, data, context=context)
        if not record.tamper:
            return
        message = Text("devices.tamper", kind=record.kind.replace("_", " "),
                       at=f"{record.started:%Y-%m-%d %H:%M:%S}", count=record.count)
        _LOGGER.warning("Meter %s: tamper: %s", meter.id, message)
        self.hub.bus.fire(EVENT_ALARM, {
            "meter_id": meter.id, "kind": record.kind, "phase": None, "value": record.count,
            "threshold": True, "value_unit": "", "message": message}, context=context)
