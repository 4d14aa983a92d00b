"""Schema v7: the ledger is append-only in the database itself, not only by convention.

A ledger entry is never changed or removed — a wrong one is reversed (冲正) by a new entry —
so SQLite refuses UPDATE and DELETE on ``ledger_entry``: a bug can never rewrite money
history. (Someone with the file can drop the triggers; ``meterhub account audit`` then still
finds a tampered amount through the entries' running-balance chain.)
"""

from __future__ import annotations

import sqlite3

V7_STATEMENTS: tuple[str, ...] = (
    """CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry
        BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: post a reversal'); END""",
    """CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry
        BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: post a reversal'); END""",
)


def upgrade_v7(conn: sqlite3.Connection) -> None:
    """Add the append-only triggers."""
    for statement in V7_STATEMENTS:
        conn.execute(statement)
