"""``device.firmware`` jobs: firmware updates through a plugin's updater, one item per meter.

A job (kind ``firmware``) has one durable command per meter (queue ``device``, command
``firmware``): ``queued`` until the updater started it (``sent``, the updater's task kept in
the command's params), then ``confirmed`` when the updater reports it ``done`` with the
version installed, or ``failed`` with the updater's reason. The job polls its running items;
after a restart it polls them again by their kept task and starts the ones not started.
A meter the updater does not support is a failed item with the updater's reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from ..core import Context
from ..events.devices import EVENT_DEVICE_COMMAND
from ..i18n import Text, text_of
from ..metering.firmware import FirmwareProgress, FirmwareUpdater
from ..util.dt import utcnow
from ..util.ids import new_id
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .parts import DevicePart, cancelled

if TYPE_CHECKING:
    from ..core import Hub
    from ..storage import ControlCommand
    from .writes import DeviceWrites

_LOGGER = logging.getLogger(__name__)

FIRMWARE: Final = "firmware"


class FirmwareRefused(Exception):
    """A firmware job cannot be created; the message says why."""


class FirmwareJobs(DevicePart):
    """Starts and follows firmware updates of jobs."""

    def __init__(self, hub: Hub, writes: DeviceWrites, poll: timedelta) -> None:
        self.hub = hub
        self.writes = writes
        self.poll = poll
        self._running: dict[str, ControlCommand] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()  # a new job: poll now, not at the next interval
        self._updaters: dict[str, FirmwareUpdater] | None = None

    def updaters(self) -> dict[str, FirmwareUpdater]:
        """The updaters plugins offer (``register_firmware_updaters``), by name."""
        if self._updaters is not None:
            return self._updaters
        found: dict[str, FirmwareUpdater] = {}
        for info, result in self.hub.plugins.call_each("register_firmware_updaters"):
            for updater in result or ():
                if not isinstance(updater, FirmwareUpdater):
                    _LOGGER.error("Plugin %s: %r is not a FirmwareUpdater", info.name, updater)
                elif updater.name in found:
                    _LOGGER.error("Plugin %s: a second firmware updater named %s is ignored",
                                  info.name, updater.name)
                else:
                    found[updater.name] = updater
        self._updaters = found
        return found

    async def start(self) -> None:
        """Follow the firmware commands a stop left outstanding."""
        rows = await self.storage.device_read(lambda s: s.outstanding())
        for row in rows:
            if row.command == FIRMWARE:
                self._running[row.command_id] = row
        self._task = self.hub.create_background_task(self._loop(), "firmware jobs")

    async def stop(self) -> None:
        """Stop following (the rows stay)."""
        await cancelled(self._task)
        self._task = None

    async def create(self, meter_ids: Sequence[str], updater_name: str,
                     image: Mapping[str, Any], context: Context) -> str:
        """A firmware job over ``meter_ids``; returns its id."""
        updater = self.updaters().get(updater_name)
        if updater is None:
            known = ", ".join(sorted(self.updaters())) or Text("devices.none_installed")
            raise FirmwareRefused(Text("devices.firmware_unknown", updater=repr(updater_name),
                                       known=known))
        job_id = f"job-{new_id()}"
        ms = self._ms()
        await self.storage.device_write(lambda s: s.create_job(
            job_id=job_id, kind=FIRMWARE, spec={"updater": updater_name, "image": dict(image)},
            meter_ids=list(meter_ids), ts=ms, context=context))
        params = {"updater": updater_name, "image": dict(image), "job_id": job_id}
        for meter_id in meter_ids:
            why = updater.supports(self.metering.meters[meter_id])
            if why is not None:
                await self._item_failed(job_id, meter_id, why, ms)
                continue
            await self._queue(job_id, meter_id, params, context, ms)
        await self.writes.job_progress(job_id)
        # woken, never cancelled: a cancel between an updater's start and its record would
        # start that meter's update a second time
        self._wake.set()
        return job_id

    async def _item_failed(self, job_id: str, meter_id: str, why: str, ms: int) -> None:
        await self.storage.device_write(
            lambda store: store.set_item(job_id, meter_id, "failed", why, ms))

    async def _queue(self, job_id: str, meter_id: str, params: Mapping[str, Any],
                     context: Context, ms: int) -> None:
        command_id = f"dev-{new_id()}"
        await self.storage.device_write(lambda store: store.submit(
            command_id=command_id, meter_id=meter_id, command=FIRMWARE, params=params, ts=ms,
            next_at=utcnow(), context=context, job_id=job_id))
        await self._reload(command_id)

    async def _loop(self) -> None:
        while True:
            for command_id in list(self._running):
                try:
                    await self._step(command_id)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    _LOGGER.exception("Firmware: %s failed unexpectedly", command_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll.total_seconds())
            self._wake.clear()

    async def _step(self, command_id: str) -> None:
        row = self._running[command_id]
        updater = self.updaters().get(str(row.params.get("updater")))
        meter = self.metering.meters.get(row.meter_id)
        if updater is None or meter is None:
            await self._finish(row, "failed", Text("devices.fw_unconfigured"))
            return
        task = row.params.get("task")
        if row.state == "queued" or task is None:
            try:
                task = await updater.start(meter, dict(row.params.get("image") or {}))
            except Exception as err:
                await self._finish(row, "failed", Text("devices.fw_not_started",
                                                       reason=text_of(err)))
                return
            # the update runs at the updater now: its task is recorded even if the hub
            # stops meanwhile, so a restart follows it instead of starting another
            await asyncio.shield(self.storage.device_write(lambda s: s.move(
                command_id, "sent", self._ms(), expected=(row.state,), attempt=True,
                detail={"task": task}, context=row.context, params={"task": task})))
            row = await self._reload(command_id)
            self._fire(row)
            return
        try:
            progress: FirmwareProgress = await updater.progress(meter, str(task))
        except Exception as err:  # the platform did not answer: ask again next round
            _LOGGER.warning("Firmware: %s of %s: progress not known: %s", task, row.meter_id,
                            err)
            return
        if progress.state == "done":
            await self._finish(row, "confirmed",
                               Text("devices.fw_installed", version=progress.version),
                               detail={"version": progress.version})
        elif progress.state == "failed":
            await self._finish(row, "failed", progress.detail or Text("devices.fw_failed"))

    async def _reload(self, command_id: str) -> ControlCommand:
        row = await self.storage.device_read(lambda s: s.command(command_id))
        assert row is not None
        self._running[command_id] = row
        return row

    async def _finish(self, row: ControlCommand, state: str, result: str,
                      detail: Mapping[str, Any] | None = None) -> None:
        job_done = await self.storage.device_write(lambda s: s.finish(
            row.command_id, state, self._ms(), expected=(row.state,), detail=detail,
            error=None if state == "confirmed" else result, context=row.context,
            result=result))
        self._running.pop(row.command_id, None)
        final = await self.storage.device_read(lambda s: s.command(row.command_id))
        if final is not None:
            self._fire(final, error=None if state == "confirmed" else result)
        job_id = row.params.get("job_id")
        if job_id:
            await self.writes.job_progress(str(job_id), done=job_done is not None)

    def _fire(self, row: ControlCommand, error: str | None = None) -> None:
        data: dict[str, Any] = {"command_id": row.command_id, "meter_id": row.meter_id,
                                "command": FIRMWARE, "state": row.state,
                                "attempts": row.attempts}
        if row.params.get("job_id"):
            data["job_id"] = str(row.params["job_id"])
        if error:
            data["error"] = error
        self.hub.bus.fire(EVENT_DEVICE_COMMAND, data, context=row.context)

    @staticmethod
    def _ms() -> int:
        return int(utcnow().timestamp() * 1000)
