"""Schema v15: meter replacements, one row per swap of a meter's physical device.

The meter keeps its id (and with it its account, tariff and history); the row says which
device went out and which came in, when, the old device's final registers and the new one's
initial registers (read, or typed from the display), and the commands it cancelled.
"""

from __future__ import annotations

import sqlite3

V15_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE meter_replacement (
        replacement_id TEXT PRIMARY KEY,
        meter_id TEXT NOT NULL,
        swap_ts INTEGER NOT NULL,
        old_device TEXT NOT NULL,
        new_device TEXT NOT NULL,
        final TEXT NOT NULL,
        initial TEXT NOT NULL,
        cancelled TEXT NOT NULL,
        note TEXT,
        created_ts INTEGER NOT NULL,
        context_id TEXT,
        user_id TEXT)""",
    "CREATE INDEX meter_replacement_meter ON meter_replacement (meter_id, swap_ts)",
)


def upgrade_v15(conn: sqlite3.Connection) -> None:
    """Create the replacement table."""
    for statement in V15_STATEMENTS:
        conn.execute(statement)
