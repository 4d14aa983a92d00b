"""Meter metadata (kind, tags, device, counter limits) and tag rollups kept in step with it.

A meter's consumption is added to its own series and to one series per tag (``building=A``,
``floor=3``...). When a meter's tags change, every tag series it left or joined is rebuilt
from the member meters' own rollups, so history is attributed by the current tags.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from ... import validation as cv
from ...util.memory import shared_mapping
from .. import codec
from ..layout import meter_scope
from .ingest import Ingest, MeterState
from .rollups import TABLES

_LOGGER = logging.getLogger(__name__)

METER_SCHEMA = cv.Strict(
    {
        vol.Required("id"): cv.identifier,
        vol.Optional("kind"): cv.string,
        vol.Optional("tags"): {cv.string: cv.string},
        vol.Optional("device"): cv.string,
        vol.Optional("name"): cv.string,
        vol.Optional("max_rate"): cv.non_negative_decimal,
        vol.Optional("register_digits"): cv.positive_int,
    }
)

_ATTRS = ("name", "max_rate", "register_digits")


def validate(specs: Any) -> list[dict[str, Any]]:
    """Validate meter descriptions; raises vol.Invalid naming the item and key."""
    return list(cv.ListOf(METER_SCHEMA)(list(specs)))


def upsert(conn: sqlite3.Connection, ingest: Ingest, specs: list[dict[str, Any]],
           ts: int) -> int:
    """Insert or update meters (given fields replace, omitted ones stay); rebuild tags."""
    affected: set[str] = set()
    for spec in specs:
        meter_id = spec["id"]
        meter = ingest.meters.get(meter_id)
        if meter is None:
            cur = conn.execute("INSERT INTO meter (meter_id) VALUES (?)", (meter_id,))
            meter = MeterState(int(cur.lastrowid or 0), meter_id, "", "", {}, {},
                               ingest.rules_for("", {}))
            ingest.meters[meter_id] = meter
        before = set(meter.scopes()[1:])
        meter.kind = spec.get("kind", meter.kind)
        meter.device = spec.get("device", meter.device)
        if "tags" in spec:
            meter.tags = shared_mapping(spec["tags"])  # 500 meters a building: one
        for attr in _ATTRS:
            if attr in spec:
                meter.attrs[attr] = spec[attr]
        meter.rules = ingest.rules_for(meter.kind, meter.attrs)
        meter.series.clear()
        after = set(meter.scopes()[1:])
        if before != after and _has_history(ingest, meter):
            affected |= before ^ after
        conn.execute("UPDATE meter SET kind = ?, device = ?, tags = ?, attrs = ?, updated_ts = ? "
                     "WHERE meter_key = ?", (meter.kind, meter.device,
                                             codec.dumps(dict(meter.tags)),
                                             codec.dumps(meter.attrs), ts, meter.key))
    for scope in sorted(affected):
        rebuild_tag(conn, ingest, scope)
    return len(specs)


def _has_history(ingest: Ingest, meter: MeterState) -> bool:
    scope = meter_scope(meter.meter_id)
    return any(key[0] == scope for key in ingest.series_keys)


def rebuild_tag(conn: sqlite3.Connection, ingest: Ingest, scope: str) -> None:
    """Recompute one tag's rollups from the rollups of the meters that carry the tag now."""
    key, _, value = scope.removeprefix("tag:").partition("=")
    members = {meter_scope(m.meter_id) for m in ingest.meters.values()
               if m.tags.get(key) == value}
    by_point: dict[int, list[int]] = {}
    own: list[int] = []
    for (series_scope, point), series in ingest.series_keys.items():
        if series_scope in members:
            by_point.setdefault(point, []).append(series)
        elif series_scope == scope:
            own.append(series)
    for table in TABLES:
        for series in own:
            conn.execute(f"DELETE FROM {table} WHERE series_key = ?", (series,))
        for point, sources in by_point.items():
            target = ingest.series_key(conn, scope, point)
            for start in range(0, len(sources), 500):
                chunk = sources[start:start + 500]
                conn.execute(
                    f"INSERT INTO {table} (series_key, start_ts, value) "
                    f"SELECT ?, start_ts, SUM(value) FROM {table} "
                    f"WHERE series_key IN ({', '.join('?' * len(chunk))}) GROUP BY start_ts "
                    f"ON CONFLICT (series_key, start_ts) DO UPDATE SET "
                    f"value = value + excluded.value", (target, *chunk))
    _LOGGER.info("Rollups of %s rebuilt from %d meters", scope, len(members))


def as_specs(meters: Mapping[str, Any] | list[Any]) -> list[Any]:
    """Accept a list of meter mappings or one mapping of id → description."""
    if isinstance(meters, Mapping):
        return [{"id": meter_id, **dict(spec)} for meter_id, spec in meters.items()]
    return list(meters)
