"""The writer's batch processor: readings through the counter rules into rows and rollups.

Runs only in the writer's thread, inside the writer's transaction. Meters, points, devices
and series are interned to small integer keys held in memory, and every register's chain
head (last accepted value plus any run of quarantined values after it) is kept per meter,
so a reading that arrives in order costs no query at all: its row and its rollup changes
are gathered and written with one ``executemany`` per table at the end of the batch.
A late reading first writes what was gathered, then looks up its neighbours.
If the transaction fails, :meth:`Ingest.reset` drops every cache; they reload from the
database, which is the only truth.
"""

from __future__ import annotations

import functools
import logging
import operator
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from ...core import Event, State
from ...i18n import stored_attributes, stored_forms
from ...metering.points import POINTS
from ...util.memory import shared_mapping
from .. import codec
from ..const import (
    CODE_BASELINE,
    CODE_QUARANTINED,
    CODE_SIGNED,
    CODE_SUSPECT,
    FALLBACK_MAX_RATE,
)
from ..layout import meter_scope, tag_scope, to_units
from ..model import PendingReading, ReadingOutcome, ReadingStatus, verdict_name
from ..schema.compact import READING_COLUMNS, MetaInterner
from ..settings import StorageSettings
from .counters import Rules, Sample, classify, delta_of, is_accepted, is_counted
from .rollups import Calendar, RollupDelta, upsert_sql

_LOGGER = logging.getLogger(__name__)

_NEIGHBOUR_PAGE = 64
_NEIGHBOUR_SCAN = 20_000
_LOAD_BACK = 200

_TABLE_ORDER = operator.itemgetter(0, 1)  # a reading row's key: (meter_key, ts)

INSERT_READING = (
    f"INSERT INTO reading ({READING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Rows are bound as the sqlite3 module binds fastest: it takes int, float, str and bytearray
# as they are, but looks for an adapter for any other parameter (bytes, None), at thousands
# of instructions each. So blobs go as bytearray (stored alike), and the usual row, with no
# status or quality of its own and no meter time, leaves those NULL columns out.
INSERT_USUAL_READING = (
    "INSERT INTO reading (meter_key, ts, rid_packed, device_key, registers, vals, meta) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_USUAL_ROW = 7


@dataclass(slots=True)
class Chain:
    """A register's chain head: last accepted value and the quarantined run after it."""

    base: Sample | None = None
    pending: list[Sample] = field(default_factory=list)


@dataclass(slots=True)
class MeterState:
    """What the writer keeps in memory about one meter."""

    key: int
    meter_id: str
    kind: str
    device: str
    tags: Mapping[str, str]
    attrs: dict[str, Any]
    rules: Rules
    loaded: bool = False
    last_ts: int | None = None
    chains: dict[int, Chain] = field(default_factory=dict)
    series: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def scopes(self) -> list[str]:
        """The rollup scopes this meter's consumption is added to."""
        tags = [tag_scope(key, value) for key, value in sorted(self.tags.items())]
        return [meter_scope(self.meter_id), *tags]


def infer_kind(names: list[str]) -> str:
    """Guess a meter's kind from the register names of its first reading."""
    if any(name.startswith("water") for name in names):
        return "water"
    if any(name.startswith("energy") for name in names):
        return "electricity"
    return ""


@dataclass(slots=True)
class OpItem:
    """A function to run in the writer's transaction (purge chunk, meter upsert...)."""

    func: Any
    args: tuple[Any, ...]
    result: Any = None


class Interval(NamedTuple):
    """Consumption counted (or, with a negative quantity, withdrawn) by one reading.

    A late reading that lands between two stored ones withdraws their interval and counts
    the two new ones, so consumers that add up intervals stay exact. (A named tuple: one is
    made per counted register on the hot path, at a third of a frozen dataclass's cost.)
    """

    meter_id: str
    reading_id: str
    register: str
    start_ms: int
    end_ms: int
    quantity: Decimal


@dataclass(slots=True)
class Batch:
    """Everything one transaction writes, and the consumption intervals it counted."""

    readings: list[PendingReading] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    states: dict[str, State | None] = field(default_factory=dict)
    ops: list[OpItem] = field(default_factory=list)
    intervals: list[Interval] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.readings) + len(self.events) + len(self.states) + len(self.ops)


class Ingest:
    """Turns batches into rows; owns the writer's in-memory caches."""

    def __init__(self, calendar: Calendar, settings: StorageSettings) -> None:
        self.calendar = calendar
        self.settings = settings
        self.commits = 0
        self.meters: dict[str, MeterState] = {}
        self.points: dict[str, int] = {}
        self.devices: dict[tuple[int, str], int] = {}
        self.device_first: dict[int, int] = {}
        self.device_names: dict[int, str] = {}
        self.series_keys: dict[tuple[str, int], int] = {}
        self.event_types: dict[str, int] = {}
        self.metas = MetaInterner()
        self.rows: list[tuple[Any, ...]] = []
        self.recodes: list[tuple[int, int, int, str]] = []
        self.rollups = RollupDelta(calendar)
        self._loaded = False
        self._intervals: list[Interval] | None = None
        self._point_names: dict[int, str] = {}
        self._reading: tuple[str, str] = ("", "")

    # --- caches -------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every cache (after a rollback); they reload on the next batch."""
        self.meters.clear()
        self.points.clear()
        self.devices.clear()
        self.device_first.clear()
        self.device_names.clear()
        self.series_keys.clear()
        self.event_types.clear()
        self.metas.clear()
        self.rows.clear()
        self.recodes.clear()
        self.rollups.clear()
        self._loaded = False

    def load(self, conn: sqlite3.Connection) -> None:
        """Load the small tables (meters, points, devices, series, event types)."""
        self.reset()
        for key, meter_id, kind, device, tags, attrs in conn.execute(
                "SELECT meter_key, meter_id, kind, device, tags, attrs FROM meter"):
            tag_map = shared_mapping({str(k): str(v)
                                      for k, v in (codec.loads(tags) or {}).items()})
            attr_map = dict(codec.loads(attrs) or {})
            self.meters[meter_id] = MeterState(key, meter_id, kind, device, tag_map, attr_map,
                                               self.rules_for(kind, attr_map))
        self.points = {name: key for key, name in conn.execute(
            "SELECT point_key, name FROM point")}
        for key, meter_key, device, first_ts in conn.execute(
                "SELECT device_key, meter_key, device, first_ts FROM meter_device"):
            self.devices[(meter_key, device)] = key
            self.device_first[key] = first_ts
            self.device_names[key] = device
        self.series_keys = {(scope, point): key for key, scope, point in conn.execute(
            "SELECT series_key, scope, point_key FROM series")}
        self.event_types = {name: key for key, name in conn.execute(
            "SELECT type_key, name FROM event_type")}
        self.metas.load(conn)
        self._loaded = True

    def rules_for(self, kind: str, attrs: dict[str, Any]) -> Rules:
        """The counter limits of a meter: its own, else its kind's."""
        rate = attrs.get("max_rate")
        max_rate = (Decimal(str(rate)) if rate is not None
                    else self.settings.max_rate.get(kind, FALLBACK_MAX_RATE))
        digits = attrs.get("register_digits")
        return Rules(max_rate, int(digits) if digits else None)

    def point_key(self, conn: sqlite3.Connection, name: str) -> int:
        """The integer key of a point name (with its unit from the point vocabulary)."""
        key = self.points.get(name)
        if key is None:
            info = POINTS.get(name)
            conn.execute("INSERT INTO point (name, unit) VALUES (?, ?) ON CONFLICT (name) "
                         "DO NOTHING", (name, info.unit if info else ""))
            key = int(conn.execute("SELECT point_key FROM point WHERE name = ?",
                                   (name,)).fetchone()[0])
            self.points[name] = key
        return key

    def series_key(self, conn: sqlite3.Connection, scope: str, point: int) -> int:
        """The key of a rollup series, created on first use."""
        key = self.series_keys.get((scope, point))
        if key is None:
            cur = conn.execute("INSERT INTO series (scope, point_key) VALUES (?, ?) "
                               "ON CONFLICT (scope, point_key) DO NOTHING", (scope, point))
            # inserted: its key is the row id (no second statement); else it was there
            key = int(cur.lastrowid) if cur.rowcount == 1 and cur.lastrowid else int(
                conn.execute("SELECT series_key FROM series WHERE scope = ? AND "
                             "point_key = ?", (scope, point)).fetchone()[0])
            self.series_keys[(scope, point)] = key
        return key

    def meter_series(self, conn: sqlite3.Connection, meter: MeterState,
                     point: int) -> tuple[int, ...]:
        """The series a meter's consumption of one point goes to (meter, then its tags)."""
        keys = meter.series.get(point)
        if keys is None:
            keys = tuple(self.series_key(conn, scope, point) for scope in meter.scopes())
            meter.series[point] = keys
        return keys

    def device_key(self, conn: sqlite3.Connection, meter: MeterState, device: str,
                   ts: int) -> int:
        """The key of a meter's physical device, recorded with the time first seen."""
        key = self.devices.get((meter.key, device))
        if key is None:
            cur = conn.execute("INSERT INTO meter_device (meter_key, device, first_ts) "
                               "VALUES (?, ?, ?)", (meter.key, device, ts))
            key = int(cur.lastrowid or 0)
            self.devices[(meter.key, device)] = key
            self.device_first[key] = ts
            self.device_names[key] = device
        elif ts < self.device_first[key]:
            conn.execute("UPDATE meter_device SET first_ts = ? WHERE device_key = ?", (ts, key))
            self.device_first[key] = ts
        return key

    def event_type_key(self, conn: sqlite3.Connection, name: str) -> int:
        """The key of an event type name."""
        key = self.event_types.get(name)
        if key is None:
            conn.execute("INSERT INTO event_type (name) VALUES (?) ON CONFLICT (name) "
                         "DO NOTHING", (name,))
            key = int(conn.execute("SELECT type_key FROM event_type WHERE name = ?",
                                   (name,)).fetchone()[0])
            self.event_types[name] = key
        return key

    def meter(self, conn: sqlite3.Connection, meter_id: str, names: list[str]) -> MeterState:
        """The in-memory state of a meter (created on its first reading), chains loaded."""
        meter = self.meters.get(meter_id)
        if meter is None:
            kind = infer_kind(names)
            cur = conn.execute("INSERT INTO meter (meter_id, kind) VALUES (?, ?)",
                               (meter_id, kind))
            meter = MeterState(int(cur.lastrowid or 0), meter_id, kind, "", {}, {},
                               self.rules_for(kind, {}))
            self.meters[meter_id] = meter
        if not meter.loaded:
            self._load_chains(conn, meter)
        return meter

    def _load_chains(self, conn: sqlite3.Connection, meter: MeterState) -> None:
        rows = conn.execute(
            "SELECT ts, device_key, registers FROM reading WHERE meter_key = ? "
            "ORDER BY ts DESC LIMIT ?", (meter.key, _LOAD_BACK)).fetchall()
        meter.last_ts = rows[0][0] if rows else None
        quarantined: dict[int, list[Sample]] = {}
        for ts, device_key, registers in rows:
            device = self.device_names.get(device_key, "")
            for point, value, code in codec.decode_items(registers):
                chain = meter.chains.setdefault(point, Chain())
                if chain.base is not None:
                    continue
                if is_accepted(code):
                    chain.base = Sample(ts, value, device)
                elif code == CODE_QUARANTINED:
                    quarantined.setdefault(point, []).append(Sample(ts, value, device))
        for point, samples in quarantined.items():
            chain = meter.chains[point]
            for sample in reversed(samples):
                self._extend_run(chain, sample, meter.rules)
        meter.loaded = True

    @staticmethod
    def _extend_run(chain: Chain, sample: Sample, rules: Rules) -> None:
        pending = chain.pending
        if pending and is_counted(classify(pending[-1], sample, rules)[0]):
            pending.append(sample)
        else:
            pending[:] = [sample]

    # --- a batch ------------------------------------------------------------------

    def write_batch(self, conn: sqlite3.Connection, batch: Batch) -> None:
        """Write one batch in one transaction; on any error roll back and drop the caches."""
        if not self._loaded:
            self.load(conn)
        batch.intervals.clear()
        self._intervals = batch.intervals
        conn.execute("BEGIN IMMEDIATE")
        try:
            for pending in batch.readings:
                self.add_reading(conn, pending)
            if batch.events:
                self.write_events(conn, batch.events)
            if batch.states:
                self.write_states(conn, batch.states)
            for op in batch.ops:
                self.flush(conn)
                op.result = op.func(conn, self, *op.args)
            self.flush(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self.reset()
            batch.intervals.clear()
            raise
        finally:
            self._intervals = None
        self.commits += 1

    def flush(self, conn: sqlite3.Connection) -> None:
        """Write the gathered reading rows, verdict changes and rollup changes."""
        rows = self.rows
        if rows:
            rows.sort(key=_TABLE_ORDER)  # inserts walk the table's key order: fewer pages
            usual = [row for row in rows if len(row) == _USUAL_ROW]
            conn.executemany(INSERT_USUAL_READING, usual)
            if len(usual) < len(rows):
                conn.executemany(INSERT_READING, [row for row in rows if len(row) > _USUAL_ROW])
            rows.clear()
        if self.recodes:
            for meter_key, ts, point, code in self.recodes:
                self._recode_row(conn, meter_key, ts, point, code)
            self.recodes.clear()
        if self.rollups:
            for table, rows in self.rollups.rows():
                if rows:
                    conn.executemany(upsert_sql(table), rows)
            self.rollups.clear()

    @staticmethod
    def _recode_row(conn: sqlite3.Connection, meter_key: int, ts: int, point: int,
                    code: str) -> None:
        row = conn.execute("SELECT registers FROM reading WHERE meter_key = ? AND ts = ?",
                           (meter_key, ts)).fetchone()
        if row is None:
            return
        items = [(key, value, code if key == point else old)
                 for key, value, old in codec.decode_items(row[0])]
        conn.execute("UPDATE reading SET registers = ? WHERE meter_key = ? AND ts = ?",
                     (codec.encode_items(items), meter_key, ts))

    # --- readings -----------------------------------------------------------------

    def add_reading(self, conn: sqlite3.Connection, pending: PendingReading) -> None:
        """Apply the counter rules to one validated reading and gather its row."""
        self._reading = (pending.meter_id, pending.reading_id)
        meter = self.meters.get(pending.meter_id)
        if meter is None or not meter.loaded:
            meter = self.meter(conn, pending.meter_id, [name for name, _ in pending.registers])
        if meter.last_ts is not None and pending.ts <= meter.last_ts:
            self._add_late(conn, meter, pending)
            return
        device = pending.device or meter.device
        device_key = self.devices.get((meter.key, device))
        if device_key is None:
            device_key = self.device_key(conn, meter, device, pending.ts)
        points = self.points
        items: list[tuple[int, Decimal, str]] = []
        for name, value in pending.registers:
            point = points.get(name)
            if point is None:
                point = self.point_key(conn, name)
            code = self._advance(conn, meter, point, Sample(pending.ts, value, device), name,
                                 pending.suspect)
            items.append((point, value, code))
        if pending.signed:
            self._add_signed(conn, pending, items)
        self.rows.append(self._row(conn, meter, pending, device_key, items))
        meter.last_ts = pending.ts
        if pending.future is not None:
            pending.outcome = _stored(pending, items)

    def _add_signed(self, conn: sqlite3.Connection, pending: PendingReading,
                    items: list[tuple[int, Decimal, str]]) -> None:
        """Signed registers (combined energy): stored as read, outside every counter chain."""
        for name, value in pending.signed:
            items.append((self.points.get(name) or self.point_key(conn, name), value,
                          CODE_SIGNED))

    def _row(self, conn: sqlite3.Connection, meter: MeterState, pending: PendingReading,
             device_key: int, items: list[tuple[int, Decimal, str]]) -> tuple[Any, ...]:
        points = self.points
        values = [(points.get(name) or self.point_key(conn, name), value)
                  for name, value in pending.values]
        meta, status, quality = self.metas.choose(
            conn, pending.source, pending.link_id, pending.status, pending.quality)
        rid = codec.pack_rid(pending.reading_id)
        packed = codec.pack_values(values)
        row = (meter.key, pending.ts, bytearray(rid) if type(rid) is bytes else rid, device_key,
               codec.encode_items(items), None if packed is None else bytearray(packed), meta)
        meter_time = pending.meter_time
        if status is None and quality is None and meter_time is None:
            return row
        return (*row, status, quality, None if meter_time is None else meter_time - pending.ts)

    def _count(self, conn: sqlite3.Connection, meter: MeterState, point: int, t0: int,
               t1: int, delta: Decimal, sign: int = 1) -> None:
        pieces = self.calendar.apportion(t0, t1, to_units(delta))
        if pieces:
            self.rollups.add(self.meter_series(conn, meter, point), pieces, sign)
        if self._intervals is not None and delta:
            self._intervals.append(Interval(meter.meter_id, self._reading[1],
                                            self._point_name(point), t0, t1,
                                            delta if sign > 0 else -delta))

    def _point_name(self, point: int) -> str:
        if len(self._point_names) != len(self.points):
            self._point_names = {key: name for name, key in self.points.items()}
        return self._point_names.get(point, str(point))

    def _advance(self, conn: sqlite3.Connection, meter: MeterState, point: int,
                 sample: Sample, name: str, suspect: bool = False) -> str:
        chain = meter.chains.get(point)
        if chain is None:
            chain = meter.chains[point] = Chain()
        base = chain.base
        code, delta = classify(base, sample, meter.rules)
        if is_counted(code) and base is not None:
            self._count(conn, meter, point, base.ts, sample.ts, delta)
        if is_accepted(code):
            if code == CODE_BASELINE and base is not None:
                _LOGGER.info("Meter %s %s: new device %r, new baseline %s (was %s on %r)",
                             meter.meter_id, name, sample.device, sample.value, base.value,
                             base.device)
            chain.base = sample
            chain.pending.clear()
            return code
        if code != CODE_QUARANTINED:
            return code
        if suspect:  # rule 12: through a DTU that moved, it never confirms a new level
            _LOGGER.warning("Meter %s %s: %s at %s is implausible after %s and came through a "
                            "DTU that moved to a new address; quarantined for good, never a "
                            "baseline", meter.meter_id, name, sample.value,
                            codec.from_ms(sample.ts).isoformat(), base.value if base else None)
            return CODE_SUSPECT
        self._extend_run(chain, sample, meter.rules)
        pending = chain.pending
        if len(pending) < self.settings.confirm_readings:
            _LOGGER.warning("Meter %s %s: %s at %s is implausible after %s (%s); quarantined, "
                            "not counted", meter.meter_id, name, sample.value,
                            codec.from_ms(sample.ts).isoformat(),
                            base.value if base else None, _why(base, sample, meter.rules))
            return code
        _LOGGER.warning("Meter %s %s: %d readings in a row confirm a new counter level from "
                        "%s (was %s): counting restarts there, the jump counts nothing",
                        meter.meter_id, name, len(pending), pending[0].value,
                        base.value if base else None)
        prev = pending[0]
        self.recodes.append((meter.key, prev.ts, point, CODE_BASELINE))
        last = CODE_BASELINE
        for current in pending[1:]:
            last, delta = classify(prev, current, meter.rules)
            self._count(conn, meter, point, prev.ts, current.ts, delta)
            if current is not sample:
                self.recodes.append((meter.key, current.ts, point, last))
            prev = current
        chain.base = sample
        chain.pending = []
        return last

    def _add_late(self, conn: sqlite3.Connection, meter: MeterState,
                  pending: PendingReading) -> None:
        self.flush(conn)
        if conn.execute("SELECT 1 FROM reading WHERE meter_key = ? AND ts = ?",
                        (meter.key, pending.ts)).fetchone():
            pending.outcome = ReadingOutcome(ReadingStatus.DUPLICATE,
                                             "a reading of this meter at this time is stored")
            return
        device = pending.device or meter.device
        device_key = self.device_key(conn, meter, device, pending.ts)
        items: list[tuple[int, Decimal, str]] = []
        for name, value in pending.registers:
            point = self.point_key(conn, name)
            code = self._insert_late(conn, meter, point, Sample(pending.ts, value, device))
            if pending.suspect and code == CODE_QUARANTINED:
                code = CODE_SUSPECT
            items.append((point, value, code))
        if pending.signed:
            self._add_signed(conn, pending, items)
        self.rows.append(self._row(conn, meter, pending, device_key, items))
        pending.outcome = _stored(pending, items)

    def _insert_late(self, conn: sqlite3.Connection, meter: MeterState, point: int,
                     sample: Sample) -> str:
        rules = meter.rules
        before = self._neighbour(conn, meter.key, point, sample.ts, older=True)
        after = self._neighbour(conn, meter.key, point, sample.ts, older=False)
        prev = before[0] if before else None
        code, delta = classify(prev, sample, rules)
        if not is_accepted(code):
            return code
        if after is None:
            if is_counted(code) and prev is not None:
                self._count(conn, meter, point, prev.ts, sample.ts, delta)
            chain = meter.chains.setdefault(point, Chain())
            if chain.base is None or sample.ts > chain.base.ts:
                chain.base = sample
                chain.pending = [s for s in chain.pending if s.ts > sample.ts]
            return code
        nxt, nxt_code = after
        if nxt_code == CODE_BASELINE:
            starts_device = prev is None or prev.device != nxt.device
            if not (starts_device and sample.device == nxt.device):
                if is_counted(code) and prev is not None:
                    self._count(conn, meter, point, prev.ts, sample.ts, delta)
                return code
            new_code, new_delta = classify(sample, nxt, rules)
            if not is_counted(new_code):
                return CODE_QUARANTINED
            self._count(conn, meter, point, sample.ts, nxt.ts, new_delta)
            self.recodes.append((meter.key, nxt.ts, point, new_code))
            return code
        if prev is None or not is_counted(code):
            return CODE_QUARANTINED
        new_code, new_delta = classify(sample, nxt, rules)
        if not is_counted(new_code):
            return CODE_QUARANTINED
        old = delta_of(nxt_code, prev.value, nxt.value)
        self._count(conn, meter, point, prev.ts, nxt.ts, old, -1)
        self._count(conn, meter, point, prev.ts, sample.ts, delta)
        self._count(conn, meter, point, sample.ts, nxt.ts, new_delta)
        if new_code != nxt_code:
            self.recodes.append((meter.key, nxt.ts, point, new_code))
        return code

    def _neighbour(self, conn: sqlite3.Connection, meter_key: int, point: int, ts: int,
                   *, older: bool) -> tuple[Sample, str] | None:
        sql = ("SELECT ts, device_key, registers FROM reading WHERE meter_key = ? AND ts < ? "
               "ORDER BY ts DESC LIMIT ?" if older else
               "SELECT ts, device_key, registers FROM reading WHERE meter_key = ? AND ts > ? "
               "ORDER BY ts LIMIT ?")
        bound = ts
        scanned = 0
        while scanned < _NEIGHBOUR_SCAN:
            rows = conn.execute(sql, (meter_key, bound, _NEIGHBOUR_PAGE)).fetchall()
            for row_ts, device_key, registers in rows:
                for key, value, code in codec.decode_items(registers):
                    if key == point and is_accepted(code):
                        return Sample(row_ts, value, self.device_names.get(device_key, "")), code
            if len(rows) < _NEIGHBOUR_PAGE:
                return None
            scanned += len(rows)
            bound = rows[-1][0]
        return None

    # --- events and states --------------------------------------------------------

    def write_events(self, conn: sqlite3.Connection, events: list[Event]) -> None:
        """Insert events with their context."""
        rows = []
        for event in events:
            try:
                data = codec.dumps_mapping(stored_forms(event.data))  # messages keyed
            except (TypeError, ValueError) as err:
                data = codec.dumps({"unrecorded": f"{type(err).__name__}: {err}"})
            ctx = event.context
            rows.append((round(event.time_fired_ts * 1000),
                         self.event_type_key(conn, event.event_type), data, ctx.id,
                         ctx.parent_id, ctx.user_id, ctx.origin))
        conn.executemany(
            "INSERT INTO event (ts, type_key, data, context_id, context_parent_id, "
            "context_user_id, origin) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    @staticmethod
    def write_states(conn: sqlite3.Connection, states: dict[str, State | None]) -> None:
        """Keep the latest state of each entity (a removed entity is forgotten)."""
        shaped: dict[tuple[bool, bool], list[tuple[Any, ...]]] = {}
        for state in states.values():
            if state is None:
                continue
            ctx = state.context
            row: tuple[Any, ...] = (state.entity_id, codec.dumps(state.state),
                                    codec.dumps(dict(stored_attributes(state.attributes))),
                                    codec.to_us(state.last_changed),
                                    codec.to_us(state.last_updated), ctx.id)
            parent, user = ctx.parent_id, ctx.user_id
            if parent is not None:
                row += (parent,)
            if user is not None:
                row += (user,)
            shaped.setdefault((parent is not None, user is not None), []).append(row)
        for shape, rows in shaped.items():
            conn.executemany(_upsert_state(*shape), rows)
        removed = [(entity_id,) for entity_id, state in states.items() if state is None]
        if removed:
            conn.executemany("DELETE FROM state WHERE entity_id = ?", removed)


@functools.lru_cache(maxsize=4)
def _upsert_state(parent: bool, user: bool) -> str:
    """The state upsert naming only the context columns a row has (a None parameter costs
    sqlite3 two failed adapter look-ups; a column left out of the INSERT is NULL)."""
    columns = ["entity_id", "state", "attributes", "last_changed", "last_updated",
               "context_id"]
    if parent:
        columns.append("context_parent_id")
    if user:
        columns.append("context_user_id")
    updates = ", ".join(f"{name} = excluded.{name}" for name in (
        "state", "attributes", "last_changed", "last_updated", "context_id",
        "context_parent_id", "context_user_id"))
    return (f"INSERT INTO state ({', '.join(columns)}) VALUES "
            f"({', '.join('?' * len(columns))}) ON CONFLICT (entity_id) DO UPDATE SET {updates}")


def _stored(pending: PendingReading, items: list[tuple[int, Decimal, str]]) -> ReadingOutcome:
    names = (*pending.registers, *pending.signed)
    verdicts = {name: verdict_name(code)
                for (name, _value), (_key, _v, code) in zip(names, items, strict=True)}
    return ReadingOutcome(ReadingStatus.STORED, verdicts=verdicts, flagged=dict(pending.flagged))


def _why(base: Sample | None, sample: Sample, rules: Rules) -> str:
    if base is None:
        return "no baseline"
    hours = Decimal(sample.ts - base.ts) / 3_600_000
    if sample.value > base.value:
        return (f"+{sample.value - base.value} in {hours:.2f} h exceeds "
                f"{rules.max_rate}/h")
    return f"dropped by {base.value - sample.value}, not a rollover"
