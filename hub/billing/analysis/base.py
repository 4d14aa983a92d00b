"""What cost sharing, loss analysis and reports share: periods, meter facts, quantities.

A :class:`Period` is a local calendar day or month, [start, end) in local dates. A meter's
*quantity* over a period is its consumption of its main register (``energy_import_total``
for electricity; ``water_total`` for water; combined energy is signed and never counted)
summed from storage's rollups; nothing here sees SQL.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ...i18n import Text
from ...metering.const import MAIN_REGISTERS
from ...metering.points import SIGNED_REGISTERS
from ...util.memory import shared_mapping
from .. import messages as _messages  # noqa: F401  (the tables of the Texts below)
from ..periods import local_midnight

if TYPE_CHECKING:
    from ...plugins import Registries
    from ...storage import ConsumptionRow, Storage

_LOGGER = logging.getLogger(__name__)

ZERO = Decimal(0)
KIND_OF_UNIT = {"kWh": "electricity", "m3": "water"}
UNIT_OF_KIND = {kind: unit for unit, kind in KIND_OF_UNIT.items()}
# Registers that measure a kind's consumption, the first one present wins (signed registers
# are never counted, so they measure none).
KIND_REGISTERS: dict[str, tuple[str, ...]] = {
    kind: tuple(name for name, unit in MAIN_REGISTERS
                if unit == own_unit and name not in SIGNED_REGISTERS)
    for own_unit, kind in KIND_OF_UNIT.items()
}

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A period text that is neither ``YYYY-MM`` nor ``YYYY-MM-DD``."""


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """A local day, calendar month or year: start inclusive, end exclusive."""

    start: date
    end: date
    resolution: str  # day | month | year | span (any days)

    @classmethod
    def year(cls, year: int) -> Period:
        """The calendar year."""
        return cls(date(year, 1, 1), date(year + 1, 1, 1), "year")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """The calendar month (``month`` may run past 12 or below 1)."""
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        first = date(year, month, 1)
        return cls(first, first + timedelta(days=calendar.monthrange(year, month)[1]), "month")

    @classmethod
    def day(cls, day: date) -> Period:
        """One local day."""
        return cls(day, day + timedelta(days=1), "day")

    @classmethod
    def month_of(cls, day: date) -> Period:
        """The calendar month holding ``day``."""
        return cls.month(day.year, day.month)

    @property
    def label(self) -> str:
        """``2026-10`` for a month, ``2026-10-24`` for a day, ``2026-10-05..2026-12-04``
        for a span of days (an invoice's period)."""
        if self.resolution == "span":
            return f"{self.start.isoformat()}..{self.last_day.isoformat()}"
        if self.resolution == "year":
            return f"{self.start.year}"
        return f"{self.start:%Y-%m}" if self.resolution == "month" else self.start.isoformat()

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        """The period's last day (inclusive)."""
        return self.end - timedelta(days=1)

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """The first and the past-the-end instants (local midnights)."""
        return local_midnight(self.start, tz), local_midnight(self.end, tz)

    def shift(self, steps: int) -> Period:
        """The period ``steps`` months (or days, or years) later; negative steps go back."""
        if self.resolution == "year":
            return Period.year(self.start.year + steps)
        if self.resolution == "month":
            return Period.month(self.start.year, self.start.month + steps)
        return Period.day(self.start + timedelta(days=steps))

    def previous(self) -> Period:
        """The period just before."""
        return self.shift(-1)

    def year_before(self) -> Period:
        """The same month (or day, or the year) one year earlier (29 February falls on
        the 28th)."""
        if self.resolution == "year":
            return self.shift(-1)
        if self.resolution == "month":
            return self.shift(-12)
        day = self.start
        try:
            return Period.day(day.replace(year=day.year - 1))
        except ValueError:
            return Period.day(date(day.year - 1, day.month, 28))

    def __str__(self) -> str:
        return self.label


def parse_period(text: str) -> Period:
    """``2026-10`` (a month) or ``2026-10-24`` (a day); PeriodError naming the text."""
    value = text.strip()
    match = _MONTH.match(value)
    if match:
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12:
            return Period.month(year, month)
    else:
        try:
            return Period.day(date.fromisoformat(value))
        except ValueError:
            pass
    raise PeriodError(Text("billing.period_form", value=repr(text)))


def periods_between(first: date, last: date, resolution: str) -> list[Period]:
    """Every day, month or year from the one holding ``first`` to the one holding ``last``."""
    current = (Period.day(first) if resolution == "day" else Period.month_of(first)
               if resolution == "month" else Period.year(first.year))
    out: list[Period] = []
    while current.start <= last:
        out.append(current)
        current = current.shift(1)
    return out


def months_between(first: Period, last: Period) -> list[Period]:
    """Every month from ``first`` to ``last`` (both included)."""
    out: list[Period] = []
    current = Period.month_of(first.start)
    while current.start <= last.start:
        out.append(current)
        current = current.shift(1)
    return out


@dataclass(frozen=True, slots=True)
class MeterFacts:
    """What analysis needs to know of one configured meter."""

    id: str
    kind: str
    tags: Mapping[str, str] = field(default_factory=dict)
    parent: str | None = None
    account: str | None = None
    tariff: str | None = None
    share_group: str | None = None

    @property
    def unit(self) -> str:
        """kWh or m3 (empty for an unknown kind)."""
        return UNIT_OF_KIND.get(self.kind, "")


class Catalog:
    """The configured meters by id, with parents, accounts and tags."""

    def __init__(self, meters: Iterable[MeterFacts]) -> None:
        self.meters: dict[str, MeterFacts] = {meter.id: meter for meter in meters}
        self._children: dict[str, list[str]] = {}
        self._by_account: dict[str, list[MeterFacts]] = {}
        for meter in sorted(self.meters.values(), key=lambda m: m.id):
            if meter.parent is not None:
                self._children.setdefault(meter.parent, []).append(meter.id)
            if meter.account is not None:
                self._by_account.setdefault(meter.account, []).append(meter)

    @classmethod
    def from_config(cls, meters: Sequence[Mapping[str, Any]] | None,
                    registries: Registries | None) -> Catalog:
        """Build from the ``meters:`` block; the kind comes from each meter's model."""
        facts = []
        for entry in meters or []:
            model = registries.meter_models.get(entry.get("model", "")) if registries else None
            facts.append(MeterFacts(
                id=entry["id"], kind=str(getattr(model, "kind", "") or ""),
                tags=shared_mapping(entry.get("tags") or {}), parent=entry.get("parent"),
                account=entry.get("account"), tariff=entry.get("tariff"),
                share_group=entry.get("share_group")))
        return cls(facts)

    def get(self, meter_id: str) -> MeterFacts | None:
        """One meter, or None."""
        return self.meters.get(meter_id)

    def parents(self) -> list[str]:
        """Meters that have children, sorted."""
        return sorted(self._children)

    def children_of(self, meter_id: str) -> list[str]:
        """A meter's direct children, sorted."""
        return sorted(self._children.get(meter_id, ()))

    def of_account(self, account_id: str) -> list[MeterFacts]:
        """The meters an account pays for, sorted by id."""
        return list(self._by_account.get(account_id, ()))

    def building_of(self, account_id: str, tags: Mapping[str, str] | None = None,
                    key: str = "building") -> str:
        """An account's building: its own tag, else the first of its meters' tags."""
        if tags and tags.get(key):
            return str(tags[key])
        for meter in self.of_account(account_id):
            if meter.tags.get(key):
                return str(meter.tags[key])
        return ""


def register_for(kind: str, rows: Sequence[ConsumptionRow]) -> str | None:
    """The register that measures ``kind`` in these rows (None: no such kind)."""
    names = KIND_REGISTERS.get(kind, ())
    for name in names:
        if any(name in row.values for row in rows):
            return name
    return names[0] if names else None


def quantity_of(kind: str, rows: Sequence[ConsumptionRow]) -> Decimal:
    """The summed consumption of a kind's main register over the rows."""
    name = register_for(kind, rows)
    if name is None:
        return ZERO
    return sum((row.values.get(name, ZERO) for row in rows), ZERO)


def resolution_of(period: Period) -> str:
    """The rollup that covers a period in the fewest rows."""
    return "month" if period.resolution in ("month", "year") else "day"


async def meter_quantity(storage: Storage, meter: MeterFacts, period: Period) -> Decimal:
    """A meter's consumption over a period (its main register)."""
    start, end = period.bounds(storage.tz)
    rows = await storage.consumption(meter.id, start=start, end=end,
                                     resolution=resolution_of(period))
    return quantity_of(meter.kind, rows)


async def missing_data(storage: Storage, meter_ids: Iterable[str], end: datetime) -> list[str]:
    """Meters whose newest reading is older than ``end``: their usage up to ``end`` is not
    known yet (storage spreads it over the gap only when the next reading arrives)."""
    missing = []
    for meter_id in meter_ids:
        latest = await storage.latest_reading(meter_id)
        if latest is None or latest.time < end:
            missing.append(meter_id)
    return missing
