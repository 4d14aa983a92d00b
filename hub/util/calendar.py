"""Working days, weekends and public holidays with make-up working days (调休), for tariffs.

China's official schedule comes from the maintained ``holidays`` package
(``holidays.country_holidays("CN")`` and its ``weekend_workdays``); the ``calendar:`` block of
hub.yaml adds special days off and make-up working days, and supplies a year the package does
not know yet (each year's schedule is published by the State Council in late autumn)::

    calendar:
      holidays:
        - 2027-01-01
        - {from: 2027-02-06, to: 2027-02-12, name: 春节}
      workdays: [2027-02-14]          # 调休上班

Rules, in order: a listed make-up working day is a workday; a public holiday (official or
listed) is a holiday; a Saturday or Sunday joined to a holiday through other rest days is part
of that holiday (as the official notices count them: "5月1日至5日放假"); other Saturdays and
Sundays are weekend days; everything else is a workday. YAML entries win over the package.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import voluptuous as vol

from .. import validation as cv
from ..const import DEFAULT_TIME_ZONE
from ..i18n import Text
from ..messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)

__all__ = [
    "CALENDAR_SCHEMA",
    "COUNTRY",
    "MAX_RANGE_DAYS",
    "Calendar",
    "DayType",
    "date_value",
]

_LOGGER = logging.getLogger(__name__)

COUNTRY = "CN"
MAX_RANGE_DAYS = 31


class DayType(StrEnum):
    """How a tariff treats a day."""

    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


def date_value(value: Any) -> date:
    """A calendar date: YAML's 2025-07-01, or the text '2025-07-01'."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise vol.Invalid(Text("calendar.date", value=cv.show_value(value)))


def _day_item(value: Any) -> list[tuple[date, str]]:
    if not isinstance(value, Mapping):
        return [(date_value(value), "")]
    if "date" in value:
        item = cv.Strict({vol.Required("date"): date_value,
                          vol.Optional("name", default=""): cv.string})(value)
        return [(item["date"], item["name"])]
    item = cv.Strict({vol.Required("from"): date_value, vol.Required("to"): date_value,
                      vol.Optional("name", default=""): cv.string})(value)
    days = (item["to"] - item["from"]).days
    if days < 0:
        raise vol.Invalid(Text("calendar.to_before", start=item["from"], end=item["to"]),
                          path=["to"])
    if days >= MAX_RANGE_DAYS:
        raise vol.Invalid(Text("calendar.range", most=MAX_RANGE_DAYS, days=days + 1,
                               end=item["to"]), path=["to"])
    return [(item["from"] + timedelta(days=n), item["name"]) for n in range(days + 1)]


def _no_conflicts(block: dict[str, Any]) -> dict[str, Any]:
    holidays = {day for entry in block["holidays"] for day, _name in entry}
    errors = [
        vol.Invalid(Text("calendar.both", day=day), path=["workdays", index])
        for index, entry in enumerate(block["workdays"]) for day, _name in entry
        if day in holidays
    ]
    if errors:
        raise vol.MultipleInvalid(errors)
    return block


CALENDAR_SCHEMA = vol.All(cv.Strict({
    vol.Optional("holidays", default=[]): cv.ListOf(_day_item),
    vol.Optional("workdays", default=[]): cv.ListOf(_day_item),
}), _no_conflicts)


@cache
def _official_years() -> frozenset[int]:
    import holidays as pkg

    return frozenset(pkg.country_holidays(COUNTRY).special_public_holidays)


def holidays_version() -> str:
    """The installed holidays package's version."""
    import holidays as pkg

    return str(getattr(pkg, "__version__", "?"))


def newest_official_year() -> int:
    """The last year whose official schedule (holidays and 调休) the package carries."""
    return max(_official_years(), default=0)


class Calendar:
    """Answers what kind of day a date is, and carries the site's time zone."""

    def __init__(self, *, holidays: Mapping[date, str] | None = None,
                 workdays: Iterable[date] = (),
                 time_zone: tzinfo | str = DEFAULT_TIME_ZONE) -> None:
        self.time_zone: tzinfo = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
        self._listed_holidays = dict(holidays or {})
        self._listed_workdays = frozenset(workdays)
        self._listed_years = {day.year for day in self._listed_holidays}
        self._years: dict[int, tuple[dict[date, str], frozenset[date]]] = {}
        self.unknown_years: set[int] = set()
        # told once per year whose schedule is not known, when a date of it is first needed;
        # may be called from any thread (pricing runs in the ledger's database thread)
        self.on_unknown_year: Callable[[int], None] | None = None

    @classmethod
    def from_config(cls, block: Mapping[str, Any] | None,
                    time_zone: tzinfo | str = DEFAULT_TIME_ZONE) -> Calendar:
        """Build from a validated ``calendar:`` block."""
        block = block or CALENDAR_SCHEMA({})
        holidays = {day: name for entry in block["holidays"] for day, name in entry}
        workdays = [day for entry in block["workdays"] for day, _name in entry]
        return cls(holidays=holidays, workdays=workdays, time_zone=time_zone)

    def is_known(self, year: int) -> bool:
        """Whether the official schedule of ``year`` is known (package or YAML)."""
        return year in _official_years() or year in self._listed_years

    def day_type(self, day: date) -> DayType:
        """Workday, weekend or holiday, by the rules in the module docstring."""
        if self.is_makeup_workday(day):
            return DayType.WORKDAY
        if self.holiday_name(day) is not None:
            return DayType.HOLIDAY
        if day.weekday() >= 5:
            return DayType.HOLIDAY if self._joins_holiday(day) else DayType.WEEKEND
        return DayType.WORKDAY

    def holiday_name(self, day: date) -> str | None:
        """The name of a public holiday or listed day off, else None."""
        if day in self._listed_workdays:
            return None
        if day in self._listed_holidays:
            return self._listed_holidays[day] or "holiday"
        return self._official(day.year)[0].get(day)

    def is_makeup_workday(self, day: date) -> bool:
        """Whether a Saturday or Sunday is a make-up working day (调休上班)."""
        if day in self._listed_workdays:
            return True
        if day in self._listed_holidays:
            return False
        return day in self._official(day.year)[1]

    def _joins_holiday(self, day: date) -> bool:
        for step in (timedelta(days=-1), timedelta(days=1)):
            other = day + step
            while not self.is_makeup_workday(other):
                if self.holiday_name(other) is not None:
                    return True
                if other.weekday() < 5:
                    break
                other += step
        return False

    def _official(self, year: int) -> tuple[dict[date, str], frozenset[date]]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        import holidays as pkg

        official = year in _official_years()
        if not official and year not in self._listed_years:
            self.unknown_years.add(year)
            if self.on_unknown_year is not None:
                self.on_unknown_year(year)
            newest = newest_official_year()
            _LOGGER.warning(
                "Public holidays and make-up working days (调休) of %s are not known: the "
                "holidays package %s has China's official schedule up to %s and the calendar: "
                "block of hub.yaml lists nothing in %s. Using the statutory holidays only, "
                "without make-up working days; add the State Council's schedule to calendar: "
                "holidays / workdays", year, holidays_version(), newest, year)
        # Before a year is official, the package's "observed" days are guesses: leave them out.
        country = pkg.country_holidays(COUNTRY, years=year, observed=official)
        days = {day: str(name) for day, name in country.items() if day.year == year}
        workdays = frozenset(day for day in country.weekend_workdays if day.year == year)
        self._years[year] = (days, workdays if official else frozenset())
        return self._years[year]
