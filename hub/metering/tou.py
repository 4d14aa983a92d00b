"""A meter's own time-of-use table, as the hub writes and reads it, whatever the protocol.

A meter keeps yearly zones (时区: from which month-day which day table applies), day tables
(日时段表: from which time of day which rate T1..Tn counts) and optionally a day table for
rest days (周休日), and public holidays (公共假日: dates, each with the day table it uses, ahead
of rest days and zones; a make-up working day is such a date too, with a workday table).
:class:`TouTable` is that, validated against the limits of DL/T 645-2007 (14 zones, 8 day
tables, 14 segments a day, 63 rates, 254 holidays); a model may have smaller limits
(:meth:`TouTable.check_fits`). Its JSON form is what services, commands and jobs carry::

    {"zones": [{"start": "01-01", "table": 1}, {"start": "07-01", "table": 2}],
     "tables": {"1": [{"start": "00:00", "rate": 4}, {"start": "08:00", "rate": 3}], ...},
     "rest_table": 3, "rest_days": [0, 6],
     "holidays": [{"date": "2026-10-01", "table": 4}, {"date": "2026-10-10", "table": 1}]}

(``rest_days``: weekdays that use ``rest_table``, 0 = Sunday ... 6 = Saturday.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import voluptuous as vol

from ..i18n import Text
from ..validation import show_value
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

__all__ = ["MAX_HOLIDAYS", "MAX_RATES", "MAX_SEGMENTS", "MAX_TABLES", "MAX_ZONES", "TouTable"]

MAX_ZONES = 14
MAX_TABLES = 8
MAX_SEGMENTS = 14
MAX_RATES = 63
MAX_HOLIDAYS = 254

Segment = tuple[int, int]  # (minute of the day, rate 1..63)
Zone = tuple[int, int, int]  # (month, day, day table 1..8)
Holiday = tuple[date, int]  # (the date, its day table 1..8)


def _clock(value: Any, where: str) -> int:
    text = str(value).strip() if isinstance(value, str) else ""
    hours, sep, minutes = text.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2
            and len(hours) <= 2):
        raise vol.Invalid(Text("tou.clock", where=where, value=show_value(value)))
    hour, minute = int(hours), int(minutes)
    if hour > 23 or minute > 59:
        raise vol.Invalid(Text("tou.clock_range", where=where, text=text))
    return hour * 60 + minute


def _month_day(value: Any, where: str) -> tuple[int, int]:
    text = str(value).strip() if isinstance(value, str) else ""
    month, sep, day = text.partition("-")
    if not (sep and month.isdigit() and day.isdigit()):
        raise vol.Invalid(Text("tou.month_day", where=where, value=show_value(value)))
    try:
        date(2024, int(month), int(day))  # a leap year: 02-29 is a day
    except ValueError:
        raise vol.Invalid(Text("tou.month_day_range", where=where, text=text)) from None
    return int(month), int(day)


def _number(value: Any, low: int, high: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise vol.Invalid(Text("tou.number", where=where, low=low, high=high,
                               value=show_value(value)))
    number = int(value)
    if not low <= number <= high:
        raise vol.Invalid(Text("tou.number_range", where=where, low=low, high=high,
                               value=number))
    return number


def _entries(raw: Any, key: str, limit: int, what: str,
             shape: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, entry) of a list of mappings under ``key``, at most ``limit`` of them."""
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise vol.Invalid(Text("tou.list", key=key, value=show_value(raw)))
    if len(raw) > limit:
        raise vol.Invalid(Text("tou.at_most", key=key, limit=limit, what=what, count=len(raw)))
    for index, entry in enumerate(raw):
        where = f"{key}[{index}]"
        if not isinstance(entry, Mapping):
            raise vol.Invalid(Text("tou.entry", where=where, shape=shape,
                                   value=show_value(entry)))
        yield where, entry


def _holidays(raw: Any) -> tuple[Holiday, ...]:
    out: list[Holiday] = []
    for where, entry in _entries(raw, "holidays", MAX_HOLIDAYS, Text("tou.what_holidays"),
                                 "{date, table}"):
        try:
            day = date.fromisoformat(str(entry.get("date")))
        except ValueError:
            raise vol.Invalid(Text("tou.holiday_date", where=where,
                                   value=show_value(entry.get("date")))) from None
        if not 2000 <= day.year <= 2099:
            raise vol.Invalid(Text("tou.holiday_range", where=where, value=day))
        out.append((day, _number(entry.get("table"), 1, MAX_TABLES, f"{where}.table")))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class TouTable:
    """Zones, day tables and the rest-day table of a meter (see the module docstring)."""

    zones: tuple[Zone, ...]
    tables: tuple[tuple[Segment, ...], ...]  # day table n is tables[n - 1]
    rest_table: int | None = None
    rest_days: frozenset[int] = frozenset()
    holidays: tuple[Holiday, ...] = ()

    def __post_init__(self) -> None:
        if not self.zones:
            raise vol.Invalid(Text("tou.no_zone"))
        if len(self.zones) > MAX_ZONES:
            raise vol.Invalid(Text("tou.zones_max", limit=MAX_ZONES, count=len(self.zones)))
        if not 1 <= len(self.tables) <= MAX_TABLES:
            raise vol.Invalid(Text("tou.tables_count", limit=MAX_TABLES, count=len(self.tables)))
        for number, segments in enumerate(self.tables, start=1):
            where = f"tables.{number}"
            if not segments:
                raise vol.Invalid(Text("tou.no_segment", where=where))
            if len(segments) > MAX_SEGMENTS:
                raise vol.Invalid(Text("tou.segments_max", where=where, limit=MAX_SEGMENTS,
                                       count=len(segments)))
            if segments[0][0] != 0:
                raise vol.Invalid(Text("tou.first_segment", where=where))
            starts = [start for start, _rate in segments]
            if starts != sorted(set(starts)):
                raise vol.Invalid(Text("tou.segment_order", where=where))
        zone_starts = [(month, day) for month, day, _table in self.zones]
        if zone_starts != sorted(set(zone_starts)):
            raise vol.Invalid(Text("tou.zone_order"))
        if len(self.holidays) > MAX_HOLIDAYS:
            raise vol.Invalid(Text("tou.at_most", key="holidays", limit=MAX_HOLIDAYS,
                                   what=Text("tou.what_holidays"), count=len(self.holidays)))
        days = [day for day, _table in self.holidays]
        if days != sorted(set(days)):
            raise vol.Invalid(Text("tou.holiday_order"))
        used = {table for _m, _d, table in self.zones} | {t for _d, t in self.holidays}
        if self.rest_table is not None:
            used.add(self.rest_table)
        missing = sorted(n for n in used if n > len(self.tables))
        if missing:
            raise vol.Invalid(Text("tou.table_missing", table=missing[0], count=len(self.tables)))

    # --- JSON form ------------------------------------------------------------------

    @classmethod
    def parse(cls, value: Any) -> TouTable:
        """Validate the JSON form; ``vol.Invalid`` names the key and the value."""
        if isinstance(value, TouTable):
            return value
        if not isinstance(value, Mapping):
            raise vol.Invalid(Text("tou.table", value=show_value(value)))
        unknown = sorted(set(value) - {"zones", "tables", "rest_table", "rest_days", "holidays"})
        if unknown:
            raise vol.Invalid(Text("tou.unknown_key", key=unknown[0]))
        raw_zones = value.get("zones")
        raw_tables = value.get("tables")
        if not isinstance(raw_zones, Sequence) or isinstance(raw_zones, str):
            raise vol.Invalid(Text("tou.zones_list", value=show_value(raw_zones)))
        if not isinstance(raw_tables, Mapping):
            raise vol.Invalid(Text("tou.tables_map", value=show_value(raw_tables)))
        zones: list[Zone] = []
        for where, zone in _entries(raw_zones, "zones", MAX_ZONES, Text("tou.what_zones"),
                                    "{start, table}"):
            month, day = _month_day(zone.get("start"), f"{where}.start")
            zones.append((month, day, _number(zone.get("table"), 1, MAX_TABLES,
                                              f"{where}.table")))
        numbers = sorted(_number(key, 1, MAX_TABLES, f"tables.{key}") for key in raw_tables)
        if numbers != list(range(1, len(numbers) + 1)):
            raise vol.Invalid(Text("tou.tables_numbered", numbers=numbers))
        tables: list[tuple[Segment, ...]] = []
        for number in numbers:
            raw = raw_tables.get(str(number), raw_tables.get(number))
            where = f"tables.{number}"
            if not isinstance(raw, Sequence) or isinstance(raw, str):
                raise vol.Invalid(Text("tou.segments_list", where=where, value=show_value(raw)))
            if len(raw) > MAX_SEGMENTS:
                raise vol.Invalid(Text("tou.segments_max", where=where, limit=MAX_SEGMENTS,
                                       count=len(raw)))
            segments: list[Segment] = []
            for index, segment in enumerate(raw):
                at = f"{where}[{index}]"
                if not isinstance(segment, Mapping):
                    raise vol.Invalid(Text("tou.segment", where=at, value=show_value(segment)))
                segments.append((_clock(segment.get("start"), f"{at}.start"),
                                 _number(segment.get("rate"), 1, MAX_RATES, f"{at}.rate")))
            tables.append(tuple(segments))
        rest = value.get("rest_table")
        rest_table = None if rest is None else _number(rest, 1, MAX_TABLES, "rest_table")
        rest_days = frozenset(_number(d, 0, 6, "rest_days") for d in value.get("rest_days") or ())
        return cls(tuple(zones), tuple(tables), rest_table, rest_days,
                   _holidays(value.get("holidays") or ()))

    def as_json(self) -> dict[str, Any]:
        """The JSON form (as :meth:`parse` reads it)."""
        out: dict[str, Any] = {
            "zones": [{"start": f"{m:02d}-{d:02d}", "table": t} for m, d, t in self.zones],
            "tables": {str(n): [{"start": f"{s // 60:02d}:{s % 60:02d}", "rate": r}
                                for s, r in segments]
                       for n, segments in enumerate(self.tables, start=1)},
        }
        if self.rest_table is not None:
            out["rest_table"] = self.rest_table
            out["rest_days"] = sorted(self.rest_days)
        if self.holidays:
            out["holidays"] = [{"date": day.isoformat(), "table": table}
                               for day, table in self.holidays]
        return out

    # --- use ------------------------------------------------------------------------

    def table_for(self, day: date) -> int:
        """The day table a meter applies on ``day`` (holidays first, rest days, its zone)."""
        for holiday, table in self.holidays:
            if holiday == day:
                return table
        if self.rest_table is not None and day.isoweekday() % 7 in self.rest_days:
            return self.rest_table
        key = (day.month, day.day)
        chosen = self.zones[-1][2]  # before the first zone: the last one (wraps around)
        for month, start_day, table in self.zones:
            if (month, start_day) <= key:
                chosen = table
        return chosen

    def rate_at(self, day: date, minute: int) -> int:
        """The rate (1..n) a meter counts at ``minute`` of ``day``."""
        rate = 0
        for start, segment_rate in self.tables[self.table_for(day) - 1]:
            if start <= minute:
                rate = segment_rate
        return rate

    def check_fits(self, *, max_segments: int = MAX_SEGMENTS, max_rates: int = MAX_RATES,
                   what: str = Text("tou.the_meter")) -> None:
        """Raise ``vol.Invalid`` when a table exceeds a model's own limits."""
        for number, segments in enumerate(self.tables, start=1):
            if len(segments) > max_segments:
                raise vol.Invalid(Text("tou.fits_segments", table=number, what=what,
                                       limit=max_segments, count=len(segments)))
            for start, rate in segments:
                if rate > max_rates:
                    raise vol.Invalid(Text("tou.fits_rates", table=number, what=what,
                                           limit=max_rates, rate=rate,
                                           at=f"{start // 60:02d}:{start % 60:02d}"))
