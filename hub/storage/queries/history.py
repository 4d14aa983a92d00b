"""Read queries, run in a reader thread: each returns plain records, never SQL rows.

These are the only functions that know how readings and rollups are laid out; billing, the
web API and exports go through :class:`~hub.storage.Storage`, never through SQL.
"""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from ...core import Context, Event
from ...metering.points import POINTS, PointType
from ...metering.reading import Reading
from .. import codec
from ..const import CODE_COUNTED
from ..layout import SOURCES, from_units, meter_scope, tag_scope
from ..model import ConsumptionRow, MeterInfo, SeriesPoint, verdict_name
from .params import chunks, marks


def meters(conn: sqlite3.Connection, tags: Mapping[str, str] | None = None,
           meter_ids: Sequence[str] | None = None) -> list[MeterInfo]:
    """Meters, optionally those with all the given tags and/or among the given ids."""
    out = []
    wanted = set(meter_ids) if meter_ids else None
    for meter_id, kind, device, tag_text, attrs in conn.execute(
            "SELECT meter_id, kind, device, tags, attrs FROM meter ORDER BY meter_id"):
        if wanted is not None and meter_id not in wanted:
            continue
        tag_map = {str(k): str(v) for k, v in (codec.loads(tag_text) or {}).items()}
        if tags and any(tag_map.get(k) != str(v) for k, v in tags.items()):
            continue
        out.append(MeterInfo(meter_id, kind, device, tag_map, dict(codec.loads(attrs) or {})))
    return out


def _scopes(conn: sqlite3.Connection, meter_id: str | None,
            tags: Mapping[str, str] | None) -> list[str]:
    if meter_id is not None:
        return [meter_scope(meter_id)]
    if not tags:
        raise ValueError("give a meter id or a tag filter")
    if len(tags) == 1:
        ((key, value),) = tags.items()
        return [tag_scope(key, str(value))]
    return [meter_scope(info.meter_id) for info in meters(conn, tags)]


def consumption(conn: sqlite3.Connection, tz: tzinfo, *, meter_id: str | None,
                tags: Mapping[str, str] | None, start: int, end: int,
                resolution: str) -> list[ConsumptionRow]:
    """Consumption per period whose local start lies in [start, end) (epoch seconds)."""
    table = _rollup_table(resolution)
    totals: defaultdict[int, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    scopes = _scopes(conn, meter_id, tags)
    for chunk in chunks(scopes):
        for name, period, value in conn.execute(
                f"SELECT p.name, r.start_ts, r.value FROM series s "
                f"JOIN point p ON p.point_key = s.point_key "
                f"JOIN {table} r ON r.series_key = s.series_key "
                f"WHERE s.scope IN ({marks(len(chunk))}) AND r.start_ts >= ? "
                f"AND r.start_ts < ?", (*chunk, start, end)):
            totals[period][name] += value
    return [ConsumptionRow(datetime.fromtimestamp(period, tz),
                           {name: from_units(units) for name, units in sorted(values.items())})
            for period, values in sorted(totals.items())]


def _rollup_table(resolution: str) -> str:
    if resolution not in ("hour", "day", "month"):
        raise ValueError(f"resolution must be hour, day or month, not {resolution!r}")
    return f"rollup_{resolution}"


_READING_SQL = (
    "SELECT r.ts, r.rid, d.device, r.registers, r.vals, coalesce(r.own_status, m.status), "
    "m.source, m.link, r.meter_dt, coalesce(r.own_quality, m.quality) FROM reading r "
    "JOIN meter_device d ON d.device_key = r.device_key "
    "JOIN reading_meta m ON m.meta_key = r.meta "
)


def _meter_key(conn: sqlite3.Connection, meter_id: str) -> int | None:
    row = conn.execute("SELECT meter_key FROM meter WHERE meter_id = ?", (meter_id,)).fetchone()
    return int(row[0]) if row else None


def _point_names(conn: sqlite3.Connection) -> dict[int, str]:
    return {int(key): str(name) for key, name in conn.execute("SELECT point_key, name FROM point")}


def _reading(meter_id: str, row: tuple[Any, ...], names: Mapping[int, str]) -> Reading:
    ts, rid, device, registers, vals, status, source, link, meter_dt, quality = row
    items = codec.decode_items(registers)
    quality_map = dict(codec.loads(quality) or {})
    unusual = {names.get(key, str(key)): verdict_name(code) for key, _v, code in items
               if code != CODE_COUNTED}
    if unusual:
        quality_map["counter"] = unusual
    return Reading(
        meter_id=meter_id,
        time=codec.from_ms(ts),
        registers={names.get(key, str(key)): value for key, value, _c in items},
        values={names.get(key, str(key)): value for key, value, _c in codec.decode_items(vals)},
        status=dict(codec.loads(status) or {}),
        meter_time=codec.from_ms(ts + meter_dt) if meter_dt is not None else None,
        device=device,
        link_id=link,
        source=SOURCES[source] if 0 <= source < len(SOURCES) else SOURCES[0],
        quality=quality_map,
        id=rid,
    )


def latest_reading(conn: sqlite3.Connection, meter_id: str) -> Reading | None:
    """The newest stored reading of a meter."""
    key = _meter_key(conn, meter_id)
    if key is None:
        return None
    row = conn.execute(_READING_SQL + "WHERE r.meter_key = ? ORDER BY r.ts DESC LIMIT 1",
                       (key,)).fetchone()
    return _reading(meter_id, row, _point_names(conn)) if row else None


def reading_times_before(conn: sqlite3.Connection,
                         asks: Sequence[tuple[str, int, int]]) -> dict[str, int]:
    """For each (meter, start, end) in epoch ms, the newest stored reading's time with
    start <= time < end (meters without one are left out)."""
    found: dict[str, int] = {}
    for meter_id, start, end in asks:
        key = _meter_key(conn, meter_id)
        if key is None:
            continue
        row = conn.execute("SELECT ts FROM reading WHERE meter_key = ? AND ts >= ? AND ts < ? "
                           "ORDER BY ts DESC LIMIT 1", (key, start, end)).fetchone()
        if row is not None:
            found[meter_id] = int(row[0])
    return found


def readings(conn: sqlite3.Connection, meter_id: str, start: int, end: int,
             limit: int | None = None) -> list[Reading]:
    """A meter's stored readings with start <= time < end (epoch ms), oldest first."""
    key = _meter_key(conn, meter_id)
    if key is None:
        return []
    names = _point_names(conn)
    rows = conn.execute(_READING_SQL + "WHERE r.meter_key = ? AND r.ts >= ? AND r.ts < ? "
                        "ORDER BY r.ts LIMIT ?", (key, start, end, -1 if limit is None else limit))
    return [_reading(meter_id, row, names) for row in rows]


def series(conn: sqlite3.Connection, tz: tzinfo, meter_id: str, point: str, start: int,
           end: int, max_points: int, mode: str = "auto") -> list[SeriesPoint]:
    """A chart series of at most ``max_points`` buckets between start and end (epoch ms)."""
    if max_points < 1:
        raise ValueError("max_points must be at least 1")
    info = POINTS.get(point)
    if mode == "auto":
        mode = ("consumption" if info is not None and info.type is PointType.REGISTER
                and not info.signed else "value")
    if mode == "consumption":
        return _consumption_series(conn, tz, meter_id, point, start, end, max_points)
    if mode != "value":
        raise ValueError(f"mode must be auto, consumption or value, not {mode!r}")
    return _value_series(conn, tz, meter_id, point, start, end, max_points)


def _consumption_series(conn: sqlite3.Connection, tz: tzinfo, meter_id: str, point: str,
                        start: int, end: int, max_points: int) -> list[SeriesPoint]:
    width_h = max(1, math.ceil((end - start) / 3_600_000)) / max_points
    if width_h < 24:
        resolution, group = "hour", math.ceil(width_h)
    elif width_h < 28 * 24:
        resolution, group = "day", math.ceil(width_h / 24)
    else:
        resolution, group = "month", math.ceil(width_h / (24 * 30.4))
    table = _rollup_table(resolution)
    first = datetime.fromtimestamp(start / 1000, tz)
    rows = conn.execute(
        f"SELECT r.start_ts, r.value FROM series s JOIN point p ON p.point_key = s.point_key "
        f"JOIN {table} r ON r.series_key = s.series_key WHERE s.scope = ? AND p.name = ? "
        f"AND r.start_ts >= ? AND r.start_ts < ? ORDER BY r.start_ts",
        (meter_scope(meter_id), point, (start + 999) // 1000, (end + 999) // 1000))
    buckets: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for period, units in rows:
        local = datetime.fromtimestamp(period, tz)
        index = _bucket_index(resolution, local, first, period, start) // group
        buckets.setdefault(index, []).append(units)
        starts.setdefault(index, period)
    return [SeriesPoint(datetime.fromtimestamp(starts[index], tz), from_units(sum(parts)),
                        from_units(min(parts)), from_units(max(parts)), len(parts))
            for index, parts in sorted(buckets.items())]


def _bucket_index(resolution: str, local: datetime, first: datetime, period: int,
                  start: int) -> int:
    if resolution == "hour":
        return max(0, (period * 1000 - start) // 3_600_000)
    if resolution == "day":
        return max(0, local.date().toordinal() - first.date().toordinal())
    return max(0, (local.year - first.year) * 12 + local.month - first.month)


def _value_series(conn: sqlite3.Connection, tz: tzinfo, meter_id: str, point: str,
                  start: int, end: int, max_points: int) -> list[SeriesPoint]:
    key = _meter_key(conn, meter_id)
    row = conn.execute("SELECT point_key FROM point WHERE name = ?", (point,)).fetchone()
    if key is None or row is None:
        return []
    point_key = int(row[0])
    width = max(1, math.ceil((end - start) / max_points))
    info = POINTS.get(point)
    column = "registers" if info is not None and info.type is PointType.REGISTER else "vals"
    sums: dict[int, Decimal] = {}
    lows: dict[int, Decimal] = {}
    highs: dict[int, Decimal] = {}
    counts: defaultdict[int, int] = defaultdict(int)
    finest = 0
    for ts, text in conn.execute(
            f"SELECT ts, {column} FROM reading WHERE meter_key = ? AND ts >= ? AND ts < ?",
            (key, start, end)):
        value = codec.find_item(text, point_key)
        if value is None:
            continue
        index = (ts - start) // width
        if index in sums:
            sums[index] += value
            lows[index] = min(lows[index], value)
            highs[index] = max(highs[index], value)
        else:
            sums[index], lows[index], highs[index] = value, value, value
        counts[index] += 1
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < finest:
            finest = exponent
    quantum = Decimal(1).scaleb(finest - 2)  # averages get two more decimals
    return [SeriesPoint(codec.from_ms(start + index * width).astimezone(tz),
                        (sums[index] / counts[index]).quantize(quantum), lows[index],
                        highs[index], counts[index])
            for index in sorted(sums)]


def events(conn: sqlite3.Connection, start: int, end: int, event_types: Sequence[str] = (),
           context_id: str | None = None, limit: int = 1000) -> list[Event]:
    """Recorded events in [start, end) (epoch ms), oldest first, with their context.

    With ``context_id``, only events of that context or caused by it (its children).
    """
    sql = ("SELECT e.ts, t.name, e.data, e.context_id, e.context_parent_id, e.context_user_id, "
           "e.origin FROM event e JOIN event_type t ON t.type_key = e.type_key "
           "WHERE e.ts >= ? AND e.ts < ?")
    params: list[Any] = [start, end]
    if event_types:
        sql += f" AND t.name IN ({marks(len(event_types))})"
        params.extend(event_types)
    if context_id is not None:
        sql += " AND (e.context_id = ? OR e.context_parent_id = ?)"
        params.extend((context_id, context_id))
    sql += " ORDER BY e.ts, e.event_key LIMIT ?"
    params.append(limit)
    return [Event(name, dict(codec.loads(data) or {}), ts / 1000,
                  Context(ctx_id, parent_id, user_id, origin))
            for ts, name, data, ctx_id, parent_id, user_id, origin in conn.execute(sql, params)]


def meter_events(conn: sqlite3.Connection, meter_id: str, start: int, limit: int
                 ) -> list[Event]:
    """The newest recorded events since ``start`` (epoch ms) whose data names ``meter_id``,
    newest first (a meter page's history of commands, relay changes, alarms...)."""
    sql = ("SELECT e.ts, t.name, e.data, e.context_id, e.context_parent_id, e.context_user_id, "
           "e.origin FROM event e JOIN event_type t ON t.type_key = e.type_key "
           "WHERE e.ts >= ? AND json_extract(e.data, '$.meter_id') = ? "
           "ORDER BY e.ts DESC, e.event_key DESC LIMIT ?")
    return [Event(name, dict(codec.loads(data) or {}), ts / 1000,
                  Context(ctx_id, parent_id, user_id, origin))
            for ts, name, data, ctx_id, parent_id, user_id, origin
            in conn.execute(sql, (start, meter_id, limit))]


def states(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """Every saved entity state row, decoded."""
    return [(entity_id, codec.loads(state), codec.loads(attributes) or {},
             codec.from_us(changed), codec.from_us(updated), ctx_id, parent_id, user_id)
            for entity_id, state, attributes, changed, updated, ctx_id, parent_id, user_id
            in conn.execute("SELECT entity_id, state, attributes, last_changed, last_updated, "
                            "context_id, context_parent_id, context_user_id FROM state")]


def day_range(tz: tzinfo, first: date, last: date) -> tuple[int, int]:
    """Epoch seconds of the local start of ``first`` and of the day after ``last``."""
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    end = datetime(last.year, last.month, last.day, tzinfo=tz) + timedelta(days=1)
    return int(start.timestamp()), int(end.replace(tzinfo=tz).timestamp())
