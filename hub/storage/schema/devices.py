"""Schema v13: device maintenance — bulk jobs over meters and the result of each meter, and
CT/PT ratio changes with their effective time; v16: what the device part remembers across a
restart (days filled from meters' memory, records refused, alarms raised and not cleared).

A parameter write is a row of the ``command`` table (queue ``device``, with its transition
log and author), like a relay command. A job (``device.write`` over tags, ``device.firmware``)
is a ``device_job`` row and one ``device_job_item`` per meter, pointing at the meter's command;
an item's state moves in the same transaction as its command's, so a restart finds every job
where it was and resumes it.
"""

from __future__ import annotations

import sqlite3

DEVICE_QUEUE = "device"

V13_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE device_job (
        job_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        spec TEXT NOT NULL,
        state TEXT NOT NULL,
        created_ts INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL,
        context_id TEXT,
        context_parent_id TEXT,
        context_user_id TEXT)""",
    """CREATE TABLE device_job_item (
        job_id TEXT NOT NULL,
        meter_id TEXT NOT NULL,
        state TEXT NOT NULL,
        command_id TEXT,
        result TEXT,
        updated_ts INTEGER NOT NULL,
        PRIMARY KEY (job_id, meter_id))""",
    "CREATE INDEX device_job_item_command ON device_job_item (command_id)",
    "CREATE INDEX command_queue_state ON command (queue, state)",
    # CT/PT ratio changes: from effective_ts on, registers count ratio x (raw - raw_at) on
    # top of the scaled value at the change (scaled_at), so history before stays right
    """CREATE TABLE meter_ratio (
        meter_id TEXT NOT NULL,
        effective_ts INTEGER NOT NULL,
        ct_ratio TEXT NOT NULL,
        pt_ratio TEXT NOT NULL,
        raw_at TEXT NOT NULL,
        scaled_at TEXT NOT NULL,
        created_ts INTEGER NOT NULL,
        context_id TEXT,
        context_user_id TEXT,
        PRIMARY KEY (meter_id, effective_ts))""",
)


def upgrade_v13(conn: sqlite3.Connection) -> None:
    """Add the device job and ratio tables."""
    for statement in V13_STATEMENTS:
        conn.execute(statement)


V16_STATEMENTS: tuple[str, ...] = (
    # days filled from a meter's memory (kind 'filled': the frozen time) and records refused
    # (kind 'refused': the reason), in the order they were found
    """CREATE TABLE device_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        meter_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL,
        ts INTEGER NOT NULL)""",
    "CREATE INDEX device_history_meter ON device_history (meter_id, seq)",
    # a device alarm raised (tou_mismatch) and not cleared yet: one row per meter and kind
    """CREATE TABLE device_alarm (
        meter_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        raised_ts INTEGER NOT NULL,
        PRIMARY KEY (meter_id, kind))""",
)


def upgrade_v16(conn: sqlite3.Connection) -> None:
    """Add the device history and raised-alarm tables."""
    for statement in V16_STATEMENTS:
        conn.execute(statement)
