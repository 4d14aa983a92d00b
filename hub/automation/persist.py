"""Runs that wait survive a restart: each delay or wait is written before it starts.

A run reaching ``delay:`` (or a ``wait_template``/``wait_for_trigger``) records where it is
(the step's path), until when, its variables and its Context; the row goes when the step is
over. At start the engine resumes every recorded run at that step (``Resume``): the steps
before it are not run again, the wait ends at the recorded moment (at once if it passed), and
the run goes on — unless its automation says ``max_late`` and the moment passed longer ago
than that (the run is then expired, and says so in its trace and the log). Time triggers'
last firings are kept too, for ``catch_up``.

Variables are kept as JSON with exact types: Decimals, datetimes and dates come back as
such; events and states come back as plain mappings (``trigger.event.data``,
``trigger.to_state.state`` and ``.attributes`` read the same).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..core import Context, Event, State
from ..storage import Storage, WaitRow, automation_queries, from_ms, to_ms
from ..util.jsonutil import typed_dumps, typed_loads

if TYPE_CHECKING:
    from ..core import Hub

__all__ = ["Marks", "Persistence", "Resume", "decode", "encode", "wait_row"]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a restored run picks up: the waiting step's path and when its wait ends."""

    path: str
    kind: str
    until: datetime | None


def _own(value: Any) -> Mapping[str, Any] | None:
    """Events and states as the mappings a resumed run reads (``trigger.event.data``...)."""
    if isinstance(value, Event):
        return {"event_type": value.event_type, "data": dict(value.data),
                "context": value.context.id, "time_fired": value.time_fired}
    if isinstance(value, State):
        return {"entity_id": value.entity_id, "state": value.state,
                "attributes": dict(value.attributes), "last_changed": value.last_changed,
                "last_updated": value.last_updated}
    return None


def encode(variables: Mapping[str, Any]) -> str:
    """A run's variables as JSON that :func:`decode` turns back into the same values."""
    return typed_dumps(variables, _own)


def decode(text: str) -> dict[str, Any]:
    """Variables written by :func:`encode`."""
    value: dict[str, Any] = typed_loads(text)
    return value


class Marks:
    """When each time trigger last fired (for ``catch_up``), kept in the database."""

    def __init__(self) -> None:
        self._persistence: Persistence | None = None
        self._fired: dict[str, datetime] = {}

    def use(self, persistence: Persistence, fired: Mapping[str, datetime]) -> None:
        """Keep firings in the database from now on; ``fired``: those kept so far."""
        self._persistence = persistence
        self._fired = dict(fired)

    def last(self, key: str) -> datetime | None:
        """The last firing of trigger ``key`` (``automation <id>, trigger/<n>``)."""
        return self._fired.get(key)

    def mark(self, key: str, moment: datetime) -> None:
        """Trigger ``key`` fired at ``moment`` (written in the background)."""
        self._fired[key] = moment
        if self._persistence is not None:
            self._persistence.mark_fired(key, moment)


class Persistence:
    """The engine's durable memory: waiting runs and time triggers' firings."""

    def __init__(self, hub: Hub, storage: Storage) -> None:
        self.hub = hub
        self.storage = storage

    async def save(self, row: WaitRow) -> None:
        """Record a run's wait (durably, before the wait starts)."""
        await self.storage.automation_write(
            lambda conn: automation_queries.save_wait(conn, row))

    async def drop(self, run_id: str) -> None:
        """The run's wait is over."""
        await self.storage.automation_write(
            lambda conn: automation_queries.drop_wait(conn, run_id))

    async def waits(self) -> list[WaitRow]:
        """Every recorded wait."""
        return await self.storage.automation_read(automation_queries.waits)

    async def fired(self) -> dict[str, datetime]:
        """Time triggers' last firings by key."""
        rows = await self.storage.automation_read(automation_queries.fired)
        return {f"automation {automation_id}, {trigger_id}": from_ms(ts)
                for (automation_id, trigger_id), ts in rows.items()}

    def mark_fired(self, key: str, moment: datetime) -> None:
        automation_id, _, trigger_id = key.removeprefix("automation ").partition(", ")
        ts = to_ms(moment)

        async def write() -> None:
            try:
                await self.storage.automation_write(
                    lambda conn: automation_queries.mark_fired(conn, automation_id,
                                                              trigger_id, ts))
            except Exception:
                _LOGGER.exception("Could not record that %s fired", key)
        self.hub.create_task(write(), f"mark {key}")


def wait_row(run_id: str, automation_id: str, resume: Resume, variables: Mapping[str, Any],
             trigger: Mapping[str, Any], context: Context, now: datetime) -> WaitRow:
    """The row of a run about to wait."""
    return WaitRow(run_id, automation_id, resume.path, resume.kind,
                   to_ms(resume.until) if resume.until is not None else None,
                   encode(variables), encode(trigger), context.id, context.parent_id,
                   context.user_id, to_ms(now))

