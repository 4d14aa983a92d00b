"""Storage: the one interface to the hub's history (readings, rollups, events, commands).

Billing, prepaid, the web API and exports call these async methods and get plain records
back (Readings, Decimals, aware datetimes, Events); none of them sees SQL, so this class can
later sit on PostgreSQL/TimescaleDB with the same signatures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, TypeVar

import voluptuous as vol

from ..const import DEFAULT_TIME_ZONE
from ..core import Context, Event, Hub, State, Unsubscribe
from ..events import EVENT_BACKUP_FAILED, EVENT_BACKUP_WRITTEN
from ..i18n import Text, text_of
from ..validation import humanize_invalid
from .codec import from_ms, to_ms
from .const import MS_PER_HOUR, PURGE_BATCH
from .database.bridge import DbThread
from .database.lock import ProcessLock
from .database.opening import closed_cleanly, open_writer
from .errors import StorageError, StorageUnavailable
from .messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)
from .model import (
    CommandRecord,
    ConsumptionRow,
    MeterInfo,
    PendingReading,
    ReadingOutcome,
    ReadingStatus,
    SeriesPoint,
)
from .queries import alarms, commands, history
from .queries.alarms import AlarmAck
from .queries.auth import AuthStore
from .queries.control import ControlStore
from .queries.devices import DeviceStore
from .queries.money import MoneyStore
from .queries.notify import NotifyStore
from .queries.overrides import read_overrides, write_override
from .queries.payments import PaymentStore
from .queries.portal import PortalStore
from .queries.replacements import ReplacementRow, add_replacement, list_replacements
from .schema.migrations import MIGRATIONS, Migration
from .settings import StorageSettings
from .tools import backup as backup_mod
from .tools.backup import BackupInfo
from .tools.export import ExportRequest
from .tools.export import export as export_rows
from .tools.nightly import BackupPlan, BackupSchedule
from .write import meters, retention, transaction
from .write.ingest import Ingest, Interval
from .write.rollups import Calendar
from .write.transaction import Transaction
from .write.validate import Rejected, check_reading
from .write.writer import Writer

_LOGGER = logging.getLogger(__name__)

_T = TypeVar("_T")
Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]
_DAY_MS = 24 * MS_PER_HOUR
_REOPEN_MAX = 300.0


class Storage:
    """The hub's recorder: one writer task, reader threads, and the query API."""

    def __init__(self, settings: StorageSettings, *, time_zone: str | tzinfo = DEFAULT_TIME_ZONE,
                 hub: Hub | None = None, clock: Callable[[], float] = time.time,
                 migrations: Sequence[Migration] = MIGRATIONS) -> None:
        self.settings = settings
        self.path: Path = settings.path
        self.calendar = Calendar(time_zone)
        self.tz: tzinfo = self.calendar.tz
        self.hub = hub
        self._clock = clock
        self._migrations = migrations
        self._wdb = DbThread("storage-writer")
        self._readers: list[DbThread] = []
        self._free: asyncio.Queue[DbThread] = asyncio.Queue()
        self._ingest = Ingest(self.calendar, settings)
        self._writer = Writer(self._wdb, self._ingest, settings)
        self._lock = ProcessLock(self.path)
        self._tasks: list[asyncio.Task[Any]] = []
        self._writer_task: asyncio.Task[None] | None = None
        self._unsubs: list[Unsubscribe] = []
        self._spawn: Spawn | None = None
        self.status = "stopped"
        self.problem: str | None = None
        self.rejected = 0
        # domains whose states their owner rebuilds at start: never saved, never restored
        self.rebuilt_domains: set[str] = set()
        # readings someone waits on (an on-demand read): their id -> the future the writer
        # resolves after the commit that holds them (see watch_commit)
        self._watched: dict[str, asyncio.Future[ReadingOutcome]] = {}

    # --- life-cycle ---------------------------------------------------------------

    @property
    def available(self) -> bool:
        """Whether the database is open for reads and writes."""
        return self.status == "ok"

    def claim(self) -> None:
        """Take the database's process lock now (the hub's bind phase), or raise
        DatabaseLocked naming the MeterHub that holds it; kept until :meth:`stop`."""
        self._lock.acquire()

    def note_holder(self, **facts: Any) -> None:
        """Record facts about this process in the lock (``web_port=8123``) for a MeterHub
        refused by it to show."""
        self._lock.note(**facts)

    async def start(self, spawn: Spawn | None = None) -> None:
        """Open the database and start the writer; never raises for a database problem.

        A locked, unreadable or un-migratable database leaves storage ``unavailable`` with
        the reason logged; it retries in the background (readings fired meanwhile wait in a
        bounded buffer) instead of stopping the hub in a crash loop.
        """
        self._spawn = spawn or _default_spawn
        self.status = "starting"
        self._writer_task = self._spawn(self._writer.run(), "storage writer")
        try:
            await self._open()
        except (StorageError, sqlite3.Error, OSError) as err:
            self._unavailable(err)
            self._tasks.append(self._spawn(self._reopen(), "storage reopen"))
            return
        self._start_nightly()

    def _start_nightly(self) -> None:
        """Start the nightly work once the database is open: maintenance, backups."""
        assert self._spawn is not None
        self._tasks.append(self._spawn(self._maintenance_loop(), "storage maintenance"))
        if self.settings.backup is not None:
            self._tasks.append(self._spawn(self.backups(self.settings.backup).run(),
                                           "storage nightly backup"))

    def backups(self, plan: BackupPlan) -> BackupSchedule:
        """The nightly backup schedule of ``plan``; a failure fires ``backup_failed``."""

        def failed(folder: Path, error: str) -> None:
            if self.hub is not None:
                self.hub.bus.fire(EVENT_BACKUP_FAILED, {"target": str(folder), "error": error})

        def written(info: BackupInfo, removed: list[Path]) -> None:
            if self.hub is not None:
                self.hub.bus.fire(EVENT_BACKUP_WRITTEN, {
                    "path": str(info.path), "size": info.size, "readings": info.readings,
                    "removed": [str(path) for path in removed]})

        return BackupSchedule(self.path, plan, self.tz, self._clock, failed, written)

    async def _open(self) -> None:
        claimed = self._lock.held  # taken by claim(): kept through a failed open
        if not claimed:
            self._lock.acquire()
        try:
            await self._wdb.open_with(open_writer, self.path, self._migrations)
            await self._wdb.run(transaction.set_synchronous, self.settings.synchronous)
            await self._wdb.run(self._ingest.load)
            for index in range(max(1, self.settings.readers)):
                reader = DbThread(f"storage-reader-{index}")
                await reader.open(self.path, readonly=True)
                self._readers.append(reader)
                self._free.put_nowait(reader)
        except BaseException:
            await self._close_connections()
            if not claimed:
                self._lock.release()
            raise
        self.status, self.problem = "ok", None
        _LOGGER.info("Storage open: %s", self.path)
        if self.hub is not None and self.settings.restore_states:
            from .recorder import restore_states

            await restore_states(self.hub, self)
        self._writer.mark_ready()

    def _unavailable(self, err: BaseException) -> None:
        self.status, self.problem = "unavailable", text_of(err)
        _LOGGER.error("Storage is unavailable: %s. MeterHub keeps running; readings wait in "
                      "memory (up to %d) and storage retries in the background",
                      err, self.settings.max_buffer)

    async def _reopen(self) -> None:
        delay = self.settings.reopen_delay
        while self.status == "unavailable":
            await asyncio.sleep(delay)
            try:
                await self._open()
            except (StorageError, sqlite3.Error, OSError) as err:
                if str(err) != self.problem:
                    self._unavailable(err)
                delay = min(delay * 2, _REOPEN_MAX)
                continue
            _LOGGER.warning("Storage is available again: %s", self.path)
            self._start_nightly()

    async def stop(self) -> None:
        """Commit what is queued, close every connection, release the database."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        for future in list(self._watched.values()):
            if not future.done():
                future.set_exception(StorageUnavailable("storage stopped before this reading "
                                                        "was queued"))
        self._watched.clear()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        for task in self._tasks:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._tasks.clear()
        if self._writer_task is not None:
            await self._writer.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer_task
            self._writer_task = None
        was_open = self._wdb.is_open
        await self._close_connections()
        if was_open:
            closed_cleanly(self.path)
        self._lock.release()  # also a claim never opened
        self.status = "stopped"

    async def _close_connections(self) -> None:
        for reader in self._readers:
            await reader.close()
        self._readers.clear()
        self._free = asyncio.Queue()
        await self._wdb.close()

    def on_consumption(self, callback: Callable[[list[Interval]], None] | None) -> None:
        """Call ``callback`` on the loop with the intervals of every committed batch."""
        self._writer.on_consumption = callback

    def attach(self, hub: Hub) -> None:
        """Record the hub's events, states and fired readings."""
        from .recorder import attach

        self._unsubs.extend(attach(hub, self))

    # --- writing readings ---------------------------------------------------------

    def _prepare(self, reading: Any) -> PendingReading | ReadingOutcome:
        now = int(self._clock() * 1000)
        oldest = now - self.settings.retention_days * _DAY_MS
        try:
            ts, checked = check_reading(
                reading, now, int(self.settings.future_tolerance_s * 1000), oldest)
        except Rejected as err:
            self.rejected += 1
            when = getattr(getattr(reading, "time", None), "isoformat", lambda: "?")()
            _LOGGER.warning("Reading of %s at %s rejected: %s",
                            getattr(reading, "meter_id", "?"), when, err)
            return ReadingOutcome(ReadingStatus.REJECTED, text_of(err))
        if checked.flagged:
            _LOGGER.warning("Reading of %s at %s: %s left out, the rest is kept", reading.meter_id,
                            reading.time.isoformat(),
                            "; ".join(why for _name, why in checked.flagged))
        return PendingReading.of(reading, ts, checked)

    def _check_writable(self) -> None:
        if self.status != "ok":
            raise StorageUnavailable(self._why_unavailable())

    def _why_unavailable(self) -> Text:
        """Why nothing can be read or stored now."""
        return Text("storage.unavailable", status=self.status,
                    problem=self.problem or Text("storage.not_started"))

    async def add_reading(self, reading: Any) -> ReadingOutcome:
        """Store a reading; returns once it is COMMITTED (or says why it was not kept).

        Many concurrent callers share one commit. Raises StorageUnavailable/StorageFull when
        the database cannot take it: then the reading was not stored.
        """
        prepared = self._prepare(reading)
        if isinstance(prepared, ReadingOutcome):
            return prepared
        self._check_writable()
        prepared.future = asyncio.get_running_loop().create_future()
        self._writer.add_reading(prepared)
        return await prepared.future

    async def add_readings(self, readings: Iterable[Any]) -> list[ReadingOutcome]:
        """Store many readings; returns once all are committed (outcomes in order)."""
        waits: list[asyncio.Future[ReadingOutcome]] = []
        loop = asyncio.get_running_loop()
        for reading in readings:
            prepared = self._prepare(reading)
            future: asyncio.Future[ReadingOutcome] = loop.create_future()
            if isinstance(prepared, ReadingOutcome):
                future.set_result(prepared)
            else:
                self._check_writable()
                prepared.future = future
                self._writer.add_reading(prepared)
            waits.append(future)
        return list(await asyncio.gather(*waits))

    def enqueue_reading(self, reading: Any) -> bool:
        """Queue a reading without waiting (bulk, bus); False if it was rejected.

        A reading someone watches (:meth:`watch_commit`) carries its watcher's future to the
        writer, which resolves it after the commit that holds the reading."""
        prepared = self._prepare(reading)
        watched = self._watched.pop(getattr(reading, "id", ""), None) if self._watched else None
        if isinstance(prepared, ReadingOutcome):
            if watched is not None and not watched.done():
                watched.set_result(prepared)
            return False
        if watched is not None and not watched.done():
            prepared.future = watched
        self._writer.add_reading(prepared)
        return True

    def watch_commit(self, reading_id: str) -> asyncio.Future[ReadingOutcome] | None:
        """Before a reading is fired on the bus: a future resolved with its outcome once the
        COMMIT that holds it returned (rejected: at once; not written: an error).

        None when storage does not record the bus's readings. This is how an on-demand read
        answers only after its reading is stored (metering's ``ReadingCommits``); scheduled
        reads do not ask, so their throughput does not depend on commits."""
        if not self.settings.record_readings or not self._unsubs:
            return None
        future: asyncio.Future[ReadingOutcome] = asyncio.get_running_loop().create_future()
        self._watched[reading_id] = future

        def forget(done: asyncio.Future[ReadingOutcome]) -> None:
            if self._watched.get(reading_id) is done:
                del self._watched[reading_id]

        future.add_done_callback(forget)
        return future

    async def flush(self) -> None:
        """Commit everything queued so far."""
        if self.status == "ok":
            await self._writer.flush()

    def record_event(self, event: Event) -> None:
        """Queue an event (with its context) for the next commit."""
        self._writer.add_event(event)

    def record_state(self, entity_id: str, state: State | None) -> None:
        """Remember an entity's latest state for restore after a restart."""
        self._writer.set_state(entity_id, state)

    def rebuild_states_of(self, domain: str) -> None:
        """Neither save nor restore the states of ``domain``: its owner rebuilds them at
        start from its own durable rows (the ledger's balances), so none can be stale."""
        self.rebuilt_domains.add(domain)

    async def upsert_meters(self, specs: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> int:
        """Insert or update meters: id, kind, tags, device, name, max_rate, register_digits."""
        raw = meters.as_specs(specs if isinstance(specs, Mapping) else list(specs))
        try:
            valid = meters.validate(raw)
        except vol.Invalid as err:
            raise ValueError("; ".join(humanize_invalid(err, raw, "meters"))) from None
        self._check_writable()
        return await self._writer.run_op(meters.upsert, valid, int(self._clock() * 1000))

    # --- transactions and commands ------------------------------------------------

    @contextlib.asynccontextmanager
    async def transaction(self, durable: bool = True) -> AsyncIterator[Transaction]:
        """An explicit write transaction between batches; ``durable`` commits with FULL sync.

        Queued readings are committed first. Use it for money (ledger) and command rows::

            async with storage.transaction(durable=True) as tx:
                await tx.run(write_entries, entries)
        """
        self._check_writable()
        async with self._writer.exclusive():
            try:
                # inside the try: a caller cancelled while its BEGIN waits in the writer's
                # thread still has it run there, and must roll it back
                await self._wdb.run(transaction.begin, durable)
                yield Transaction(self._wdb)
                await self._wdb.run(transaction.commit, self.settings.synchronous)
            except BaseException:
                # queued behind whatever the thread still runs for us; shielded, so a second
                # cancellation cannot leave the connection in a transaction either
                await asyncio.shield(self._wdb.run(transaction.rollback,
                                                   self.settings.synchronous))
                raise

    async def create_command(self, command_id: str, meter_id: str, command: str, *,
                             state: str = "queued", params: Mapping[str, Any] | None = None,
                             context: Context | None = None) -> None:
        """Durably create a command row in its first state."""
        now = int(self._clock() * 1000)
        async with self.transaction(durable=True) as tx:
            await tx.run(commands.create, command_id, meter_id, command, state, params or {},
                         now, context)

    async def transition_command(self, command_id: str, state: str, *,
                                 expected: Sequence[str] | str | None = None,
                                 detail: Mapping[str, Any] | None = None,
                                 error: str | None = None, attempt: bool = False,
                                 context: Context | None = None) -> str:
        """Durably move a command to ``state``; returns the state it left.

        With ``expected``, raises CommandConflict unless the command is in (one of) it.
        """
        if isinstance(expected, str):
            expected = (expected,)
        now = int(self._clock() * 1000)
        async with self.transaction(durable=True) as tx:
            return await tx.run(lambda conn: commands.transition(
                conn, command_id, state, now, expected=expected, detail=detail, error=error,
                attempt=attempt, context=context))

    async def command(self, command_id: str) -> CommandRecord | None:
        """One command with all its transitions."""
        return await self._read(commands.get, command_id)

    async def commands(self, *, meter_id: str | None = None, states: Sequence[str] = (),
                       since: datetime | None = None, limit: int = 1000) -> list[CommandRecord]:
        """Commands by meter and/or state, newest first."""
        return await self._read(lambda conn: commands.find(
            conn, meter_id=meter_id, states=states,
            since=to_ms(since) if since else None, limit=limit))

    # --- queries --------------------------------------------------------------------

    async def _read(self, func: Callable[..., _T], *args: Any) -> _T:
        if self.status != "ok":
            raise StorageUnavailable(self._why_unavailable())
        reader = await self._free.get()
        try:
            return await reader.run(func, *args)
        finally:
            self._free.put_nowait(reader)

    async def consumption(self, meter_id: str | None = None, *,
                          tags: Mapping[str, str] | None = None, start: datetime,
                          end: datetime, resolution: str = "day") -> list[ConsumptionRow]:
        """Consumption per local hour/day/month starting in [start, end), per register.

        Give a meter id, or a tag filter (one ``key: value`` reads the tag's own rollups;
        several are summed over the meters that carry them all).
        """
        first, last = int(start.timestamp()), math.ceil(end.timestamp())
        return await self._read(lambda conn: history.consumption(
            conn, self.tz, meter_id=meter_id, tags=tags, start=first, end=last,
            resolution=resolution))

    async def latest_reading(self, meter_id: str) -> Any:
        """The newest stored Reading of a meter, or None."""
        return await self._read(history.latest_reading, meter_id)

    async def readings(self, meter_id: str, start: datetime, end: datetime,
                       limit: int | None = None) -> list[Any]:
        """A meter's Readings with start <= time < end, oldest first."""
        return await self._read(history.readings, meter_id, to_ms(start), to_ms(end), limit)

    async def reading_times_before(self, asks: Sequence[tuple[str, datetime, datetime]]
                                   ) -> dict[str, datetime]:
        """For each (meter, start, end), the newest stored reading's time in [start, end);
        many meters in one hop to the database."""
        found = await self._read(history.reading_times_before, [
            (meter_id, to_ms(start), to_ms(end)) for meter_id, start, end in asks])
        return {meter_id: from_ms(ts) for meter_id, ts in found.items()}

    async def series(self, meter_id: str, point: str, start: datetime, end: datetime,
                     max_points: int = 500, mode: str = "auto") -> list[SeriesPoint]:
        """A chart series of at most ``max_points`` points (consumption for registers)."""
        return await self._read(history.series, self.tz, meter_id, point, to_ms(start),
                                to_ms(end), max_points, mode)

    async def events(self, start: datetime | None = None, end: datetime | None = None, *,
                     event_types: Sequence[str] = (), context_id: str | None = None,
                     limit: int = 1000) -> list[Event]:
        """Recorded events, oldest first; by type, or by a context and its children."""
        first = to_ms(start) if start else 0
        last = to_ms(end) if end else int(self._clock() * 1000) + _DAY_MS
        return await self._read(history.events, first, last, tuple(event_types), context_id,
                                limit)

    async def meter_events(self, meter_id: str, since: datetime, limit: int = 50
                           ) -> list[Event]:
        """The newest recorded events since ``since`` that name ``meter_id``, newest first."""
        return await self._read(history.meter_events, meter_id, to_ms(since), limit)

    async def meters(self, tags: Mapping[str, str] | None = None) -> list[MeterInfo]:
        """Known meters, optionally those with all the given tags."""
        return await self._read(history.meters, tags)

    async def saved_states(self) -> list[tuple[Any, ...]]:
        """Every saved entity state (for restore)."""
        return await self._read(history.states)

    async def export(self, request: ExportRequest, path: Path, fmt: str) -> int:
        """Write a CSV or Excel export; return the number of data rows."""
        return await self._read(export_rows, self.tz, request, path, fmt)

    # --- maintenance ----------------------------------------------------------------

    async def purge(self, now: datetime | None = None) -> dict[str, int]:
        """Delete raw rows past their retention, in small chunks that yield in between."""
        self._check_writable()
        now_ms = to_ms(now) if now else int(self._clock() * 1000)
        cutoff = now_ms - self.settings.retention_days * _DAY_MS
        keys = await self._writer.run_op(retention.meter_keys)
        removed = {"readings": 0, "events": 0, "hourly_rollups": 0}
        while keys:
            deleted, done = await self._writer.run_op(retention.purge_readings_chunk, keys,
                                                      cutoff, PURGE_BATCH)
            removed["readings"] += deleted
            keys = keys[done:]
            await asyncio.sleep(0.01)
        event_cutoff = now_ms - self.settings.events_kept_days * _DAY_MS
        while True:
            deleted = await self._writer.run_op(retention.purge_events_chunk, event_cutoff,
                                                PURGE_BATCH)
            removed["events"] += deleted
            await asyncio.sleep(0.01)
            if deleted < PURGE_BATCH:
                break
        if self.settings.rollup_retention_days:
            hour_cutoff = (now_ms - self.settings.rollup_retention_days * _DAY_MS) // 1000
            series = await self._writer.run_op(retention.series_keys)
            for index in range(0, len(series), 200):
                removed["hourly_rollups"] += await self._writer.run_op(
                    retention.purge_hourly_chunk, series[index:index + 200], hour_cutoff)
                await asyncio.sleep(0.01)
        if any(removed.values()):
            _LOGGER.info("Purged %(readings)d readings, %(events)d events, "
                         "%(hourly_rollups)d hourly rollups", removed)
        return removed

    async def maintenance(self, now: datetime | None = None) -> dict[str, Any]:
        """Nightly work: purge, checkpoint the WAL, ``PRAGMA optimize``."""
        removed: dict[str, Any] = dict(await self.purge(now))
        async with self._writer.exclusive():
            removed.update(await self._wdb.run(retention.checkpoint_and_optimize))
        return removed

    async def _maintenance_loop(self) -> None:
        while True:
            await asyncio.sleep(self._seconds_to_maintenance())
            try:
                await self.maintenance()
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("Nightly storage maintenance failed; it runs again tomorrow")

    def _seconds_to_maintenance(self) -> float:
        now = datetime.fromtimestamp(self._clock(), self.tz)
        at = self.settings.maintenance_at
        target = now.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
        if target <= now:
            target += timedelta(days=1)
        return max(1.0, (target - now).total_seconds())

    async def backup(self, target: Path) -> backup_mod.BackupInfo:
        """Write a consistent online backup to ``target`` (a new file)."""
        self._check_writable()
        return await asyncio.to_thread(backup_mod.backup, self.path, target)

    @property
    def backlog(self) -> int:
        """Items waiting for the writer (for back-pressure in bulk imports)."""
        return self._writer.pending

    def stats(self) -> dict[str, Any]:
        """Counters for health pages and tests."""
        return {
            "status": self.status,
            "problem": self.problem or self._writer.problem,
            "commits": self._ingest.commits,
            "pending": self._writer.pending,
            "dropped": self._writer.dropped,
            "rejected": self.rejected,
            "failed_batches": self._writer.failed_batches,
        }

    # --- money and control: stores handed to prepaid and billing -------------------

    async def money_write(self, work: Callable[[MoneyStore], _T]) -> _T:
        """Run ``work(store)`` in one durable (synchronous=FULL) write transaction.

        Everything ``work`` writes commits together or not at all; the result comes back only
        after the COMMIT returned, so nothing is acknowledged before it is on disk.
        """
        async with self.transaction(durable=True) as tx:
            return await tx.run(lambda conn: work(MoneyStore(conn)))

    async def money_read(self, work: Callable[[MoneyStore], _T]) -> _T:
        """Run ``work(store)`` on a reader connection (committed data only)."""
        return await self._read(lambda conn: work(MoneyStore(conn)))

    async def control_write(self, work: Callable[[ControlStore], _T]) -> _T:
        """Run ``work(store)`` in one durable (synchronous=FULL) write transaction."""
        async with self.transaction(durable=True) as tx:
            return await tx.run(lambda conn: work(ControlStore(conn)))

    async def control_read(self, work: Callable[[ControlStore], _T]) -> _T:
        """Run ``work(store)`` on a reader connection (committed data only)."""
        return await self._read(lambda conn: work(ControlStore(conn)))

    async def device_write(self, work: Callable[[DeviceStore], _T]) -> _T:
        """Run ``work(store)`` (device commands and jobs) in one durable transaction."""
        async with self.transaction(durable=True) as tx:
            return await tx.run(lambda conn: work(DeviceStore(conn)))

    async def device_read(self, work: Callable[[DeviceStore], _T]) -> _T:
        """Run ``work(store)`` on a reader connection (committed data only)."""
        return await self._read(lambda conn: work(DeviceStore(conn)))

    # --- automations: waiting runs, time triggers' last firing ----------------------

    async def automation_write(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work(conn)`` (hub.storage.queries.automation) in one durable transaction."""
        async with self.transaction(durable=True) as tx:
            return await tx.run(work)

    async def automation_read(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work(conn)`` on a reader connection (committed data only)."""
        return await self._read(work)

    # --- payments: orders, refunds, notifications, reconciliations -------------------

    async def payments_write(self, work: Callable[[PaymentStore], _T]) -> _T:
        """Run ``work(store)`` in one durable (synchronous=FULL) write transaction."""
        async with self.transaction(durable=True) as tx:
            return await tx.run(lambda conn: work(PaymentStore(conn)))

    async def payments_read(self, work: Callable[[PaymentStore], _T]) -> _T:
        """Run ``work(store)`` on a reader connection (committed data only)."""
        return await self._read(lambda conn: work(PaymentStore(conn)))

    # --- notifications: the outbox ----------------------------------------------------

    async def notify_write(self, work: Callable[[NotifyStore], _T]) -> _T:
        """Run ``work(store)`` in one durable write transaction (acknowledged once on disk)."""
        async with self.transaction(durable=True) as tx:
            return await tx.run(lambda conn: work(NotifyStore(conn)))

    async def notify_read(self, work: Callable[[NotifyStore], _T]) -> _T:
        """Run ``work(store)`` on a reader connection (committed data only)."""
        return await self._read(lambda conn: work(NotifyStore(conn)))

    # --- alarm acknowledgements ----------------------------------------------------

    async def alarm_acks(self, alarm_ids: Sequence[str]) -> dict[str, AlarmAck]:
        """The acknowledgements of some alarms, by id."""
        return await self._read(alarms.acks, list(alarm_ids))

    async def acknowledge_alarm(self, ack: AlarmAck) -> AlarmAck:
        """Store an acknowledgement durably; the first one stored wins and is returned."""
        async with self.transaction(durable=True) as tx:
            return await tx.run(lambda conn: alarms.acknowledge(conn, ack))

    # --- access: users, sessions, tokens --------------------------------------------

    async def auth_write(self, work: Callable[[AuthStore], _T], durable: bool = True) -> _T:
        """Run ``work(store)`` in one write transaction (users, sessions, tokens, their log)."""
        async with self.transaction(durable=durable) as tx:
            return await tx.run(lambda conn: work(AuthStore(conn)))

    async def auth_read(self, work: Callable[[AuthStore], _T]) -> _T:
        """Run ``work(store)`` on a reader connection (committed data only)."""
        return await self._read(lambda conn: work(AuthStore(conn)))

    # --- the tenant portal: link tokens (hashed), announcements ---------------------

    async def portal_write(self, work: Callable[[PortalStore], _T]) -> _T:
        """Run ``work(store)`` in one durable write transaction (tenant links, announcements)."""
        async with self.transaction(durable=True) as tx:
            return await tx.run(lambda conn: work(PortalStore(conn)))

    async def portal_read(self, work: Callable[[PortalStore], _T]) -> _T:
        """Run ``work(store)`` on a reader connection (committed data only)."""
        return await self._read(lambda conn: work(PortalStore(conn)))

    # --- runtime settings on top of YAML ----------------------------------------------

    async def overrides(self, scope: str) -> list[tuple[str, str, str, str | None, int,
                                                        str | None]]:
        """Every stored override of a scope: (item, field, value, base, updated_ts, user)."""
        return await self._read(lambda conn: read_overrides(conn, scope))

    async def set_overrides(self, scope: str, changes: Sequence[tuple[str, str, str | None,
                                                                      str | None, str]],
                            context: Context | None = None) -> None:
        """Durably set or drop overrides: (item, field, value or None, base, action)."""
        ts = int(self._clock() * 1000)
        context_id = context.id if context else None
        user_id = context.user_id if context else None

        def work(conn: sqlite3.Connection) -> None:
            for item, field, value, base, action in changes:
                write_override(conn, scope, item, field, value, base, ts, context_id, user_id,
                               action)

        async with self.transaction(durable=True) as tx:
            await tx.run(work)

    # --- meter replacements -------------------------------------------------------------

    async def add_replacement(self, row: ReplacementRow) -> None:
        """Durably record a meter replacement."""
        async with self.transaction(durable=True) as tx:
            await tx.run(lambda conn: add_replacement(conn, row))

    async def replacements(self, meter_id: str | None = None,
                           limit: int = 200) -> list[ReplacementRow]:
        """Recorded replacements, newest first (of one meter when given)."""
        return await self._read(lambda conn: list_replacements(conn, meter_id, limit))


def _default_spawn(coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
    return asyncio.get_running_loop().create_task(coro, name=name)


__all__ = ["Storage", "Transaction"]
