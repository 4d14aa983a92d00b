"""Durable command rows and their state transitions (the state machine itself is prepaid's).

Every function runs in the writer's thread inside an explicit transaction that storage
commits with ``synchronous=FULL``, so a command or a transition, once acknowledged, survives
a power cut. ``transition`` checks the state it expects, so two tasks can never both move one
command from ``queued`` to ``sent``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from ...core import Context
from ...i18n import restored, stored, stored_forms
from .. import codec
from ..errors import StorageError
from ..model import CommandRecord


class CommandNotFound(StorageError, KeyError):
    """No command has this id."""


class CommandConflict(StorageError):
    """The command exists already, or is not in the state the transition expects."""


def create(conn: sqlite3.Connection, command_id: str, meter_id: str, command: str,
           state: str, params: Mapping[str, Any], ts: int, context: Context | None) -> None:
    """Insert a command and its first transition (from nothing to ``state``)."""
    ctx = context or Context()
    if conn.execute("SELECT 1 FROM command WHERE command_id = ?", (command_id,)).fetchone():
        raise CommandConflict(f"command {command_id} exists already")
    conn.execute(
        "INSERT INTO command (command_id, meter_id, command, state, params, created_ts, "
        "updated_ts, attempts, error, context_id, context_parent_id, context_user_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?, ?)",
        (command_id, meter_id, command, state, codec.dumps(dict(params)), ts, ts, ctx.id,
         ctx.parent_id, ctx.user_id))
    _log(conn, command_id, ts, None, state, None, ctx)


def transition(conn: sqlite3.Connection, command_id: str, state: str, ts: int, *,
               expected: Sequence[str] | None, detail: Mapping[str, Any] | None,
               error: str | None, attempt: bool, context: Context | None) -> str:
    """Move a command to ``state`` (checking ``expected``); return the state it left."""
    row = conn.execute("SELECT state FROM command WHERE command_id = ?",
                       (command_id,)).fetchone()
    if row is None:
        raise CommandNotFound(f"no command {command_id}")
    old = str(row[0])
    if expected is not None and old not in expected:
        raise CommandConflict(f"command {command_id} is {old}, not {' or '.join(expected)}")
    conn.execute(
        "UPDATE command SET state = ?, updated_ts = ?, error = COALESCE(?, error), "
        "attempts = attempts + ? WHERE command_id = ?",
        (state, ts, None if error is None else stored(error), 1 if attempt else 0, command_id))
    _log(conn, command_id, ts, old, state, detail, context or Context())
    return old


def _log(conn: sqlite3.Connection, command_id: str, ts: int, old: str | None, new: str,
         detail: Mapping[str, Any] | None, ctx: Context) -> None:
    conn.execute(
        "INSERT INTO command_transition (command_id, ts, from_state, to_state, detail, "
        "context_id, context_parent_id, context_user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        # each message in it (a reason, a note) kept with its key, as an event's data
        (command_id, ts, old, new, codec.dumps_mapping(stored_forms(detail or {})), ctx.id,
         ctx.parent_id, ctx.user_id))


_COLUMNS = ("command_id, meter_id, command, state, params, created_ts, updated_ts, attempts, "
            "error, context_id, context_parent_id, context_user_id")


def _record(row: tuple[Any, ...], transitions: list[dict[str, Any]]) -> CommandRecord:
    (command_id, meter_id, command, state, params, created, updated, attempts, error, ctx_id,
     parent_id, user_id) = row
    return CommandRecord(command_id, meter_id, command, state, dict(codec.loads(params) or {}),
                         codec.from_ms(created), codec.from_ms(updated), attempts,
                         restored(error),
                         ctx_id, parent_id, user_id, transitions)


def get(conn: sqlite3.Connection, command_id: str) -> CommandRecord | None:
    """One command with every transition, oldest first."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM command WHERE command_id = ?",
                       (command_id,)).fetchone()
    if row is None:
        return None
    transitions = [
        {"time": codec.from_ms(ts), "from": old, "to": new,
         "detail": dict(codec.loads(detail) or {}),
         "context": {"id": ctx_id, "parent_id": parent_id, "user_id": user_id}}
        for ts, old, new, detail, ctx_id, parent_id, user_id in conn.execute(
            "SELECT ts, from_state, to_state, detail, context_id, context_parent_id, "
            "context_user_id FROM command_transition WHERE command_id = ? "
            "ORDER BY ts, transition_key", (command_id,))]
    return _record(row, transitions)


def find(conn: sqlite3.Connection, *, meter_id: str | None, states: Sequence[str],
         since: int | None, limit: int) -> list[CommandRecord]:
    """Commands by meter and/or state, newest first (without their transitions)."""
    sql = f"SELECT {_COLUMNS} FROM command WHERE 1 = 1"
    params: list[Any] = []
    if meter_id is not None:
        sql += " AND meter_id = ?"
        params.append(meter_id)
    if states:
        sql += f" AND state IN ({', '.join('?' * len(states))})"
        params.extend(states)
    if since is not None:
        sql += " AND updated_ts >= ?"
        params.append(since)
    sql += " ORDER BY created_ts DESC LIMIT ?"
    params.append(limit)
    return [_record(row, []) for row in conn.execute(sql, params)]
