"""Schema v14: the notification outbox — every message to send, written before it is sent.

One row per message and target (a notifier's URL, a tenant's URL): its state (``queued`` →
``sent`` | ``failed`` | ``merged``), the attempts so far and when the next one is due, so a
hub restarted in between goes on where it stopped. ``rate_key`` names who receives (one
phone, one URL): the sent rows of the last hour are what a per-target rate limit counts.
``payload`` is the rendered message as JSON; targets are named by a key, never by a URL.
"""

from __future__ import annotations

import sqlite3

V14_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE notify_outbox (
        delivery_id TEXT PRIMARY KEY,
        message_id TEXT NOT NULL,
        notifier TEXT NOT NULL,
        target TEXT NOT NULL,           -- the target's key in its notifier, never a URL
        label TEXT NOT NULL,            -- safe to show: the scheme (json://), the type
        rate_key TEXT NOT NULL,         -- who receives: what rate limits count by
        state TEXT NOT NULL,            -- queued | sent | failed | merged
        payload TEXT NOT NULL,          -- the message (JSON)
        dedupe_key TEXT,                -- a built-in notice's "same notice" key
        attempts INTEGER NOT NULL DEFAULT 0,
        next_ts INTEGER NOT NULL,
        created_ts INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL,
        error TEXT,
        merged_into TEXT,               -- the summary that carried it (state merged)
        context_id TEXT,
        context_parent_id TEXT,
        context_user_id TEXT)""",
    "CREATE INDEX notify_outbox_queued ON notify_outbox (next_ts) WHERE state = 'queued'",
    "CREATE INDEX notify_outbox_sent ON notify_outbox (rate_key, updated_ts) "
    "WHERE state = 'sent'",
    "CREATE INDEX notify_outbox_created ON notify_outbox (created_ts)",
)


def upgrade_v14(conn: sqlite3.Connection) -> None:
    """Create the outbox table."""
    for statement in V14_STATEMENTS:
        conn.execute(statement)
