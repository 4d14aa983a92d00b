"""Schema v5: settings changed at runtime (API, dashboard) on top of the YAML configuration.

One row per (scope, item, field): the value set, and the YAML value it replaced (``base``),
so that a later edit of the same field in YAML can be told apart from a YAML that simply
still says what it said (see hub/prepaid/book.py for the rule). Every change is also kept in
``config_override_log``, so no edit made in either place is ever lost.
"""

from __future__ import annotations

import sqlite3

V5_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE config_override (
        scope TEXT NOT NULL,
        item TEXT NOT NULL,
        field TEXT NOT NULL,
        value TEXT NOT NULL,
        base TEXT,
        updated_ts INTEGER NOT NULL,
        context_id TEXT,
        user_id TEXT,
        PRIMARY KEY (scope, item, field))""",
    """CREATE TABLE config_override_log (
        log_id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL,
        item TEXT NOT NULL,
        field TEXT NOT NULL,
        action TEXT NOT NULL,
        value TEXT,
        base TEXT,
        ts INTEGER NOT NULL,
        context_id TEXT,
        user_id TEXT)""",
    "CREATE INDEX config_override_log_item ON config_override_log (scope, item, ts)",
)


def upgrade_v5(conn: sqlite3.Connection) -> None:
    """Create the override tables."""
    for statement in V5_STATEMENTS:
        conn.execute(statement)
