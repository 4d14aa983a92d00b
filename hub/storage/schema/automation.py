"""Schema v8: automations' runs waiting in a delay or wait, and when time triggers last fired.

A run that reaches a ``delay`` (or a ``wait_template``/``wait_for_trigger`` with a timeout)
is written here before it waits, and deleted when the step is over, so that a hub restarted
in between resumes it (hub/automation/persist.py). ``automation_fired`` holds the last moment
each time trigger fired, so a time missed while the hub was down can be caught up once.
"""

from __future__ import annotations

import sqlite3

V8_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE automation_wait (
        run_id TEXT PRIMARY KEY,
        automation_id TEXT NOT NULL,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        until_ts INTEGER,
        variables TEXT NOT NULL,
        trigger TEXT NOT NULL,
        context_id TEXT NOT NULL,
        parent_id TEXT,
        user_id TEXT,
        created_ts INTEGER NOT NULL)""",
    "CREATE INDEX automation_wait_automation ON automation_wait (automation_id)",
    """CREATE TABLE automation_fired (
        automation_id TEXT NOT NULL,
        trigger_id TEXT NOT NULL,
        fired_ts INTEGER NOT NULL,
        PRIMARY KEY (automation_id, trigger_id))""",
)


def upgrade_v8(conn: sqlite3.Connection) -> None:
    """Create the automation tables."""
    for statement in V8_STATEMENTS:
        conn.execute(statement)
