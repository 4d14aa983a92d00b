"""Records storage hands out and takes in (plain data, no SQL): outcomes, meters, rows."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ..metering.reading import Reading
from . import codec
from .layout import SOURCE_CODES


class ReadingStatus(StrEnum):
    """What became of a reading handed to storage."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


VERDICT_NAMES: dict[str, str] = {
    "": "counted",
    "b": "baseline",
    "w": "rollover",
    "q": "quarantined",
    "j": "jitter",
    "s": "signed",
    "x": "suspect",
}


def verdict_name(code: str) -> str:
    """The readable name of a verdict code (``w6`` is a rollover)."""
    return VERDICT_NAMES.get(code[:1], code)


@dataclass(frozen=True, slots=True)
class ReadingOutcome:
    """The acknowledgement of one reading: stored (committed), duplicate or rejected.

    ``verdicts``: each stored register's counter verdict; ``flagged``: the points that failed
    their rule and were left out (the rest of the reading is stored), with why."""

    status: ReadingStatus
    reason: str = ""
    verdicts: dict[str, str] = field(default_factory=dict)
    flagged: dict[str, str] = field(default_factory=dict)

    @property
    def stored(self) -> bool:
        """Whether the reading is now in the database (a duplicate was there before)."""
        return self.status is not ReadingStatus.REJECTED


@dataclass(slots=True)
class PendingReading:
    """A validated reading on its way to the writer: what will be stored, as plain values.

    It keeps no reference to the Reading (nor its mappings: status and quality are already
    typed JSON), so the Reading is freed once queued and a backlog of these costs the garbage
    collector's full passes one object each.
    """

    meter_id: str
    reading_id: str
    ts: int
    device: str
    source: int  # the index of the reading's source in layout.SOURCES
    link_id: str | None
    status: str | None
    quality: str | None
    meter_time: int | None  # epoch ms
    registers: tuple[tuple[str, Decimal], ...]  # counters: through the counter rules
    values: tuple[tuple[str, Decimal], ...]
    signed: tuple[tuple[str, Decimal], ...] = ()  # signed registers: kept, never counted
    flagged: tuple[tuple[str, str], ...] = ()  # points left out: (name, why)
    suspect: bool = False  # came through a DTU that moved (quality ``link_moved``)
    future: asyncio.Future[ReadingOutcome] | None = None
    outcome: ReadingOutcome | None = None

    @classmethod
    def of(cls, reading: Reading, ts: int, checked: CheckedPoints) -> PendingReading:
        """The pending form of a validated reading (``ts``: its time in epoch ms).

        Flagged points are recorded in the reading's quality (``flagged``: name -> why)."""
        quality = reading.quality
        if checked.flagged:
            quality = {**quality, "flagged": dict(checked.flagged)}
        return cls(reading.meter_id, reading.id, ts, reading.device,
                   SOURCE_CODES.get(reading.source, 0), reading.link_id,
                   codec.dumps_cached(reading.status), codec.dumps_cached(quality),
                   codec.to_ms(reading.meter_time) if reading.meter_time else None,
                   checked.registers, checked.values, checked.signed, checked.flagged,
                   "link_moved" in quality)


@dataclass(frozen=True, slots=True)
class CheckedPoints:
    """A reading's points after the checks: counters, values, signed registers, flagged."""

    registers: tuple[tuple[str, Decimal], ...]
    values: tuple[tuple[str, Decimal], ...]
    signed: tuple[tuple[str, Decimal], ...] = ()
    flagged: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class MeterInfo:
    """A meter as storage knows it."""

    meter_id: str
    kind: str
    device: str
    tags: dict[str, str]
    attrs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ConsumptionRow:
    """Consumption in one period (local start) per register point."""

    start: datetime
    values: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One point of a downsampled chart series."""

    start: datetime
    value: Decimal
    min: Decimal | None = None
    max: Decimal | None = None
    count: int = 0


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A durable command row with its transitions."""

    command_id: str
    meter_id: str
    command: str
    state: str
    params: dict[str, Any]
    created: datetime
    updated: datetime
    attempts: int
    error: str | None
    context_id: str | None
    context_parent_id: str | None
    context_user_id: str | None
    transitions: list[dict[str, Any]] = field(default_factory=list)
