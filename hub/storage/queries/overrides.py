"""Settings changed at runtime: read a scope's overrides, set or drop one and log the change.

The tables are schema v5's (``schema/overrides.py``); the rule that decides between an override
and the YAML value is prepaid's (hub/prepaid/book.py).
"""

from __future__ import annotations

import sqlite3


def read_overrides(conn: sqlite3.Connection, scope: str) -> list[tuple[str, str, str, str | None,
                                                                       int, str | None]]:
    """(item, field, value, base, updated_ts, user_id) of every override in a scope."""
    return [tuple(row) for row in conn.execute(
        "SELECT item, field, value, base, updated_ts, user_id FROM config_override "
        "WHERE scope = ? ORDER BY item, field", (scope,))]


def write_override(conn: sqlite3.Connection, scope: str, item: str, field: str,
                   value: str | None, base: str | None, ts: int, context_id: str | None,
                   user_id: str | None, action: str) -> None:
    """Set (value given) or drop (value None) one override, and log the change."""
    if value is None:
        conn.execute("DELETE FROM config_override WHERE scope = ? AND item = ? AND field = ?",
                     (scope, item, field))
    else:
        conn.execute(
            "INSERT INTO config_override (scope, item, field, value, base, updated_ts, "
            "context_id, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope, item, "
            "field) DO UPDATE SET value = excluded.value, base = excluded.base, "
            "updated_ts = excluded.updated_ts, context_id = excluded.context_id, "
            "user_id = excluded.user_id",
            (scope, item, field, value, base, ts, context_id, user_id))
    conn.execute(
        "INSERT INTO config_override_log (scope, item, field, action, value, base, ts, "
        "context_id, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (scope, item, field, action, value, base, ts, context_id, user_id))
