"""The holiday calendar: official holidays and 调休 from the holidays package, YAML days."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
import voluptuous as vol

from hub.util.calendar import CALENDAR_SCHEMA, Calendar, DayType, newest_official_year

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
W, E, H = DayType.WORKDAY, DayType.WEEKEND, DayType.HOLIDAY


@pytest.mark.parametrize(("day", "kind"), [
    (date(2026, 1, 1), H),    # New Year's Day (Thursday)
    (date(2026, 1, 2), H),    # day off in exchange for Sunday 4 January
    (date(2026, 1, 3), H),    # Saturday inside the 1–3 January break
    (date(2026, 1, 4), W),    # make-up working Sunday
    (date(2026, 1, 10), E),   # an ordinary Saturday
    (date(2026, 1, 5), W),    # an ordinary Monday
    (date(2026, 2, 14), W),   # make-up working Saturday before the Spring Festival
    (date(2026, 2, 15), H),   # Sunday: the 2026 Spring Festival break runs 15–23 February
    (date(2026, 2, 28), W),   # make-up working Saturday after it
    (date(2025, 9, 28), W),   # make-up working Sunday before National Day 2025
    (date(2025, 10, 4), H),   # Saturday inside the 1–8 October 2025 break
    (date(2025, 10, 11), W),  # make-up working Saturday after it
])
def test_official_days(day: date, kind: DayType) -> None:
    assert Calendar().day_type(day) is kind


def test_yaml_days_for_a_year_the_package_does_not_know(
        caplog: pytest.LogCaptureFixture) -> None:
    block = CALENDAR_SCHEMA({
        "holidays": [date(2027, 1, 1),
                     {"from": "2027-02-05", "to": "2027-02-11", "name": "春节"}],
        "workdays": ["2027-02-20"],
    })
    calendar = Calendar.from_config(block)
    with caplog.at_level(logging.WARNING, logger="hub.util.calendar"):
        assert calendar.is_known(2027)
        assert calendar.day_type(date(2027, 2, 10)) is H
        assert calendar.holiday_name(date(2027, 2, 10)) == "春节"
        assert calendar.day_type(date(2027, 2, 20)) is W  # a Saturday worked
        assert calendar.day_type(date(2027, 2, 27)) is E
    assert not caplog.records


def test_a_year_nobody_knows_warns_once_and_keeps_statutory_days(
        caplog: pytest.LogCaptureFixture) -> None:
    calendar = Calendar()
    with caplog.at_level(logging.WARNING, logger="hub.util.calendar"):
        assert not calendar.is_known(2031)
        assert calendar.day_type(date(2031, 10, 1)) is H  # National Day is statutory
        assert calendar.day_type(date(2031, 10, 2)) is H
        assert calendar.day_type(date(2031, 3, 4)) is W
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "2031 are not known" in warnings[0] and "calendar:" in warnings[0]
    assert calendar.unknown_years == {2031}


def test_an_unknown_year_is_told_once_to_the_hook() -> None:
    calendar = Calendar()
    told: list[int] = []
    calendar.on_unknown_year = told.append
    for day in (date(2031, 10, 1), date(2031, 10, 2), date(2032, 1, 1), date(2026, 2, 14)):
        calendar.day_type(day)
    assert told == [2031, 2032]


def test_the_required_holidays_package_knows_2026() -> None:
    """pyproject requires a holidays release with China's 2026 schedule (0.85): without it
    2026-02-14, a make-up working Saturday, was priced as a holiday."""
    assert Calendar().is_known(2026)
    assert newest_official_year() >= 2026
    requirement = next(line for line in PYPROJECT.read_text("utf-8").splitlines()
                       if line.strip().startswith('"holidays'))
    assert '"holidays>=0.85"' in requirement


def test_yaml_overrides_the_package() -> None:
    # a park that works on New Year's Day 2026 and closes on 6 January
    calendar = Calendar(holidays={date(2026, 1, 6): "park day"}, workdays=[date(2026, 1, 1)])
    assert calendar.day_type(date(2026, 1, 1)) is W
    assert calendar.day_type(date(2026, 1, 6)) is H
    assert calendar.holiday_name(date(2026, 1, 6)) == "park day"


def test_calendar_block_errors() -> None:
    with pytest.raises(vol.Invalid) as err:
        CALENDAR_SCHEMA({"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]})
    assert "also listed under holidays" in str(err.value)
    with pytest.raises(vol.Invalid, match="expected a date like 2025-07-01"):
        CALENDAR_SCHEMA({"holidays": ["1 May"]})
    with pytest.raises(vol.Invalid, match="'to' is before 'from'"):
        CALENDAR_SCHEMA({"holidays": [{"from": "2027-02-05", "to": "2027-02-01"}]})
