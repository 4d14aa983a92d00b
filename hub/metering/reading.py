"""A Reading: what the hub learned from one meter at one moment, protocol-free."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ..util.ids import new_id
from .model import ReadResult


class ReadingSource(StrEnum):
    """Why a reading was taken."""

    SCHEDULED = "scheduled"  # a reading plan
    ON_DEMAND = "on_demand"  # a user, the API or an automation asked (meter.read)
    REREAD = "reread"  # 补抄: a re-read of a meter whose scheduled read failed
    UPLINK = "uplink"  # a sleeping (NB-IoT) meter reported by itself
    MANUAL = "manual"  # typed in by hand (a meter read with the eyes)
    CONFIRM = "confirm"  # a read-back confirming a command


@dataclass(frozen=True, slots=True)
class Reading:
    """One meter's registers, instantaneous values and status at ``time``.

    ``time`` is when the values were true, in UTC: the hub's clock for a polled read, the
    meter's own report time for an uplink. ``device`` names the physical meter (its
    address or serial): a replaced meter keeps its ``meter_id`` and gets a new ``device``,
    which is how storage tells a replacement from a counter going backwards.
    ``id`` is stable and unique, so a reading stored twice is recognised as a duplicate.
    """

    meter_id: str
    time: datetime
    registers: Mapping[str, Decimal] = field(default_factory=dict)
    values: Mapping[str, Decimal] = field(default_factory=dict)
    status: Mapping[str, Any] = field(default_factory=dict)
    meter_time: datetime | None = None
    device: str = ""
    link_id: str | None = None
    source: ReadingSource = ReadingSource.SCHEDULED
    quality: Mapping[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=new_id)

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise ValueError(  # i18n: internal (a bug: a reading's time is aware)
                f"reading of {self.meter_id}: time {self.time} has no time zone")

    @classmethod
    def from_result(
        cls,
        meter_id: str,
        result: ReadResult,
        time: datetime,
        *,
        device: str = "",
        link_id: str | None = None,
        source: ReadingSource = ReadingSource.SCHEDULED,
        quality: Mapping[str, Any] | None = None,
    ) -> Reading:
        """Build a reading from a model's ReadResult."""
        return cls(
            meter_id=meter_id,
            time=time,
            registers=dict(result.registers),
            values=dict(result.values),
            status=dict(result.status),
            meter_time=result.meter_time,
            device=device,
            link_id=link_id,
            source=source,
            quality={"frames": result.frames, "errors": dict(result.errors),
                     **(quality or {})},
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (Decimals stay Decimals for the encoder)."""
        return {
            "id": self.id,
            "meter_id": self.meter_id,
            "time": self.time.isoformat(),
            "registers": dict(self.registers),
            "values": dict(self.values),
            "status": dict(self.status),
            "meter_time": self.meter_time.isoformat() if self.meter_time else None,
            "device": self.device,
            "link_id": self.link_id,
            "source": str(self.source),
            "quality": dict(self.quality),
        }
