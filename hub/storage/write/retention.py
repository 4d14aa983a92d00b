"""Retention: purge old raw rows in small chunks off the hot path, then tidy the file.

Each chunk is one small writer operation (a few thousand rows of one meter), and the purge
yields to the event loop between chunks, so readings keep flowing while it runs. After a
purge the WAL is checkpointed and ``PRAGMA optimize`` refreshes the planner's statistics.
A register whose last accepted value is purged (a meter silent for longer than the
retention) simply starts a new baseline with its next reading.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .ingest import Ingest


def purge_readings_chunk(conn: sqlite3.Connection, _ingest: Ingest, meter_keys: list[int],
                         cutoff: int, limit: int) -> tuple[int, int]:
    """Delete up to ``limit`` readings older than ``cutoff`` (epoch ms), meter after meter.

    Returns (rows deleted, how many of ``meter_keys`` are done).
    """
    deleted = 0
    index = 0
    while index < len(meter_keys) and deleted < limit:
        budget = limit - deleted
        key = meter_keys[index]
        row = conn.execute("SELECT ts FROM reading WHERE meter_key = ? AND ts < ? ORDER BY ts "
                           "LIMIT 1 OFFSET ?", (key, cutoff, budget - 1)).fetchone()
        upper = int(row[0]) if row else cutoff - 1
        cur = conn.execute("DELETE FROM reading WHERE meter_key = ? AND ts <= ? AND ts < ?",
                           (key, upper, cutoff))
        deleted += int(cur.rowcount)
        if row is None:
            index += 1
    return deleted, index


def purge_events_chunk(conn: sqlite3.Connection, _ingest: Ingest, cutoff: int,
                       limit: int) -> int:
    """Delete up to ``limit`` events older than ``cutoff`` (epoch ms)."""
    cur = conn.execute("DELETE FROM event WHERE event_key IN (SELECT event_key FROM event "
                       "WHERE ts < ? ORDER BY ts LIMIT ?)", (cutoff, limit))
    return int(cur.rowcount)


def purge_hourly_chunk(conn: sqlite3.Connection, _ingest: Ingest, series_keys: list[int],
                       cutoff: int) -> int:
    """Delete hourly rollups older than ``cutoff`` (epoch s) of some series."""
    total = 0
    for key in series_keys:
        cur = conn.execute("DELETE FROM rollup_hour WHERE series_key = ? AND start_ts < ?",
                           (key, cutoff))
        total += int(cur.rowcount)
    return total


def meter_keys(conn: sqlite3.Connection, _ingest: Ingest) -> list[int]:
    """Every meter's key."""
    return [int(row[0]) for row in conn.execute("SELECT meter_key FROM meter ORDER BY meter_key")]


def series_keys(conn: sqlite3.Connection, _ingest: Ingest) -> list[int]:
    """Every rollup series' key."""
    return [int(row[0]) for row in conn.execute("SELECT series_key FROM series")]


def checkpoint_and_optimize(conn: sqlite3.Connection) -> dict[str, Any]:
    """Fold the WAL back into the database file and refresh the planner's statistics."""
    busy, log, done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    conn.execute("PRAGMA optimize")
    return {"checkpoint_busy": busy, "wal_pages": log, "checkpointed": done}
