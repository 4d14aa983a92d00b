"""Schema v12: the tenant portal — each account's link tokens and the landlord's announcements.

A link's token is never stored: only its SHA-256 (the token is 256 random bits, so a hash is
enough). An account has at most one live link; revoking sets ``revoked_ts``, re-issuing
revokes the live one and adds a new row, so the history of who issued and revoked stays.
An announcement is shown on the portal of every account its ``tags`` match (``{}``: all).
"""

from __future__ import annotations

import sqlite3

V12_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE tenant_link (
        link_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_ts INTEGER NOT NULL,
        created_by TEXT,
        revoked_ts INTEGER,
        revoked_by TEXT,
        last_used_ts INTEGER)""",
    "CREATE INDEX tenant_link_account ON tenant_link (account_id, created_ts)",
    # at most one live link per account, whatever a caller does
    "CREATE UNIQUE INDEX tenant_link_live ON tenant_link (account_id) WHERE revoked_ts IS NULL",
    """CREATE TABLE tenant_announcement (
        announcement_id TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '{}',
        created_ts INTEGER NOT NULL,
        created_by TEXT,
        until_ts INTEGER,
        withdrawn_ts INTEGER)""",
)


def create_v12(conn: sqlite3.Connection) -> None:
    """Create the tenant portal's tables."""
    for statement in V12_STATEMENTS:
        conn.execute(statement)
