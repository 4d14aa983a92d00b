"""The database schema, version by version: each version is the DDL that brings the last one up.

Conventions kept so the same model maps onto PostgreSQL/TimescaleDB later: integer surrogate
keys for hot tables, stable string ids beside them, times as integer UTC epoch milliseconds
(readings, events, commands) or seconds (rollup period starts, like Home Assistant's
``statistics.start_ts``), exact numbers as decimal text or scaled integers, never floats.
"""

from __future__ import annotations

import sqlite3

V1_TABLES: tuple[str, ...] = (
    """CREATE TABLE schema_version (
        version INTEGER NOT NULL,
        applied_ts INTEGER NOT NULL,
        description TEXT NOT NULL)""",
    """CREATE TABLE meter (
        meter_key INTEGER PRIMARY KEY,
        meter_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL DEFAULT '',
        device TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '{}',
        attrs TEXT NOT NULL DEFAULT '{}',
        updated_ts INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE point (
        point_key INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        unit TEXT NOT NULL DEFAULT '')""",
    # registers / vals: "<point_key>:<decimal>[verdict] ..." (see codec.py)
    """CREATE TABLE reading (
        meter_key INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        rid TEXT NOT NULL,
        device TEXT NOT NULL DEFAULT '',
        registers TEXT,
        vals TEXT,
        status TEXT,
        source INTEGER NOT NULL DEFAULT 0,
        link TEXT,
        meter_time INTEGER,
        quality TEXT,
        PRIMARY KEY (meter_key, ts)) WITHOUT ROWID""",
    """CREATE TABLE series (
        series_key INTEGER PRIMARY KEY,
        scope TEXT NOT NULL,
        point_key INTEGER NOT NULL,
        UNIQUE (scope, point_key))""",
    *(
        f"""CREATE TABLE rollup_{res} (
        series_key INTEGER NOT NULL,
        start_ts INTEGER NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (series_key, start_ts)) WITHOUT ROWID"""
        for res in ("hour", "day", "month")
    ),
    """CREATE TABLE event_type (
        type_key INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE)""",
    """CREATE TABLE event (
        event_key INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        type_key INTEGER NOT NULL,
        data TEXT,
        context_id TEXT,
        context_parent_id TEXT,
        context_user_id TEXT,
        origin TEXT)""",
    "CREATE INDEX event_ts ON event (ts)",
    "CREATE INDEX event_type_ts ON event (type_key, ts)",
    """CREATE TABLE state (
        entity_id TEXT PRIMARY KEY,
        state TEXT,
        attributes TEXT,
        last_changed INTEGER NOT NULL,  -- epoch microseconds
        last_updated INTEGER NOT NULL,
        context_id TEXT,
        context_parent_id TEXT,
        context_user_id TEXT) WITHOUT ROWID""",
    """CREATE TABLE command (
        command_id TEXT PRIMARY KEY,
        meter_id TEXT NOT NULL,
        command TEXT NOT NULL,
        state TEXT NOT NULL,
        params TEXT,
        created_ts INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        context_id TEXT,
        context_parent_id TEXT,
        context_user_id TEXT)""",
    "CREATE INDEX command_meter ON command (meter_id, created_ts)",
    "CREATE INDEX command_state ON command (state, updated_ts)",
    """CREATE TABLE command_transition (
        transition_key INTEGER PRIMARY KEY,
        command_id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        detail TEXT,
        context_id TEXT,
        context_parent_id TEXT,
        context_user_id TEXT)""",
    "CREATE INDEX command_transition_command ON command_transition (command_id, ts)",
)


def create_v1(conn: sqlite3.Connection) -> None:
    """Schema v1: meters, points, readings (device as text), rollups, events, states, commands."""
    for statement in V1_TABLES:
        conn.execute(statement)


V2_STATEMENTS: tuple[str, ...] = (
    # Each physical device a meter has had (replacement history), interned for readings.
    """CREATE TABLE meter_device (
        device_key INTEGER PRIMARY KEY,
        meter_key INTEGER NOT NULL,
        device TEXT NOT NULL,
        first_ts INTEGER NOT NULL,
        UNIQUE (meter_key, device))""",
    """INSERT INTO meter_device (meter_key, device, first_ts)
        SELECT meter_key, device, MIN(ts) FROM reading GROUP BY meter_key, device""",
    """CREATE TABLE reading_v2 (
        meter_key INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        rid TEXT NOT NULL,
        device_key INTEGER NOT NULL,
        registers TEXT,
        vals TEXT,
        status TEXT,
        source INTEGER NOT NULL DEFAULT 0,
        link TEXT,
        meter_time INTEGER,
        quality TEXT,
        PRIMARY KEY (meter_key, ts)) WITHOUT ROWID""",
    """INSERT INTO reading_v2 (meter_key, ts, rid, device_key, registers, vals, status, source,
                               link, meter_time, quality)
        SELECT r.meter_key, r.ts, r.rid, d.device_key, r.registers, r.vals, r.status, r.source,
               r.link, r.meter_time, r.quality
        FROM reading r JOIN meter_device d ON d.meter_key = r.meter_key AND d.device = r.device""",
    "DROP TABLE reading",
    "ALTER TABLE reading_v2 RENAME TO reading",
    # Traces: find every event caused by one context (a trip back to its reading and user).
    "CREATE INDEX event_context ON event (context_id)",
    "CREATE INDEX event_context_parent ON event (context_parent_id)",
)


def upgrade_v2(conn: sqlite3.Connection) -> None:
    """Schema v2: device history per meter (readings keep a small device key), context indexes."""
    before = conn.execute("SELECT COUNT(*) FROM reading").fetchone()[0]
    for statement in V2_STATEMENTS:
        conn.execute(statement)
    after = conn.execute("SELECT COUNT(*) FROM reading").fetchone()[0]
    if after != before:
        raise sqlite3.IntegrityError(f"readings copied: {after} of {before}")
