"""SQL of device maintenance: parameter-write commands (queue ``device``) and bulk jobs.

A :class:`DeviceStore` wraps one connection, handed out by :meth:`Storage.device_write`
inside one durable transaction (or :meth:`Storage.device_read` on a reader). A command's
final move and its job item's result are written together (:meth:`DeviceStore.finish`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ...core import Context
from ...i18n import restored, stored
from .. import codec
from ..schema.control import OUTSTANDING_STATES
from ..schema.devices import DEVICE_QUEUE
from . import commands
from .control import _COMMAND_COLUMNS, ControlCommand, ControlStore, _command

_OUT = ", ".join(f"'{state}'" for state in OUTSTANDING_STATES)
ITEM_ENDED = ("done", "failed", "cancelled")


@dataclass(frozen=True, slots=True)
class JobItem:
    """One meter of a job: its state, its command and the result in words."""

    meter_id: str
    state: str  # pending | queued | done | failed | cancelled
    command_id: str | None
    result: str | None
    updated: datetime


@dataclass(frozen=True, slots=True)
class JobRow:
    """A bulk job (``write`` or ``firmware``) with its items."""

    job_id: str
    kind: str
    spec: dict[str, Any]
    state: str  # running | done | cancelled
    created: datetime
    updated: datetime
    context: Context
    items: list[JobItem] = field(default_factory=list)

    def progress(self) -> dict[str, int]:
        """Items per state, and the total."""
        counts: dict[str, int] = {"total": len(self.items)}
        for item in self.items:
            counts[item.state] = counts.get(item.state, 0) + 1
        return counts


@dataclass(frozen=True, slots=True)
class RatioRow:
    """A CT/PT ratio change of a meter, effective from ``effective``."""

    meter_id: str
    effective: datetime
    ct_ratio: Decimal
    pt_ratio: Decimal
    raw_at: dict[str, Decimal]  # the meter's own registers at the change
    scaled_at: dict[str, Decimal]  # their scaled values at the change (the old ratio)
    author: str | None


class DeviceStore(ControlStore):
    """Device commands and jobs on one connection (moves as in :class:`ControlStore`)."""

    def submit(self, *, command_id: str, meter_id: str, command: str,  # type: ignore[override]
               params: Mapping[str, Any], ts: int, next_at: datetime | None,
               context: Context, job_id: str | None = None) -> None:
        """Queue a device command (and point the job's item at it)."""
        commands.create(self.conn, command_id, meter_id, command, "queued", params, ts, context)
        self.conn.execute("UPDATE command SET queue = ?, next_ts = ? WHERE command_id = ?",
                          (DEVICE_QUEUE, codec.to_ms(next_at) if next_at else None,
                           command_id))
        if job_id is not None:
            self.conn.execute(
                "UPDATE device_job_item SET state = 'queued', command_id = ?, updated_ts = ? "
                "WHERE job_id = ? AND meter_id = ?", (command_id, ts, job_id, meter_id))

    def outstanding(self) -> list[ControlCommand]:
        """Every queued or sent device command, oldest first."""
        return [_command(row) for row in self.conn.execute(
            f"SELECT {_COMMAND_COLUMNS} FROM command WHERE queue = ? AND state IN ({_OUT}) "
            "ORDER BY created_ts, rowid", (DEVICE_QUEUE,))]

    def device_commands(self, meter_id: str | None, limit: int) -> list[ControlCommand]:
        """The newest device commands (of a meter), newest first."""
        sql = f"SELECT {_COMMAND_COLUMNS} FROM command WHERE queue = ?"
        args: list[Any] = [DEVICE_QUEUE]
        if meter_id is not None:
            sql += " AND meter_id = ?"
            args.append(meter_id)
        sql += " ORDER BY created_ts DESC, rowid DESC LIMIT ?"
        args.append(limit)
        return [_command(row) for row in self.conn.execute(sql, args)]

    def finish(self, command_id: str, state: str, ts: int, *, expected: Sequence[str],
               detail: Mapping[str, Any] | None, error: str | None, context: Context,
               result: str) -> str | None:
        """End a command (confirmed | failed | cancelled) and its job item; returns the job
        id when that was the job's last open item (the job is then done)."""
        self.move(command_id, state, ts, expected=expected, detail=detail, error=error,
                  context=context)
        row = self.conn.execute("SELECT job_id FROM device_job_item WHERE command_id = ?",
                                (command_id,)).fetchone()
        if row is None:
            return None
        item_state = {"confirmed": "done"}.get(state, state)
        return self.set_item(str(row[0]), None, item_state, result, ts, command_id=command_id)

    # --- jobs -----------------------------------------------------------------------

    def create_job(self, *, job_id: str, kind: str, spec: Mapping[str, Any],
                   meter_ids: Sequence[str], ts: int, context: Context) -> None:
        """A running job with one pending item per meter."""
        self.conn.execute(
            "INSERT INTO device_job (job_id, kind, spec, state, created_ts, updated_ts, "
            "context_id, context_parent_id, context_user_id) VALUES (?, ?, ?, 'running', ?, "
            "?, ?, ?, ?)", (job_id, kind, codec.dumps(dict(spec)), ts, ts, context.id,
                            context.parent_id, context.user_id))
        self.conn.executemany(
            "INSERT INTO device_job_item (job_id, meter_id, state, updated_ts) "
            "VALUES (?, ?, 'pending', ?)", [(job_id, meter_id, ts) for meter_id in meter_ids])

    def set_item(self, job_id: str, meter_id: str | None, state: str, result: str | None,
                 ts: int, *, command_id: str | None = None) -> str | None:
        """Set an item's state and result (by meter, or by its command); end the job when
        no item is open any more (returns its id then)."""
        where, key = (("meter_id = ?", meter_id) if meter_id is not None
                      else ("command_id = ?", command_id))
        self.conn.execute(
            f"UPDATE device_job_item SET state = ?, result = ?, updated_ts = ? "
            f"WHERE job_id = ? AND {where}",
            (state, None if result is None else stored(result), ts, job_id, key))
        self.conn.execute("UPDATE device_job SET updated_ts = ? WHERE job_id = ?", (ts, job_id))
        open_items = self.conn.execute(
            f"SELECT COUNT(*) FROM device_job_item WHERE job_id = ? AND state NOT IN "
            f"({', '.join(repr(s) for s in ITEM_ENDED)})", (job_id,)).fetchone()[0]
        if open_items:
            return None
        changed = self.conn.execute(
            "UPDATE device_job SET state = 'done' WHERE job_id = ? AND state = 'running'",
            (job_id,)).rowcount
        return job_id if changed else None

    def end_job(self, job_id: str, state: str, ts: int) -> None:
        """Mark a job cancelled (or done)."""
        self.conn.execute("UPDATE device_job SET state = ?, updated_ts = ? WHERE job_id = ?",
                          (state, ts, job_id))

    def job(self, job_id: str) -> JobRow | None:
        """One job with its items."""
        row = self.conn.execute(
            "SELECT job_id, kind, spec, state, created_ts, updated_ts, context_id, "
            "context_parent_id, context_user_id FROM device_job WHERE job_id = ?",
            (job_id,)).fetchone()
        if row is None:
            return None
        items = [JobItem(meter_id, state, command_id, restored(result), codec.from_ms(updated))
                 for meter_id, state, command_id, result, updated in self.conn.execute(
                     "SELECT meter_id, state, command_id, result, updated_ts FROM "
                     "device_job_item WHERE job_id = ? ORDER BY meter_id", (job_id,))]
        return JobRow(row[0], row[1], dict(codec.loads(row[2]) or {}), row[3],
                      codec.from_ms(row[4]), codec.from_ms(row[5]),
                      Context(row[6], row[7], row[8]), items)

    def jobs(self, *, states: Sequence[str] = (), limit: int = 50) -> list[JobRow]:
        """Jobs, newest first (with their items)."""
        sql = "SELECT job_id FROM device_job"
        args: list[Any] = []
        if states:
            sql += f" WHERE state IN ({', '.join('?' * len(states))})"
            args.extend(states)
        sql += " ORDER BY created_ts DESC LIMIT ?"
        args.append(limit)
        ids = [row[0] for row in self.conn.execute(sql, args)]
        return [job for job_id in ids if (job := self.job(job_id)) is not None]

    # --- CT/PT ratio changes --------------------------------------------------------

    def add_ratio(self, *, meter_id: str, effective: datetime, ct_ratio: Decimal,
                  pt_ratio: Decimal, raw_at: Mapping[str, Decimal],
                  scaled_at: Mapping[str, Decimal], ts: int, context: Context) -> None:
        """Store a ratio change (one per meter and instant)."""
        self.conn.execute(
            "INSERT INTO meter_ratio (meter_id, effective_ts, ct_ratio, pt_ratio, raw_at, "
            "scaled_at, created_ts, context_id, context_user_id) VALUES (?, ?, ?, ?, ?, ?, ?, "
            "?, ?)", (meter_id, codec.to_ms(effective), str(ct_ratio), str(pt_ratio),
                      json.dumps({k: str(v) for k, v in raw_at.items()}),
                      json.dumps({k: str(v) for k, v in scaled_at.items()}), ts, context.id,
                      context.user_id))

    def ratios(self) -> list[RatioRow]:
        """Every ratio change, by meter and time."""
        return [RatioRow(meter_id, codec.from_ms(effective), Decimal(ct), Decimal(pt),
                         {k: Decimal(v) for k, v in json.loads(raw).items()},
                         {k: Decimal(v) for k, v in json.loads(scaled).items()}, user)
                for meter_id, effective, ct, pt, raw, scaled, user in self.conn.execute(
                    "SELECT meter_id, effective_ts, ct_ratio, pt_ratio, raw_at, scaled_at, "
                    "context_user_id FROM meter_ratio ORDER BY meter_id, effective_ts")]

    # --- what device maintenance remembers across a restart ---------------------------

    def add_history(self, meter_id: str, kind: str, details: Sequence[str], ts: int,
                    keep: int) -> None:
        """Append filled days or refused records of a meter, keeping its last ``keep``."""
        self.conn.executemany(
            "INSERT INTO device_history (meter_id, kind, detail, ts) VALUES (?, ?, ?, ?)",
            [(meter_id, kind, detail, ts) for detail in details])
        self.conn.execute(
            "DELETE FROM device_history WHERE meter_id = ? AND kind = ? AND seq NOT IN ("
            "SELECT seq FROM device_history WHERE meter_id = ? AND kind = ? "
            "ORDER BY seq DESC LIMIT ?)", (meter_id, kind, meter_id, kind, keep))

    def history(self) -> list[tuple[str, str, str]]:
        """Every (meter, kind, detail) remembered, oldest first."""
        return [(str(m), str(k), str(d)) for m, k, d in self.conn.execute(
            "SELECT meter_id, kind, detail FROM device_history ORDER BY seq")]

    def raise_alarm(self, meter_id: str, kind: str, message: str, ts: int) -> None:
        """Remember a device alarm as raised."""
        self.conn.execute(
            "INSERT OR REPLACE INTO device_alarm (meter_id, kind, message, raised_ts) "
            "VALUES (?, ?, ?, ?)", (meter_id, kind, message, ts))

    def clear_alarm(self, meter_id: str, kind: str) -> None:
        """Forget a device alarm (cleared)."""
        self.conn.execute("DELETE FROM device_alarm WHERE meter_id = ? AND kind = ?",
                          (meter_id, kind))

    def raised_alarms(self, kind: str) -> list[str]:
        """The meters whose device alarm ``kind`` is raised."""
        return [str(row[0]) for row in self.conn.execute(
            "SELECT meter_id FROM device_alarm WHERE kind = ? ORDER BY meter_id", (kind,))]
