"""Meter replacements (schema v15): record, list."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .. import codec


@dataclass(frozen=True)
class ReplacementRow:
    """One swap of a meter's device."""

    replacement_id: str
    meter_id: str
    at: datetime
    old_device: str
    new_device: str
    final: dict[str, Any]
    initial: dict[str, Any]
    cancelled: list[str]
    note: str | None
    created: datetime
    context_id: str | None
    user_id: str | None


_COLUMNS = ("replacement_id, meter_id, swap_ts, old_device, new_device, final, initial, "
            "cancelled, note, created_ts, context_id, user_id")


def add_replacement(conn: sqlite3.Connection, row: ReplacementRow) -> None:
    """Insert one replacement."""
    conn.execute(
        f"INSERT INTO meter_replacement ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (row.replacement_id, row.meter_id, codec.to_ms(row.at), row.old_device, row.new_device,
         codec.dumps(row.final), codec.dumps(row.initial), codec.dumps(row.cancelled), row.note,
         codec.to_ms(row.created), row.context_id, row.user_id))


def list_replacements(conn: sqlite3.Connection, meter_id: str | None = None,
                      limit: int = 200) -> list[ReplacementRow]:
    """Replacements, newest first (of one meter when ``meter_id`` is given)."""
    where, args = ("WHERE meter_id = ? ", (meter_id,)) if meter_id else ("", ())
    rows = conn.execute(f"SELECT {_COLUMNS} FROM meter_replacement {where}"
                        "ORDER BY swap_ts DESC LIMIT ?", (*args, limit)).fetchall()
    return [ReplacementRow(r[0], r[1], codec.from_ms(r[2]), r[3], r[4], codec.loads(r[5]),
                           codec.loads(r[6]), codec.loads(r[7]), r[8], codec.from_ms(r[9]),
                           r[10], r[11]) for r in rows]

