"""SQL of access control: users, sessions, API tokens, the access log, and the audit trail.

An :class:`AuthStore` wraps one connection (:meth:`Storage.auth_write` in a durable
transaction, :meth:`Storage.auth_read` on a reader). Callers get plain records; the rules
(who may do what, hashing, expiry) are hub/auth's.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_USER_COLUMNS = ("user_id, role, scope, password_hash, disabled, created_ts, updated_ts, "
                 "language")
_SESSION_COLUMNS = ("session_id, secret_hash, user_id, created_ts, expires_ts, last_used_ts, "
                    "address, agent, revoked_ts")
_TOKEN_COLUMNS = ("token_id, secret_hash, name, user_id, role, scope, created_ts, expires_ts, "
                  "last_used_ts, last_address, revoked_ts")


@dataclass(frozen=True, slots=True)
class UserRow:
    """A user as stored (the password only as its hash)."""

    user_id: str
    role: str
    scope: dict[str, str]
    password_hash: str | None
    disabled: bool
    created_ms: int
    updated_ms: int
    language: str | None = None  # None: the site's


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A login session as stored (its cookie only as a hash)."""

    session_id: str
    secret_hash: str
    user_id: str
    created_ms: int
    expires_ms: int
    last_used_ms: int
    address: str | None
    agent: str | None
    revoked_ms: int | None


@dataclass(frozen=True, slots=True)
class TokenRow:
    """An API token as stored (the token only as a hash)."""

    token_id: str
    secret_hash: str
    name: str
    user_id: str
    role: str
    scope: dict[str, str]
    created_ms: int
    expires_ms: int | None
    last_used_ms: int | None
    last_address: str | None
    revoked_ms: int | None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What ``audit`` lists: by author, account, meter and time (epoch ms, end excluded)."""

    user_id: str | None = None
    account_id: str | None = None
    meter_id: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    limit: int = 200
    offset: int = 0  # rows skipped (newest first): a page further down


def _user(row: Sequence[Any]) -> UserRow:
    return UserRow(row[0], row[1], json.loads(row[2]), row[3], bool(row[4]), row[5], row[6],
                   row[7])


def _session(row: Sequence[Any]) -> SessionRow:
    return SessionRow(*row)


def _token(row: Sequence[Any]) -> TokenRow:
    return TokenRow(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), *row[6:])


class AuthStore:
    """Users, sessions, tokens and the access log on one connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # --- users ---------------------------------------------------------------------------

    def users(self) -> list[UserRow]:
        """Every user, by name."""
        return [_user(row) for row in self.conn.execute(
            f"SELECT {_USER_COLUMNS} FROM auth_user ORDER BY user_id")]

    def user(self, user_id: str) -> UserRow | None:
        """One user, or None."""
        row = self.conn.execute(f"SELECT {_USER_COLUMNS} FROM auth_user WHERE user_id = ?",
                                (user_id,)).fetchone()
        return _user(row) if row else None

    def count_users(self) -> int:
        """How many users exist (disabled ones too)."""
        return int(self.conn.execute("SELECT COUNT(*) FROM auth_user").fetchone()[0])

    def add_user(self, user: UserRow) -> None:
        """Insert a new user (the caller checked the name is free)."""
        self.conn.execute(
            f"INSERT INTO auth_user ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (user.user_id, user.role, json.dumps(user.scope, sort_keys=True),
             user.password_hash, int(user.disabled), user.created_ms, user.updated_ms,
             user.language))

    def update_user(self, user_id: str, ts: int, **fields: Any) -> None:
        """Set some of role, scope, password_hash, disabled, language."""
        allowed = {"role", "scope", "password_hash", "disabled", "language"}
        values = {key: (json.dumps(value, sort_keys=True) if key == "scope" else
                        int(value) if key == "disabled" else value)
                  for key, value in fields.items() if key in allowed}
        assignments = ", ".join(f"{key} = ?" for key in values)
        self.conn.execute(f"UPDATE auth_user SET {assignments}, updated_ts = ? "
                          "WHERE user_id = ?", (*values.values(), ts, user_id))

    # --- sessions ------------------------------------------------------------------------

    def add_session(self, session: SessionRow) -> None:
        """Insert a new session."""
        self.conn.execute(f"INSERT INTO auth_session ({_SESSION_COLUMNS}) VALUES "
                          "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (session.session_id, session.secret_hash, session.user_id,
                           session.created_ms, session.expires_ms, session.last_used_ms,
                           session.address, session.agent, session.revoked_ms))

    def session_by_hash(self, secret_hash: str) -> SessionRow | None:
        """The session whose cookie hashes to ``secret_hash``."""
        row = self.conn.execute(f"SELECT {_SESSION_COLUMNS} FROM auth_session "
                                "WHERE secret_hash = ?", (secret_hash,)).fetchone()
        return _session(row) if row else None

    def sessions(self, user_id: str | None, now_ms: int) -> list[SessionRow]:
        """Sessions still valid (of one user, or everyone's), newest first."""
        sql = (f"SELECT {_SESSION_COLUMNS} FROM auth_session WHERE revoked_ts IS NULL "
               "AND expires_ts > ?")
        params: list[Any] = [now_ms]
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(user_id)
        sql += " ORDER BY created_ts DESC, session_id"  # ties: one order for every page
        return [_session(row) for row in self.conn.execute(sql, params)]

    def session(self, session_id: str) -> SessionRow | None:
        """One session by its public id."""
        row = self.conn.execute(f"SELECT {_SESSION_COLUMNS} FROM auth_session "
                                "WHERE session_id = ?", (session_id,)).fetchone()
        return _session(row) if row else None

    def touch_session(self, session_id: str, ts: int) -> None:
        """Record a use of a session."""
        self.conn.execute("UPDATE auth_session SET last_used_ts = ? WHERE session_id = ?",
                          (ts, session_id))

    def revoke_sessions(self, ts: int, *, session_id: str | None = None,
                        user_id: str | None = None) -> int:
        """Revoke one session, or every open one of a user; how many were revoked."""
        column, value = ("session_id", session_id) if session_id else ("user_id", user_id)
        return self.conn.execute(f"UPDATE auth_session SET revoked_ts = ? WHERE {column} = ? "
                                 "AND revoked_ts IS NULL", (ts, value)).rowcount

    # --- tokens --------------------------------------------------------------------------

    def add_token(self, token: TokenRow) -> None:
        """Insert a new token."""
        self.conn.execute(
            f"INSERT INTO auth_token ({_TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (token.token_id, token.secret_hash, token.name, token.user_id, token.role,
             json.dumps(token.scope, sort_keys=True), token.created_ms, token.expires_ms,
             token.last_used_ms, token.last_address, token.revoked_ms))

    def token_by_hash(self, secret_hash: str) -> TokenRow | None:
        """The token that hashes to ``secret_hash``."""
        row = self.conn.execute(f"SELECT {_TOKEN_COLUMNS} FROM auth_token "
                                "WHERE secret_hash = ?", (secret_hash,)).fetchone()
        return _token(row) if row else None

    def token(self, token_id: str) -> TokenRow | None:
        """One token by id."""
        row = self.conn.execute(f"SELECT {_TOKEN_COLUMNS} FROM auth_token WHERE token_id = ?",
                                (token_id,)).fetchone()
        return _token(row) if row else None

    def tokens(self, user_id: str | None) -> list[TokenRow]:
        """Tokens (of one user, or everyone's), newest first, revoked ones too."""
        sql = f"SELECT {_TOKEN_COLUMNS} FROM auth_token"
        params: tuple[Any, ...] = ()
        if user_id is not None:
            sql += " WHERE user_id = ?"
            params = (user_id,)
        sql += " ORDER BY created_ts DESC, token_id"  # ties: one order for every page
        return [_token(row) for row in self.conn.execute(sql, params)]

    def touch_token(self, token_id: str, ts: int, address: str | None) -> None:
        """Record a use of a token."""
        self.conn.execute("UPDATE auth_token SET last_used_ts = ?, last_address = ? "
                          "WHERE token_id = ?", (ts, address, token_id))

    def revoke_token(self, token_id: str, ts: int) -> int:
        """Revoke a token; 1 if it was open."""
        return self.conn.execute("UPDATE auth_token SET revoked_ts = ? WHERE token_id = ? "
                                 "AND revoked_ts IS NULL", (ts, token_id)).rowcount

    # --- the access log and the audit trail ----------------------------------------------

    def log(self, ts: int, action: str, user_id: str | None, target: str | None,
            address: str | None, detail: Mapping[str, Any] | None = None) -> None:
        """Append to the access log."""
        self.conn.execute("INSERT INTO auth_log (ts, action, user_id, target, address, detail) "
                          "VALUES (?, ?, ?, ?, ?, ?)",
                          (ts, action, user_id, target, address,
                           json.dumps(dict(detail), sort_keys=True, ensure_ascii=False)
                           if detail else None))

    def login_attempts(self, since_ts: int) -> list[tuple[int, str, str | None, str | None]]:
        """Failed and good logins since ``since_ts``, oldest first: (ts, action, user,
        address) — what the login limiter counted before a restart."""
        return [tuple(row) for row in self.conn.execute(
            "SELECT ts, action, user_id, address FROM auth_log WHERE ts >= ? AND action IN "
            "('login_failed', 'login') ORDER BY ts, log_key", (since_ts,))]

    def audit(self, where: AuditFilter) -> list[dict[str, Any]]:
        """Who did what, newest first: ledger entries, commands, holds, setting changes and
        the access log, each as ``{ts, source, action, user, account_id, meter_id, ...}``."""
        parts = [
            ("SELECT ts, 'ledger' AS source, kind AS action, COALESCE(context_user_id, "
             "operator) AS user_id, account_id, meter_id, entry_id AS ref, amount, "
             "reason AS detail FROM ledger_entry "
             "WHERE COALESCE(context_user_id, operator) IS NOT NULL"),
            ("SELECT created_ts, 'command', command, context_user_id, account_id, meter_id, "
             "command_id, NULL, state FROM command WHERE context_user_id IS NOT NULL"),
            ("SELECT created_ts, 'hold', kind, COALESCE(context_user_id, operator), account_id, "
             "NULL, hold_id, NULL, reason FROM account_hold "
             "WHERE COALESCE(context_user_id, operator) IS NOT NULL"),
            ("SELECT ts, 'setting', scope || '.' || field || ' ' || action, user_id, "
             "CASE WHEN scope = 'account' THEN item END, "
             "CASE WHEN scope = 'meter' THEN item END, item, NULL, value "
             "FROM config_override_log WHERE user_id IS NOT NULL"),
            ("SELECT ts, 'access', action, user_id, NULL, NULL, target, NULL, address "
             "FROM auth_log"),
        ]
        sql = "SELECT * FROM (" + " UNION ALL ".join(parts) + ") WHERE 1 = 1"
        params: list[Any] = []
        for column, value in (("user_id", where.user_id), ("account_id", where.account_id),
                              ("meter_id", where.meter_id)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        if where.start_ms is not None:
            sql += " AND ts >= ?"
            params.append(where.start_ms)
        if where.end_ms is not None:
            sql += " AND ts < ?"
            params.append(where.end_ms)
        # ties of time broken by every column: a page further down (OFFSET) sees the same order
        sql += " ORDER BY 1 DESC, 2, 3, 4, 5, 6, 7, 8, 9 LIMIT ? OFFSET ?"
        params += [where.limit, where.offset]
        keys = ("ts", "source", "action", "user", "account_id", "meter_id", "ref", "amount_fen",
                "detail")
        return [dict(zip(keys, row, strict=True)) for row in self.conn.execute(sql, params)]
