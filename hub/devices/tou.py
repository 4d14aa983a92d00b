"""A tariff's time-of-use schedule as a meter's own TOU table, so its T1..T4 agree with the hub.

Bands become the meter's rates by DL/T 645's convention, T1 sharp (尖), T2 peak (峰), T3 flat
(平), T4 valley (谷); each named day schedule becomes a day table (workday schedules in zone
order, then the weekend one), each zone a yearly zone, the weekend schedule the rest-day
table for Saturday and Sunday. What a meter cannot hold is refused with the reason (a band
with no rate, a zone with its own weekend schedule, a segment starting inside a minute);
public holidays and make-up working days (调休) are not programmed — a meter does not know
the site's calendar — and the answer says so when the tariff has a holiday schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import voluptuous as vol

from ..billing.tariff import MeterSchedule, Tariff
from ..metering.tou import TouTable

RATE_OF_BAND: dict[str, int] = {"sharp": 1, "peak": 2, "flat": 3, "valley": 4}
REST_DAYS = frozenset({0, 6})  # Sunday, Saturday


class TouRefused(Exception):
    """A tariff's schedule cannot be written into a meter; the message says why."""


@dataclass(frozen=True)
class TariffTable:
    """The TOU table of a tariff on a day, and what the meter will not know."""

    tariff_id: str
    table: TouTable
    notes: tuple[str, ...]
    valid_from: date | None


def table_of(schedule: MeterSchedule, what: str,
             rates: Mapping[str, int] = RATE_OF_BAND) -> tuple[TouTable, list[str]]:
    """The meter table of a schedule; TouRefused naming ``what`` when it cannot be one."""
    if schedule.zone_overrides:
        raise TouRefused(f"{what}: a zone has its own weekend or holiday schedule, but a "
                         f"meter has one rest-day table for the whole year")
    names: list[str] = []
    for _month, _day, name in schedule.zones:
        if name not in names:
            names.append(name)
    if schedule.weekend and schedule.weekend not in names:
        names.append(schedule.weekend)
    tables = []
    for name in names:
        segments = []
        for start, band in schedule.schedules[name]:
            if start % 60:
                raise TouRefused(f"{what}: schedule {name} has a segment starting at "
                                 f"{start // 3600:02d}:{start // 60 % 60:02d}:{start % 60:02d}; "
                                 f"a meter's segments start on whole minutes")
            rate = rates.get(band)
            if rate is None:
                known = ", ".join(f"{b} (T{r})" for b, r in rates.items())
                raise TouRefused(f"{what}: band {band!r} of schedule {name} has no meter rate "
                                 f"(the meter's rates are {known})")
            segments.append((start // 60, rate))
        tables.append(tuple(segments))
    number = {name: index for index, name in enumerate(names, start=1)}
    notes = []
    if schedule.holiday:
        notes.append(f"holiday schedule {schedule.holiday} is not programmed: the meter "
                     f"counts public holidays as ordinary days (make-up working days too)")
    try:
        table = TouTable(tuple((m, d, number[name]) for m, d, name in schedule.zones),
                         tuple(tables),
                         number[schedule.weekend] if schedule.weekend else None,
                         REST_DAYS if schedule.weekend else frozenset())
    except vol.Invalid as err:
        raise TouRefused(f"{what}: {err}") from None
    return table, notes


def tariff_table(tariff: Tariff, day: date) -> TariffTable:
    """The TOU table of ``tariff`` valid on ``day`` (TouRefused if it has none)."""
    schedule = tariff.meter_schedule(day)
    if schedule is None:
        raise TouRefused(f"tariff {tariff.id} ({tariff.type}) has no time-of-use schedule "
                         f"valid on {day.isoformat()}")
    table, notes = table_of(schedule, f"tariff {tariff.id}")
    return TariffTable(tariff.id, table, tuple(notes), schedule.valid_from)


def differences(meter: TouTable, wanted: TouTable) -> list[str]:
    """What differs between a meter's table and the wanted one, in words (empty: equal)."""
    found: list[str] = []
    if meter.zones != wanted.zones:
        found.append(f"zones {_zones(meter)} instead of {_zones(wanted)}")
    for number in range(1, max(len(meter.tables), len(wanted.tables)) + 1):
        have = meter.tables[number - 1] if number <= len(meter.tables) else ()
        want = wanted.tables[number - 1] if number <= len(wanted.tables) else ()
        if have != want:
            found.append(f"day table {number} {_segments(have)} instead of {_segments(want)}")
    if (meter.rest_table, meter.rest_days) != (wanted.rest_table, wanted.rest_days):
        found.append(f"rest days {sorted(meter.rest_days)} on table {meter.rest_table} "
                     f"instead of {sorted(wanted.rest_days)} on table {wanted.rest_table}")
    return found


def _zones(table: TouTable) -> str:
    return ", ".join(f"{m:02d}-{d:02d}→{n}" for m, d, n in table.zones) or "none"


def _segments(segments: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(f"{s // 60:02d}:{s % 60:02d} T{r}" for s, r in segments) or "none"
