"""The one writer: gathers work from the loop and commits it in batches by count and time.

Callers that need an acknowledgement (``add_reading``) wait on a future that is resolved
only after the COMMIT that holds their row returned; everyone who arrived meanwhile shares
that commit. A batch is written when ``commit_batch`` items are waiting or ``commit_interval``
seconds after the first one arrived, whichever comes first. Exclusive transactions (money,
commands) get the connection between batches. A failed commit never kills the writer:
acknowledged callers get the error, fire-and-forget work is kept (bounded) and retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from ...core import Event, State
from ..codec import from_ms
from ..database.bridge import DbThread
from ..database.connection import is_disk_full, is_locked
from ..errors import StorageError, StorageFull, StorageUnavailable
from ..model import PendingReading
from ..settings import StorageSettings
from .ingest import Batch, Ingest, Interval, OpItem

_LOGGER = logging.getLogger(__name__)

_T = TypeVar("_T")
_MAX_BACKOFF = 60.0
_BACKLOG_FACTOR = 20


class _Op:
    __slots__ = ("future", "item")

    def __init__(self, item: OpItem, future: asyncio.Future[Any]) -> None:
        self.item = item
        self.future = future


class Writer:
    """Batches readings, events, states and small operations into transactions."""

    def __init__(self, db: DbThread, ingest: Ingest, settings: StorageSettings) -> None:
        self._db = db
        self._ingest = ingest
        self._settings = settings
        self._readings: list[PendingReading] = []
        self._events: list[Event] = []
        self._states: dict[str, State | None] = {}
        self._ops: list[_Op] = []
        self._exclusive: list[tuple[asyncio.Future[None], asyncio.Event]] = []
        self._first: float | None = None
        self._wake = asyncio.Event()
        self._flush_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._seq_in = 0
        self._seq_out = 0
        self._stopping = False
        self._writing = False  # a batch taken off the queues is being written
        self._ready = asyncio.Event()
        self.problem: str | None = None
        self.dropped = 0
        self.failed_batches = 0
        # called on the loop with the intervals of each committed batch
        self.on_consumption: Callable[[list[Interval]], None] | None = None

    # --- feeding ------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Items waiting for the next commit."""
        return len(self._readings) + len(self._events) + len(self._states) + len(self._ops)

    def _arrived(self) -> None:
        if self._first is None:
            self._first = time.monotonic()
        self._wake.set()

    def add_reading(self, item: PendingReading) -> None:
        """Queue a validated reading (its future, if any, resolves after the commit)."""
        if item.future is None and len(self._readings) >= self._settings.max_buffer:
            self._readings.pop(0)
            self._dropped()
        self._readings.append(item)
        self._seq_in += 1
        self._arrived()

    def add_event(self, event: Event) -> None:
        """Queue an event for the next commit."""
        if len(self._events) >= self._settings.max_buffer:
            self._events.pop(0)
            self._dropped()
        self._events.append(event)
        self._arrived()

    def set_state(self, entity_id: str, state: State | None) -> None:
        """Remember an entity's latest state (None: removed) for the next commit."""
        self._states[entity_id] = state
        self._arrived()

    async def run_op(self, func: Callable[..., _T], *args: Any) -> _T:
        """Run ``func(conn, ingest, *args)`` in the writer's next transaction; its result."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._ops.append(_Op(OpItem(func, args), future))
        self._arrived()
        result: _T = await future
        return result

    async def flush(self) -> None:
        """Commit everything queued so far, now (later arrivals may share the commit)."""
        if not self.pending and not self._writing:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._flush_waiters.append((self._seq_in, future))
        self._wake.set()
        await future

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Hold the write connection between batches (for an explicit transaction)."""
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        released = asyncio.Event()
        self._exclusive.append((granted, released))
        self._wake.set()
        try:
            await granted
            yield
        finally:
            released.set()

    def _dropped(self) -> None:
        self.dropped += 1
        self._seq_out += 1
        if self.dropped == 1 or self.dropped % 10_000 == 0:
            _LOGGER.error("Storage buffer full (%d items waiting): %d oldest items dropped so far",
                          self._settings.max_buffer, self.dropped)

    # --- the task -----------------------------------------------------------------

    def mark_ready(self) -> None:
        """The database is open: start writing."""
        self._ready.set()

    async def stop(self) -> None:
        """Ask the writer to commit what is left and end."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Write batches until stopped; never raises on database errors."""
        backoff = 1.0
        retries_while_stopping = 0
        while True:
            await self._next_batch_due()
            if self._exclusive and self._ready.is_set() and not self.pending:
                await self._serve_exclusive()
                continue
            if self._stopping and (not self._ready.is_set() or not self.pending):
                break
            if not self.pending:
                self._resolve_flushes()
                continue
            batch, ops, acked = self._take()
            self._writing = True
            try:
                await self._db.run(self._ingest.write_batch, batch)
            except Exception as err:
                retry = await self._failed(batch, ops, acked, err)
                self._writing = False
                if self._exclusive:  # let an explicit transaction try (and fail on its own)
                    await self._serve_exclusive()
                if retry:
                    if self._stopping:
                        retries_while_stopping += 1
                        if retries_while_stopping >= 3:
                            break
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, _MAX_BACKOFF)
                continue
            self._writing = False
            backoff = 1.0
            if self.problem is not None:
                _LOGGER.warning("Storage writes work again (%s is over)", self.problem)
                self.problem = None
            self._done(batch, ops)
            if self._exclusive:
                await self._serve_exclusive()
        if self.pending:
            _LOGGER.error("Storage stopped with %d items not written", self.pending)
        self._fail_all(StorageUnavailable("storage stopped before this was written"))

    async def _next_batch_due(self) -> None:
        while True:
            if not self._ready.is_set():
                if self._stopping:
                    return
                wake = asyncio.create_task(self._wake.wait())
                ready = asyncio.create_task(self._ready.wait())
                await asyncio.wait({wake, ready}, return_when=asyncio.FIRST_COMPLETED)
                wake.cancel()
                ready.cancel()
                self._wake.clear()
                continue
            if self._stopping or self._exclusive or self._flush_waiters or self._ops:
                return
            if len(self._readings) >= self._settings.commit_batch:
                return
            if self._first is None:
                if self.pending:
                    self._first = time.monotonic()
                else:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
            remaining = self._first + self._settings.commit_interval - time.monotonic()
            if remaining <= 0:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._wake.wait()

    async def _serve_exclusive(self) -> None:
        granted, released = self._exclusive.pop(0)
        if granted.done():
            return
        granted.set_result(None)
        await released.wait()

    def _take(self) -> tuple[Batch, list[_Op], int]:
        # Under a backlog take more than commit_batch: more readings per meter per commit
        # means fewer pages written per reading (group commit).
        limit = self._settings.commit_batch * _BACKLOG_FACTOR
        readings, self._readings = self._readings[:limit], self._readings[limit:]
        batch = Batch(readings=readings, events=self._events, states=self._states,
                      ops=[op.item for op in self._ops])
        ops = self._ops
        self._events, self._states, self._ops = [], {}, []
        self._first = time.monotonic() if self.pending else None
        acked = sum(1 for item in readings if item.future is not None)
        return batch, ops, acked

    def _done(self, batch: Batch, ops: list[_Op]) -> None:
        self._seq_out += len(batch.readings)
        if batch.intervals and self.on_consumption is not None:
            try:
                self.on_consumption(batch.intervals)
            except Exception:
                _LOGGER.exception("Consumption listener failed")
        for item in batch.readings:
            if item.future is not None and not item.future.done() and item.outcome is not None:
                item.future.set_result(item.outcome)
        for op in ops:
            if not op.future.done():
                op.future.set_result(op.item.result)
        self._resolve_flushes()

    def _resolve_flushes(self, everything: bool = False) -> None:
        waiting = []
        for target, future in self._flush_waiters:
            if everything or self._seq_out >= target:
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((target, future))
        self._flush_waiters = waiting

    async def _failed(self, batch: Batch, ops: list[_Op], acked: int,
                      err: Exception) -> bool:
        """Handle a failed batch; return whether to back off before the next try."""
        self.failed_batches += 1
        if is_disk_full(err) or is_locked(err):
            kind = "disk full" if is_disk_full(err) else "database locked"
            error: StorageError = (StorageFull if kind == "disk full" else StorageUnavailable)(
                f"{kind}: {err}")
            if self.problem != kind:
                _LOGGER.error("Storage cannot write (%s): %s; %d acknowledged writes refused, "
                              "the rest is kept and retried", kind, err, acked)
            self.problem = kind
            self._requeue(batch, error)
            for op in ops:
                if not op.future.done():
                    op.future.set_exception(error)
            return True
        if len(batch) <= 1:
            _LOGGER.error("Storage could not write %s: %s", _describe(batch), err,
                          exc_info=err)
            self._fail_batch(batch, ops, StorageError(f"not stored: {err}"))
            return False
        _LOGGER.warning("A batch of %d items failed (%s); writing them one by one", len(batch),
                        err)
        await self._one_by_one(batch, ops)
        return False

    async def _one_by_one(self, batch: Batch, ops: list[_Op]) -> None:
        singles: list[tuple[Batch, list[_Op]]] = [
            (Batch(readings=[item]), []) for item in batch.readings]
        singles += [(Batch(events=[event]), []) for event in batch.events]
        if batch.states:
            singles.append((Batch(states=batch.states), []))
        singles += [(Batch(ops=[op.item]), [op]) for op in ops]
        for single, single_ops in singles:
            try:
                await self._db.run(self._ingest.write_batch, single)
            except Exception as err:
                _LOGGER.error("Storage could not write %s: %s", _describe(single), err,
                              exc_info=err)
                self._fail_batch(single, single_ops, StorageError(f"not stored: {err}"))
            else:
                self._done(single, single_ops)

    def _requeue(self, batch: Batch, error: StorageError) -> None:
        keep = []
        for item in batch.readings:
            if item.future is not None and not item.future.done():
                self._seq_out += 1
                item.future.set_exception(error)
            else:  # fire-and-forget, or nobody waits any more: kept and retried
                item.future = None
                keep.append(item)
        self._readings = keep + self._readings
        self._events = batch.events + self._events
        for entity_id, state in batch.states.items():
            self._states.setdefault(entity_id, state)
        overflow = len(self._readings) - self._settings.max_buffer
        if overflow > 0:
            del self._readings[:overflow]
            for _ in range(overflow):
                self._dropped()
        if self.pending and self._first is None:
            self._first = time.monotonic()

    def _fail_batch(self, batch: Batch, ops: list[_Op], error: StorageError) -> None:
        self._seq_out += len(batch.readings)
        for item in batch.readings:
            if item.future is not None and not item.future.done():
                item.future.set_exception(error)
        for op in ops:
            if not op.future.done():
                op.future.set_exception(error)

    def _fail_all(self, error: StorageError) -> None:
        self._fail_batch(Batch(readings=self._readings), self._ops, error)
        self._readings = []
        for granted, _released in self._exclusive:
            if not granted.done():
                granted.set_exception(error)
        self._resolve_flushes(everything=True)


def _describe(batch: Batch) -> str:
    if batch.readings:
        pending = batch.readings[0]
        return f"reading of {pending.meter_id} at {from_ms(pending.ts).isoformat()}"
    if batch.events:
        return f"event {batch.events[0].event_type}"
    if batch.ops:
        return f"operation {getattr(batch.ops[0].func, '__name__', batch.ops[0].func)}"
    return "entity states"
