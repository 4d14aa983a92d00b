"""The trip policy at work: balance events in, trips / closes / scheduled trips / alarms out.

``balance_exhausted`` (or an overdue postpaid bill) makes each account's policy act:
``immediate`` queues a trip at once, ``never`` fires ``arrears_alarm`` only, ``delayed``
schedules a check at the account's daily local time (with ``trip_warning`` ``warn_before``
it). A trip that falls in a protection window is deferred to the window's end. Scheduled
checks are durable rows (``trip_schedule``, one pending per account): a restart resumes them
at their time, neither lost nor doubled. ``balance_restored`` cancels the pending check and
closes the supply (unless a force-off hold says otherwise). Holds, and the ends of holds,
re-evaluate the account. A supply is closed again only after a cut the hub made or saw: a
meter whose first reading (no earlier reading, no restored state) shows its relay open or its
valve closed while its account is in credit is closed (``found_off``); the start-up check
closes nothing. Every command carries the context of what caused it.

Events: ``trip_scheduled`` {account_id, schedule_id, kind, due, reason, warn_at} (with the
schedule row's context, a child of its cause), ``trip_warning`` {account_id, schedule_id,
due, kind, reason, meters}, ``trip_due`` {account_id, schedule_id, kind, due, reason} when a
scheduled check comes due (with a new context whose parent is the row's: the context of the
check's commands, so ``meter.why`` walks back through ``trip_scheduled`` to what scheduled it,
also after a restart), ``trip_cancelled`` {account_id, schedule_id, reason},
``arrears_alarm`` and ``control_check``.

An account in ``never`` mode keeps no pending trip: a change of policy to ``never`` cancels it
at once, and a trip check still pending when it comes due is cancelled, not acted on (a
postpaid grace check stays: in ``never`` mode it only raises the alarm).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from ..core import Context, Event, Unsubscribe
from ..events import (
    EVENT_ARREARS_ALARM,
    EVENT_BALANCE_EXHAUSTED,
    EVENT_BALANCE_RESTORED,
    EVENT_BILL_OVERDUE,
    EVENT_BILL_PAID,
    EVENT_COMMAND_FAILED,
    EVENT_CONTROL_CHECK,
    EVENT_TRIP_CANCELLED,
    EVENT_TRIP_DUE,
    EVENT_TRIP_SCHEDULED,
    EVENT_TRIP_WARNING,
)
from ..i18n import Text
from ..ledger import TripMode, in_arrears
from ..metering.model import Capability, Command
from ..storage import ScheduleRow, to_ms
from ..util.dt import as_local, utcnow
from ..util.ids import new_id
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .commands import CommandQueue, CommandRefused, ControlSettings
from .holds import HoldBook
from .policy import (
    WAIT_DAILY,
    Decision,
    Hold,
    HoldKind,
    Verdict,
    decide,
    next_daily,
    postpaid_applies_at,
)

if TYPE_CHECKING:
    from ..core import Hub
    from ..ledger import Account
    from ..metering.service import Meter
    from ..storage import Storage
    from ..util.calendar import Calendar

_LOGGER = logging.getLogger(__name__)


WAIT_GRACE: Final = Text("prepaid.why_grace")
_IDLE_WAIT: Final = 60.0
_ERROR_PAUSE: Final = timedelta(seconds=5)
_FAR: Final = timedelta(days=1)
_STOP_WAIT: Final = 5.0


class Trigger(StrEnum):
    """Why an account is evaluated."""

    EXHAUSTED = "balance_exhausted"
    RESTORED = "balance_restored"
    OVERDUE = "bill_overdue"
    PAID = "bill_paid"
    SCHEDULE = "schedule"
    HOLD = "hold"
    HOLD_END = "hold_end"
    RECONCILE = "reconcile"
    FOUND_OFF = "found_off"  # a first reading shows a supply off the hub did not cut
    UPDATED = "account_updated"  # its thresholds, policy or billing changed at runtime


_POLICY_TRIGGERS = frozenset(str(t) for t in Trigger if t not in (Trigger.HOLD,
                                                                   Trigger.HOLD_END))
_PAID_TRIGGERS = frozenset({Trigger.RESTORED, Trigger.PAID, Trigger.UPDATED})
_TRIP_KINDS = frozenset({"delayed", "deferred"})  # rows that stand for a trip to send
_NEVER_REASON: Final = Text("prepaid.why_never")


def _said(trigger: Trigger) -> Text:
    """A trigger as a reason names it (``balance restored``, ``余额恢复``), not by its id."""
    return Text(f"prepaid.trigger.{trigger}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one evaluation did."""

    commands: tuple[str, ...] = ()
    scheduled: ScheduleRow | None = None
    alarm: bool = False
    verdicts: tuple[tuple[str, Verdict], ...] = ()


def off_command(meter: Meter) -> Command:
    """The command that cuts this meter's supply."""
    return Command.TRIP if Capability.RELAY in meter.model.capabilities else Command.VALVE_CLOSE


def on_command(meter: Meter) -> Command:
    """The command that restores this meter's supply."""
    return Command.CLOSE if Capability.RELAY in meter.model.capabilities else Command.VALVE_OPEN


def controllable(meter: Meter) -> bool:
    """Whether the meter has a relay or a valve."""
    return bool({Capability.RELAY, Capability.VALVE} & meter.model.capabilities)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value[:10])
    return None


class TripPolicy:
    """Applies each account's trip policy, holds and protection windows."""

    def __init__(self, hub: Hub, accounts: Mapping[str, Account], commands: CommandQueue,
                 holds: HoldBook, settings: ControlSettings, calendar: Calendar,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.hub = hub
        self.accounts = accounts
        self.commands = commands
        self.holds = holds
        self.settings = settings
        self.calendar = calendar
        self.clock = clock
        self.reconcile_on_start = settings.check_on_start
        # where balances and postpaid bills come from: the ``ledger`` and ``billing``
        # components unless set (a test's fake)
        self.balance_source: Callable[[str], Any] | None = None
        # told when an account's hold or pending trip changed (to refresh its state)
        self.on_change: Callable[[str, Context], None] | None = None
        self.bills_source: Any = None
        self._rows: dict[str, ScheduleRow] = {}
        self._overdue: dict[str, dict[str, date]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._wake = asyncio.Event()
        self._pause: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None
        self._unsubs: list[Unsubscribe] = []
        self._inflight: set[asyncio.Task[None]] = set()
        self._ready = asyncio.Event()
        self.running = False

    @property
    def storage(self) -> Storage:
        """Storage (scheduled trips)."""
        from ..storage import Storage

        return self.hub.component("storage", Storage)

    # --- life-cycle ------------------------------------------------------------------

    def attach(self) -> None:
        """Listen to balance and bill events from set-up on: events fired before the
        policy started (readings charged early in start-up) wait for it, none is lost."""
        listen = self.hub.bus.listen
        self._unsubs += [
            listen(EVENT_BALANCE_EXHAUSTED, self._on_exhausted),
            listen(EVENT_BALANCE_RESTORED, self._on_restored),
            listen(EVENT_BILL_OVERDUE, self._on_overdue),
            listen(EVENT_BILL_PAID, self._on_paid),
            listen(EVENT_COMMAND_FAILED, self._on_command_failed),
        ]

    async def start(self) -> None:
        """Load pending scheduled trips; start the clock; let waiting events through."""
        if self.running:
            return
        rows = await self.storage.control_read(lambda store: store.pending_schedules())
        self._rows = {row.account_id: row for row in rows}
        if rows:
            _LOGGER.info("Control: %d scheduled trips pending (next %s)", len(rows),
                         min(row.due for row in rows).isoformat(timespec="seconds"))
        self._task = self.hub.create_background_task(self._run(), "control trip schedule")
        self.running = True
        self._ready.set()

    async def stop(self) -> None:
        """Stop listening and the scheduling loop (pending rows stay for the next start);
        let evaluations under way finish first."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self.running = False
        self._ready.set()  # waiting evaluations see running False and give up
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=_STOP_WAIT)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def reconcile(self) -> None:
        """After start-up: trip accounts found in arrears, schedule delayed ones (no closes)."""
        context = Context(origin="prepaid.reconcile")
        self.hub.bus.fire(EVENT_CONTROL_CHECK, {"accounts": len(self.accounts)},
                          context=context)
        for account_id in list(self.accounts):
            try:
                await self.evaluate(account_id, context, Trigger.RECONCILE)
                if await self._close_failed_before(account_id):
                    # a recharge's close that failed before the restart: try it again
                    await self.evaluate(account_id, context, Trigger.RESTORED)
            except Exception:
                _LOGGER.exception("Control: start-up check of account %s failed", account_id)

    async def _close_failed_before(self, account_id: str) -> bool:
        rows = await self.storage.control_read(lambda store: store.latest(
            account_id=account_id, commands_=(str(Command.CLOSE), str(Command.VALVE_OPEN),
                                              str(Command.TRIP), str(Command.VALVE_CLOSE)),
            limit=1))
        return bool(rows) and rows[0].state == "failed" and rows[0].command in (
            str(Command.CLOSE), str(Command.VALVE_OPEN))

    def pending(self, account_id: str) -> ScheduleRow | None:
        """The account's pending scheduled trip, if any."""
        return self._rows.get(account_id)

    def meters_of(self, account_id: str) -> list[Meter]:
        """The account's meters that have a relay or a valve."""
        if not self.hub.has_component("metering"):
            return []
        return [meter for meter in self.commands.metering.meters_of(account_id)
                if controllable(meter)]

    # --- events in -------------------------------------------------------------------

    def _on_command_failed(self, event: Event) -> None:
        """A policy command failed (meter unreachable): look at the account again later, so
        an outage never leaves a tenant in arrears with power, or a paying one without."""
        account_id = event.data.get("account_id")
        origin = event.data.get("origin")
        if not account_id or origin not in _POLICY_TRIGGERS or not self.running:
            return
        self.hub.create_background_task(
            self._retry_failed(account_id, event.context, Trigger(origin)),
            f"control retry {account_id}")

    async def _retry_failed(self, account_id: str, context: Context, trigger: Trigger) -> None:
        await asyncio.sleep(self.settings.retry_failed_after)
        if self.running:
            _LOGGER.info("Control: looking again at %s after a failed command", account_id)
            self._spawn(account_id, context.child("prepaid.retry"), trigger)

    def reevaluate(self, account_id: str, context: Context) -> None:
        """Look at an account again (its settings changed)."""
        self._spawn(account_id, context, Trigger.UPDATED)

    def _spawn(self, account_id: str, context: Context, trigger: Trigger, **kw: Any) -> None:
        if account_id not in self.accounts:
            return
        task = self.hub.create_task(self._evaluate_logged(account_id, context, trigger, **kw),
                                    f"control {trigger} {account_id}")
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _evaluate_logged(self, account_id: str, context: Context, trigger: Trigger,
                               **kw: Any) -> None:
        await self._ready.wait()
        if not self.running:
            _LOGGER.warning("Control: %s of account %s not handled: control is not running",
                            trigger, account_id)
            return
        try:
            await self.evaluate(account_id, context, trigger, **kw)
        except Exception:
            _LOGGER.exception("Control: %s of account %s not handled", trigger, account_id)

    def found_off(self, meter_id: str, context: Context) -> None:
        """A reading shows a meter's supply off that the hub never saw before (its first
        reading: a relay open when the hub first starts). An account in credit gets it
        closed; one in arrears, or with a force-off hold, keeps it off."""
        meter = self.commands.meter(meter_id)
        account_id = meter.config.get("account") if meter is not None else None
        if account_id and self.running:
            self._spawn(str(account_id), context, Trigger.FOUND_OFF, only=meter_id)

    def _on_exhausted(self, event: Event) -> None:
        balance = event.data.get("balance")
        self._spawn(str(event.data.get("account_id")), event.context, Trigger.EXHAUSTED,
                    balance=Decimal(balance) if balance is not None else None)

    def _on_restored(self, event: Event) -> None:
        balance = event.data.get("balance")
        self._spawn(str(event.data.get("account_id")), event.context, Trigger.RESTORED,
                    balance=Decimal(balance) if balance is not None else None)

    def _on_overdue(self, event: Event) -> None:
        account_id = str(event.data.get("account_id"))
        due = _as_date(event.data.get("due")) or self._today()
        bill = str(event.data.get("bill_id") or f"bill-{due.isoformat()}")
        self._overdue.setdefault(account_id, {})[bill] = due
        self._spawn(account_id, event.context, Trigger.OVERDUE)

    def _on_paid(self, event: Event) -> None:
        account_id = str(event.data.get("account_id"))
        bills = self._overdue.get(account_id, {})
        bills.pop(str(event.data.get("bill_id")), None)
        if not bills:
            self._overdue.pop(account_id, None)
        self._spawn(account_id, event.context, Trigger.PAID)

    # --- money questions ----------------------------------------------------------------

    async def balance(self, account_id: str) -> Decimal | None:
        """The account's balance from the ledger component (None without a ledger)."""
        if self.balance_source is not None:
            value: Any = self.balance_source(account_id)
        elif self.hub.has_component("ledger"):
            ledger: Any = self.hub.component("ledger", object)
            value = ledger.balance(account_id)
        else:
            return None
        if inspect.isawaitable(value):
            value = await value
        return None if value is None else Decimal(value)

    def _bills(self) -> Any:
        if self.bills_source is not None:
            return self.bills_source
        return self.hub.component("billing", object) if self.hub.has_component("billing") \
            else None

    async def _ask(self, name: str, account_id: str) -> Any:
        ask = getattr(self._bills(), name, None)
        if not callable(ask):
            return None
        value = ask(account_id)
        return await value if inspect.isawaitable(value) else value

    async def overdue_since(self, account_id: str) -> date | None:
        """The due date of the account's oldest unpaid postpaid bill (None: nothing owed).

        From the billing component (``oldest_due``); without one, from the bill events.
        """
        if self._bills() is not None:
            return _as_date(await self._ask("oldest_due", account_id))
        return min(self._overdue.get(account_id, {}).values(), default=None)

    async def postpaid_state(self, account: Account, now: datetime
                             ) -> tuple[bool, datetime | None]:
        """(overdue now, when the policy applies to the oldest unpaid bill) of a postpaid
        account: overdue once ``grace_days`` past the due date (the billing component's own
        ``overdue`` flag wins when there is one)."""
        due = await self.overdue_since(account.id)
        applies = (postpaid_applies_at(due, int(account.postpaid.get("grace_days", 0)), now)
                   if due is not None else None)
        flag = await self._ask("overdue", account.id) if self._bills() is not None else None
        if flag is not None:
            return bool(flag), applies
        return applies is not None and now >= applies, applies

    # --- the decision ----------------------------------------------------------------------

    async def evaluate(self, account_id: str, context: Context, trigger: Trigger, *,
                       balance: Decimal | None = None, row: ScheduleRow | None = None,
                       only: str | None = None) -> Outcome:
        """Decide and act for every controllable meter of one account (or the one ``only``)."""
        account = self.accounts.get(account_id)
        if account is None:
            return Outcome()
        async with self._locks.setdefault(account_id, asyncio.Lock()):
            return await self._evaluate(account, context, trigger, balance, row, only)

    async def _evaluate(self, account: Account, context: Context, trigger: Trigger,
                        balance: Decimal | None, row: ScheduleRow | None,
                        only: str | None = None) -> Outcome:
        now = self.clock()
        postpaid = account.billing == "postpaid"
        overdue: bool | None = None
        applies: datetime | None = None
        if postpaid:
            overdue, applies = await self.postpaid_state(account, now)
        if not postpaid:
            live = await self.balance(account.id)
            balance = live if live is not None else balance
        known = postpaid or balance is not None
        value = balance if balance is not None else Decimal("Infinity")
        owing = bool(overdue) if postpaid else known and in_arrears(value, account.thresholds)
        holds = self.holds.holds(account.id)
        keep_on = self.holds.active(account.id, now)
        keep_on_active = keep_on is not None and keep_on.kind == HoldKind.KEEP_ON
        due_check = row is not None and row.kind in _TRIP_KINDS
        issued: list[str] = []
        verdicts: list[tuple[str, Verdict]] = []
        wait: Verdict | None = None
        for meter in self.meters_of(account.id):
            if only is not None and meter.id != only:
                continue
            off = self.commands.supply_off(meter.id)
            verdict = decide(
                balance=value, thresholds=account.thresholds, mode=account.trip_mode,
                relay_open=off, holds=holds, now=now, windows=account.protection,
                is_holiday=self._is_holiday, is_workday=self._is_workday,
                delayed_due=due_check, postpaid_overdue=overdue)
            verdicts.append((meter.id, verdict))
            command: Command | None = None
            if verdict.decision is Decision.TRIP:
                command = off_command(meter)
            elif verdict.decision is Decision.CLOSE and self._may_close(trigger, off, holds,
                                                                         now):
                command = on_command(meter)
            elif verdict.decision is Decision.CLOSE and trigger in _PAID_TRIGGERS:
                # not closing automatically, but a policy trip not yet out lost its reason
                await self.commands.withdraw(meter.id, off_command(meter), context,
                                             verdict.reason, origins=_POLICY_TRIGGERS)
            elif verdict.decision is Decision.WAIT and wait is None:
                wait = verdict
            if command is not None:
                reason = (Text("prepaid.why_found_off", reason=verdict.reason)
                          if trigger is Trigger.FOUND_OFF else verdict.reason)
                issued += await self._submit(meter, command, context, account.id,
                                             reason, trigger, off is None)
        if applies is not None and applies > now and not overdue and wait is None:
            wait = Verdict(Decision.WAIT, WAIT_GRACE, applies)
        before = self._rows.get(account.id)
        scheduled = await self._bookkeeping(account, context, trigger, row, owing, wait, now)
        if self.on_change is not None and self._rows.get(account.id) is not before:
            self.on_change(account.id, context)
        alarm = False
        alarming = trigger in (Trigger.EXHAUSTED, Trigger.OVERDUE) or (
            row is not None and row.kind == "postpaid")
        if owing and alarming and (
                account.trip_mode is TripMode.NEVER or keep_on_active):
            alarm = True
            reason = Text("prepaid.why_keep_on" if keep_on_active
                          else "prepaid.why_never_alarm")
            self.hub.bus.fire(EVENT_ARREARS_ALARM, {
                "account_id": account.id, "balance": balance, "postpaid": postpaid,
                "reason": reason, "meters": [m for m, _v in verdicts],
            }, context=context)
        return Outcome(tuple(issued), scheduled, alarm, tuple(verdicts))

    def _may_close(self, trigger: Trigger, off: bool | None, holds: Sequence[Hold],
                   now: datetime) -> bool:
        """Whether a CLOSE verdict is acted on: after a recharge (also when the state is
        unknown: read first), or when the supply is known off and a hold asks for it."""
        if trigger in (Trigger.RESTORED, Trigger.PAID, Trigger.UPDATED):
            return self.settings.auto_close
        if off is not True:
            return False
        if trigger is Trigger.FOUND_OFF:
            return self.settings.auto_close
        if trigger in (Trigger.HOLD, Trigger.HOLD_END):
            return True
        return any(h.kind is HoldKind.KEEP_ON and h.active(now) for h in holds)

    async def _submit(self, meter: Meter, command: Command, context: Context,
                      account_id: str, reason: str, trigger: Trigger,
                      unknown: bool) -> list[str]:
        try:
            command_id, new = await self.commands.submit(
                meter.id, command, context=context.child("prepaid.control"),
                account_id=account_id, reason=reason, origin=str(trigger),
                check_first=unknown)
        except CommandRefused as err:
            _LOGGER.error("Control: %s of %s not queued: %s", command, meter.id, err)
            return []
        return [command_id] if new else []

    # --- scheduled trips -------------------------------------------------------------------

    async def _bookkeeping(self, account: Account, context: Context, trigger: Trigger,
                           row: ScheduleRow | None, owing: bool, wait: Verdict | None,
                           now: datetime) -> ScheduleRow | None:
        """Keep the account's pending scheduled trip in line with the verdicts."""
        existing = self._rows.get(account.id)
        if wait is not None:
            if existing is not None and row is None:
                return existing  # already scheduled: a new event does not move it
            if wait.retry_at is not None:
                kind = "postpaid" if wait.reason == WAIT_GRACE else "deferred"
                return await self._schedule(account, kind, wait.retry_at, wait.reason,
                                            context, row)
            if wait.reason == WAIT_DAILY:
                return await self._schedule(account, "delayed",
                                            next_daily(now, account.trip_at),
                                            wait.reason, context, row)
            return await self._schedule(account, "deferred", now + _FAR, wait.reason,
                                        context, row)
        if row is not None:
            await self._finish(row, "fired", context)
            if owing and account.trip_mode is TripMode.DELAYED:
                return await self._schedule(account, "delayed", next_daily(now, account.trip_at),
                                            Text("prepaid.why_next_daily"), row.context, None)
            return None
        if existing is not None and not owing:
            await self._finish(existing, "cancelled", context, reason=Text("prepaid.why_not_owing",
                                                                     trigger=_said(trigger)))
        elif existing is not None and self._never_trips(account, existing):
            await self._finish(existing, "cancelled", context,
                               reason=Text("prepaid.why_trigger", trigger=_said(trigger),
                                           reason=_NEVER_REASON))
        return None

    @staticmethod
    def _never_trips(account: Account, row: ScheduleRow) -> bool:
        """Whether a scheduled row stands for a trip the account's policy never sends."""
        return account.trip_mode is TripMode.NEVER and row.kind in _TRIP_KINDS

    async def _schedule(self, account: Account, kind: str, due: datetime, reason: str,
                        cause: Context, row: ScheduleRow | None) -> ScheduleRow:
        now = self.clock()
        warn = account.warn_before
        context = row.context if row is not None else cause.child("prepaid.schedule")
        wanted = ScheduleRow(
            f"trip-{new_id()}", account.id, kind, "pending", due,
            due - warn if warn else None, None, reason, {}, now, now, context)
        saved = await self.storage.control_write(lambda store: store.put_schedule(wanted))
        self._rows[account.id] = saved
        self._wake.set()
        _LOGGER.info("Control: account %s: %s trip check at %s (%s)", account.id, kind,
                     due.isoformat(timespec="seconds"), reason)
        self.hub.bus.fire(EVENT_TRIP_SCHEDULED, {
            "account_id": account.id, "schedule_id": saved.schedule_id, "kind": kind,
            "due": as_local(due).isoformat(), "reason": reason,
            "warn_at": as_local(saved.warn_at).isoformat() if saved.warn_at else None,
        }, context=saved.context)
        return saved

    async def _finish(self, row: ScheduleRow, state: str, context: Context,
                      reason: str | None = None) -> None:
        ts = to_ms(self.clock())
        await self.storage.control_write(
            lambda store: store.finish_schedule(row.schedule_id, state, ts, reason))
        if self._rows.get(row.account_id) is not None and \
                self._rows[row.account_id].schedule_id == row.schedule_id:
            del self._rows[row.account_id]
        if state == "cancelled":
            self.hub.bus.fire(EVENT_TRIP_CANCELLED, {
                "account_id": row.account_id, "schedule_id": row.schedule_id,
                "reason": reason}, context=context)

    async def cancel(self, account_id: str, reason: str, context: Context) -> bool:
        """Cancel an account's pending scheduled trip (an operator, a move-out...)."""
        row = self._rows.get(account_id)
        if row is None:
            return False
        await self._finish(row, "cancelled", context, reason=reason)
        return True

    def wake(self) -> None:
        """Look at the schedule again now (a test moved the clock, a hold changed)."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            now = self.clock()
            for row in sorted(self._rows.values(), key=lambda r: r.due):
                if row.due <= now and self._pause.get(row.schedule_id, now) <= now:
                    await self._guard(row.schedule_id, self._fire_row(row))
                elif (row.warn_at is not None and row.warned is None and row.warn_at <= now
                      and self._pause.get(row.schedule_id, now) <= now):
                    await self._guard(row.schedule_id, self._warn(row))
            for hold in self.holds.ended(now):
                if self._pause.get(hold.hold_id, now) <= now:
                    await self._guard(hold.hold_id, self._hold_ended(hold.account_id,
                                                                     hold.hold_id))
            wake_at = self._next_wake()
            delay = _IDLE_WAIT if wake_at is None else (wake_at - self.clock()).total_seconds()
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(delay, _IDLE_WAIT)):
                        await self._wake.wait()

    def _next_wake(self) -> datetime | None:
        times = [max(row.due, self._pause.get(row.schedule_id, row.due))
                 for row in self._rows.values()]
        times += [row.warn_at for row in self._rows.values()
                  if row.warn_at is not None and row.warned is None]
        end = self.holds.next_end()
        if end is not None:
            times.append(end)
        times += [t for t in self._pause.values() if t > self.clock()]
        return min(times) if times else None

    async def _guard(self, key: str, work: Any) -> None:
        try:
            await work
            self._pause.pop(key, None)
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception("Control: scheduled work %s failed; trying again shortly", key)
            self._pause[key] = self.clock() + _ERROR_PAUSE

    async def _fire_row(self, row: ScheduleRow) -> None:
        if self._rows.get(row.account_id) is not row:
            return
        async with self._locks.setdefault(row.account_id, asyncio.Lock()):
            if self._rows.get(row.account_id) is not row:
                return  # cancelled or moved while waiting for the account
            _LOGGER.info("Control: account %s: scheduled trip check %s is due",
                         row.account_id, row.schedule_id)
            # the cause of whatever the check does: recorded (storage keeps every event with
            # its context), its parent the row's context, so "why" walks on from here
            context = Context(parent_id=row.context.id, user_id=row.context.user_id,
                              origin="prepaid.schedule")
            self.hub.bus.fire(EVENT_TRIP_DUE, {
                "account_id": row.account_id, "schedule_id": row.schedule_id,
                "kind": row.kind, "due": as_local(row.due).isoformat(), "reason": row.reason,
            }, context=context)
            account = self.accounts.get(row.account_id)
            if account is None:
                await self._finish(row, "cancelled", context,
                                   reason=Text("prepaid.why_gone"))
                return
            if self._never_trips(account, row):
                _LOGGER.warning("Control: account %s: scheduled trip %s not sent: %s",
                                account.id, row.schedule_id, _NEVER_REASON)
                await self._finish(row, "cancelled", context,
                                   reason=Text("prepaid.why_trigger",
                                               trigger=str(Trigger.SCHEDULE),
                                               reason=_NEVER_REASON))
                if self.on_change is not None:
                    self.on_change(account.id, context)
                return
            await self._evaluate(account, context, Trigger.SCHEDULE, None, row)

    async def _warn(self, row: ScheduleRow) -> None:
        account = self.accounts.get(row.account_id)
        now = self.clock()
        if account is None:
            return
        postpaid = account.billing == "postpaid"
        if postpaid:
            _now_overdue, applies = await self.postpaid_state(account, now)
            owing = applies is not None and applies <= row.due  # overdue by the trip time
        else:
            balance = await self.balance(account.id)
            owing = balance is not None and in_arrears(balance, account.thresholds)
        hold = self.holds.active(account.id, row.due)
        if owing and account.trip_mode is not TripMode.NEVER and (
                hold is None or hold.kind != HoldKind.KEEP_ON):
            self.hub.bus.fire(EVENT_TRIP_WARNING, {
                "account_id": account.id, "schedule_id": row.schedule_id,
                "due": as_local(row.due).isoformat(), "kind": row.kind, "reason": row.reason,
                "meters": [meter.id for meter in self.meters_of(account.id)],
            }, context=Context(parent_id=row.context.id, user_id=row.context.user_id,
                               origin="prepaid.warning"))
        ts = to_ms(now)
        await self.storage.control_write(lambda store: store.mark_warned(row.schedule_id, ts))
        current = self._rows.get(row.account_id)
        if current is not None and current.schedule_id == row.schedule_id:
            self._rows[row.account_id] = ScheduleRow(
                current.schedule_id, current.account_id, current.kind, current.state,
                current.due, current.warn_at, now, current.reason, current.params,
                current.created, now, current.context)

    async def _hold_ended(self, account_id: str, hold_id: str) -> None:
        context = Context(origin="prepaid.hold_end")
        await self.holds.release(account_id, None, "ended", context, hold_id=hold_id,
                                 expired=True)
        await self.evaluate(account_id, context, Trigger.HOLD_END)
        if self.on_change is not None:
            self.on_change(account_id, context)

    # --- calendar ---------------------------------------------------------------------

    def _is_holiday(self, day: date) -> bool:
        return self.calendar.holiday_name(day) is not None

    def _is_workday(self, day: date) -> bool:
        return self.calendar.is_makeup_workday(day)

    def _today(self) -> date:
        return as_local(self.clock()).date()
