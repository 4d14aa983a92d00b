"""SQL of prepaid control: the control command queue, operator holds, scheduled trips, "why".

A :class:`ControlStore` wraps one connection: :meth:`Storage.control_write` hands it out inside
one durable (synchronous=FULL) transaction, :meth:`Storage.control_read` on a reader. Callers
get plain records back (aware datetimes, Contexts), never rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...core import Context
from ...i18n import restored, stored
from .. import codec
from ..schema.control import CONTROL_QUEUE, OUTSTANDING_STATES
from . import commands

_OUT = ", ".join(f"'{state}'" for state in OUTSTANDING_STATES)
_COMMAND_COLUMNS = ("command_id, meter_id, account_id, command, state, params, created_ts, "
                    "updated_ts, attempts, error, next_ts, expires_ts, context_id, "
                    "context_parent_id, context_user_id")
_HOLD_COLUMNS = ("hold_id, account_id, kind, reason, until_ts, operator, created_ts, "
                 "released_ts, released_by, release_reason, context_id, context_parent_id, "
                 "context_user_id")
_SCHEDULE_COLUMNS = ("schedule_id, account_id, kind, state, due_ts, warn_ts, warned_ts, "
                     "reason, params, created_ts, updated_ts, context_id, context_parent_id, "
                     "context_user_id")
MAX_WHY_DEPTH = 32


def _dt(value: int | None) -> datetime | None:
    return codec.from_ms(value) if value is not None else None


def _ms(value: datetime | None) -> int | None:
    return codec.to_ms(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class ControlCommand:
    """A control command row (queue ``control``)."""

    command_id: str
    meter_id: str
    account_id: str | None
    command: str
    state: str
    params: dict[str, Any]
    created: datetime
    updated: datetime
    attempts: int
    error: str | None
    next_at: datetime | None
    expires_at: datetime | None
    context: Context


@dataclass(frozen=True, slots=True)
class HoldRow:
    """An operator hold on an account (open while ``released`` is None)."""

    hold_id: str
    account_id: str
    kind: str
    reason: str
    until: datetime | None
    operator: str | None
    created: datetime
    released: datetime | None = None
    released_by: str | None = None
    release_reason: str | None = None
    context: Context = field(default_factory=Context)


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    """A scheduled trip check of an account (``pending`` until fired or cancelled)."""

    schedule_id: str
    account_id: str
    kind: str
    state: str
    due: datetime
    warn_at: datetime | None
    warned: datetime | None
    reason: str
    params: dict[str, Any]
    created: datetime
    updated: datetime
    context: Context = field(default_factory=Context)


def _command(row: Sequence[Any]) -> ControlCommand:
    (command_id, meter_id, account_id, command, state, params, created, updated, attempts,
     error, next_ts, expires_ts, ctx_id, parent_id, user_id) = row
    return ControlCommand(command_id, meter_id, account_id, command, state,
                          dict(codec.loads(params) or {}), codec.from_ms(created),
                          codec.from_ms(updated), int(attempts), restored(error), _dt(next_ts),
                          _dt(expires_ts), Context(ctx_id, parent_id, user_id))


def _hold(row: Sequence[Any]) -> HoldRow:
    (hold_id, account_id, kind, reason, until_ts, operator, created, released, released_by,
     release_reason, ctx_id, parent_id, user_id) = row
    return HoldRow(hold_id, account_id, kind, reason, _dt(until_ts), operator,
                   codec.from_ms(created), _dt(released), released_by, release_reason,
                   Context(ctx_id, parent_id, user_id))


def _schedule(row: Sequence[Any]) -> ScheduleRow:
    (schedule_id, account_id, kind, state, due_ts, warn_ts, warned_ts, reason, params,
     created, updated, ctx_id, parent_id, user_id) = row
    return ScheduleRow(schedule_id, account_id, kind, state, codec.from_ms(due_ts),
                       _dt(warn_ts), _dt(warned_ts), restored(reason or ""),
                       dict(codec.loads(params) or {}), codec.from_ms(created),
                       codec.from_ms(updated), Context(ctx_id, parent_id, user_id))


class ControlStore:
    """Queries and writes of prepaid control on one connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # --- commands -------------------------------------------------------------------

    def submit(self, *, command_id: str, meter_id: str, account_id: str | None, command: str,
               params: Mapping[str, Any], ts: int, next_at: datetime | None,
               expires_at: datetime | None, context: Context) -> list[str]:
        """Supersede the meter's outstanding control command (if any), queue a new one.

        Returns the ids superseded. The partial unique index makes a second outstanding
        command for one meter impossible even if two writers raced.
        """
        superseded = []
        for old_id, state in self.conn.execute(
                f"SELECT command_id, state FROM command WHERE meter_id = ? AND queue = ? "
                f"AND state IN ({_OUT})", (meter_id, CONTROL_QUEUE)).fetchall():
            commands.transition(self.conn, old_id, "superseded", ts, expected=(state,),
                                detail={"by": command_id, "command": command}, error=None,
                                attempt=False, context=context)
            superseded.append(str(old_id))
        commands.create(self.conn, command_id, meter_id, command, "queued", params, ts, context)
        self.conn.execute(
            "UPDATE command SET queue = ?, account_id = ?, next_ts = ?, expires_ts = ? "
            "WHERE command_id = ?",
            (CONTROL_QUEUE, account_id, _ms(next_at), _ms(expires_at), command_id))
        return superseded

    def move(self, command_id: str, state: str, ts: int, *, expected: Sequence[str],
             detail: Mapping[str, Any] | None = None, error: str | None = None,
             attempt: bool = False, context: Context | None = None,
             next_at: datetime | None = None,
             params: Mapping[str, Any] | None = None) -> str:
        """Move a command (checking ``expected``); set its next action time; merge params."""
        old = commands.transition(self.conn, command_id, state, ts, expected=expected,
                                  detail=detail, error=error, attempt=attempt, context=context)
        self.conn.execute("UPDATE command SET next_ts = ? WHERE command_id = ?",
                          (_ms(next_at), command_id))
        if params:
            self.merge_params(command_id, params)
        return old

    def merge_params(self, command_id: str, params: Mapping[str, Any]) -> None:
        """Add keys to a command's params (a link's own command id, for instance)."""
        row = self.conn.execute("SELECT params FROM command WHERE command_id = ?",
                                (command_id,)).fetchone()
        if row is None:
            raise commands.CommandNotFound(f"no command {command_id}")
        merged = {**dict(codec.loads(row[0]) or {}), **dict(params)}
        self.conn.execute("UPDATE command SET params = ? WHERE command_id = ?",
                          (codec.dumps(merged), command_id))

    def outstanding(self) -> list[ControlCommand]:
        """Every queued or sent control command, oldest first."""
        return [_command(row) for row in self.conn.execute(
            f"SELECT {_COMMAND_COLUMNS} FROM command WHERE queue = ? AND state IN ({_OUT}) "
            "ORDER BY created_ts", (CONTROL_QUEUE,))]

    def command(self, command_id: str) -> ControlCommand | None:
        """One control command."""
        row = self.conn.execute(f"SELECT {_COMMAND_COLUMNS} FROM command WHERE command_id = ?",
                                (command_id,)).fetchone()
        return _command(row) if row is not None else None

    def latest(self, *, meter_ids: Sequence[str] = (), account_id: str | None = None,
               commands_: Sequence[str] = (), limit: int = 20) -> list[ControlCommand]:
        """The newest control commands of some meters and/or an account, newest first."""
        sql = f"SELECT {_COMMAND_COLUMNS} FROM command WHERE queue = ?"
        args: list[Any] = [CONTROL_QUEUE]
        if meter_ids:
            sql += f" AND meter_id IN ({', '.join('?' * len(meter_ids))})"
            args.extend(meter_ids)
        if account_id is not None:
            sql += " AND account_id = ?"
            args.append(account_id)
        if commands_:
            sql += f" AND command IN ({', '.join('?' * len(commands_))})"
            args.extend(commands_)
        sql += " ORDER BY created_ts DESC, rowid DESC LIMIT ?"
        args.append(limit)
        return [_command(row) for row in self.conn.execute(sql, args)]

    # --- holds ----------------------------------------------------------------------

    def add_hold(self, hold: HoldRow) -> list[str]:
        """Store a new hold; any other open hold of the account is released (replaced)."""
        ts = codec.to_ms(hold.created)
        released = self.release_holds(hold.account_id, ts, hold.operator,
                                      f"replaced by {hold.kind} hold {hold.hold_id}")
        ctx = hold.context
        self.conn.execute(
            f"INSERT INTO account_hold ({_HOLD_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?)",
            (hold.hold_id, hold.account_id, hold.kind, hold.reason, _ms(hold.until),
             hold.operator, ts, ctx.id, ctx.parent_id, ctx.user_id))
        return released

    def release_holds(self, account_id: str, ts: int, by: str | None,
                      reason: str | None, hold_id: str | None = None) -> list[str]:
        """Release the account's open holds (or one of them); returns the ids released."""
        sql = "SELECT hold_id FROM account_hold WHERE account_id = ? AND released_ts IS NULL"
        args: list[Any] = [account_id]
        if hold_id is not None:
            sql += " AND hold_id = ?"
            args.append(hold_id)
        ids = [str(row[0]) for row in self.conn.execute(sql, args)]
        for item in ids:
            self.conn.execute(
                "UPDATE account_hold SET released_ts = ?, released_by = ?, release_reason = ? "
                "WHERE hold_id = ?", (ts, by, reason, item))
        return ids

    def open_holds(self) -> list[HoldRow]:
        """Every hold not released yet (an expired one stays open until processed)."""
        return [_hold(row) for row in self.conn.execute(
            f"SELECT {_HOLD_COLUMNS} FROM account_hold WHERE released_ts IS NULL "
            "ORDER BY created_ts")]

    def holds(self, account_id: str, limit: int = 50) -> list[HoldRow]:
        """An account's holds, newest first (history included)."""
        return [_hold(row) for row in self.conn.execute(
            f"SELECT {_HOLD_COLUMNS} FROM account_hold WHERE account_id = ? "
            "ORDER BY created_ts DESC, rowid DESC LIMIT ?", (account_id, limit))]

    # --- scheduled trips --------------------------------------------------------------

    def put_schedule(self, row: ScheduleRow) -> ScheduleRow:
        """Make ``row`` the account's pending scheduled trip (one per account, kept by id).

        A pending row of the account keeps its id and creation; due, warning, kind and
        reason are replaced (a moved due time forgets an earlier warning).
        """
        existing = self.conn.execute(
            f"SELECT {_SCHEDULE_COLUMNS} FROM trip_schedule WHERE account_id = ? "
            "AND state = 'pending'", (row.account_id,)).fetchone()
        ts = codec.to_ms(row.updated)
        if existing is not None:
            old = _schedule(existing)
            warned = old.warned if old.due == row.due else None
            self.conn.execute(
                "UPDATE trip_schedule SET kind = ?, due_ts = ?, warn_ts = ?, warned_ts = ?, "
                "reason = ?, params = ?, updated_ts = ? WHERE schedule_id = ?",
                (row.kind, _ms(row.due), _ms(row.warn_at), _ms(warned), stored(row.reason),
                 codec.dumps(row.params), ts, old.schedule_id))
            found = self.schedule(old.schedule_id)
            assert found is not None
            return found
        ctx = row.context
        self.conn.execute(
            f"INSERT INTO trip_schedule ({_SCHEDULE_COLUMNS}) VALUES "
            "(?, ?, ?, 'pending', ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)",
            (row.schedule_id, row.account_id, row.kind, _ms(row.due), _ms(row.warn_at),
             stored(row.reason), codec.dumps(row.params), codec.to_ms(row.created), ts, ctx.id,
             ctx.parent_id, ctx.user_id))
        found = self.schedule(row.schedule_id)
        assert found is not None
        return found

    def finish_schedule(self, schedule_id: str, state: str, ts: int,
                        reason: str | None = None) -> bool:
        """End a pending scheduled trip (``fired`` or ``cancelled``); False if not pending."""
        changed = self.conn.execute(
            "UPDATE trip_schedule SET state = ?, updated_ts = ?, "
            "reason = COALESCE(?, reason) WHERE schedule_id = ? AND state = 'pending'",
            (state, ts, None if reason is None else stored(reason), schedule_id)).rowcount
        return bool(changed)

    def mark_warned(self, schedule_id: str, ts: int) -> None:
        """Record that the warning before a scheduled trip went out."""
        self.conn.execute("UPDATE trip_schedule SET warned_ts = ?, updated_ts = ? "
                          "WHERE schedule_id = ?", (ts, ts, schedule_id))

    def schedule(self, schedule_id: str) -> ScheduleRow | None:
        """One scheduled trip."""
        row = self.conn.execute(f"SELECT {_SCHEDULE_COLUMNS} FROM trip_schedule "
                                "WHERE schedule_id = ?", (schedule_id,)).fetchone()
        return _schedule(row) if row is not None else None

    def pending_schedules(self) -> list[ScheduleRow]:
        """Every pending scheduled trip, earliest first."""
        return [_schedule(row) for row in self.conn.execute(
            f"SELECT {_SCHEDULE_COLUMNS} FROM trip_schedule WHERE state = 'pending' "
            "ORDER BY due_ts")]

    def schedules(self, account_id: str, limit: int = 50) -> list[ScheduleRow]:
        """An account's scheduled trips, newest first (history included)."""
        return [_schedule(row) for row in self.conn.execute(
            f"SELECT {_SCHEDULE_COLUMNS} FROM trip_schedule WHERE account_id = ? "
            "ORDER BY created_ts DESC, rowid DESC LIMIT ?", (account_id, limit))]

    # --- why ------------------------------------------------------------------------

    def events_of_context(self, context_id: str) -> list[dict[str, Any]]:
        """Recorded events fired with exactly this context, oldest first."""
        return [
            {"event_type": name, "time": codec.from_ms(ts),
             "data": dict(codec.loads(data) or {}),
             "context": {"id": ctx_id, "parent_id": parent_id, "user_id": user_id,
                         "origin": origin}}
            for ts, name, data, ctx_id, parent_id, user_id, origin in self.conn.execute(
                "SELECT e.ts, t.name, e.data, e.context_id, e.context_parent_id, "
                "e.context_user_id, e.origin FROM event e "
                "JOIN event_type t ON t.type_key = e.type_key "
                "WHERE e.context_id = ? ORDER BY e.ts, e.event_key", (context_id,))]

    def why(self, command_id: str) -> dict[str, Any] | None:
        """A command, its transitions and the chain of recorded causes behind it.

        The chain walks context parents: the command's context, the context that caused it
        (a service call with its user, a balance_exhausted, a scheduled trip...), and so on
        back to the reading, as far as events were recorded.
        """
        record = commands.get(self.conn, command_id)
        if record is None:
            return None
        chain: list[dict[str, Any]] = []
        seen: set[str] = set()
        parent = record.context_parent_id
        user = record.context_user_id
        while parent and parent not in seen and len(chain) < MAX_WHY_DEPTH:
            seen.add(parent)
            events = self.events_of_context(parent)
            if not events:
                chain.append({"context_id": parent, "events": []})
                break
            chain.append({"context_id": parent, "events": events})
            user = user or events[0]["context"]["user_id"]
            parent = events[0]["context"]["parent_id"]
        return {
            "command": {
                "command_id": record.command_id, "meter_id": record.meter_id,
                "command": record.command, "state": record.state,
                "params": record.params, "created": record.created,
                "updated": record.updated, "attempts": record.attempts,
                "error": record.error,
                "context": {"id": record.context_id, "parent_id": record.context_parent_id,
                            "user_id": record.context_user_id},
            },
            "transitions": record.transitions,
            "chain": chain,
            "user_id": user,
        }
