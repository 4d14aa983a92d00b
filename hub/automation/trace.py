"""What one run of an automation did: its trigger, each condition and each step, with times.

The last ``stored`` runs of each automation are kept (a bounded FIFO); ``as_dict`` gives
the JSON the services and the API return.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..core import Context, Event, State
from ..util.dt import utc_from_timestamp, utcnow
from ..util.ids import new_id

__all__ = ["RunTrace", "plain"]


def plain(value: Any, depth: int = 0) -> Any:
    """A value as a trace shows it: JSON-friendly, states and events summarised, bounded."""
    if depth > 6:
        return "…"
    if value is None or isinstance(value, bool | int | str):
        return value if not isinstance(value, str) or len(value) <= 2000 else value[:2000] + "…"
    if isinstance(value, Decimal | float):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, State):
        return {"entity_id": value.entity_id, "state": plain(value.state, depth + 1),
                "last_changed": value.last_changed.isoformat()}
    if isinstance(value, Event):
        return {"event_type": value.event_type, "data": plain(dict(value.data), depth + 1),
                "context": value.context.id}
    if isinstance(value, Mapping):
        return {str(key): plain(item, depth + 1) for key, item in list(value.items())[:100]}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item, depth + 1) for item in list(value)[:100]]
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return plain(as_dict(), depth + 1)
    return str(value)


class RunTrace:
    """The record of one run."""

    def __init__(self, automation_id: str, trigger: Mapping[str, Any], context: Context,
                 run_id: str | None = None) -> None:
        self.run_id = run_id or new_id()
        self.resumed = False  # a run that was waiting when the hub stopped, resumed
        self.automation_id = automation_id
        self.trigger = trigger  # made plain when shown (as_dict): a run costs no copy
        self.context = context
        self.started = utcnow()
        self.finished: datetime | None = None
        self.state = "running"
        self.outcome = ""  # finished, condition_failed, skipped, stopped, error, cancelled
        self.error: str | None = None
        self.conditions: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.variables: dict[str, Any] = {}

    def condition(self, path: str, kind: str, result: bool | None, error: str | None) -> None:
        """Record a condition's result (or the error that stopped it)."""
        entry: dict[str, Any] = {"path": path, "condition": kind, "result": result}
        if error:
            entry["error"] = error
        self.conditions.append(entry)

    def step(self, path: str, kind: str, alias: str | None) -> dict[str, Any]:
        """Open a step's record; the runner fills ``result``/``error`` and ``finished``."""
        # times as wall-clock seconds while running; as_dict shows them as ISO 8601
        entry: dict[str, Any] = {"path": path, "action": kind, "started": time.time()}
        if alias:
            entry["alias"] = alias
        self.steps.append(entry)
        return entry

    def finish(self, outcome: str, error: str | None = None) -> None:
        """Close the run with how it ended."""
        self.finished = utcnow()
        self.state = "stopped"
        self.outcome = outcome
        self.error = error

    def as_dict(self) -> dict[str, Any]:
        """The trace as JSON-friendly data."""
        return {
            "run_id": self.run_id, "automation_id": self.automation_id, "resumed": self.resumed,
            "state": self.state, "outcome": self.outcome, "error": self.error,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "trigger": plain(self.trigger), "conditions": self.conditions,
            "steps": [{**step, "started": _iso(step["started"])} for step in self.steps],
            "variables": plain(self.variables), "context": self.context.as_dict(),
        }


def _iso(ts: float) -> str:
    return utc_from_timestamp(ts).isoformat()
