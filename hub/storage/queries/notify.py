"""The notification outbox's rows (schema/notify.py), for the notify plugin.

A :class:`NotifyStore` wraps one connection: :meth:`Storage.notify_write` hands it out inside
one durable (synchronous=FULL) transaction, :meth:`Storage.notify_read` on a reader.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["NotifyStore", "OutboxRow"]

_COLUMNS = ("delivery_id, message_id, notifier, target, label, rate_key, state, payload, "
            "dedupe_key, attempts, next_ts, created_ts, updated_ts, error, merged_into, "
            "context_id, context_parent_id, context_user_id")
_FINAL = ("sent", "failed", "merged")


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One message for one target, and how far its delivery got (times in ms)."""

    delivery_id: str
    message_id: str
    notifier: str
    target: str
    label: str
    rate_key: str
    state: str
    payload: str
    dedupe_key: str | None
    attempts: int
    next_ts: int
    created_ts: int
    updated_ts: int
    error: str | None = None
    merged_into: str | None = None
    context_id: str | None = None
    context_parent_id: str | None = None
    context_user_id: str | None = None


class NotifyStore:
    """The outbox's SQL on one connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(self, rows: Iterable[OutboxRow]) -> None:
        """Write new rows (a row already written is left as it is)."""
        self.conn.executemany(
            f"INSERT OR IGNORE INTO notify_outbox ({_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.delivery_id, r.message_id, r.notifier, r.target, r.label, r.rate_key, r.state,
              r.payload, r.dedupe_key, r.attempts, r.next_ts, r.created_ts, r.updated_ts,
              r.error, r.merged_into, r.context_id, r.context_parent_id, r.context_user_id)
             for r in rows])

    def update(self, delivery_id: str, state: str, *, attempts: int, next_ts: int, ts: int,
               error: str | None = None, merged_into: str | None = None) -> bool:
        """Move a queued row on; False when it was no longer queued (nothing changed)."""
        cursor = self.conn.execute(
            "UPDATE notify_outbox SET state = ?, attempts = ?, next_ts = ?, updated_ts = ?, "
            "error = ?, merged_into = ? WHERE delivery_id = ? AND state = 'queued'",
            (state, attempts, next_ts, ts, error, merged_into, delivery_id))
        return cursor.rowcount == 1

    def queued(self) -> list[OutboxRow]:
        """Every row still to deliver, in the order they were written."""
        return [OutboxRow(*row) for row in self.conn.execute(
            f"SELECT {_COLUMNS} FROM notify_outbox WHERE state = 'queued' "
            "ORDER BY created_ts, delivery_id")]

    def recent(self, since_ts: int, *, state: str | None = None, notifier: str | None = None,
               account_id: str | None = None, limit: int = 1000) -> list[OutboxRow]:
        """Rows written since ``since_ts``, newest first, of one state, notifier or account
        (the message's ``account_id``) when given."""
        where: list[str] = ["created_ts >= ?"]
        args: list[object] = [since_ts]
        for column, value in (("state", state), ("notifier", notifier),
                              ("json_extract(payload, '$.account_id')", account_id)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        return [OutboxRow(*row) for row in self.conn.execute(
            f"SELECT {_COLUMNS} FROM notify_outbox WHERE {' AND '.join(where)} "
            "ORDER BY created_ts DESC, delivery_id DESC LIMIT ?", (*args, limit))]

    def sent_since(self, since_ts: int) -> list[tuple[str, int]]:
        """(rate key, sent at) of every row sent since ``since_ts``, oldest first."""
        return [(str(key), int(ts)) for key, ts in self.conn.execute(
            "SELECT rate_key, updated_ts FROM notify_outbox WHERE state = 'sent' "
            "AND updated_ts >= ? ORDER BY updated_ts", (since_ts,))]

    def noticed_since(self, since_ts: int) -> dict[str, int]:
        """The latest time each built-in notice key was written since ``since_ts``."""
        return {str(key): int(ts) for key, ts in self.conn.execute(
            "SELECT dedupe_key, MAX(created_ts) FROM notify_outbox WHERE dedupe_key IS NOT NULL "
            "AND created_ts >= ? GROUP BY dedupe_key", (since_ts,))}

    def purge(self, before_ts: int) -> int:
        """Forget delivered, failed and merged rows last changed before ``before_ts``."""
        marks = ", ".join("?" for _ in _FINAL)
        cursor = self.conn.execute(
            f"DELETE FROM notify_outbox WHERE state IN ({marks}) AND updated_ts < ?",
            (*_FINAL, before_ts))
        return cursor.rowcount
