"""Alarm acknowledgements (schema v10): read some, write one."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AlarmAck:
    """Who acknowledged an alarm, when (epoch ms), and their note."""

    alarm_id: str
    meter_id: str | None
    kind: str
    raised_ts: int
    acked_ts: int
    acked_by: str
    note: str | None = None


_COLUMNS = "alarm_id, meter_id, kind, raised_ts, acked_ts, acked_by, note"


def acks(conn: sqlite3.Connection, alarm_ids: Sequence[str]) -> dict[str, AlarmAck]:
    """The acknowledgements of some alarms, by id."""
    found: dict[str, AlarmAck] = {}
    ids = list(alarm_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = conn.execute(f"SELECT {_COLUMNS} FROM alarm_ack WHERE alarm_id IN "
                            f"({', '.join('?' * len(chunk))})", chunk)
        for row in rows:
            found[row[0]] = AlarmAck(*row)
    return found


def acknowledge(conn: sqlite3.Connection, ack: AlarmAck) -> AlarmAck:
    """Store an acknowledgement; the one already stored wins (and is returned)."""
    conn.execute(f"INSERT OR IGNORE INTO alarm_ack ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (ack.alarm_id, ack.meter_id, ack.kind, ack.raised_ts, ack.acked_ts,
                  ack.acked_by, ack.note))
    return acks(conn, [ack.alarm_id])[ack.alarm_id]
