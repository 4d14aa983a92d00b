"""CT and PT ratios (互感器变比): a CT-connected meter's registers scaled to the primary side.

A meter's ``ct_ratio`` / ``pt_ratio`` (YAML; ``200/5`` = 40) apply from the beginning;
``device.set_ratio`` records a change effective at a time, with the meter's own registers at
that moment (read from the meter when the change is now, or given). From a change on, a
register counts ``scaled_at + (raw - raw_at) x ct x pt``: continuous across the change, so
the consumption before it keeps the old ratio and the consumption after it gets the new one
— a mid-month change is billed right. Currents are scaled by the CT ratio, voltages by the
PT ratio, powers by both; every reading of such a meter carries its ratios in ``status``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from ..core import Context
from ..metering.model import ReadResult
from ..metering.points import POINTS, PointType
from ..util.dt import utcnow
from .parts import DevicePart

if TYPE_CHECKING:
    from ..core import Hub
    from ..metering.service import Meter
    from ..storage import RatioRow

_LOGGER = logging.getLogger(__name__)

ONE: Final = Decimal(1)


@dataclass(frozen=True)
class RatioVersion:
    """The ratios from ``effective`` on (None: from the beginning)."""

    effective: datetime | None
    ct: Decimal
    pt: Decimal
    raw_at: dict[str, Decimal] = field(default_factory=dict)
    scaled_at: dict[str, Decimal] = field(default_factory=dict)
    author: str | None = None

    @property
    def energy(self) -> Decimal:
        """The factor of energy and power: CT x PT."""
        return self.ct * self.pt

    def register(self, key: str, raw: Decimal) -> Decimal:
        """A register's primary-side value."""
        if key in self.raw_at:
            return self.scaled_at[key] + (raw - self.raw_at[key]) * self.energy
        return raw * self.energy

    def as_json(self) -> dict[str, Any]:
        """For ``device.ratios``."""
        return {"effective": self.effective.isoformat() if self.effective else None,
                "ct_ratio": str(self.ct), "pt_ratio": str(self.pt),
                "registers_at_change": {k: str(v) for k, v in self.raw_at.items()},
                "author": self.author}


class RatioBook(DevicePart):
    """Every meter's ratio versions; scales results before they become readings."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.versions: dict[str, list[RatioVersion]] = {}

    def configure(self) -> None:
        """The YAML ratios of every meter; register the scaler with metering."""
        for meter in self.metering.meters.values():
            ct, pt = meter.config.get("ct_ratio"), meter.config.get("pt_ratio")
            if ct is not None or pt is not None:
                self.versions[meter.id] = [RatioVersion(None, Decimal(ct or ONE),
                                                        Decimal(pt or ONE))]
        self.metering.scalers.append(self.scale)

    async def load(self) -> None:
        """Ratio changes stored before, after the YAML ratio of each meter."""
        rows: list[RatioRow] = await self.storage.device_read(lambda s: s.ratios())
        for row in rows:
            self._add(row.meter_id, RatioVersion(row.effective, row.ct_ratio, row.pt_ratio,
                                                 row.raw_at, row.scaled_at, row.author))

    def _add(self, meter_id: str, version: RatioVersion) -> None:
        versions = self.versions.setdefault(meter_id, [RatioVersion(None, ONE, ONE)])
        versions.append(version)
        versions.sort(key=lambda v: (v.effective is not None, v.effective or datetime.min))

    def version_at(self, meter_id: str, when: datetime) -> RatioVersion | None:
        """The ratios in force at ``when`` (None: the meter has none)."""
        versions = self.versions.get(meter_id)
        if not versions:
            return None
        chosen = versions[0]
        for version in versions[1:]:
            if version.effective is not None and version.effective <= when:
                chosen = version
        return chosen

    def scale(self, meter: Meter, result: ReadResult, when: datetime) -> None:
        """Scale a result read at ``when`` to the primary side (in place)."""
        version = self.version_at(meter.id, when)
        if version is None:
            return
        for key, raw in list(result.registers.items()):
            result.registers[key] = version.register(key, raw)
        for key, value in list(result.values.items()):
            factor = _value_factor(key, version)
            if factor is not None:
                result.values[key] = value * factor
        result.status["ct_ratio"] = str(version.ct)
        result.status["pt_ratio"] = str(version.pt)

    async def change(self, meter_id: str, *, ct: Decimal | None, pt: Decimal | None,
                     at: datetime | None, raw_at: Mapping[str, Decimal] | None,
                     context: Context) -> RatioVersion:
        """Record a ratio change; ``raw_at`` None: read the meter's registers now."""
        meter = self.metering.meters[meter_id]
        when = at or utcnow()
        if raw_at is None:
            keys = [k for k in meter.model.default_points()
                    if k in POINTS and POINTS[k].type is PointType.REGISTER]

            async def work(current: Meter, transport: Any) -> ReadResult:
                return await current.model.read(transport, current.ref, keys)

            result = await self.metering.exchange(meter_id, work)
            raw_at = dict(result.registers)
        before = self.version_at(meter_id, when) or RatioVersion(None, ONE, ONE)
        version = RatioVersion(when, ct if ct is not None else before.ct,
                               pt if pt is not None else before.pt, dict(raw_at),
                               {k: before.register(k, v) for k, v in raw_at.items()},
                               context.user_id)
        ms = int(utcnow().timestamp() * 1000)
        await self.storage.device_write(lambda s: s.add_ratio(
            meter_id=meter_id, effective=when, ct_ratio=version.ct, pt_ratio=version.pt,
            raw_at=version.raw_at, scaled_at=version.scaled_at, ts=ms, context=context))
        self._add(meter_id, version)
        _LOGGER.info("Meter %s: CT ratio %s, PT ratio %s from %s (registers then: %s)",
                     meter_id, version.ct, version.pt, when.isoformat(),
                     {k: str(v) for k, v in version.raw_at.items()})
        return version


def _value_factor(key: str, version: RatioVersion) -> Decimal | None:
    if key.startswith("current"):
        return version.ct
    if key.startswith("voltage"):
        return version.pt
    if key.startswith("power") and not key.startswith("power_factor"):
        return version.energy
    return None
