"""The durable per-meter downlink queue: storage command rows, mirrored in memory.

Every queued command is a row of storage's ``command`` table (``params.queue == "nbiot"``,
``params.link``, ``params.expires`` in epoch ms); each state change is a durable
transition, checked against the state it leaves, so two deliveries can never both claim
one command. The open commands (queued, sending, sent) are mirrored in memory, loaded back
at start-up: a hub restart loses nothing. Without a storage component (small test hubs)
the queue keeps its rows in memory only and says so once in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hub.core import Context
from hub.storage import Storage, StorageError, StorageFull, StorageUnavailable
from hub.util.dt import utcnow

from .const import FINAL_STATES, OPEN_STATES, QUEUE_NAME, STATE_QUEUED, STATE_SENDING

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)


class QueueConflict(Exception):
    """The command is not in the state the transition expects (someone else moved it)."""


@dataclass
class QueuedCommand:
    """One open downlink command of one meter."""

    command_id: str
    meter_id: str
    command: str
    state: str
    created: datetime
    expires: datetime
    params: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    platform_id: str | None = None  # the platform's command id once it was handed over

    def expired(self, now: datetime) -> bool:
        """Whether its expiry has passed."""
        return now >= self.expires


def _is_conflict(err: StorageError) -> bool:
    """Whether storage refused a transition because the row is not in the expected state.

    Of what ``transition_command`` raises, that is the StorageError that is neither "storage
    cannot write now" nor "no such command" (a KeyError).
    """
    return not isinstance(err, StorageUnavailable | StorageFull | KeyError)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _from_ms(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


class CommandStore:
    """Creates and moves command rows: in storage when the hub has it, else in memory."""

    def __init__(self, hub: Hub, link_id: str) -> None:
        self.hub = hub
        self.link_id = link_id
        self.open: dict[str, QueuedCommand] = {}
        self._memory_only = False

    def _storage(self) -> Storage | None:
        if not self.hub.has_component("storage"):
            if not self._memory_only:
                self._memory_only = True
                _LOGGER.warning("Link %s: no storage component; queued NB-IoT commands are "
                                "kept in memory only and lost on restart", self.link_id)
            return None
        return self.hub.component("storage", Storage)

    @property
    def durable(self) -> bool:
        """Whether rows survive a restart."""
        return self.hub.has_component("storage")

    async def load(self) -> list[QueuedCommand]:
        """Read this link's open commands back (after a restart); ``sending`` ones are
        returned to ``queued`` since their delivery died with the old process."""
        storage = self._storage()
        if storage is None:
            return list(self.open.values())
        records = await storage.commands(states=OPEN_STATES, limit=100_000)
        loaded: list[QueuedCommand] = []
        for record in reversed(records):  # oldest first
            params = dict(record.params)
            if params.get("queue") != QUEUE_NAME or params.get("link") != self.link_id:
                continue
            item = QueuedCommand(record.command_id, record.meter_id, record.command,
                                 record.state, record.created,
                                 _from_ms(params.get("expires", 0)), params, record.attempts)
            if record.state != STATE_QUEUED:
                full = await storage.command(record.command_id)
                for step in reversed(full.transitions if full is not None else []):
                    platform_id = (step.get("detail") or {}).get("platform_id")
                    if platform_id:
                        item.platform_id = str(platform_id)
                        break
            if item.state == STATE_SENDING:
                await self.move(item, STATE_QUEUED, expected=(STATE_SENDING,),
                                detail={"reason": "delivery interrupted by a restart"})
            self.open[item.command_id] = item
            loaded.append(item)
        return loaded

    async def create(self, command_id: str, meter_id: str, command: str, expires: datetime,
                     params: Mapping[str, Any], context: Context | None) -> QueuedCommand:
        """Durably create a queued command."""
        now = utcnow()
        full = {**params, "queue": QUEUE_NAME, "link": self.link_id, "expires": _ms(expires)}
        storage = self._storage()
        if storage is not None:
            await storage.create_command(command_id, meter_id, command, state=STATE_QUEUED,
                                         params=full, context=context)
        item = QueuedCommand(command_id, meter_id, command, STATE_QUEUED, now, expires, full)
        self.open[command_id] = item
        return item

    async def move(self, item: QueuedCommand, state: str, *, expected: tuple[str, ...],
                   detail: Mapping[str, Any] | None = None, error: str | None = None,
                   attempt: bool = False, context: Context | None = None) -> str:
        """Durably move a command (checking ``expected``); returns the state it left."""
        if item.state not in expected:
            raise QueueConflict(  # i18n: internal (always caught: a raced state change is skipped)
                f"command {item.command_id} is {item.state}, not "
                                f"{' or '.join(expected)}")
        storage = self._storage()
        if storage is not None:
            try:
                await storage.transition_command(item.command_id, state, expected=expected,
                                                 detail=detail, error=error, attempt=attempt,
                                                 context=context)
            except StorageError as err:
                if not _is_conflict(err):
                    raise
                raise QueueConflict(str(err)) from None
        old = item.state
        item.state = state
        if attempt:
            item.attempts += 1
        if detail and detail.get("platform_id"):
            item.platform_id = str(detail["platform_id"])
        if state in FINAL_STATES:
            self.open.pop(item.command_id, None)
        return old

    def of_meter(self, meter_id: str, *states: str) -> list[QueuedCommand]:
        """A meter's open commands (optionally in some states), oldest first."""
        return sorted((c for c in self.open.values() if c.meter_id == meter_id
                       and (not states or c.state in states)), key=lambda c: c.created)

    def by_platform_id(self, platform_id: str) -> QueuedCommand | None:
        """The open command a platform knows by this id."""
        for item in self.open.values():
            if item.platform_id == platform_id:
                return item
        return None
