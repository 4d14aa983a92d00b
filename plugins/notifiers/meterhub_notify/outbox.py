"""A notifier's outbox: every message written before it is sent, retried, limited, merged.

A call or a notice hands the outbox a job (a message for some targets). The outbox writes one
row per target (hub.storage's ``notify_outbox``) and answers only once that row is on disk:
from then on the message is sent, or its failure recorded, whatever happens to the hub.
Workers send each row on its own: a timeout per attempt, retries after ``retry_delay``
doubled per attempt (at most ``max_retry_delay``), each attempt and outcome written back,
so a restarted hub goes on with the attempts where they stopped. A row written but not yet
known to be sent when the hub died is sent again after the restart: at least once, and the
message id goes to the providers that can recognise a repeat (WeChat's ``client_msg_id``).

Before a row is queued, the receiver's limits (limits.py) decide: now, later, or merged
into the summary of a storm. Every outcome is an event — ``notify_sent``, ``notify_failed``
or ``notify_skipped`` (merged) — with the cause's context.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from hub.core import Context
from hub.i18n import Text, stored, text_of
from hub.storage import OutboxRow
from hub.util.ids import new_id

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import DRAIN_TIMEOUT, REASON_EXPIRED, REASON_MERGED, REASON_QUEUE_FULL
from .events import EVENT_NOTIFY_FAILED, EVENT_NOTIFY_SENT, EVENT_NOTIFY_SKIPPED
from .journal import Journal, encode
from .limits import Limiter
from .notifier import DeliveryError, DeliverySettings, Message, Target
from .redact import redact_message

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

QUEUED = "queued"
MAX_HELD = 100_000  # messages one notifier holds for summaries; beyond, refused (queue full)
Summarize = Callable[[Sequence[Message]], Message]


@dataclass(frozen=True)
class Address:
    """One target of a job: its key in the notifier, the target, and who receives."""

    key: str
    target: Target
    rate_key: str


@dataclass(frozen=True)
class Job:
    """A message for some targets, with the context of what caused it."""

    message: Message
    targets: Sequence[Address]
    context: Context
    dedupe_key: str | None = None


@dataclass(eq=False)
class Delivery:
    """One message for one target: a row of the outbox."""

    delivery_id: str
    message: Message
    address: Address
    context: Context
    created: float  # wall clock, seconds
    attempts: int = 0
    due: float = 0.0  # wall clock, seconds


@dataclass(eq=False)
class _Held:
    """Messages to one receiver merged into a summary at ``at`` (wall clock)."""

    at: float
    items: list[Delivery] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class Outbox:
    """The durable queue, workers and limits of one notifier (``landlord``, ``tenant``...)."""

    def __init__(self, hub: Hub, name: str, settings: DeliverySettings, journal: Journal,
                 summarize: Summarize, workers: int = 1) -> None:
        self.hub = hub
        self.name = name
        self.settings = settings
        self.journal = journal
        self.summarize = summarize
        self.workers = workers
        self.limiter = Limiter(settings.windows)
        self.clock: Callable[[], float] = time.time
        self.sent = 0
        self.failed = 0
        self.merged = 0
        self._ready: asyncio.Queue[Delivery] = asyncio.Queue()
        self._waiting: dict[Delivery, asyncio.TimerHandle] = {}
        self._held: dict[str, _Held] = {}
        self._pending = 0  # waiting to be sent (now or later): what ``queue_size`` bounds
        self._holding = 0  # held for summaries
        self._early: list[Delivery] = []  # due before the workers started
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._closed = False

    # --- intake ----------------------------------------------------------------------

    def submit(self, job: Job) -> asyncio.Future[str]:
        """Write the job's rows; the future says ``queued`` once they are on disk (or why not)."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()
        outcome = self._room_for(job)
        if outcome is not None:
            answer.set_result(outcome)
            return answer
        message = job.message if job.message.id else replace(job.message, id=new_id())
        now = self.clock()
        deliveries = [Delivery(new_id(), message, address, job.context, now, due=now)
                      for address in job.targets]
        rows = [self._row(delivery, job.dedupe_key) for delivery in deliveries]
        # the limits decide now, in the caller's turn: a storm's 300 notices arrive before
        # the first write is done, and must already be counted as held, not as waiting
        admitted = [delivery for delivery in deliveries if self._admit(delivery)]
        written = self.journal.write(lambda store: store.add(rows))

        def done(future: asyncio.Future[Any]) -> None:
            if future.exception() is not None:  # storage is gone: sent, but not durably
                _LOGGER.warning("Notifier %s: message %s not written; sending it anyway",
                                self.name, message.id)
            for delivery in admitted:
                self._schedule(delivery)
            answer.set_result(QUEUED)

        written.add_done_callback(done)
        return answer

    def _room_for(self, job: Job) -> str | None:
        """None when the job may be queued; else why not (with a ``notify_failed``)."""
        if self._closed:
            self._refuse(job, "hub is stopping", "stopping")
            return "stopping"
        waiting = sum(1 for address in job.targets if address.rate_key not in self._held)
        held = len(job.targets) - waiting
        if (self._pending + waiting > self.settings.queue_size
                or self._holding + held > MAX_HELD):
            self._refuse(job, f"queue full ({self.settings.queue_size} waiting)",
                         REASON_QUEUE_FULL)
            return REASON_QUEUE_FULL
        return None

    def restore(self, delivery: Delivery) -> None:
        """Take up a row written before a restart (its attempts and due time kept)."""
        if self._admit(delivery):
            self._schedule(delivery)

    def _admit(self, delivery: Delivery) -> bool:
        """Through the receiver's limits: True to send (at ``due``), False: held for a summary."""
        key = delivery.address.rate_key
        held = self._held.get(key)
        if held is None:
            admission = self.limiter.admit(key, self.clock())
            if not admission.merged:
                delivery.due = max(delivery.due, admission.at)
                self._pending += 1
                return True
            held = self._held[key] = _Held(admission.at)
            if self._started:
                self._arm(key, held)
        held.items.append(delivery)
        self._holding += 1
        return False

    def _arm(self, key: str, held: _Held) -> None:
        delay = max(0.0, held.at - self.clock())
        held.timer = asyncio.get_running_loop().call_later(delay, self._release, key)

    def _schedule(self, delivery: Delivery) -> None:
        if not self._started:
            self._early.append(delivery)
            return
        delay = delivery.due - self.clock()
        if delay <= 0:
            self._ready.put_nowait(delivery)
            return
        self._waiting[delivery] = asyncio.get_running_loop().call_later(
            delay, self._wake, delivery)

    def _wake(self, delivery: Delivery) -> None:
        self._waiting.pop(delivery, None)
        self._ready.put_nowait(delivery)

    # --- storms: held messages go out as one summary ---------------------------------

    def _release(self, key: str) -> None:
        held = self._held.pop(key, None)
        if held is None or not held.items:
            return
        items = held.items
        self._holding -= len(items)
        if len(items) == 1:  # nothing to merge it with: it goes out as it is
            self._pending += 1
            self._schedule(items[0])
            return
        first = items[0]
        summary = replace(self.summarize([item.message for item in items]), id=new_id())
        delivery = Delivery(new_id(), summary, first.address,
                            first.context.child(f"notify.{self.name}.summary"), self.clock())
        row = self._row(delivery, None)
        ts = _ms(delivery.created)

        def work(store: Any) -> None:
            store.add([row])
            for item in items:
                store.update(item.delivery_id, "merged", attempts=item.attempts,
                             next_ts=ts, ts=ts, merged_into=delivery.delivery_id)

        self._pending += 1
        written = self.journal.write(work)

        def done(future: asyncio.Future[Any]) -> None:
            if future.exception() is not None:
                _LOGGER.warning("Notifier %s: summary not written; sending it anyway",
                                self.name)
            self.merged += len(items)
            _LOGGER.info("Notifier %s: %d message(s) to %s merged into one summary",
                         self.name, len(items), first.address.target.label)
            for item in items:
                self.hub.bus.fire(EVENT_NOTIFY_SKIPPED, {
                    "notice": item.message.notice, "account_id": item.message.account_id,
                    "reason": REASON_MERGED, "notifier": self.name,
                    "merged_into": summary.id,
                }, context=item.context)
            self._schedule(delivery)

        written.add_done_callback(done)

    # --- life-cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers; rows due later wait for their time."""
        self._closed = False
        self._started = True
        early, self._early = self._early, []
        for delivery in early:
            self._schedule(delivery)
        for key, held in self._held.items():
            self._arm(key, held)
        for index in range(self.workers):
            self._tasks.append(self.hub.create_background_task(
                self._work(), f"notify {self.name} worker {index}"))

    async def stop(self, drain: float = DRAIN_TIMEOUT) -> None:
        """Let due rows go out for up to ``drain`` seconds; the rest wait in the database."""
        self._closed = True
        if self._tasks and not self._ready.empty():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(drain):
                    await self._ready.join()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=drain)
        for handle in self._waiting.values():
            handle.cancel()
        for held in self._held.values():
            if held.timer is not None:
                held.timer.cancel()
        left = self._ready.qsize() + len(self._waiting) + self._holding + len(self._early)
        self._waiting.clear()
        self._held.clear()
        self._early.clear()
        self._pending = self._holding = 0
        while not self._ready.empty():
            self._ready.get_nowait()
            self._ready.task_done()
        self._started = False
        if left:
            _LOGGER.info("Notifier %s: %d message(s) kept in the outbox for the next start",
                         self.name, left)

    # --- delivery --------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            delivery = await self._ready.get()
            self._pending -= 1  # in the worker's hands: no longer waiting
            try:
                await self._attempt(delivery)
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("Notifier %s: delivery crashed", self.name)
            finally:
                self._ready.task_done()

    async def _attempt(self, delivery: Delivery) -> None:
        settings = self.settings
        target = delivery.address.target
        if self.clock() - delivery.created > settings.expire:
            await self._finish(delivery, "failed", Text("notify.not_delivered_within",
                                                        seconds=f"{settings.expire:g}"),
                               REASON_EXPIRED)
            return
        delivery.attempts += 1
        error: str
        try:
            async with asyncio.timeout(settings.timeout):
                await target.send(delivery.message, settings.timeout)
        except TimeoutError:
            error, permanent = Text("notify.no_answer_within",
                                    seconds=f"{settings.timeout:g}"), False
        except DeliveryError as err:
            error, permanent = redact_message(text_of(err)), err.permanent
        else:
            await self._finish(delivery, "sent")
            return
        if permanent or delivery.attempts > settings.retries:
            await self._finish(delivery, "failed", error)
            return
        wait = settings.backoff(delivery.attempts)
        delivery.due = self.clock() + wait
        _LOGGER.info("Notifier %s: %s attempt %d failed (%s); retry in %gs", self.name,
                     target.label, delivery.attempts, error, wait)
        await self._note(delivery, "queued", error)
        self._pending += 1
        self._schedule(delivery)

    async def _note(self, delivery: Delivery, state: str, error: str | None = None) -> None:
        """Write the row's new state; a write that fails is logged (the send stands)."""
        now = _ms(self.clock())
        try:
            await self.journal.write(lambda store: store.update(
                delivery.delivery_id, state, attempts=delivery.attempts,
                next_ts=_ms(delivery.due), ts=now,
                error=None if error is None else stored(error)))
        except Exception as err:
            _LOGGER.warning("Notifier %s: outcome of %s not written: %s", self.name,
                            delivery.delivery_id, err)

    async def _finish(self, delivery: Delivery, state: str, error: str | None = None,
                      reason: str = "failed") -> None:
        await self._note(delivery, state, error)
        message = delivery.message
        about = {"notifier": self.name, "notice": message.notice,
                 "account_id": message.account_id, "target": delivery.address.target.label,
                 "attempts": delivery.attempts, "message_id": message.id}
        if state == "sent":
            self.sent += 1
            _LOGGER.debug("Notifier %s: sent to %s (attempt %d)", self.name,
                          delivery.address.target.label, delivery.attempts)
            self.hub.bus.fire(EVENT_NOTIFY_SENT, {
                **about, **({"merged": message.merged} if message.merged else {}),
            }, context=delivery.context)
            return
        self.failed += 1
        _LOGGER.warning("Notifier %s: message%s not delivered to %s after %d attempt(s): %s",
                        self.name, f" ({message.notice})" if message.notice else "",
                        delivery.address.target.label, delivery.attempts, error)
        self.hub.bus.fire(EVENT_NOTIFY_FAILED, {**about, "error": error or "", "reason": reason},
                          context=delivery.context)

    # --- helpers ---------------------------------------------------------------------

    def _row(self, delivery: Delivery, dedupe_key: str | None) -> OutboxRow:
        context = delivery.context
        created = _ms(delivery.created)
        return OutboxRow(
            delivery.delivery_id, delivery.message.id, self.name, delivery.address.key,
            delivery.address.target.label, delivery.address.rate_key, "queued",
            encode(delivery.message), dedupe_key, delivery.attempts, _ms(delivery.due),
            created, created, context_id=context.id, context_parent_id=context.parent_id,
            context_user_id=context.user_id)

    def _refuse(self, job: Job, error: str, reason: str) -> None:
        self.failed += 1
        _LOGGER.warning("Notifier %s: message%s refused: %s", self.name,
                        f" ({job.message.notice})" if job.message.notice else "", error)
        self.hub.bus.fire(EVENT_NOTIFY_FAILED, {
            "notifier": self.name, "notice": job.message.notice,
            "account_id": job.message.account_id, "target": "-", "attempts": 0,
            "error": error, "reason": reason,
        }, context=job.context)
