"""Confirmed relay and valve commands: durable rows, one outstanding per meter, read back.

State machine of a command (rows of storage's ``command`` table, queue ``control``)::

    queued ──send──▶ sent ──read back shows the wanted state──▶ confirmed
      ▲                │ not moved after the re-checks / refused / no reply
      └──retry (backoff, read first)──┘ ... after ``retries`` re-sends ──▶ failed
    queued | sent ──a newer command for the meter──▶ superseded
    queued (sleepy meter) ──expiry passed before the meter reported──▶ failed (expired)

A row moves to ``sent`` durably *before* the frame goes out, so a crash can only leave a
command ``sent`` that maybe went out; on start-up such a command is re-checked by reading the
meter (confirmed if it is in the wanted state, re-checked later if the meter holds the command
— pre-trip delay, heavy-load inhibit — else retried), never repeated blindly. Every retry
reads before it sends again. A meter that accepted a command but did not move yet is
re-checked ``rechecks`` times, ``recheck_delay`` apart, before the command is sent again.

Sleeping (NB-IoT) meters: a command waits ``queued`` until the meter reports. A link with its
own downlink queue (``link.downlink_queue()``) gets the command at once and is followed by
the queue's ``command_event``; otherwise the command goes out on the meter's next uplink (a
``reading`` with source uplink, or :meth:`CommandQueue.on_uplink`) and is confirmed from the
report after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

import voluptuous as vol

from .. import validation as cv
from ..core import Context, Event, Unsubscribe
from ..events import (
    EVENT_COMMAND_CONFIRMED,
    EVENT_COMMAND_FAILED,
    EVENT_COMMAND_QUEUED,
    EVENT_COMMAND_SENT,
    EVENT_COMMAND_SUPERSEDED,
    EVENT_READING,
    EVENT_RELAY_CHANGED,
    EVENT_VALVE_CHANGED,
)
from ..i18n import Joined, Text, text_of
from ..metering.link import DownlinkQueue, LinkUnavailable
from ..metering.model import Capability, Command, MeterRefused, NoReply, ProtocolError
from ..metering.points import RELAY_CLOSED, RELAY_OPEN, VALVE_CLOSED, VALVE_OPEN
from ..metering.reading import Reading, ReadingSource
from ..storage import CommandConflict, StorageError
from ..util.dt import utcnow
from ..util.ids import new_id
from .messages import STRINGS

if TYPE_CHECKING:
    from ..core import Hub
    from ..metering.service import Meter, MeteringService
    from ..storage import ControlCommand, ControlStore, Storage

_LOGGER = logging.getLogger(__name__)


CONTROL_COMMANDS: Final = (Command.TRIP, Command.CLOSE, Command.VALVE_CLOSE, Command.VALVE_OPEN)
# point read back, the value that confirms, the capability needed, the meter's own flag
_TARGET: Final[dict[Command, tuple[str, str, Capability, str | None]]] = {
    Command.TRIP: ("relay", RELAY_OPEN, Capability.RELAY, "trip"),
    Command.CLOSE: ("relay", RELAY_CLOSED, Capability.RELAY, "close"),
    Command.VALVE_CLOSE: ("valve", VALVE_CLOSED, Capability.VALVE, None),
    Command.VALVE_OPEN: ("valve", VALVE_OPEN, Capability.VALVE, None),
}
_OFF: Final = {"relay": RELAY_OPEN, "valve": VALVE_CLOSED}  # a point's supply-off state
_LINK_ACTIVE: Final = frozenset({"sending", "sent", "done"})
_LINK_ENDED: Final = frozenset({"failed", "expired", "cancelled"})
_IDLE_WAIT: Final = 60.0  # longest sleep of a driver: wall-clock jumps are noticed
_STOP_WAIT: Final = 5.0

CONTROL_SCHEMA = cv.Strict({
    vol.Optional("retries", default=3): cv.non_negative_int,
    vol.Optional("retry_delay", default=timedelta(seconds=30)): cv.duration,
    vol.Optional("max_retry_delay", default=timedelta(minutes=30)): cv.duration,
    vol.Optional("confirm_delay", default=timedelta(seconds=2)): cv.duration,
    vol.Optional("recheck_delay", default=timedelta(seconds=60)): cv.duration,
    vol.Optional("rechecks", default=3): cv.non_negative_int,
    vol.Optional("sleepy_expiry", default=timedelta(days=2)): cv.duration,
    vol.Optional("auto_close", default=True): cv.boolean,
    vol.Optional("check_on_start", default=True): cv.boolean,
    # a policy command that failed (meter unreachable) is tried again after this, for ever
    vol.Optional("retry_failed_after", default=timedelta(minutes=10)): cv.duration,
})


@dataclass(frozen=True)
class ControlSettings:
    """The ``control:`` block: retries, backoff, read-back timing, NB-IoT expiry."""

    retries: int = 3  # re-sends after the first attempt
    retry_delay: float = 30.0  # seconds before the first re-send; doubles each time
    max_retry_delay: float = 1800.0
    confirm_delay: float = 2.0  # seconds from acceptance to the first read-back
    recheck_delay: float = 60.0  # accepted but not moved: read again after this
    rechecks: int = 3  # read-backs of a command that has not moved before it is re-sent
    sleepy_expiry: float = 2 * 86400.0  # a sleeping meter's command expires after this
    auto_close: bool = True  # close automatically when the balance is restored
    check_on_start: bool = True  # after start-up, trip accounts found in arrears
    retry_failed_after: float = 600.0  # a failed policy command is evaluated again after this

    @classmethod
    def from_block(cls, block: Mapping[str, Any] | None) -> ControlSettings:
        """Build from a (validated or raw) ``control:`` block."""
        conf = CONTROL_SCHEMA(dict(block or {}))
        return cls(
            retries=conf["retries"],
            retry_delay=conf["retry_delay"].total_seconds(),
            max_retry_delay=conf["max_retry_delay"].total_seconds(),
            confirm_delay=conf["confirm_delay"].total_seconds(),
            recheck_delay=conf["recheck_delay"].total_seconds(),
            rechecks=conf["rechecks"],
            sleepy_expiry=conf["sleepy_expiry"].total_seconds(),
            auto_close=conf["auto_close"],
            check_on_start=conf["check_on_start"],
            retry_failed_after=conf["retry_failed_after"].total_seconds(),
        )

    def backoff(self, attempts: int) -> float:
        """Seconds before re-send number ``attempts`` (1, 2, ...)."""
        return float(min(self.retry_delay * 2 ** max(attempts - 1, 0), self.max_retry_delay))


class CommandRefused(Exception):
    """A command cannot be queued for this meter; the message says why (nothing changed)."""


def _word(*parts: str) -> str:
    """A point, state or command named in a message: in words when the table has it."""
    key = "prepaid.word." + ".".join(parts)
    return Text(key) if key in STRINGS["en"] else parts[-1]


def target(command: Command) -> tuple[str, str]:
    """The point read back and the value that confirms ``command``."""
    point, wanted, _cap, _flag = _TARGET[command]
    return point, wanted


def supply_off(command: Command) -> bool:
    """Whether a command cuts the supply (trip, valve close)."""
    return command in (Command.TRIP, Command.VALVE_CLOSE)


@dataclass
class Pending:
    """An outstanding command as the queue drives it (mirrors its durable row)."""

    command_id: str
    meter_id: str
    account_id: str | None
    command: Command
    state: str
    context: Context
    next_at: datetime
    attempts: int = 0
    expires_at: datetime | None = None
    check_first: bool = False
    rechecks: int = 0
    reason: str = ""
    origin: str = ""
    link_command: str | None = None
    recovered: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    withdrawn: str | None = None  # its reason went away while it was out: do not retry it


class CommandQueue:
    """Queues, sends, confirms and retries control commands, one outstanding per meter."""

    def __init__(self, hub: Hub, settings: ControlSettings,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.hub = hub
        self.settings = settings
        self.clock = clock
        self._pending: dict[str, Pending] = {}
        self._drivers: dict[str, asyncio.Task[None]] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._known: dict[str, dict[str, str]] = {}
        self._link_commands: dict[str, str] = {}
        self._unsubs: list[Unsubscribe] = []
        self._inflight: set[asyncio.Task[None]] = set()
        self.running = False
        # told (meter id, context) when a reading first shows a meter's supply off that the
        # hub knew nothing of (no earlier reading, no restored state): the trip policy
        self.on_found_off: Callable[[str, Context], None] | None = None

    # --- components ------------------------------------------------------------------

    @property
    def metering(self) -> MeteringService:
        """The metering service (sends commands, reads state back)."""
        from ..metering.service import MeteringService

        return self.hub.component("metering", MeteringService)

    @property
    def storage(self) -> Storage:
        """Storage (durable command rows)."""
        from ..storage import Storage

        return self.hub.component("storage", Storage)

    def meter(self, meter_id: str) -> Meter | None:
        """A configured meter, or None."""
        if not self.hub.has_component("metering"):
            return None
        return self.metering.meters.get(meter_id)

    # --- life-cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Load outstanding commands (recovery), listen to readings and link queues."""
        if self.running:
            return
        rows = await self.storage.control_read(lambda store: store.outstanding())
        self._unsubs.append(self.hub.bus.listen(EVENT_READING, self._on_reading))
        for event_type in self._link_command_events():
            self._unsubs.append(self.hub.bus.listen(event_type, self._on_link_command))
        now = self.clock()
        for row in rows:
            await self._resume(row, now)
        self.running = True
        if rows:
            _LOGGER.info("Control: resuming %d outstanding commands (%s)", len(rows),
                         ", ".join(f"{r.command} {r.meter_id} {r.state}" for r in rows[:10]))

    async def _resume(self, row: ControlCommand, now: datetime) -> None:
        try:
            command = Command(row.command)
        except ValueError:
            command = None
        meter = self.meter(row.meter_id)
        if command not in _TARGET or meter is None:
            await self._write(lambda s: s.move(
                row.command_id, "failed", self._ms(), expected=(row.state,),
                error=Text("prepaid.cmd_not_configured"), context=row.context))
            return
        assert command is not None
        pending = Pending(
            row.command_id, row.meter_id, row.account_id, command, row.state, row.context,
            next_at=now if row.state == "sent" else max(row.next_at or now, now),
            attempts=row.attempts, expires_at=row.expires_at,
            check_first=row.state == "queued", reason=str(row.params.get("reason", "")),
            origin=str(row.params.get("origin", "")),
            link_command=row.params.get("link_command"), recovered=True,
            params=dict(row.params))
        if pending.link_command:
            self._link_commands[pending.link_command] = pending.command_id
        self._pending[row.meter_id] = pending
        self._ensure_driver(row.meter_id)

    async def stop(self) -> None:
        """Stop the drivers (rows stay as they are: the next start resumes them)."""
        self.running = False
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=_STOP_WAIT)
        tasks = list(self._drivers.values())
        self._drivers.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- what the policy asks ------------------------------------------------------------

    def outstanding(self, meter_id: str) -> Pending | None:
        """The meter's outstanding command, if any."""
        return self._pending.get(meter_id)

    def all_outstanding(self) -> list[Pending]:
        """Every outstanding command."""
        return list(self._pending.values())

    def known_state(self, meter_id: str, point: str) -> str | None:
        """The relay / valve state last read from the meter (restored states count)."""
        known = self._known.get(meter_id, {}).get(point)
        if known is not None:
            return known
        meter = self.meter(meter_id)
        if meter is None:
            return None
        state = self.hub.states.get(meter.entity_id)
        status = state.attributes.get("status") if state is not None else None
        value = status.get(point) if isinstance(status, Mapping) else None
        return str(value) if value is not None else None

    def supply_off(self, meter_id: str) -> bool | None:
        """Whether the meter's supply is (or is being) cut: True, False or unknown (None)."""
        pending = self._pending.get(meter_id)
        if pending is not None:
            return supply_off(pending.command)
        meter = self.meter(meter_id)
        if meter is None:
            return None
        if Capability.RELAY in meter.model.capabilities:
            state = self.known_state(meter_id, "relay")
            return {RELAY_OPEN: True, RELAY_CLOSED: False}.get(state or "")
        if Capability.VALVE in meter.model.capabilities:
            state = self.known_state(meter_id, "valve")
            return {VALVE_CLOSED: True, VALVE_OPEN: False}.get(state or "")
        return None

    def check(self, meter_id: str, command: Command) -> Meter:
        """Return the meter if it can take ``command``; else raise CommandRefused."""
        meter = self.meter(meter_id)
        if meter is None:
            raise CommandRefused(Text("prepaid.command_unknown_meter", meter=meter_id))
        if command not in _TARGET:
            raise CommandRefused(  # i18n: internal (a bug: the services pass a Command)
                f"'{command}' is not a control command")
        _point, _wanted, capability, _flag = _TARGET[command]
        if capability not in meter.model.capabilities:
            raise CommandRefused(Text("prepaid.no_relay" if capability is Capability.RELAY
                                      else "prepaid.no_valve", meter=meter_id,
                                      model=meter.model.name))
        return meter

    # --- submitting ------------------------------------------------------------------

    async def submit(self, meter_id: str, command: Command, *, context: Context,
                     account_id: str | None = None, reason: str = "", origin: str = "",
                     check_first: bool = False) -> tuple[str, bool]:
        """Queue ``command`` for a meter; returns (command id, whether it is new).

        The same command already outstanding is not queued twice; an opposite one is
        superseded. Raises CommandRefused (meter cannot) or StorageError (not stored).
        """
        meter = self.check(meter_id, command)
        current = self._pending.get(meter_id)
        if current is not None and current.command is command:
            return current.command_id, False
        now = self.clock()
        sleepy = Capability.SLEEPY in meter.model.capabilities
        expires = now + timedelta(seconds=self.settings.sleepy_expiry) if sleepy else None
        account_id = account_id or meter.config.get("account")
        command_id = f"cmd-{new_id()}"
        params = {"reason": reason, "origin": origin}
        superseded = await self._write(lambda s: s.submit(
            command_id=command_id, meter_id=meter_id, account_id=account_id,
            command=str(command), params=params, ts=self._ms(), next_at=now,
            expires_at=expires, context=context))
        pending = Pending(command_id, meter_id, account_id, command, "queued", context,
                          next_at=now, expires_at=expires, check_first=check_first,
                          reason=reason, origin=origin, params=params)
        old = self._pending.get(meter_id)
        self._pending[meter_id] = pending
        if old is not None and old.command_id in superseded:
            self._fire(EVENT_COMMAND_SUPERSEDED, old, context, state="superseded",
                       by=command_id)
            await self._cancel_link_command(old)
        self._fire(EVENT_COMMAND_QUEUED, pending, context)
        _LOGGER.info("Control: %s %s queued (%s)%s", command, meter_id, reason or origin,
                     f", superseding {', '.join(superseded)}" if superseded else "")
        self._ensure_driver(meter_id)
        return command_id, True

    async def withdraw(self, meter_id: str, command: Command, context: Context,
                       reason: str, origins: Collection[str] | None = None) -> bool:
        """End ``command`` of a meter without sending it again (its reason went away: the
        tenant paid before the trip went out). A queued command ends at once; one on its
        way out finishes this attempt but is not retried if the attempt fails."""
        pending = self._pending.get(meter_id)
        if pending is None or pending.command is not command or pending.state not in (
                "queued", "sent") or (origins is not None and pending.origin not in origins):
            return False
        async with self._locks.setdefault(meter_id, asyncio.Lock()):
            if self._pending.get(meter_id) is not pending:
                return False
            if pending.state == "sent":
                pending.withdrawn = reason
                return True
            await self._withdrawn(pending, context, reason)
        return True

    async def cancel(self, meter_id: str, context: Context, reason: str) -> list[str]:
        """End the meter's outstanding command at once, sent or not, and withdraw it from
        its link's downlink queue (its device is being replaced); the ids of those ended."""
        pending = self._pending.get(meter_id)
        if pending is None:
            return []
        async with self._locks.setdefault(meter_id, asyncio.Lock()):
            if self._pending.get(meter_id) is not pending:
                return []
            await self._cancel_link_command(pending)
            await self._withdrawn(pending, context, reason)
        return [pending.command_id]

    async def _withdrawn(self, pending: Pending, context: Context, reason: str) -> None:
        await self._move(pending, "superseded", detail={"withdrawn": reason})
        self._drop(pending)
        self._fire(EVENT_COMMAND_SUPERSEDED, pending, context, state="superseded",
                   withdrawn=reason)
        _LOGGER.info("Control: %s %s withdrawn (%s)", pending.command, pending.meter_id, reason)

    # --- the driver of one meter --------------------------------------------------------

    def _ensure_driver(self, meter_id: str) -> None:
        event = self._wake.setdefault(meter_id, asyncio.Event())
        event.set()
        task = self._drivers.get(meter_id)
        if task is None or task.done():
            self._drivers[meter_id] = self.hub.create_background_task(
                self._drive(meter_id), f"control {meter_id}")

    async def _drive(self, meter_id: str) -> None:
        wake = self._wake.setdefault(meter_id, asyncio.Event())
        lock = self._locks.setdefault(meter_id, asyncio.Lock())
        while True:
            pending = self._pending.get(meter_id)
            if pending is None:
                self._drivers.pop(meter_id, None)
                return
            if not await wait_until_due(wake, pending.next_at, self.clock()):
                continue
            await attempt(self._locked_step(lock, meter_id, pending), pending, "Control",
                          self._drop, self.clock, self.settings.retry_delay)

    async def _locked_step(self, lock: asyncio.Lock, meter_id: str, pending: Pending) -> None:
        async with lock:
            if self._pending.get(meter_id) is pending:
                await self._step(pending)

    async def _step(self, pending: Pending) -> None:
        meter = self.meter(pending.meter_id)
        now = self.clock()
        if meter is None:
            await self._finish(pending, "failed", error=Text("prepaid.cmd_meter_gone"))
            return
        if pending.expires_at is not None and now >= pending.expires_at:
            await self._finish(pending, "failed", error=Text(
                "prepaid.cmd_expired", meter=pending.meter_id,
                until=pending.expires_at.isoformat(timespec="seconds")), expired=True)
            await self._cancel_link_command(pending)
            return
        if Capability.SLEEPY in meter.model.capabilities:
            if pending.link_command is None and self._link_queue(meter) is not None:
                await self._hand_to_link(pending, meter)
            pending.next_at = pending.expires_at or now + timedelta(days=1)
            return
        if pending.state == "queued":
            await self._send(pending)
        else:
            await self._confirm(pending)

    async def _send(self, pending: Pending) -> None:
        point, wanted = target(pending.command)
        if pending.check_first:
            pending.check_first = False
            status, _error = await self._read(pending)
            if status is not None and status.get(point) == wanted:
                await self._finish(pending, "confirmed", detail={
                    point: wanted, "sent": False,
                    "note": f"the {point} was already {wanted}: nothing sent"})
                return
        await self._mark_sent(pending)
        reason = await self._transmit(pending)
        if reason is not None:
            await self._attempt_failed(pending, reason)
            return
        pending.next_at = self.clock() + timedelta(seconds=self.settings.confirm_delay)

    async def _mark_sent(self, pending: Pending) -> None:
        """Durably mark a command sent before anything goes out (see module docstring)."""
        attempt = pending.attempts + 1
        await self._move(pending, "sent", detail={"attempt": attempt}, attempt=True)
        pending.attempts = attempt
        pending.rechecks = 0
        self._fire(EVENT_COMMAND_SENT, pending, pending.context)

    async def _transmit(self, pending: Pending) -> str | None:
        """Send the frame; None when the meter accepted it, else the reason it did not."""
        try:
            result = await self.metering.command(pending.meter_id, pending.command)
        except MeterRefused as err:
            return Text("prepaid.cmd_refused", reason=err.summary)
        except (NoReply, TimeoutError) as err:
            return Text("prepaid.cmd_no_reply",
                        reason=text_of(err) or Text("prepaid.cmd_timeout"))
        except LinkUnavailable as err:
            return Text("prepaid.cmd_link_unavailable", reason=text_of(err))
        except (ProtocolError, KeyError) as err:
            return Text("prepaid.cmd_error", kind=type(err).__name__, reason=text_of(err))
        if not result.accepted:
            return Text("prepaid.cmd_not_accepted",
                        reason=result.detail or Text("prepaid.cmd_no_reason"))
        with contextlib.suppress(CommandConflict):
            await self._write(lambda s: s.move(
                pending.command_id, "sent", self._ms(), expected=("sent",),
                detail={"accepted": result.detail or True}, context=pending.context,
                next_at=self.clock() + timedelta(seconds=self.settings.confirm_delay)))
        return None

    async def _read(self, pending: Pending) -> tuple[Mapping[str, Any] | None, str]:
        from ..metering.service import ReadFailed

        point, _wanted = target(pending.command)
        try:
            reading = await self.metering.read(pending.meter_id, points=[point],
                                               source=ReadingSource.CONFIRM,
                                               context=pending.context)
        except (ReadFailed, KeyError) as err:
            return None, text_of(err)
        return reading.status, ""

    async def _confirm(self, pending: Pending) -> None:
        point, wanted = target(pending.command)
        status, error = await self._read(pending)
        if status is None:
            await self._not_yet(pending, Text("prepaid.cmd_no_readback", point=_word(point),
                                              reason=error))
            return
        actual = status.get(point)
        if actual == wanted:
            await self._finish(pending, "confirmed", detail={
                point: actual, "recovered": pending.recovered or None})
            return
        _p, _w, _cap, flag = _TARGET[pending.command]
        held = status.get("relay_command") if flag is not None else None
        if held is not None and held != flag:
            await self._attempt_failed(pending, Text(
                "prepaid.cmd_not_taken", command=_word(str(pending.command)),
                point=_word(point), actual=_word(point, str(actual)), held=held))
            return
        notes = [Text(note) for key, note in (("pre_trip_alarm", "prepaid.cmd_pre_trip"),
                                               ("protect", "prepaid.cmd_protect"))
                 if status.get(key)]
        still = {"point": _word(point), "actual": _word(point, str(actual))}
        await self._not_yet(pending, Text("prepaid.cmd_still_why", notes=Joined(notes), **still)
                            if notes else Text("prepaid.cmd_still", **still))

    async def _not_yet(self, pending: Pending, reason: str) -> None:
        """The command did not show yet: re-check later, or count a failed attempt."""
        pending.rechecks += 1
        if pending.rechecks > self.settings.rechecks:
            await self._attempt_failed(pending, reason)
            return
        pending.next_at = self.clock() + timedelta(seconds=self.settings.recheck_delay)
        _LOGGER.info("Control: %s %s not confirmed yet (%s); re-check %d/%d in %gs",
                     pending.command, pending.meter_id, reason, pending.rechecks,
                     self.settings.rechecks, self.settings.recheck_delay)

    async def _attempt_failed(self, pending: Pending, reason: str) -> None:
        if pending.withdrawn is not None:
            await self._withdrawn(pending, pending.context, pending.withdrawn)
            return
        if pending.attempts > self.settings.retries:
            await self._finish(pending, "failed", error=Text(
                "prepaid.cmd_after", reason=reason, attempts=pending.attempts))
            return
        delay = self.settings.backoff(pending.attempts)
        pending.next_at = self.clock() + timedelta(seconds=delay)
        await self._move(pending, "queued", error=reason,
                         detail={"retry_in_s": delay, "reason": reason})
        pending.rechecks = 0
        pending.check_first = True
        _LOGGER.warning("Control: %s %s attempt %d failed (%s); retry in %gs",
                        pending.command, pending.meter_id, pending.attempts, reason, delay)
        self._fire(EVENT_COMMAND_QUEUED, pending, pending.context, retry=pending.attempts,
                   error=reason, retry_at=pending.next_at.isoformat())

    async def _finish(self, pending: Pending, state: str, *,
                      detail: Mapping[str, Any] | None = None, error: str | None = None,
                      expired: bool = False) -> None:
        clean = {k: v for k, v in (detail or {}).items() if v is not None}
        await self._move(pending, state, detail=clean, error=error)
        self._drop(pending)
        if state == "confirmed":
            _LOGGER.info("Control: %s %s confirmed", pending.command, pending.meter_id)
            self._fire(EVENT_COMMAND_CONFIRMED, pending, pending.context, **clean)
        else:
            _LOGGER.error("Control: %s %s failed: %s", pending.command, pending.meter_id,
                          error)
            self._fire(EVENT_COMMAND_FAILED, pending, pending.context, error=error,
                       expired=expired)

    def _drop(self, pending: Pending) -> None:
        if self._pending.get(pending.meter_id) is pending:
            del self._pending[pending.meter_id]
        if pending.link_command:
            self._link_commands.pop(pending.link_command, None)

    # --- sleeping meters -------------------------------------------------------------------

    @staticmethod
    def _link_queue(meter: Meter) -> DownlinkQueue | None:
        return meter.link.downlink_queue()

    def _link_command_events(self) -> set[str]:
        if not self.hub.has_component("metering"):
            return set()
        return {queue.command_event for link in self.metering.links.values()
                if (queue := link.downlink_queue()) is not None}

    async def _hand_to_link(self, pending: Pending, meter: Meter) -> None:
        queue = self._link_queue(meter)
        assert queue is not None
        ttl = None
        if pending.expires_at is not None:
            ttl = max((pending.expires_at - self.clock()).total_seconds(), 1.0)
        try:
            link_id = str(await queue.queue_command(
                meter.id, pending.command, pending.context, ttl=ttl,
                params={"control_command": pending.command_id}))
        except (KeyError, ValueError, LinkUnavailable) as err:
            await self._finish(pending, "failed", error=Text(
                "prepaid.cmd_link_refused", link=meter.link.id, reason=text_of(err)))
            return
        except Exception as err:  # a full queue or a platform error: try again later
            pending.next_at = self.clock() + timedelta(seconds=self.settings.retry_delay)
            _LOGGER.warning("Control: link %s did not take %s: %s", meter.link.id,
                            pending.command_id, err)
            return
        pending.link_command = link_id
        self._link_commands[link_id] = pending.command_id
        await self._write(lambda s: s.merge_params(pending.command_id,
                                                   {"link_command": link_id}))

    async def _cancel_link_command(self, pending: Pending) -> None:
        meter = self.meter(pending.meter_id)
        if pending.link_command is None or meter is None:
            return
        queue = self._link_queue(meter)
        if queue is not None:
            with contextlib.suppress(Exception):
                await queue.cancel_command(pending.link_command, pending.context)

    def _on_link_command(self, event: Event) -> None:
        command_id = self._link_commands.get(str(event.data.get("command_id")))
        meter_id = str(event.data.get("meter_id"))
        pending = self._pending.get(meter_id)
        if command_id is None or pending is None or pending.command_id != command_id:
            return
        self._track(self.hub.create_task(
            self._link_progress(pending, str(event.data.get("state")), event.data.get("error")),
            f"control link progress {meter_id}"))

    async def _link_progress(self, pending: Pending, state: str, error: Any) -> None:
        async with self._locks.setdefault(pending.meter_id, asyncio.Lock()):
            if self._pending.get(pending.meter_id) is not pending:
                return
            try:
                if state in _LINK_ACTIVE and pending.state == "queued":
                    await self._mark_sent(pending)
                if state == "done":
                    point, wanted = target(pending.command)
                    if self.known_state(pending.meter_id, point) == wanted:
                        await self._finish(pending, "confirmed", detail={point: wanted})
                elif state in _LINK_ENDED:
                    await self._finish(pending, "failed", error=Text(
                        "prepaid.cmd_downlink_ended_why", state=_word(state), reason=error)
                        if error else Text("prepaid.cmd_downlink_ended", state=_word(state)),
                        expired=state == "expired")
            except CommandConflict:
                self._drop(pending)

    async def on_uplink(self, meter_id: str, status: Mapping[str, Any]) -> None:
        """A sleeping meter reported (its window is open): confirm, or send what waits."""
        pending = self._pending.get(meter_id)
        meter = self.meter(meter_id)
        if pending is None or meter is None:
            return
        async with self._locks.setdefault(meter_id, asyncio.Lock()):
            if self._pending.get(meter_id) is not pending:
                return
            try:
                await self._uplink_step(pending, meter, status)
            except CommandConflict:
                self._drop(pending)

    async def _uplink_step(self, pending: Pending, meter: Meter,
                           status: Mapping[str, Any]) -> None:
        point, wanted = target(pending.command)
        actual = status.get(point)
        if actual == wanted:
            sent = pending.state == "sent"
            note = "reported" if sent else "already so: nothing sent"
            await self._finish(pending, "confirmed", detail={point: actual, "note": note,
                                                             "sent": None if sent else False})
            await self._cancel_link_command(pending)
            return
        if self._link_queue(meter) is not None:
            return  # the link delivers it; its events and later reports tell us
        if pending.state == "sent":
            await self._attempt_failed(pending, Text(
                "prepaid.cmd_report_shows", point=_word(point), actual=_word(point, str(actual))))
            if self._pending.get(pending.meter_id) is not pending:
                return
        await self._mark_sent(pending)
        reason = await self._transmit(pending)
        if reason is not None:
            await self._attempt_failed(pending, reason)

    # --- readings: relay / valve changes ---------------------------------------------------

    def _on_reading(self, event: Event) -> None:
        reading = event.data.get("reading")
        if not isinstance(reading, Reading):
            return
        meter_id = reading.meter_id
        for point, event_type in (("relay", EVENT_RELAY_CHANGED),
                                  ("valve", EVENT_VALVE_CHANGED)):
            value = reading.status.get(point)
            if value is None:
                continue
            new = str(value)
            old = self.known_state(meter_id, point)
            known = self._known.get(meter_id)
            if known is None:  # not setdefault: no empty dict made at every reading
                known = self._known[meter_id] = {}
            known[point] = new
            if old is not None and old != new:
                self._fire_change(event_type, meter_id, point, old, new, event.context)
            elif (old is None and new == _OFF[point] and meter_id not in self._pending
                  and self.on_found_off is not None):
                self.on_found_off(meter_id, event.context)
        if reading.source is ReadingSource.UPLINK and meter_id in self._pending:
            self._track(self.hub.create_task(self.on_uplink(meter_id, dict(reading.status)),
                                             f"control uplink {meter_id}"))

    def _fire_change(self, event_type: str, meter_id: str, point: str, old: str, new: str,
                     context: Context) -> None:
        meter = self.meter(meter_id)
        pending = self._pending.get(meter_id)
        data: dict[str, Any] = {
            "meter_id": meter_id, "account_id": meter.config.get("account") if meter else None,
            point: new, "old": old, "new": new,
        }
        if pending is not None and target(pending.command) == (point, new):
            data["command_id"] = pending.command_id
        _LOGGER.info("Control: %s of %s %s -> %s", point, meter_id, old, new)
        self.hub.bus.fire(event_type, data, context=context)

    # --- helpers ---------------------------------------------------------------------

    def _track(self, task: asyncio.Task[None]) -> None:
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    def _fire(self, event_type: str, pending: Pending, context: Context,
              **extra: Any) -> None:
        data: dict[str, Any] = {
            "command_id": pending.command_id, "meter_id": pending.meter_id,
            "account_id": pending.account_id, "command": str(pending.command),
            "state": pending.state, "attempts": pending.attempts,
            "reason": pending.reason, "origin": pending.origin,
        }
        data.update({k: v for k, v in extra.items() if v is not None})
        self.hub.bus.fire(event_type, data, context=context)

    async def _move(self, pending: Pending, state: str, *,
                    detail: Mapping[str, Any] | None = None, error: str | None = None,
                    attempt: bool = False, next_at: datetime | None = None) -> None:
        """Durably move the command from the state it is in (CommandConflict if it moved)."""
        expected = (pending.state,)
        when = (next_at or pending.next_at) if state in ("queued", "sent") else None
        await self._write(lambda s: s.move(
            pending.command_id, state, self._ms(), expected=expected, detail=detail,
            error=error, attempt=attempt, context=pending.context, next_at=when))
        pending.state = state

    async def _write(self, work: Callable[[ControlStore], Any]) -> Any:
        return await self.storage.control_write(work)

    def _ms(self) -> int:
        return int(self.clock().timestamp() * 1000)


class _Retried(Protocol):
    """What :func:`attempt` needs of a pending command."""

    command_id: str
    next_at: datetime


async def wait_until_due(wake: asyncio.Event, due: datetime, now: datetime) -> bool:
    """True when ``due`` has come; else sleep until it (at most a minute: wall-clock jumps
    are noticed) or until ``wake`` is set, and answer False (look again)."""
    delay = (due - now).total_seconds()
    if delay <= 0:
        return True
    wake.clear()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(min(delay, _IDLE_WAIT)):
            await wake.wait()
    return False


async def attempt(work: Awaitable[None], pending: _Retried, who: str,
                  drop: Callable[[Any], None], clock: Callable[[], datetime],
                  retry_delay: float) -> None:
    """Run one step of a durable command (trip/close, a parameter write): a conflict in
    storage (superseded, or moved meanwhile) drops it, storage trouble or an unexpected
    error tries it again later."""
    try:
        await work
    except CommandConflict as err:
        _LOGGER.debug("%s: %s left alone: %s", who, pending.command_id, err)
        drop(pending)
    except StorageError as err:
        _LOGGER.error("%s: %s waits for storage: %s", who, pending.command_id, err)
        pending.next_at = clock() + timedelta(seconds=5)
    except asyncio.CancelledError:
        raise
    except Exception:
        _LOGGER.exception("%s: %s failed unexpectedly; retrying", who, pending.command_id)
        pending.next_at = clock() + timedelta(seconds=retry_delay)
