"""Schema v9: who may use the hub — users, login sessions, API tokens and their log.

Secrets are never stored: a password is kept as its argon2id hash, a session's cookie and an
API token as the SHA-256 of a 256-bit random secret (enough for a secret nobody chose). A
user's ``language`` (v17) is the one their pages and answers use when they ask for none. A
user's ``scope`` is the JSON of the tags that bound what they see (``{"building": "A"}``);
``{}`` is the whole site. ``auth_log`` keeps who changed users and tokens, and every login.
"""

from __future__ import annotations

import sqlite3

V8_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE auth_user (
        user_id TEXT PRIMARY KEY,       -- the login name
        role TEXT NOT NULL,             -- admin | landlord | operator | finance | viewer
        scope TEXT NOT NULL DEFAULT '{}',
        password_hash TEXT,             -- argon2id; NULL: cannot log in with a password
        disabled INTEGER NOT NULL DEFAULT 0,
        created_ts INTEGER NOT NULL,
        updated_ts INTEGER NOT NULL)""",
    """CREATE TABLE auth_session (
        session_id TEXT PRIMARY KEY,    -- public id (lists, revocation)
        secret_hash TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL,
        created_ts INTEGER NOT NULL,
        expires_ts INTEGER NOT NULL,
        last_used_ts INTEGER NOT NULL,
        address TEXT,
        agent TEXT,
        revoked_ts INTEGER)""",
    "CREATE INDEX auth_session_user ON auth_session (user_id, created_ts)",
    """CREATE TABLE auth_token (
        token_id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        user_id TEXT NOT NULL,          -- the owner: its author on every change
        role TEXT NOT NULL,
        scope TEXT NOT NULL DEFAULT '{}',
        created_ts INTEGER NOT NULL,
        expires_ts INTEGER,
        last_used_ts INTEGER,
        last_address TEXT,
        revoked_ts INTEGER)""",
    "CREATE INDEX auth_token_user ON auth_token (user_id, created_ts)",
    """CREATE TABLE auth_log (
        log_key INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        action TEXT NOT NULL,           -- login, login_failed, user_add, token_revoke...
        user_id TEXT,                   -- who did it (the author)
        target TEXT,                    -- the user, token or session acted on
        address TEXT,
        detail TEXT)""",
    "CREATE INDEX auth_log_ts ON auth_log (ts)",
)


def upgrade_v17(conn: sqlite3.Connection) -> None:
    """Schema v17: each user's language (NULL: the site's)."""
    conn.execute("ALTER TABLE auth_user ADD COLUMN language TEXT")


def create_v9(conn: sqlite3.Connection) -> None:
    """Schema v9: users, sessions, API tokens, the access log."""
    for statement in V8_STATEMENTS:
        conn.execute(statement)
