"""Schema v4: prepaid control — the command queue's columns, operator holds, scheduled trips.

Commands stay rows of the v1 ``command`` table (with their ``command_transition`` log); v4
adds the columns the control queue needs and a partial unique index so that a meter can never
have two outstanding control commands (``queue = 'control'``, state queued or sent), whatever
a crash or a race does. Other queues (the NB-IoT link's) keep their own rows in the table and
are not constrained. Holds and scheduled trips are durable rows so that a restart neither
forgets nor doubles them; at most one pending scheduled trip per account (a unique index).
"""

from __future__ import annotations

import sqlite3

CONTROL_QUEUE = "control"
OUTSTANDING_STATES = ("queued", "sent")

V4_STATEMENTS: tuple[str, ...] = (
    "ALTER TABLE command ADD COLUMN queue TEXT",
    "ALTER TABLE command ADD COLUMN account_id TEXT",
    "ALTER TABLE command ADD COLUMN next_ts INTEGER",
    "ALTER TABLE command ADD COLUMN expires_ts INTEGER",
    """CREATE UNIQUE INDEX command_control_outstanding ON command (meter_id)
        WHERE queue = 'control' AND state IN ('queued', 'sent')""",
    "CREATE INDEX command_account ON command (account_id, created_ts)",
    """CREATE TABLE account_hold (
        hold_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        reason TEXT NOT NULL,
        until_ts INTEGER,
        operator TEXT,
        created_ts INTEGER NOT NULL,
        released_ts INTEGER,
        released_by TEXT,
        release_reason TEXT,
        context_id TEXT,
        context_parent_id TEXT,
        context_user_id TEXT)""",
    "CREATE INDEX account_hold_account ON account_hold (account_id, created_ts)",
    "CREATE INDEX account_hold_open ON account_hold (released_ts)",
    """CREATE TABLE trip_schedule (
        schedule_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        due_ts INTEGER NOT NULL,
        warn_ts INTEGER,
        warned_ts INTEGER,
        reason TEXT,
        params TEXT,
        created_ts INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL,
        context_id TEXT,
        context_parent_id TEXT,
        context_user_id TEXT)""",
    """CREATE UNIQUE INDEX trip_schedule_pending ON trip_schedule (account_id)
        WHERE state = 'pending'""",
    "CREATE INDEX trip_schedule_due ON trip_schedule (state, due_ts)",
)


def upgrade_v4(conn: sqlite3.Connection) -> None:
    """Schema v4: control columns on ``command``, ``account_hold``, ``trip_schedule``."""
    for statement in V4_STATEMENTS:
        conn.execute(statement)
