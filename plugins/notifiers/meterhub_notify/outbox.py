"""A notifier's bounded queue and its workers: timeout per attempt, retries with back-off.

Calls and notices only put a job in the queue (never waiting on the network); workers send
each job to each of its targets, retrying a target that failed (up to ``retries`` times,
waiting ``retry_delay`` doubled per attempt, at most ``max_retry_delay``). Every outcome is
an event — ``notify_sent`` or ``notify_failed`` — with the cause's context, so "why did
room 302 get this SMS" and "why did it not" both have an answer. The queue lives in memory:
jobs still queued when the hub stops are given a short while, then dropped (and counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.core import Context

from .const import DRAIN_TIMEOUT, REASON_QUEUE_FULL
from .events import EVENT_NOTIFY_FAILED, EVENT_NOTIFY_SENT
from .notifier import DeliveryError, DeliverySettings, Message, Target
from .redact import redact

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A message for some targets, with the context of what caused it."""

    message: Message
    targets: Sequence[Target]
    context: Context


class Outbox:
    """The queue and workers of one notifier (``landlord``, ``ops``, ``tenant``)."""

    def __init__(self, hub: Hub, name: str, settings: DeliverySettings,
                 workers: int = 1) -> None:
        self.hub = hub
        self.name = name
        self.settings = settings
        self.workers = workers
        self.queue: asyncio.Queue[Job] = asyncio.Queue(settings.queue_size)
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    def submit(self, job: Job) -> bool:
        """Queue a job; False (with a ``notify_failed`` event) when the queue is full."""
        if self._closed:
            self._give_up(job, "hub is stopping", "-", 0, reason="stopping")
            return False
        try:
            self.queue.put_nowait(job)
        except asyncio.QueueFull:
            self._give_up(job, f"queue full ({self.settings.queue_size} waiting)", "-", 0,
                          reason=REASON_QUEUE_FULL)
            return False
        return True

    async def start(self) -> None:
        """Start the workers."""
        self._closed = False
        for index in range(self.workers):
            self._tasks.append(self.hub.create_background_task(
                self._work(), f"notify {self.name} worker {index}"))

    async def stop(self, drain: float = DRAIN_TIMEOUT) -> None:
        """Let queued jobs go out for up to ``drain`` seconds, then stop the workers."""
        self._closed = True
        if self._tasks and not self.queue.empty():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(drain):
                    await self.queue.join()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=drain)
        left = self.queue.qsize()
        while not self.queue.empty():
            self.queue.get_nowait()
            self.queue.task_done()
        if left:
            self.dropped += left
            _LOGGER.warning("Notifier %s: %d queued message(s) not sent before shutdown",
                            self.name, left)

    async def _work(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                for target in job.targets:
                    await self._deliver(job, target)
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("Notifier %s: delivery crashed", self.name)
            finally:
                self.queue.task_done()

    async def _deliver(self, job: Job, target: Target) -> None:
        settings = self.settings
        attempt = 0
        while True:
            attempt += 1
            try:
                async with asyncio.timeout(settings.timeout):
                    await target.send(job.message, settings.timeout)
            except TimeoutError:
                error, permanent = f"no answer within {settings.timeout:g}s", False
            except DeliveryError as err:
                error, permanent = redact(str(err)), err.permanent
            else:
                self.sent += 1
                _LOGGER.debug("Notifier %s: sent to %s (attempt %d)", self.name, target.label,
                              attempt)
                self.hub.bus.fire(EVENT_NOTIFY_SENT, {
                    **self._about(job), "target": target.label, "attempts": attempt,
                }, context=job.context)
                return
            if permanent or attempt > settings.retries:
                self._give_up(job, error, target.label, attempt)
                return
            delay = settings.backoff(attempt)
            _LOGGER.info("Notifier %s: %s attempt %d failed (%s); retry in %gs", self.name,
                         target.label, attempt, error, delay)
            await asyncio.sleep(delay)

    def _about(self, job: Job) -> dict[str, Any]:
        return {"notifier": self.name, "notice": job.message.notice,
                "account_id": job.message.account_id}

    def _give_up(self, job: Job, error: str, label: str, attempts: int,
                 reason: str = "failed") -> None:
        self.failed += 1
        _LOGGER.warning("Notifier %s: message%s not delivered to %s after %d attempt(s): %s",
                        self.name, f" ({job.message.notice})" if job.message.notice else "",
                        label, attempts, error)
        self.hub.bus.fire(EVENT_NOTIFY_FAILED, {
            **self._about(job), "target": label, "attempts": attempts, "error": error,
            "reason": reason,
        }, context=job.context)
