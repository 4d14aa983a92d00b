"""Automations' waiting runs and time triggers' last firing (schema/automation.py)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

__all__ = ["WaitRow", "drop_wait", "fired", "mark_fired", "save_wait", "waits"]


@dataclass(frozen=True, slots=True)
class WaitRow:
    """One run waiting in a delay or a wait: where, until when, with what."""

    run_id: str
    automation_id: str
    path: str
    kind: str
    until_ts: int | None
    variables: str  # JSON (hub/automation/persist.py's codec)
    trigger: str  # JSON, as the trace shows it
    context_id: str
    parent_id: str | None
    user_id: str | None
    created_ts: int


def save_wait(conn: sqlite3.Connection, row: WaitRow) -> None:
    """Record (or move on) a run's wait."""
    conn.execute(
        "INSERT INTO automation_wait (run_id, automation_id, path, kind, until_ts, variables, "
        "trigger, context_id, parent_id, user_id, created_ts) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
        "path = excluded.path, kind = excluded.kind, until_ts = excluded.until_ts, "
        "variables = excluded.variables",
        (row.run_id, row.automation_id, row.path, row.kind, row.until_ts, row.variables,
         row.trigger, row.context_id, row.parent_id, row.user_id, row.created_ts))


def drop_wait(conn: sqlite3.Connection, run_id: str) -> None:
    """The run's wait is over (or the run ended)."""
    conn.execute("DELETE FROM automation_wait WHERE run_id = ?", (run_id,))


def waits(conn: sqlite3.Connection) -> list[WaitRow]:
    """Every waiting run, oldest first."""
    return [WaitRow(*row) for row in conn.execute(
        "SELECT run_id, automation_id, path, kind, until_ts, variables, trigger, context_id, "
        "parent_id, user_id, created_ts FROM automation_wait ORDER BY created_ts, run_id")]


def mark_fired(conn: sqlite3.Connection, automation_id: str, trigger_id: str, ts: int) -> None:
    """A time trigger fired at ``ts``."""
    conn.execute(
        "INSERT INTO automation_fired (automation_id, trigger_id, fired_ts) VALUES (?, ?, ?) "
        "ON CONFLICT (automation_id, trigger_id) DO UPDATE SET fired_ts = excluded.fired_ts",
        (automation_id, trigger_id, ts))


def fired(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """When each time trigger last fired: (automation id, trigger id) -> ms."""
    return {(row[0], row[1]): int(row[2]) for row in conn.execute(
        "SELECT automation_id, trigger_id, fired_ts FROM automation_fired")}
