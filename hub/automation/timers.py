"""Wake-ups at moments of the hub's clock: time triggers, ``for:`` durations and delays.

One background task sleeps until the earliest moment due (at most ``MAX_SLEEP``, so a clock
that jumps is noticed); ``recheck`` wakes it at once after a test moved the clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Final

from ..util.dt import utcnow

if TYPE_CHECKING:
    from ..core import Hub

__all__ = ["MAX_SLEEP", "Timers"]

_LOGGER = logging.getLogger(__name__)

MAX_SLEEP: Final = 30.0


class _Entry:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: datetime, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False


class Timers:
    """Callbacks at absolute times of ``clock``; each ``at`` returns the function that cancels."""

    def __init__(self, hub: Hub, clock: Callable[[], datetime] = utcnow) -> None:
        self.hub = hub
        self.clock = clock
        self._heap: list[tuple[datetime, int, _Entry]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def at(self, when: datetime, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` once ``clock()`` reaches ``when``."""
        entry = _Entry(when, callback)
        heapq.heappush(self._heap, (when, next(self._seq), entry))
        if self._heap[0][2] is entry:
            self._wake.set()

        def cancel() -> None:
            entry.cancelled = True
        return cancel

    async def sleep_until(self, when: datetime) -> None:
        """Wait until ``clock()`` reaches ``when`` (cancel the waiting task to give up)."""
        if self.clock() >= when:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def done() -> None:
            if not future.done():
                future.set_result(None)
        cancel = self.at(when, done)
        try:
            await future
        finally:
            cancel()

    def recheck(self) -> None:
        """Look at the clock again now (it was moved)."""
        self._wake.set()

    def start(self) -> None:
        """Start the wake-up loop."""
        if self._task is None:
            self._task = self.hub.create_background_task(self._run(), "automation timers")

    async def stop(self) -> None:
        """Stop the loop; pending wake-ups are dropped."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._heap.clear()

    def fire_due(self) -> None:
        """Call every callback that is due now."""
        now = self.clock()
        heap = self._heap
        while heap and (heap[0][2].cancelled or heap[0][0] <= now):
            _, _, entry = heapq.heappop(heap)
            if entry.cancelled:
                continue
            try:
                entry.callback()
            except Exception:
                _LOGGER.exception("Timer callback %r failed", entry.callback)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            self.fire_due()
            delay = MAX_SLEEP
            if self._heap:
                delay = min(MAX_SLEEP, max(0.0, (self._heap[0][0] - self.clock()).total_seconds()))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass
