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

from ..validation import show_value

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
        raise vol.Invalid(f"{where}: expected a time of day HH:MM, got {show_value(value)}")
    hour, minute = int(hours), int(minutes)
    if hour > 23 or minute > 59:
        raise vol.Invalid(f"{where}: {text} is not a time of day (00:00 to 23:59)")
    return hour * 60 + minute


def _month_day(value: Any, where: str) -> tuple[int, int]:
    text = str(value).strip() if isinstance(value, str) else ""
    month, sep, day = text.partition("-")
    if not (sep and month.isdigit() and day.isdigit()):
        raise vol.Invalid(f"{where}: expected a month-day MM-DD, got {show_value(value)}")
    try:
        date(2024, int(month), int(day))  # a leap year: 02-29 is a day
    except ValueError:
        raise vol.Invalid(f"{where}: {text} is not a day of the year") from None
    return int(month), int(day)


def _number(value: Any, low: int, high: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise vol.Invalid(f"{where}: expected a whole number {low}..{high}, "
                          f"got {show_value(value)}")
    number = int(value)
    if not low <= number <= high:
        raise vol.Invalid(f"{where}: expected {low}..{high}, got {number}")
    return number


def _entries(raw: Any, key: str, limit: int, what: str,
             shape: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, entry) of a list of mappings under ``key``, at most ``limit`` of them."""
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise vol.Invalid(f"{key}: expected a list, got {show_value(raw)}")
    if len(raw) > limit:
        raise vol.Invalid(f"{key}: at most {limit} {what}, got {len(raw)}")
    for index, entry in enumerate(raw):
        where = f"{key}[{index}]"
        if not isinstance(entry, Mapping):
            raise vol.Invalid(f"{where}: expected {shape}, got {show_value(entry)}")
        yield where, entry


def _holidays(raw: Any) -> tuple[Holiday, ...]:
    out: list[Holiday] = []
    for where, entry in _entries(raw, "holidays", MAX_HOLIDAYS, "public holidays",
                                 "{date, table}"):
        try:
            day = date.fromisoformat(str(entry.get("date")))
        except ValueError:
            raise vol.Invalid(f"{where}.date: expected a date like 2026-10-01, "
                              f"got {show_value(entry.get('date'))}") from None
        if not 2000 <= day.year <= 2099:
            raise vol.Invalid(f"{where}.date: a meter keeps dates 2000..2099, got {day}")
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
            raise vol.Invalid("zones: a TOU table needs at least one zone")
        if len(self.zones) > MAX_ZONES:
            raise vol.Invalid(f"zones: at most {MAX_ZONES} yearly zones, got {len(self.zones)}")
        if not 1 <= len(self.tables) <= MAX_TABLES:
            raise vol.Invalid(f"tables: 1 to {MAX_TABLES} day tables, got {len(self.tables)}")
        for number, segments in enumerate(self.tables, start=1):
            where = f"tables.{number}"
            if not segments:
                raise vol.Invalid(f"{where}: a day table needs at least one segment")
            if len(segments) > MAX_SEGMENTS:
                raise vol.Invalid(f"{where}: at most {MAX_SEGMENTS} segments a day, "
                                  f"got {len(segments)}")
            if segments[0][0] != 0:
                raise vol.Invalid(f"{where}: the first segment must start at 00:00")
            starts = [start for start, _rate in segments]
            if starts != sorted(set(starts)):
                raise vol.Invalid(f"{where}: segments must start in time order, each once")
        zone_starts = [(month, day) for month, day, _table in self.zones]
        if zone_starts != sorted(set(zone_starts)):
            raise vol.Invalid("zones: zones must start in calendar order, each once")
        if len(self.holidays) > MAX_HOLIDAYS:
            raise vol.Invalid(f"holidays: at most {MAX_HOLIDAYS} public holidays, "
                              f"got {len(self.holidays)}")
        days = [day for day, _table in self.holidays]
        if days != sorted(set(days)):
            raise vol.Invalid("holidays: dates must be in calendar order, each once")
        used = {table for _m, _d, table in self.zones} | {t for _d, t in self.holidays}
        if self.rest_table is not None:
            used.add(self.rest_table)
        missing = sorted(n for n in used if n > len(self.tables))
        if missing:
            raise vol.Invalid(f"zones: day table {missing[0]} is used but only "
                              f"{len(self.tables)} are given")

    # --- JSON form ------------------------------------------------------------------

    @classmethod
    def parse(cls, value: Any) -> TouTable:
        """Validate the JSON form; ``vol.Invalid`` names the key and the value."""
        if isinstance(value, TouTable):
            return value
        if not isinstance(value, Mapping):
            raise vol.Invalid(f"expected a TOU table {{zones, tables}}, got {show_value(value)}")
        unknown = sorted(set(value) - {"zones", "tables", "rest_table", "rest_days", "holidays"})
        if unknown:
            raise vol.Invalid(f"{unknown[0]}: not a key of a TOU table (zones, tables, "
                              f"rest_table, rest_days, holidays)")
        raw_zones = value.get("zones")
        raw_tables = value.get("tables")
        if not isinstance(raw_zones, Sequence) or isinstance(raw_zones, str):
            raise vol.Invalid(f"zones: expected a list, got {show_value(raw_zones)}")
        if not isinstance(raw_tables, Mapping):
            raise vol.Invalid(f"tables: expected day tables by number, "
                              f"got {show_value(raw_tables)}")
        zones: list[Zone] = []
        for where, zone in _entries(raw_zones, "zones", MAX_ZONES, "yearly zones",
                                    "{start, table}"):
            month, day = _month_day(zone.get("start"), f"{where}.start")
            zones.append((month, day, _number(zone.get("table"), 1, MAX_TABLES,
                                              f"{where}.table")))
        numbers = sorted(_number(key, 1, MAX_TABLES, f"tables.{key}") for key in raw_tables)
        if numbers != list(range(1, len(numbers) + 1)):
            raise vol.Invalid(f"tables: day tables are numbered 1..n without gaps, "
                              f"got {numbers}")
        tables: list[tuple[Segment, ...]] = []
        for number in numbers:
            raw = raw_tables.get(str(number), raw_tables.get(number))
            where = f"tables.{number}"
            if not isinstance(raw, Sequence) or isinstance(raw, str):
                raise vol.Invalid(f"{where}: expected a list of segments, got {show_value(raw)}")
            if len(raw) > MAX_SEGMENTS:
                raise vol.Invalid(f"{where}: at most {MAX_SEGMENTS} segments a day, "
                                  f"got {len(raw)}")
            segments: list[Segment] = []
            for index, segment in enumerate(raw):
                at = f"{where}[{index}]"
                if not isinstance(segment, Mapping):
                    raise vol.Invalid(f"{at}: expected {{start, rate}}, got {show_value(segment)}")
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
                   what: str = "the meter") -> None:
        """Raise ``vol.Invalid`` when a table exceeds a model's own limits."""
        for number, segments in enumerate(self.tables, start=1):
            if len(segments) > max_segments:
                raise vol.Invalid(f"tables.{number}: {what} takes at most {max_segments} "
                                  f"segments a day, got {len(segments)}")
            for start, rate in segments:
                if rate > max_rates:
                    raise vol.Invalid(f"tables.{number}: {what} has rates 1..{max_rates}, "
                                      f"got rate {rate} at {start // 60:02d}:{start % 60:02d}")
