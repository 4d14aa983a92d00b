"""A tariff's time-of-use schedule as a meter's own TOU table, so its T1..T4 agree with the hub.

Bands become the meter's rates by DL/T 645's convention, T1 sharp (尖), T2 peak (峰), T3 flat
(平), T4 valley (谷); each named day schedule becomes a day table (workday schedules in zone
order, then the weekend one), each zone a yearly zone, the weekend schedule the rest-day
table for Saturday and Sunday, the holiday schedule one more day table. The site's calendar
(public holidays and make-up working days, 调休) becomes the meter's public-holiday list for a
year: every date on which the tariff prices another schedule than the one the meter would
apply by its zones and rest days is an entry with the tariff's day table (a public holiday on
a weekday, a make-up working Saturday with its zone's workday table). What a meter cannot
hold is refused with the reason (a band with no rate, a zone with its own weekend schedule, a
segment starting inside a minute, more holiday dates than it keeps).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

import voluptuous as vol

from ..billing.tariff import MeterSchedule, Tariff
from ..i18n import Text, text_of
from ..metering.tou import TouTable
from ..util.calendar import Calendar, DayType
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

RATE_OF_BAND: dict[str, int] = {"sharp": 1, "peak": 2, "flat": 3, "valley": 4}
REST_DAYS = frozenset({0, 6})  # Sunday, Saturday
SHOWN_HOLIDAYS = 5  # holiday differences told one by one, the rest counted


class TouRefused(Exception):
    """A tariff's schedule cannot be written into a meter; the message says why."""


@dataclass(frozen=True)
class TariffTable:
    """The TOU table of a tariff on a day, and what the meter will not know."""

    tariff_id: str
    table: TouTable
    notes: tuple[str, ...]
    valid_from: date | None


def table_of(schedule: MeterSchedule, what: str, calendar: Calendar | None = None,
             year: int | None = None,
             rates: Mapping[str, int] = RATE_OF_BAND) -> tuple[TouTable, list[str]]:
    """The meter table of a schedule, with ``year``'s holiday list from ``calendar``;
    TouRefused naming ``what`` when it cannot be one."""
    if schedule.zone_overrides:
        raise TouRefused(Text("devices.tou_zone_rest", what=what))
    names: list[str] = []
    for _month, _day, name in schedule.zones:
        if name not in names:
            names.append(name)
    for special in (schedule.weekend, schedule.holiday):
        if special and special not in names:
            names.append(special)
    tables = []
    for name in names:
        segments = []
        for start, band in schedule.schedules[name]:
            if start % 60:
                raise TouRefused(Text(
                    "devices.tou_minute", what=what, name=name,
                    start=f"{start // 3600:02d}:{start // 60 % 60:02d}:{start % 60:02d}"))
            rate = rates.get(band)
            if rate is None:
                known = ", ".join(f"{b} (T{r})" for b, r in rates.items())
                raise TouRefused(Text("devices.tou_band", what=what, band=repr(band),
                                      name=name, known=known))
            segments.append((start // 60, rate))
        tables.append(tuple(segments))
    number = {name: index for index, name in enumerate(names, start=1)}
    notes: list[str] = []
    try:
        table = TouTable(tuple((m, d, number[name]) for m, d, name in schedule.zones),
                         tuple(tables),
                         number[schedule.weekend] if schedule.weekend else None,
                         REST_DAYS if schedule.weekend else frozenset())
        if calendar is not None and year is not None:
            table = replace(table, holidays=holidays_of(table, schedule, number, calendar, year))
            if not calendar.is_known(year):
                notes.append(Text("devices.tou_holidays_unknown", year=year))
    except vol.Invalid as err:
        raise TouRefused(Text("devices.tou_invalid", what=what, reason=text_of(err))) from None
    return table, notes


def _days(year: int) -> Iterable[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


def holidays_of(table: TouTable, schedule: MeterSchedule, number: Mapping[str, int],
                calendar: Calendar, year: int) -> tuple[tuple[date, int], ...]:
    """The dates of ``year`` the tariff prices by another day table than the meter's zones
    and rest days would give, each with the tariff's table (the meter's holiday list)."""
    starts = [(month, day) for month, day, _name in schedule.zones]
    out = []
    for day in _days(year):
        zone = schedule.zones[-1][2]  # before the first zone: the last one (wraps around)
        for (month, start), (_m, _d, name) in zip(starts, schedule.zones, strict=True):
            if (month, start) <= (day.month, day.day):
                zone = name
        kind = calendar.day_type(day)
        if kind is DayType.HOLIDAY:
            wanted = schedule.holiday or schedule.weekend or zone
        elif kind is DayType.WEEKEND:
            wanted = schedule.weekend or zone
        else:
            wanted = zone
        if number[wanted] != table.table_for(day):
            out.append((day, number[wanted]))
    return tuple(out)


def tariff_table(tariff: Tariff, day: date, calendar: Calendar | None = None) -> TariffTable:
    """The TOU table of ``tariff`` valid on ``day``, with the holidays of ``day``'s year from
    ``calendar`` (TouRefused if it has no schedule)."""
    schedule = tariff.meter_schedule(day)
    if schedule is None:
        raise TouRefused(Text("devices.tou_no_schedule", tariff=tariff.id, type=tariff.type,
                              day=day.isoformat()))
    table, notes = table_of(schedule, Text("devices.tou_tariff", tariff=tariff.id), calendar,
                            day.year)
    return TariffTable(tariff.id, table, tuple(notes), schedule.valid_from)


def differences(meter: TouTable, wanted: TouTable) -> list[str]:
    """What differs between a meter's table and the wanted one, in words (empty: equal)."""
    found: list[str] = []
    if meter.zones != wanted.zones:
        found.append(Text("devices.tou_zones", meter=_zones(meter), wanted=_zones(wanted)))
    for number in range(1, max(len(meter.tables), len(wanted.tables)) + 1):
        have = meter.tables[number - 1] if number <= len(meter.tables) else ()
        want = wanted.tables[number - 1] if number <= len(wanted.tables) else ()
        if have != want:
            found.append(Text("devices.tou_day_table", number=number, meter=_segments(have),
                              wanted=_segments(want)))
    if (meter.rest_table, meter.rest_days) != (wanted.rest_table, wanted.rest_days):
        found.append(Text("devices.tou_rest", meter_days=str(sorted(meter.rest_days)),
                          meter_table=meter.rest_table,
                          wanted_days=str(sorted(wanted.rest_days)),
                          wanted_table=wanted.rest_table))
    kept, listed = dict(meter.holidays), dict(wanted.holidays)
    days = [day for day in sorted(set(kept) | set(listed)) if kept.get(day) != listed.get(day)]
    for day in days[:SHOWN_HOLIDAYS]:
        found.append(Text("devices.tou_holiday", day=day.isoformat(),
                          meter=_holiday_table(kept.get(day)),
                          wanted=_holiday_table(listed.get(day))))
    if len(days) > SHOWN_HOLIDAYS:
        found.append(Text("devices.tou_more", count=len(days) - SHOWN_HOLIDAYS))
    return found


def _holiday_table(table: int | None) -> str:
    return Text("devices.tou_not_listed") if table is None else \
        Text("devices.tou_on_table", table=table)


def _zones(table: TouTable) -> str:
    return ", ".join(f"{m:02d}-{d:02d}→{n}" for m, d, n in table.zones) or Text("devices.tou_none")


def _segments(segments: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(f"{s // 60:02d}:{s % 60:02d} T{r}" for s, r in segments) or \
        Text("devices.tou_none")
