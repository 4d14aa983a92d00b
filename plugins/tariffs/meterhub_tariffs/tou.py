"""``tou`` (尖峰平谷): a price per band, bands by time of day, zone, weekend and holiday.

Computed on the hub from interval usage (``source: intervals``, the default: usage spread
linearly over time across segments), or from the meter's own TOU registers
(``source: meter_registers``, the meter applies its own schedule). Optional tier surcharges
add a per-kWh amount above yearly or monthly thresholds (阶梯+峰谷).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

import voluptuous as vol

from hub import validation as cv
from hub.billing.tariff import (
    ChargeLine,
    MeterSchedule,
    Occupancy,
    SegmentPart,
    TariffType,
    TierHistory,
    Usage,
    no_history,
)
from hub.i18n import Text
from hub.util.calendar import Calendar

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .banded import BandPricer, BandTiers, Group, band_shares, banded, split
from .base import BaseTariff, Version
from .const import UNIT_KWH
from .entry import EntrySpec, entry_schema
from .fees import ONE_DAY
from .registers import (
    REGISTERS_SCHEMA,
    SURCHARGE_FIXED,
    SURCHARGE_KEYS,
    Bands,
    band_registers,
    check_registers,
    check_surcharges,
    price_register_tiers,
    price_registers,
)
from .schedules import DayPlans, check_references, schedules, zones
from .spread import (
    PRECISION,
    STEP_EXPONENT,
    ZERO,
    Lines,
    Spread,
    at,
    local_date,
    micros,
    midnight,
    moment,
)
from .tiers import TierCounter, TierTable, add_surcharges, tier_key
from .validators import band_prices

_LOGGER = logging.getLogger(__name__)

INTERVALS = "intervals"
METER_REGISTERS = "meter_registers"
_CACHE_DAYS = 4096


def _check(version: dict[str, Any]) -> None:
    errors = check_references(version) + check_surcharges(version)
    if version["source"] == INTERVALS:
        if not version.get("schedules"):
            errors.append(vol.Invalid(Text("tariffs.tou_schedules"),
                                      path=["schedules"]))
        if version.get("registers"):
            errors.append(vol.Invalid(Text("tariffs.tou_registers"),
                                      path=["registers"]))
    else:
        errors.extend(check_registers(version["prices"], version.get("registers") or {}))
    if errors:
        raise vol.MultipleInvalid(errors)


SPEC = EntrySpec(
    units=(UNIT_KWH,),
    keys={
        vol.Required("prices"): band_prices,
        vol.Optional("schedules"): schedules,
        vol.Optional("zones"): zones,
        vol.Optional("weekend_schedule"): cv.slug,
        vol.Optional("holiday_schedule"): cv.slug,
        vol.Optional("registers"): REGISTERS_SCHEMA,
        **SURCHARGE_KEYS,
    },
    fixed_keys={vol.Optional("source", default=INTERVALS): cv.one_of(INTERVALS, METER_REGISTERS),
                **SURCHARGE_FIXED},
    check=_check,
)


@dataclass(frozen=True)
class TouPlan:
    """One version: band prices, day plans, and registers or surcharges when used."""

    prices: Mapping[str, Decimal]
    days: DayPlans
    bands: Bands | None  # set when priced from the meter's registers
    surcharges: TierTable | None
    band_tiers: BandTiers | None = None  # tier surcharges per band


class TouTariff(BaseTariff[TouPlan]):
    """Time-of-use prices."""

    def __init__(self, config: Mapping[str, Any], calendar: Calendar) -> None:
        self.tier_period = config.get("tier_period")
        self.source = config["source"]
        self._plans: dict[tuple[int, date], tuple[tuple[int, int, str], ...]] = {}
        self._recent: tuple[int, tuple[tuple[int, int, str], ...]] | None = None
        super().__init__(config, calendar)

    @property
    def usage_component(self) -> str | None:
        """``energy`` when the bands split interval usage; None on the meter's registers."""
        return "energy" if self.source == INTERVALS else None

    def compile(self, entry: Mapping[str, Any]) -> TouPlan:
        """The version's prices, schedules, zones and extras."""
        surcharges = entry.get("tier_surcharges")
        bands = (band_registers(entry["prices"], entry.get("registers") or {})
                 if self.source == METER_REGISTERS else None)
        days = DayPlans.from_config(entry)
        if surcharges and banded(surcharges):
            return TouPlan(entry["prices"], days, bands, None, BandTiers.from_config(
                surcharges, entry["prices"], entry.get("crossing_month")))
        return TouPlan(entry["prices"], days, bands,
                       TierTable.from_config(surcharges, "surcharge") if surcharges else None)

    def meter_schedule(self, day: date) -> MeterSchedule | None:
        """The zones and day schedules of the price version valid on ``day``."""
        instant = midnight(day, self.tz)
        version = next((v for v in self.versions if v.covers(instant)), None)
        if version is None:
            return None
        days = version.plan.days
        return MeterSchedule(
            tuple((zone.start[0], zone.start[1], zone.schedule) for zone in days.zones),
            dict(days.segments), days.weekend, days.holiday,
            any(zone.weekend or zone.holiday for zone in days.zones), version.valid_from)

    def day_plan(self, version: Version[TouPlan], day: date) -> tuple[tuple[int, int, str], ...]:
        """The segments of one local day as (start, end, band) instants."""
        key = (version.index, day)
        plan = self._plans.get(key)
        if plan is None:
            name = version.plan.days.schedule_for(day, self.calendar.day_type(day))
            runs = version.plan.days.segments[name]
            starts = [at(day, seconds, self.tz) for seconds, _band in runs]
            starts.append(midnight(day + ONE_DAY, self.tz))
            plan = tuple((starts[i], starts[i + 1], band) for i, (_s, band) in enumerate(runs))
            if len(self._plans) >= _CACHE_DAYS:
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def _plan_at(self, version: Version[TouPlan], us: int) -> tuple[tuple[int, int, str], ...]:
        recent = self._recent
        if recent is not None and recent[0] == version.index \
                and recent[1][0][0] <= us < recent[1][-1][1]:
            return recent[1]
        plan = self.day_plan(version, local_date(us, self.tz))
        self._recent = (version.index, plan)
        return plan

    def charges(self, usage: Sequence[Usage], *, history: TierHistory = no_history,
                occupancy: Occupancy | None = None) -> list[ChargeLine]:
        """Price usage into exact lines (see BaseTariff.charges).

        The usual reading, one usage inside one schedule segment of a tariff with one price
        version and no tier period change, is priced here directly: the same arithmetic in
        the same order as the general loop, without its intermediate objects.
        """
        version = self._always
        if len(usage) != 1 or version is None or version.plan.bands is not None \
                or version.plan.band_tiers is not None:
            return super().charges(usage, history=history, occupancy=occupancy)
        item = usage[0]
        a, b = micros(item.start), micros(item.end)
        if a >= b:
            return super().charges(usage, history=history, occupancy=occupancy)
        _start, end, band = self._segment_at(version, a)
        if b > end:  # crosses into the next segment
            return super().charges(usage, history=history, occupancy=occupancy)
        plan = version.plan
        surcharges = plan.surcharges if self.tier_period else None
        period_start: date | None = None
        if surcharges is not None:
            periods = self._tier_periods
            assert periods is not None
            period_start, _begin, edge = periods.at(a)
            if b > edge:  # a new tier period starts within the usage
                return super().charges(usage, history=history, occupancy=occupancy)
        tz, unit, price_from = self.tz, self.unit, version.valid_from
        sources = tuple(dict.fromkeys(item.sources)) if item.sources else ()
        start, end_at = moment(a, tz), moment(b, tz)
        out: list[ChargeLine] = []
        with localcontext() as ctx:
            ctx.prec = PRECISION
            quantity = item.quantity - ZERO  # cum(b) - cum(a): the whole usage
            if quantity:
                quantity = ZERO + quantity  # as a line starting at zero adds it
                price = plan.prices[band]
                out.append(ChargeLine(self.id, "energy", band, quantity, unit, price,
                                      quantity * price, start, end_at, price_from, sources, {}))
            if surcharges is not None and period_start is not None:
                assert self.tier_period is not None
                tiers = TierCounter(self.id, self.tier_period, history, occupancy, tz,
                                    self._tier_periods, self.tier_prorate)
                for index, part in tiers.allocate(surcharges, period_start,
                                                  item.quantity - ZERO):
                    surcharge = surcharges.prices[index]
                    if surcharge:
                        part = ZERO + part
                        out.append(ChargeLine(self.id, "tier_surcharge", tier_key(index), part,
                                              unit, surcharge, part * surcharge, start, end_at,
                                              price_from, sources, {}))
        return out

    def segments(self, usage: Usage) -> list[SegmentPart]:
        """The schedule stretches a usage covered, band by band, with the quantity pricing
        gave each (adjacent segments of one band and price version are one stretch)."""
        if self.source != INTERVALS:
            return []
        with localcontext() as ctx:
            ctx.prec = PRECISION
            spread = Spread(usage)
            whole = usage.quantity
            if spread.start == spread.end:  # an instant: priced at the band it falls in
                version = next(v for v, _a, _b in self._versions_over(spread.start,
                                                                    spread.end))
                _start, _end, band = self._segment_at(version, spread.start)
                return [SegmentPart(usage.start, usage.end, band, version.valid_from, whole)]
            stretches: list[list[Any]] = []  # [start, end, band, version]
            for version, a, b in self._versions_over(spread.start, spread.end):
                for low, high, band in self._walk(version, a, b):
                    last = stretches[-1] if stretches else None
                    if last is not None and last[1] == low and last[2] == band \
                            and last[3] is version:
                        last[1] = high
                    else:
                        stretches.append([low, high, band, version])
            return [SegmentPart(moment(a, self.tz), moment(b, self.tz), band,
                                version.valid_from,
                                spread.cum(b, whole) - spread.cum(a, whole))
                    for a, b, band, version in stretches]

    def _segment_at(self, version: Version[TouPlan], us: int) -> tuple[int, int, str]:
        """The (start, end, band) segment holding the instant ``us``."""
        for segment in self._plan_at(version, us):
            if segment[1] > us:
                return segment
        raise AssertionError("a day plan covers its whole day")  # pragma: no cover

    def price(self, version: Version[TouPlan], spread: Spread, a: int, b: int, lines: Lines,
              tiers: TierCounter | None) -> None:
        """Bands by segment (or by register), then tier surcharges on the total."""
        plan = version.plan
        if plan.band_tiers is not None and tiers is not None:
            if plan.bands is not None:
                price_register_tiers(lines, tiers, self.id, plan.bands, plan.band_tiers,
                                     spread, a, b, version.valid_from)
            else:
                self._band_tiers(version, plan.band_tiers, spread, a, b, lines, tiers)
            return
        if plan.bands is not None:
            price_registers(lines, self.id, plan.bands, spread, a, b, version.valid_from)
        elif a == b:
            band = next(band for start, end, band in self._plan_at(version, a) if start <= a < end)
            self._add(lines, version, band, spread.share(a, b), a, b, spread.sources)
        else:
            self._by_segment(version, spread, a, b, lines)
        if plan.surcharges is not None and tiers is not None:
            add_surcharges(lines, tiers, plan.surcharges, spread, a, b, self.unit,
                           version.valid_from)

    def _band_tiers(self, version: Version[TouPlan], band_tiers: BandTiers, spread: Spread,
                    a: int, b: int, lines: Lines, tiers: TierCounter) -> None:
        """Each schedule stretch in time order, priced per band and tier."""
        pricer = BandPricer.of(tiers, lines, "energy", self.unit)
        prices = version.plan.prices
        shares = band_shares(spread.usage.registers, prices) if a == b else {}
        if shares:  # a re-pricing that knows the bands only as shares
            quantity = spread.share(a, b)
            pricer.add(Group(a, b, quantity, dict(zip(shares, split(quantity, list(
                shares.values())), strict=True)), prices, band_tiers, version.valid_from,
                spread.sources))
            return
        if a == b:
            stretches: Iterator[tuple[int, int, str]] = iter([self._segment_at(version, a)])
        else:
            stretches = self._walk(version, a, b)
        whole = spread.usage.quantity
        for low, high, band in stretches:
            quantity = spread.share(a, b) if a == b \
                else spread.cum(high, whole) - spread.cum(low, whole)
            if quantity:
                pricer.add(Group(max(low, a), min(high, b) if a != b else b, quantity,
                                 {band: quantity}, prices, band_tiers, version.valid_from,
                                 spread.sources))

    def _by_segment(self, version: Version[TouPlan], spread: Spread, a: int, b: int,
                    lines: Lines) -> None:
        whole = spread.usage.quantity
        for _start, end, band in self._plan_at(version, a):
            if end > a:
                if b <= end:  # within one segment (the usual reading): one band
                    self._add(lines, version, band, spread.cum(b, whole) - spread.cum(a, whole),
                              a, b, spread.sources)
                    return
                break
        bands: dict[str, list[Any]] = {}  # band -> [quantity, start, end]
        cum: Callable[[int], Any] | None = spread.stepper()
        if cum is None:  # not whole steps: in Decimals (the same arithmetic, slower)
            cum = functools.partial(spread.cum, whole=whole)
        before = cum(a)
        for low, high, band in self._walk(version, a, b):
            upto = cum(high)
            part = bands.get(band)
            if part is None:
                bands[band] = [upto - before, low, high]
            else:
                part[0] += upto - before
                part[2] = high
            before = upto
        for band, (quantity, start, end) in bands.items():
            if type(quantity) is int:  # steps: each band's sum crossed a cut, so it has the
                quantity = Decimal(quantity).scaleb(STEP_EXPONENT)  # step's exponent too
            self._add(lines, version, band, quantity, start, end, spread.sources)

    def _walk(self, version: Version[TouPlan], a: int,
              b: int) -> Iterator[tuple[int, int, str]]:
        """The schedule segments over [a, b), cut to it: (start, end, band), in time order."""
        cursor = a
        while cursor < b:
            for _start, end, band in self._plan_at(version, cursor):
                if end <= cursor:
                    continue
                high = min(end, b)
                yield cursor, high, band
                cursor = high
                if cursor >= b:
                    break

    def _add(self, lines: Lines, version: Version[TouPlan], band: str, quantity: Decimal,
             start: int, end: int, sources: tuple[str, ...]) -> None:
        if quantity:
            lines.put("energy", band, self.unit, version.plan.prices[band], quantity, start, end,
                      version.valid_from, sources)


class TouType(TariffType):
    """The ``tou`` tariff type."""

    name = "tou"
    description = "尖峰平谷: band prices by day schedule, yearly zone, weekend and holiday"

    def schema(self) -> Any:
        """The YAML schema of a TOU entry."""
        return entry_schema(SPEC)

    def create(self, config: Mapping[str, Any], calendar: Calendar) -> TouTariff:
        """Build a TOU tariff."""
        return TouTariff(config, calendar)

    def needs_meter_registers(self, config: Mapping[str, Any]) -> bool:
        """Whether the tariff prices the meter's own TOU registers."""
        return bool(config.get("source") == METER_REGISTERS)
