"""Parameter writes as durable commands: queued, sent, confirmed by reading back, retried.

State machine of a write (rows of storage's ``command`` table, queue ``device``, with the
transition log and the author of each step, as relay commands have)::

    queued ──mark sent (durable), write──▶ sent ──read back equal──▶ confirmed
      ▲                                      │ no reply / read back different
      └────── retry after backoff (reads first) ◀┘ ... out of retries ──▶ failed
    queued | sent ──the meter refuses (ERR in words), a value it cannot take──▶ failed
    queued ──device.cancel──▶ cancelled

A meter's writes go out one after another in the order they were queued. A command is moved
to ``sent`` durably before its frames go out, so after a crash a ``sent`` command is read
back first: confirmed if the meter holds the value, else written again. Nothing is reported
confirmed that was not read back equal; a meter that acknowledges but reads back something
else is retried and, out of retries, failed with both values in the error.

A password given with a call (instead of the meter's configured one) is kept in memory only:
a restart fails such a command with that reason rather than store a password.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from .. import validation as cv
from ..core import Context
from ..events.devices import EVENT_DEVICE_COMMAND, EVENT_DEVICE_JOB
from ..i18n import Text, text_of
from ..metering.link import LinkUnavailable
from ..metering.model import MeterRefused, NoReply, ProtocolError, WritableParam
from ..prepaid.commands import attempt, wait_until_due
from ..util.dt import utcnow
from ..util.ids import new_id
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .parts import DevicePart

if TYPE_CHECKING:
    from ..core import Hub
    from ..metering.service import Meter
    from ..storage import ControlCommand

_LOGGER = logging.getLogger(__name__)

WRITE_PREFIX: Final = "write:"
CREDENTIAL_KEYS: Final = ("password_level", "password", "operator")

DEVICES_SCHEMA = cv.Strict({
    vol.Optional("retries", default=3): cv.non_negative_int,
    vol.Optional("retry_delay", default=timedelta(seconds=30)): cv.duration,
    vol.Optional("max_retry_delay", default=timedelta(minutes=30)): cv.duration,
    vol.Optional("confirm_delay", default=timedelta(seconds=1)): cv.duration,
    # a reading this long after the meter's previous one: fill the gap from its memory
    vol.Optional("fill_after", default=timedelta(hours=26)): cv.duration,
    # how often meters' event logs are read (0: only on demand, device.read_events)
    vol.Optional("events_every", default=timedelta(hours=6)): cv.duration,
    vol.Optional("firmware_poll", default=timedelta(minutes=1)): cv.duration,
    # meters' TOU tables compared with their tariffs' this often (0: on demand only)
    vol.Optional("tou_check_every", default=timedelta(days=1)): cv.duration,
})


@dataclass(frozen=True)
class DeviceSettings:
    """The ``devices:`` block: retries and read-back timing of parameter writes."""

    retries: int = 3
    retry_delay: float = 30.0
    max_retry_delay: float = 1800.0
    confirm_delay: float = 1.0
    fill_after: float = 26 * 3600.0
    events_every: float = 6 * 3600.0
    firmware_poll: float = 60.0
    tou_check_every: float = 86400.0

    @classmethod
    def from_block(cls, block: Mapping[str, Any] | None) -> DeviceSettings:
        """Build from a (validated or raw) ``devices:`` block."""
        conf = DEVICES_SCHEMA(dict(block or {}))
        return cls(conf["retries"], conf["retry_delay"].total_seconds(),
                   conf["max_retry_delay"].total_seconds(),
                   conf["confirm_delay"].total_seconds(), conf["fill_after"].total_seconds(),
                   conf["events_every"].total_seconds(), conf["firmware_poll"].total_seconds(),
                   conf["tou_check_every"].total_seconds())

    def backoff(self, attempts: int) -> float:
        """Seconds before attempt ``attempts + 1``."""
        return float(min(self.retry_delay * 2 ** max(attempts - 1, 0), self.max_retry_delay))


class WriteRefused(Exception):
    """A write cannot be queued (unknown meter, undeclared parameter, bad value); nothing
    was stored. The message names what and where."""


@dataclass
class PendingWrite:
    """An outstanding write as the driver runs it (mirrors its durable row)."""

    command_id: str
    meter_id: str
    param: str
    value: Any  # typed, as the parameter's parse gives it
    raw: Any  # its JSON form, as stored
    context: Context
    state: str
    next_at: datetime
    attempts: int = 0
    job_id: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # credential overrides
    check_first: bool = False
    sent_at: datetime | None = None
    missing_password: bool = False


class DeviceWrites(DevicePart):
    """Queues, sends, reads back and retries parameter writes; one at a time per meter."""

    def __init__(self, hub: Hub, settings: DeviceSettings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.hub = hub
        self.settings = settings
        self.clock = clock
        self._queues: dict[str, deque[PendingWrite]] = {}
        self._drivers: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self.running = False
        # told (meter id, param, pending, read-back value) when a write ended
        self.on_finished: list[Callable[[PendingWrite, str, Any], None]] = []

    # --- components ------------------------------------------------------------------

    # --- checking and submitting -----------------------------------------------------

    def declared(self, meter_id: str, param: str) -> tuple[Meter, WritableParam]:
        """The meter and its model's declaration of ``param``; WriteRefused if none."""
        meter = self.metering.meters.get(meter_id)
        if meter is None:
            raise WriteRefused(Text("devices.unknown_meter", meter=meter_id))
        params = meter.model.writable()
        spec = params.get(param)
        if spec is None:
            declared = ", ".join(sorted(params)) or Text("devices.none")
            raise WriteRefused(Text("devices.not_writable", model=meter.model.name,
                                    meter=meter_id, param=param, declared=declared))
        return meter, spec

    def check(self, meter_id: str, param: str, value: Any,
              credentials: Mapping[str, Any] | None = None
              ) -> tuple[Meter, WritableParam, Any, dict[str, Any]]:
        """The meter, the parameter, the typed value and the checked credential overrides;
        WriteRefused naming the problem."""
        meter, spec = self.declared(meter_id, param)
        try:
            typed = spec.parse(value)
        except (vol.Invalid, ValueError, TypeError) as err:
            raise WriteRefused(Text("devices.bad_value", param=param, meter=meter_id,
                                    reason=text_of(err))) from None
        overrides = {k: v for k, v in (credentials or {}).items()
                     if k in CREDENTIAL_KEYS and v is not None}
        if overrides:
            try:
                checked = meter.model.options({**meter.ref.options, **overrides})
            except vol.Invalid as err:
                raise WriteRefused(Text("devices.credential",
                                        field=".".join(map(str, err.path)) or "credentials",
                                        reason=err.msg, meter=meter_id)) from None
            overrides = {k: checked[k] for k in overrides}
        return meter, spec, typed, overrides

    async def submit(self, meter_id: str, param: str, value: Any, *, context: Context,
                     credentials: Mapping[str, Any] | None = None,
                     job_id: str | None = None) -> str:
        """Queue a write; returns its command id once the row is durable."""
        _meter, spec, typed, overrides = self.check(meter_id, param, value, credentials)
        command_id = f"dev-{new_id()}"
        raw = spec.dump(typed)
        stored = {k: v for k, v in overrides.items() if k != "password"}
        params: dict[str, Any] = {"param": param, "value": raw, "credentials": stored,
                                  "password_given": "password" in overrides}
        if job_id is not None:
            params["job_id"] = job_id
        now = self.clock()
        await self.storage.device_write(lambda s: s.submit(
            command_id=command_id, meter_id=meter_id, command=WRITE_PREFIX + param,
            params=params, ts=self._ms(), next_at=now, context=context, job_id=job_id))
        pending = PendingWrite(command_id, meter_id, param, typed, raw, context, "queued", now,
                               job_id=job_id, options=overrides)
        self._queues.setdefault(meter_id, deque()).append(pending)
        self._fire(pending)
        _LOGGER.info("Devices: write %s of %s queued (%s)", param, meter_id, command_id)
        self._ensure_driver(meter_id)
        return command_id

    async def cancel(self, command_id: str, context: Context, reason: str) -> bool:
        """Cancel a queued write (one being sent finishes its attempt)."""
        for queue in self._queues.values():
            for pending in list(queue):
                if pending.command_id == command_id and pending.state == "queued":
                    await self._finish(pending, "cancelled", context=context, error=Text(
                        "devices.write_cancelled", reason=reason))
                    return True
        return False

    def pending(self, meter_id: str | None = None) -> list[PendingWrite]:
        """Outstanding writes (of a meter), in order."""
        if meter_id is not None:
            return list(self._queues.get(meter_id, ()))
        return [p for queue in self._queues.values() for p in queue]

    # --- life-cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Resume every outstanding write (``sent`` ones are read back first)."""
        rows = [row for row in await self.storage.device_read(lambda s: s.outstanding())
                if row.command.startswith(WRITE_PREFIX)]  # firmware rows are the jobs'
        for row in rows:
            await self._resume(row)
        self.running = True
        if rows:
            _LOGGER.info("Devices: resuming %d outstanding writes", len(rows))

    async def _resume(self, row: ControlCommand) -> None:
        param = str(row.params.get("param", ""))
        meter = self.metering.meters.get(row.meter_id)
        spec = meter.model.writable().get(param) if meter is not None else None
        job_id = row.params.get("job_id")
        now = self.clock()
        pending = PendingWrite(row.command_id, row.meter_id, param, None,
                               row.params.get("value"), row.context, row.state,
                               now if row.state == "sent" else max(row.next_at or now, now),
                               row.attempts, str(job_id) if job_id else None,
                               dict(row.params.get("credentials") or {}),
                               check_first=row.state == "sent")
        self._queues.setdefault(row.meter_id, deque()).append(pending)
        if spec is None:
            await self._finish(pending, "failed", error=Text(
                "devices.write_unconfigured", meter=row.meter_id, param=param))
            return
        try:
            pending.value = spec.parse(pending.raw)
        except (vol.Invalid, ValueError, TypeError) as err:
            await self._finish(pending, "failed", error=Text("devices.write_invalid",
                                                                reason=text_of(err)))
            return
        pending.missing_password = bool(row.params.get("password_given"))
        self._ensure_driver(row.meter_id)

    async def stop(self) -> None:
        """Stop the drivers (rows stay; the next start resumes them)."""
        self.running = False
        tasks = list(self._drivers.values())
        self._drivers.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- the driver of one meter -----------------------------------------------------

    def _ensure_driver(self, meter_id: str) -> None:
        self._wake.setdefault(meter_id, asyncio.Event()).set()
        task = self._drivers.get(meter_id)
        if task is None or task.done():
            self._drivers[meter_id] = self.hub.create_background_task(
                self._drive(meter_id), f"device writes {meter_id}")

    async def _drive(self, meter_id: str) -> None:
        wake = self._wake.setdefault(meter_id, asyncio.Event())
        while True:
            queue = self._queues.get(meter_id)
            if not queue:
                self._drivers.pop(meter_id, None)
                return
            pending = queue[0]
            if await wait_until_due(wake, pending.next_at, self.clock()):
                await attempt(self._step(pending), pending, "Devices", self._drop, self.clock,
                              self.settings.retry_delay)

    async def _step(self, pending: PendingWrite) -> None:
        if pending.missing_password:
            await self._finish(pending, "failed", error=Text("devices.write_password"))
            return
        if pending.state == "sent" or pending.check_first:
            await self._confirm(pending)
            return
        await self._send(pending)

    async def _send(self, pending: PendingWrite) -> None:
        await self._move(pending, "sent", detail={"attempt": pending.attempts + 1},
                         attempt=True)
        pending.attempts += 1
        self._fire(pending)
        param, value = pending.param, pending.value

        async def work(meter: Meter, transport: Any) -> None:
            await meter.model.write_param(transport, meter.ref, param, value)

        try:
            await self.metering.exchange(pending.meter_id, work, pending.options)
        except MeterRefused as err:
            await self._finish(pending, "failed",
                               error=Text("devices.write_refused", reason=err.summary))
            return
        except (NoReply, TimeoutError, LinkUnavailable) as err:
            why = text_of(err) or Text("devices.write_timeout")
            await self._attempt_failed(pending, Text("devices.write_no_reply", reason=why))
            return
        except (ProtocolError, KeyError) as err:
            await self._finish(pending, "failed",
                               error=Text("devices.write_not_sent", reason=text_of(err)))
            return
        pending.sent_at = self.clock()
        pending.next_at = pending.sent_at + timedelta(seconds=self.settings.confirm_delay)

    async def read_back(self, meter_id: str, param: str,
                        options: Mapping[str, Any] | None = None) -> Any:
        """Read a declared parameter from the meter (raises what the model raises)."""

        async def work(meter: Meter, transport: Any) -> Any:
            return await meter.model.read_param(transport, meter.ref, param)

        return await self.metering.exchange(meter_id, work, options)

    async def _confirm(self, pending: PendingWrite) -> None:
        meter = self.metering.meters.get(pending.meter_id)
        if meter is None:
            await self._finish(pending, "failed", error=Text("devices.write_meter_gone"))
            return
        spec = meter.model.writable()[pending.param]
        recheck = pending.check_first
        pending.check_first = False
        try:
            actual = await self.read_back(pending.meter_id, pending.param, pending.options)
        except MeterRefused as err:
            await self._finish(pending, "failed",
                               error=Text("devices.readback_refused", reason=err.summary))
            return
        except (NoReply, TimeoutError, LinkUnavailable, ProtocolError, KeyError) as err:
            if recheck and pending.state == "queued":
                await self._send(pending)  # could not check: write (again)
                return
            await self._attempt_failed(pending, Text("devices.readback_failed",
                                                     reason=text_of(err)))
            return
        elapsed = ((self.clock() - pending.sent_at).total_seconds()
                   if pending.sent_at is not None else 0.0)
        if spec.same(pending.value, actual, elapsed):
            await self._finish(pending, "confirmed", detail={"read_back": spec.dump(actual)},
                               actual=actual)
            return
        if recheck and pending.state == "queued":
            await self._send(pending)
            return
        await self._attempt_failed(
            pending, Text("devices.readback_differs", actual=_shown(spec, actual),
                          wanted=_shown(spec, pending.value)), actual=actual)

    async def _attempt_failed(self, pending: PendingWrite, reason: str,
                              actual: Any = None) -> None:
        if pending.attempts > self.settings.retries:
            await self._finish(pending, "failed",
                               error=Text("devices.write_after", reason=reason,
                                          attempts=pending.attempts),
                               actual=actual)
            return
        delay = self.settings.backoff(pending.attempts)
        pending.next_at = self.clock() + timedelta(seconds=delay)
        pending.check_first = True
        await self._move(pending, "queued", error=reason,
                         detail={"retry_in_s": delay, "reason": reason})
        _LOGGER.warning("Devices: write %s of %s attempt %d failed (%s); retry in %gs",
                        pending.param, pending.meter_id, pending.attempts, reason, delay)
        self._fire(pending, error=reason, retry_at=pending.next_at.isoformat())

    async def _finish(self, pending: PendingWrite, state: str, *,
                      detail: Mapping[str, Any] | None = None, error: str | None = None,
                      context: Context | None = None, actual: Any = None) -> None:
        result = Text("devices.write_confirmed") if state == "confirmed" else (error or state)
        job_done = await self.storage.device_write(lambda s: s.finish(
            pending.command_id, state, self._ms(), expected=(pending.state,), detail=detail,
            error=error, context=context or pending.context, result=result))
        pending.state = state
        self._drop(pending)
        if state == "confirmed":
            _LOGGER.info("Devices: write %s of %s confirmed", pending.param, pending.meter_id)
        else:
            _LOGGER.error("Devices: write %s of %s %s: %s", pending.param, pending.meter_id,
                          state, error)
        self._fire(pending, error=error)
        for listener in self.on_finished:
            listener(pending, state, actual)
        if pending.job_id is not None:
            await self.job_progress(pending.job_id, done=job_done is not None)

    async def job_progress(self, job_id: str, done: bool = False) -> None:
        """Fire ``device_job`` with the job's progress."""
        job = await self.storage.device_read(lambda s: s.job(job_id))
        if job is None:
            return
        self.hub.bus.fire(EVENT_DEVICE_JOB, {"job_id": job_id, "kind": job.kind,
                                             "state": job.state, "progress": job.progress()},
                          context=job.context)
        if done:
            _LOGGER.info("Devices: job %s done: %s", job_id, job.progress())

    def _drop(self, pending: PendingWrite) -> None:
        queue = self._queues.get(pending.meter_id)
        if queue is not None and pending in queue:
            queue.remove(pending)
        self._wake.setdefault(pending.meter_id, asyncio.Event()).set()

    async def _move(self, pending: PendingWrite, state: str, *,
                    detail: Mapping[str, Any] | None = None, error: str | None = None,
                    attempt: bool = False) -> None:
        expected = (pending.state,)
        when = pending.next_at if state == "queued" else None
        await self.storage.device_write(lambda s: s.move(
            pending.command_id, state, self._ms(), expected=expected, detail=detail,
            error=error, attempt=attempt, context=pending.context, next_at=when))
        pending.state = state

    def _fire(self, pending: PendingWrite, **extra: Any) -> None:
        data: dict[str, Any] = {"command_id": pending.command_id, "meter_id": pending.meter_id,
                                "command": WRITE_PREFIX + pending.param,
                                "state": pending.state, "attempts": pending.attempts}
        if pending.job_id is not None:
            data["job_id"] = pending.job_id
        data.update({k: v for k, v in extra.items() if v is not None})
        self.hub.bus.fire(EVENT_DEVICE_COMMAND, data, context=pending.context)

    def _ms(self) -> int:
        return int(self.clock().timestamp() * 1000)


def _shown(spec: WritableParam, value: Any) -> str:
    try:
        dumped = spec.dump(value)
    except Exception:  # a read-back the parameter's dump cannot show
        dumped = value
    return str(dumped)
