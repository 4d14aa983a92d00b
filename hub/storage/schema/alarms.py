"""Schema v10: who acknowledged which alarm, and when.

An alarm is a recorded ``alarm`` (or ``link_alarm``) event; its id is made of the event's
time and what it is about (hub/web/api/alarms.py). An acknowledgement is kept once: the
first one wins, later ones are refused, so "who saw it first" never changes.
"""

from __future__ import annotations

import sqlite3

V10_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE alarm_ack (
        alarm_id TEXT PRIMARY KEY,
        meter_id TEXT,
        kind TEXT NOT NULL,
        raised_ts INTEGER NOT NULL,
        acked_ts INTEGER NOT NULL,
        acked_by TEXT NOT NULL,
        note TEXT)""",
)


def upgrade_v10(conn: sqlite3.Connection) -> None:
    """Create the alarm acknowledgement table."""
    for statement in V10_STATEMENTS:
        conn.execute(statement)
