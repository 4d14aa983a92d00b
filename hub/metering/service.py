"""The metering service: meters and links from YAML, reads with retries, online tracking.

Reads of meters in different groups (buses, DTUs) run concurrently; within a group the link
serialises them. A read that fails after its retries counts as a miss; ``offline_after``
misses in a row mark a meter offline, its next success marks it online again. Every read
fires ``reading`` or ``read_failed``, and updates the meter's state ``meter.<id>``.

Metering sits below storage: it never imports it. What it needs of the ``storage``
component is declared here and storage's component provides it: a place to record each
meter's kind and tags (:class:`MeterRegistry`), and word of when a reading is committed
(:class:`ReadingCommits`), so a read that answers a user with a reading answers only once the
reading is stored. Scheduled reads never wait for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from ..core import Context
from ..events import EVENT_METER_OFFLINE, EVENT_METER_ONLINE, EVENT_READ_FAILED, EVENT_READING
from ..i18n import Joined, Text, text_of
from ..util.dt import utcnow
from ..util.ids import slugify
from ..util.memory import shared_mapping
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import MAIN_REGISTERS, STORE_WAIT_S
from .link import Link, LinkUnavailable
from .model import (
    Capability,
    Command,
    CommandResult,
    MeterModel,
    MeterRef,
    NoReply,
    ProtocolError,
    ReadResult,
    Transport,
)
from .reading import Reading, ReadingSource
from .stats import CollectionStats

if TYPE_CHECKING:
    from ..core import Hub

__all__ = [
    "Meter",
    "MeterRegistry",
    "MeteringService",
    "ReadFailed",
    "ReadingCommits",
    "StoredReads",
]

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")


@runtime_checkable
class MeterRegistry(Protocol):
    """What metering asks of the ``storage`` component: record the configured meters."""

    async def upsert_meters(self, specs: Iterable[Mapping[str, Any]]) -> int:
        """Add or update meters (``id``, ``kind``, ``tags``, ``device``, ``name``)."""
        ...


class CommitOutcome(Protocol):
    """What a committed (or refused) reading's future resolves to."""

    @property
    def stored(self) -> bool:
        """Whether the reading is in the database now."""
        ...

    @property
    def reason(self) -> str:
        """Why it is not (empty when stored)."""
        ...


@runtime_checkable
class ReadingCommits(Protocol):
    """What an on-demand read asks of the ``storage`` component: when is a reading committed."""

    def watch_commit(self, reading_id: str) -> asyncio.Future[CommitOutcome] | None:
        """Called before the reading is fired: a future resolved with its outcome once the
        COMMIT that holds it returned (or failed with why it was not stored); None when
        readings fired on the bus are not recorded."""
        ...


@dataclass(frozen=True, slots=True)
class StoredReads:
    """Reads that waited for storage: who was read, who failed (and why: ``errors``, one per
    failed meter), whose reading is not stored."""

    read: list[str]
    failed: list[str]
    readings: list[Reading]
    not_stored: dict[str, str]
    errors: list[str] = field(default_factory=list)


@dataclass(slots=True)  # no __dict__ a meter: 10,000 of them
class Meter:
    """A configured meter and what the hub knows of it now."""

    id: str
    name: str
    model: MeterModel
    link: Link
    ref: MeterRef
    tags: Mapping[str, str]
    config: Mapping[str, Any]
    entity_id: str
    online: bool | None = None
    misses: int = 0
    last_reading: Reading | None = None
    # the latest value of every point read so far: a partial read (a command's read-back of
    # the relay) updates what it read and keeps the rest
    registers: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    last_attempt: datetime | None = None
    last_error: str | None = None
    group: str = ""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def kind(self) -> str:
        """electricity or water."""
        return str(self.model.kind_of(self.ref))


class ReadFailed(Exception):
    """A read of one meter failed after its retries; the message says why."""


class MeteringService:
    """Owns links and meters; reads, re-reads and tracks them."""

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        self.hub = hub
        self.options: Mapping[str, Any] = config.get("metering") or {}
        self.links: dict[str, Link] = {}
        self.meters: dict[str, Meter] = {}
        self._by_account: dict[str, list[Meter]] = {}
        self.stats = CollectionStats()
        self.link_problems: dict[str, str] = {}  # links that could not start, and why
        self._semaphore = asyncio.Semaphore(int(self.options.get("concurrency", 256)))
        # called (meter, result, reading time) before a result becomes a Reading: a higher
        # layer registers itself here at set-up (CT/PT ratios scale registers and values)
        self.scalers: list[Callable[[Meter, ReadResult, datetime], None]] = []
        self._build(config)

    # --- set-up -------------------------------------------------------------------

    def _build(self, config: Mapping[str, Any]) -> None:
        registries = self.hub.plugins.registries
        for index, link_config in enumerate(config.get("links") or []):
            link_type = registries.link_types.get(link_config["type"])
            if link_type is None:
                _LOGGER.error("Link %s: type %s is not loaded; its meters are left out",
                              link_config["id"], link_config["type"])
                continue
            link = self.links[link_config["id"]] = link_type.create(self.hub, link_config)
            link.config_key = f"links[{index}]"
        for meter_config in config.get("meters") or []:
            if meter_config.get("enabled", True):
                self.add_meter(meter_config)
        for link in self.links.values():
            link.on_uplink = self._on_uplink

    def add_meter(self, meter_config: Mapping[str, Any]) -> Meter | None:
        """Put one validated ``meters:`` entry on its link (at set-up, or added at runtime);
        None, logged, when its model or link is not available."""
        registries = self.hub.plugins.registries
        model = registries.meter_models.get(meter_config["model"])
        link = self.links.get(meter_config["link"])
        if model is None or link is None:
            _LOGGER.error("Meter %s left out: model %s or link %s is not available",
                          meter_config["id"], meter_config["model"], meter_config["link"])
            return None
        ref = MeterRef(meter_config["id"], meter_config["address"],
                       shared_mapping(meter_config.get("options") or {}))
        meter = Meter(
            id=meter_config["id"],
            name=meter_config.get("name") or meter_config["id"],
            model=model,
            link=link,
            ref=ref,
            tags=shared_mapping(meter_config.get("tags") or {}),
            config=meter_config,
            entity_id=f"meter.{slugify(meter_config['id'])}",
        )
        link.add_meter(ref, model, meter_config.get("link_options") or {})
        meter.group = f"{link.id}/{link.group_of(ref)}"
        self.meters[meter.id] = meter
        if meter_config.get("account"):
            self._by_account.setdefault(str(meter_config["account"]), []).append(meter)
        return meter

    def _reindex_account(self, meter: Meter, config: Mapping[str, Any]) -> None:
        """Move a meter from its configured account's list to ``config``'s account's."""
        before, after = meter.config.get("account"), config.get("account")
        if before == after:
            return
        if before and meter in self._by_account.get(str(before), ()):
            self._by_account[str(before)].remove(meter)
        if after:
            self._by_account.setdefault(str(after), []).append(meter)

    def update_meter(self, meter_config: Mapping[str, Any]) -> Meter:
        """Take a changed entry of a configured meter (name, tags, account, tariff...): the
        device stays (a new device is :meth:`replace_device`). KeyError for an unknown one."""
        meter = self.meters[meter_config["id"]]
        self._reindex_account(meter, meter_config)
        meter.config = meter_config
        meter.name = meter_config.get("name") or meter.id
        meter.tags = shared_mapping(meter_config.get("tags") or {})
        return meter

    def replace_device(self, meter_id: str, meter_config: Mapping[str, Any]) -> Meter:
        """Put a new physical device (``meter_config``'s address and link options) behind a
        meter: it keeps its id and history, the registers read from the old device are
        forgotten, and so are the link's index entries of the old device. KeyError for an
        unknown meter."""
        meter = self.meters[meter_id]
        ref = MeterRef(meter_id, meter_config["address"],
                       shared_mapping(meter_config.get("options") or {}))
        meter.link.remove_meter(meter_id)  # the old device's IMEI, address... lead nowhere
        meter.link.add_meter(ref, meter.model, meter_config.get("link_options") or {})
        self._reindex_account(meter, meter_config)
        meter.ref = ref
        meter.config = meter_config
        meter.group = f"{meter.link.id}/{meter.link.group_of(ref)}"
        meter.registers.clear()
        meter.last_reading = None
        meter.misses = 0
        meter.online = None
        return meter

    def remove_meter(self, meter_id: str, context: Context | None = None) -> bool:
        """Take a meter out (disabled at runtime): no longer read, commanded or reachable
        through its link, its entity gone, as if hub.yaml had it ``enabled: false`` at start.
        False when it was not in."""
        meter = self.meters.pop(meter_id, None)
        if meter is None:
            return False
        meter.link.remove_meter(meter_id)
        account = meter.config.get("account")
        if account and meter in self._by_account.get(str(account), ()):
            self._by_account[str(account)].remove(meter)
        self.hub.states.remove(meter.entity_id, context)
        return True

    async def record(self, meter_id: str, registers: Mapping[str, Any], when: datetime, *,
                     device: str, context: Context | None = None) -> tuple[Reading, str | None]:
        """Record registers typed by hand (a meter read with the eyes) as a reading of
        ``device`` at ``when``, and wait for storage: (reading, None once stored, else why
        not). KeyError for an unknown meter."""
        meter = self.meters[meter_id]
        reading = Reading(meter_id=meter.id, time=when, registers=dict(registers),
                          device=device, link_id=meter.link.id, source=ReadingSource.MANUAL,
                          quality={"typed": True})
        commit = self._watch_commit(reading)
        self.hub.bus.fire(EVENT_READING, {"meter_id": meter.id, "reading": reading},
                          context=context or Context(origin="metering"))
        return reading, await self._not_stored(reading, commit)

    async def bind_links(self) -> None:
        """Bind every link's listening ports (the hub's bind phase): PortInUse for the first
        that is taken; those bound before it are closed by :meth:`stop_links`."""
        for link in self.links.values():
            await link.bind()

    async def start_links(self) -> None:
        """Register the meters with storage, then start every link (one that fails is
        logged and its meters stay unreachable)."""
        await self.register_meters()
        for link in self.links.values():
            try:
                await link.start()
            except Exception as err:
                _LOGGER.exception("Link %s could not start", link.id)
                self.link_problems[link.id] = f"did not start ({type(err).__name__}: {err})"

    async def register_meters(self, meter_ids: Iterable[str] | None = None) -> None:
        """Tell storage each meter's (or the given meters') kind, tags and device, for
        rollups and counter rules."""
        chosen = [self.meters[i] for i in meter_ids if i in self.meters] if meter_ids \
            is not None else list(self.meters.values())
        if not self.hub.has_component("storage") or not chosen:
            return
        storage = self.hub.component("storage", object)
        if not isinstance(storage, MeterRegistry):
            raise TypeError(f"component 'storage' is a {type(storage).__name__}, not a "
                            "MeterRegistry")
        specs = [{"id": m.id, "kind": m.kind, "tags": dict(m.tags), "device": m.ref.address,
                  "name": m.name} for m in chosen]
        try:
            await storage.upsert_meters(specs)
        except Exception as err:  # storage unavailable: readings still flow, tags later
            _LOGGER.error("Meters not registered with storage: %s", err)

    async def stop_links(self) -> None:
        """Stop every link."""
        for link in self.links.values():
            try:
                await link.stop()
            except Exception:
                _LOGGER.exception("Link %s did not stop cleanly", link.id)

    # --- selection ----------------------------------------------------------------

    def select(self, *, meters: Iterable[str] = (), tags: Mapping[str, str] | None = None,
               link: str | None = None) -> list[Meter]:
        """Meters by id, or by tags (all must match) and/or link; all if nothing given."""
        ids = list(meters)
        if ids:
            return [self.meters[i] for i in ids if i in self.meters]
        chosen = []
        for meter in self.meters.values():
            if link is not None and meter.link.id != link:
                continue
            if tags and any(meter.tags.get(k) != v for k, v in tags.items()):
                continue
            chosen.append(meter)
        return chosen

    def meters_of(self, account_id: str) -> list[Meter]:
        """The meters an account pays for (as configured)."""
        return list(self._by_account.get(account_id, ()))

    # --- reading ------------------------------------------------------------------

    async def read(self, meter_id: str, *, points: Sequence[str] | None = None,
                   source: ReadingSource = ReadingSource.ON_DEMAND,
                   context: Context | None = None) -> Reading:
        """Read one meter now (with retries); raise ReadFailed with the reason.

        The reading is fired and queued for storage; this does not wait for its commit
        (see :meth:`read_stored`)."""
        reading, _commit = await self._read(meter_id, points, source, context, durable=False)
        return reading

    async def read_stored(self, meter_id: str, *, points: Sequence[str] | None = None,
                          source: ReadingSource = ReadingSource.ON_DEMAND,
                          context: Context | None = None) -> tuple[Reading, str | None]:
        """Read one meter now and wait until storage committed the reading.

        Returns the reading and None once it is stored, or the reading and why it is not
        stored (yet): a user is told a reading was taken only with what became of it."""
        reading, commit = await self._read(meter_id, points, source, context, durable=True)
        return reading, await self._not_stored(reading, commit)

    async def _read(self, meter_id: str, points: Sequence[str] | None,
                    source: ReadingSource, context: Context | None, *,
                    durable: bool) -> tuple[Reading, asyncio.Future[CommitOutcome] | None]:
        meter = self.meters.get(meter_id)
        if meter is None:
            raise KeyError(Text("metering.unknown_meter", meter=meter_id))
        if Capability.SLEEPY in meter.model.capabilities and source is not ReadingSource.UPLINK:
            raise ReadFailed(Text("metering.sleeps", meter=meter_id))
        retries = int(self.options.get("retries", 2))
        delay: timedelta = self.options.get("retry_delay", timedelta(seconds=1))
        timeout = self._timeout(meter)
        points = self.points_for(meter, points)
        last_error: str = Text("metering.not_attempted")
        started = asyncio.get_running_loop().time()
        async with self._semaphore, meter.lock:
            for attempt in range(retries + 1):
                if attempt:
                    await asyncio.sleep(delay.total_seconds() * attempt)
                meter.last_attempt = utcnow()
                try:
                    transport = meter.link.transport_for(meter.ref)
                    result = await meter.model.read(_Timed(transport, timeout), meter.ref,
                                                    points)
                except (NoReply, LinkUnavailable, ProtocolError, TimeoutError) as err:
                    last_error = text_of(err) or type(err).__name__
                    continue
                if result.frames and not (result.registers or result.values or result.status):
                    last_error = Joined(Text("metering.point_failed", point=k, reason=v)
                                        for k, v in result.errors.items())
                    continue
                elapsed = asyncio.get_running_loop().time() - started
                return self._accept(meter, result, source, context,
                                    {"attempts": attempt + 1, "seconds": round(elapsed, 3),
                                     **meter.link.reading_quality(meter.ref)},
                                    durable=durable)
        self._failure(meter, last_error, source, context, retries + 1)
        raise ReadFailed(Text("metering.read_failed", meter=meter_id, reason=last_error))

    @staticmethod
    def points_for(meter: Meter, points: Sequence[str] | None) -> list[str] | None:
        """The points a read asks a meter for: ``default`` stands for the model's default
        points; points the model cannot read are left out (a plan may mix meter kinds)."""
        if points is None:
            return None
        known = set(meter.model.points())
        wanted: list[str] = []
        for point in points:
            expanded = meter.model.default_points() if point == "default" else [point]
            wanted.extend(p for p in expanded if p in known and p not in wanted)
        return wanted

    async def read_many(self, meters: Iterable[Meter], *,
                        source: ReadingSource = ReadingSource.SCHEDULED,
                        points: Sequence[str] | None = None,
                        context: Context | None = None) -> tuple[list[str], list[str]]:
        """Read meters: groups concurrently, meters of one group one after another.

        Returns the ids of the meters read and of those that failed. Never waits for
        storage: a reading plan's throughput is the links' alone.
        """
        done = await self._read_groups(meters, source, points, context, durable=False)
        return done.read, done.failed

    async def read_many_stored(self, meters: Iterable[Meter], *,
                               source: ReadingSource = ReadingSource.ON_DEMAND,
                               points: Sequence[str] | None = None,
                               context: Context | None = None) -> StoredReads:
        """Like :meth:`read_many`, answering once every reading is committed (or says why
        one is not stored)."""
        return await self._read_groups(meters, source, points, context, durable=True)

    async def _read_groups(self, meters: Iterable[Meter], source: ReadingSource,
                           points: Sequence[str] | None, context: Context | None, *,
                           durable: bool) -> StoredReads:
        groups: dict[str, list[Meter]] = defaultdict(list)
        for meter in meters:
            if Capability.SLEEPY not in meter.model.capabilities:
                groups[meter.group].append(meter)
        done = StoredReads([], [], [], {})
        waits: list[Any] = []

        async def _stored(reading: Reading,
                          commit: asyncio.Future[CommitOutcome] | None) -> None:
            why = await self._not_stored(reading, commit)
            if why is not None:
                done.not_stored[reading.meter_id] = why

        async def _group(members: list[Meter]) -> None:
            for meter in members:
                try:
                    reading, commit = await self._read(meter.id, points, source, context,
                                                       durable=durable)
                    done.read.append(meter.id)
                    if durable:
                        done.readings.append(reading)
                        waits.append(_stored(reading, commit))
                except ReadFailed as err:
                    done.failed.append(meter.id)
                    done.errors.append(text_of(err))
                except Exception as err:
                    done.failed.append(meter.id)
                    done.errors.append(Text("metering.read_failed", meter=meter.id,
                                            reason=text_of(err) or type(err).__name__))
                    _LOGGER.exception("Read of %s failed unexpectedly", meter.id)

        await asyncio.gather(*(_group(members) for members in groups.values()))
        await asyncio.gather(*waits)
        return done

    def _watch_commit(self, reading: Reading) -> asyncio.Future[CommitOutcome] | None:
        """Ask storage (before the reading is fired) to tell when it is committed."""
        if not self.hub.has_component("storage"):
            return None
        storage = self.hub.component("storage", object)
        if not isinstance(storage, ReadingCommits):
            return None
        return storage.watch_commit(reading.id)

    @staticmethod
    async def _not_stored(reading: Reading,
                          commit: asyncio.Future[CommitOutcome] | None) -> str | None:
        """Wait (bounded) for a watched reading's commit; None once stored, else why not."""
        if commit is None:
            return f"reading {reading.id} is not stored: readings are not recorded"
        try:
            async with asyncio.timeout(STORE_WAIT_S):
                outcome = await commit
        except TimeoutError:
            return (f"reading {reading.id} is not stored yet: storage did not commit it "
                    f"within {STORE_WAIT_S:g} s")
        except Exception as err:  # storage refused it (disk full, stopped...)
            return f"reading {reading.id} is not stored: {err}"
        if not outcome.stored:
            return f"reading {reading.id} is not stored: {outcome.reason}"
        return None

    def scale(self, meter: Meter, result: ReadResult, when: datetime) -> None:
        """Apply the registered scalers to a result read at ``when`` (in place)."""
        for scaler in self.scalers:
            scaler(meter, result, when)

    def _accept(self, meter: Meter, result: ReadResult, source: ReadingSource,
                context: Context | None, quality: Mapping[str, Any],
                when: datetime | None = None, *, durable: bool = False,
                ) -> tuple[Reading, asyncio.Future[CommitOutcome] | None]:
        when = when or utcnow()
        self.scale(meter, result, when)
        reading = Reading.from_result(
            meter.id, result, when, device=meter.ref.address,
            link_id=meter.link.id, source=source, quality=quality,
        )
        commit = self._watch_commit(reading) if durable else None
        meter.last_reading = reading
        meter.registers.update(reading.registers)
        meter.values.update(reading.values)
        meter.status.update(reading.status)
        meter.last_error = None
        meter.misses = 0
        was_online = meter.online
        meter.online = True
        self.stats.record(meter, True, reading.time)
        ctx = context or Context(origin="metering")
        if was_online is not True:
            self.hub.bus.fire(EVENT_METER_ONLINE, {"meter_id": meter.id}, context=ctx)
        self.hub.bus.fire(EVENT_READING, {"meter_id": meter.id, "reading": reading},
                          context=ctx)
        self._update_state(meter, ctx)
        return reading, commit

    def _failure(self, meter: Meter, error: str, source: ReadingSource,
                 context: Context | None, attempts: int) -> None:
        meter.misses += 1
        meter.last_error = error
        self.stats.record(meter, False, utcnow())
        ctx = context or Context(origin="metering")
        _LOGGER.warning("Read of %s failed after %d attempts: %s", meter.id, attempts, error)
        self.hub.bus.fire(EVENT_READ_FAILED, {
            "meter_id": meter.id, "error": error, "attempts": attempts,
            "misses": meter.misses, "source": str(source),
        }, context=ctx)
        if meter.misses >= int(self.options.get("offline_after", 3)) and meter.online is not False:
            meter.online = False
            self.hub.bus.fire(EVENT_METER_OFFLINE, {"meter_id": meter.id, "error": error,
                                                    "misses": meter.misses}, context=ctx)
        self._update_state(meter, ctx)

    def _on_uplink(self, meter_id: str, result: ReadResult, info: Mapping[str, Any]) -> None:
        meter = self.meters.get(meter_id)
        if meter is None:
            _LOGGER.warning("Uplink for unknown meter %s ignored", meter_id)
            return
        when = result.meter_time or utcnow()
        self._accept(meter, result, ReadingSource.UPLINK, None, dict(info), when=when)

    def _update_state(self, meter: Meter, context: Context) -> None:
        reading = meter.last_reading
        value = None
        unit = ""
        for key, point_unit in MAIN_REGISTERS:
            if key in meter.registers:
                value, unit = meter.registers[key], point_unit
                break
        attributes: dict[str, Any] = {
            "friendly_name": meter.name,
            "meter_id": meter.id,
            "kind": meter.kind,
            "model": meter.model.name,
            "link": meter.link.id,
            "address": meter.ref.address,
            "online": meter.online,
            "misses": meter.misses,
            "unit": unit,
            "tags": dict(meter.tags),
            "last_error": meter.last_error,
        }
        if reading is not None:
            attributes["last_read"] = reading.time.isoformat()
            attributes["registers"] = dict(meter.registers)
            attributes["values"] = dict(meter.values)
            attributes["status"] = dict(meter.status)
        self.hub.states.set(meter.entity_id, value if value is not None else "unknown",
                            attributes, context=context)

    # --- commands -----------------------------------------------------------------

    async def command(self, meter_id: str, command: Command) -> CommandResult:
        """Send a control command to a meter (acceptance only; confirm by reading back)."""
        meter = self.meters.get(meter_id)
        if meter is None:
            raise KeyError(Text("metering.unknown_meter", meter=meter_id))
        async with self._semaphore, meter.lock:
            transport = meter.link.transport_for(meter.ref)
            return await meter.model.command(_Timed(transport, self._timeout(meter)),
                                             meter.ref, command)

    async def exchange(self, meter_id: str,
                       work: Callable[[Meter, Transport], Awaitable[_T]],
                       options: Mapping[str, Any] | None = None) -> _T:
        """Run ``work(meter, transport)`` with the meter's link to itself (its bus or DTU
        queue still serialises requests); ``options`` replace model options for this call
        (a password level, an operator code)."""
        meter = self.meters.get(meter_id)
        if meter is None:
            raise KeyError(Text("metering.unknown_meter", meter=meter_id))
        if options:
            meter = replace(meter, ref=replace(meter.ref, options={**meter.ref.options,
                                                                   **options}))
        async with self._semaphore, self.meters[meter_id].lock:
            transport = meter.link.transport_for(meter.ref)
            return await work(meter, _Timed(transport, self._timeout(meter)))

    def _timeout(self, meter: Meter) -> float:
        value = meter.link.config.get("timeout") or self.options.get(
            "timeout", timedelta(seconds=3))
        return float(value.total_seconds() if isinstance(value, timedelta) else value)


class _Timed:
    """A transport that applies the configured timeout (the link's, else metering's)."""

    def __init__(self, inner: Any, timeout: float) -> None:
        self._inner = inner
        self._timeout = timeout

    async def transact(self, request: bytes, parser: Any, accept: Any, timeout: float) -> Any:
        return await self._inner.transact(request, parser, accept, self._timeout)

    async def send(self, data: bytes) -> None:
        await self._inner.send(data)
