"""TOU day schedules and yearly zones: their YAML and which schedule a day uses.

A day schedule lists segments by start time, in time order, the first at 00:00; each runs
until the next one starts (the last until 24:00). An optional ``end`` must meet the next
start exactly. So a gap is a day not starting at 00:00 or an ``end`` before the next start;
an overlap is a start not after the previous one, or an ``end`` past the next start.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Text
from hub.util.calendar import DayType

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .const import MAX_SCHEDULES, MAX_SEGMENTS, MAX_ZONES
from .validators import DAY_SECONDS, clock, clock_end, month_day, show_clock

_LOGGER = logging.getLogger(__name__)

SEGMENT = cv.Strict({
    vol.Required("start"): clock,
    vol.Optional("end"): clock_end,
    vol.Required("band"): cv.slug,
})

ZONE = cv.Strict({
    vol.Required("start"): month_day,
    vol.Required("schedule"): cv.slug,
    vol.Optional("weekend"): cv.slug,
    vol.Optional("holiday"): cv.slug,
})


def _end_of(segment: Mapping[str, Any], last: bool) -> int | None:
    end: int | None = segment.get("end")
    return DAY_SECONDS if last and end == 0 else end


def day_schedule(value: Any) -> list[dict[str, Any]]:
    """One day schedule: up to 14 segments covering 00:00–24:00 without gaps or overlaps."""
    segments: list[dict[str, Any]] = cv.ListOf(SEGMENT)(value)
    if not segments:
        raise vol.Invalid(Text("tariffs.no_segments"))
    errors: list[vol.Invalid] = []
    if len(segments) > MAX_SEGMENTS:
        errors.append(vol.Invalid(Text("tariffs.segments_max", limit=MAX_SEGMENTS,
                                       count=len(segments))))
    first = show_clock(segments[0]["start"])
    if first != "00:00":
        errors.append(vol.Invalid(Text("tariffs.first_gap", first=first), path=[0, "start"]))
    for index, segment in enumerate(segments):
        start = show_clock(segment["start"])
        last = index == len(segments) - 1
        following = DAY_SECONDS if last else segments[index + 1]["start"]
        end = _end_of(segment, last)
        if index and segment["start"] <= segments[index - 1]["start"]:
            before = show_clock(segments[index - 1]["start"])
            errors.append(vol.Invalid(
                Text("tariffs.same_start", start=start) if start == before else
                Text("tariffs.start_before", before=before, start=start), path=[index, "start"]))
            continue
        if end is None or following <= segment["start"]:
            continue  # no end, or the next start is out of order (reported there)
        shown, next_start = show_clock(end), show_clock(following).replace("24:00:00", "24:00")
        if end <= segment["start"]:
            message = f"the end must be after the segment's start {start}, got {shown}"
        elif end < following:
            message = (f"gap: {shown}–{next_start} is not covered (the next segment starts at "
                       f"{next_start}), got {shown}" if not last else
                       f"gap: {shown}–24:00 is not covered (end the last segment at '24:00' or "
                       f"leave end out), got {shown}")
        elif end > following:
            message = (f"overlap: ends after the next segment's start {next_start}, "
                       f"got {shown}")
        else:
            continue
        errors.append(vol.Invalid(message, path=[index, "end"]))
    if errors:
        raise vol.MultipleInvalid(errors)
    return segments


def schedules(value: Any) -> dict[str, list[dict[str, Any]]]:
    """Day schedules by name, at most 8."""
    if not isinstance(value, Mapping):
        raise vol.Invalid(Text("tariffs.schedules_map", value=cv.show_value(value)))
    result: dict[str, list[dict[str, Any]]] = vol.Schema({cv.slug: day_schedule})(value)
    if len(result) > MAX_SCHEDULES:
        raise vol.Invalid(Text("tariffs.schedules_max", limit=MAX_SCHEDULES, count=len(result)))
    return result


def zones(value: Any) -> list[dict[str, Any]]:
    """Yearly zones: from which month-day which schedule applies, at most 14, in order."""
    items: list[dict[str, Any]] = cv.ListOf(ZONE)(value)
    if not items:
        raise vol.Invalid(Text("tariffs.no_zones"))
    if len(items) > MAX_ZONES:
        raise vol.Invalid(Text("tariffs.zones_max", limit=MAX_ZONES, count=len(items)))
    errors = [
        vol.Invalid(Text("tariffs.zone_order", previous=_md(items[i - 1]["start"]),
                         start=_md(items[i]["start"])), path=[i, "start"])
        for i in range(1, len(items)) if items[i]["start"] <= items[i - 1]["start"]
    ]
    if errors:
        raise vol.MultipleInvalid(errors)
    return items


def _md(month_day: tuple[int, int]) -> str:
    return f"{month_day[0]:02d}-{month_day[1]:02d}"


def check_references(version: Mapping[str, Any]) -> list[vol.Invalid]:
    """Bands have prices; zones and weekend / holiday schedules name existing schedules."""
    errors: list[vol.Invalid] = []
    prices = version["prices"]
    named: Mapping[str, Any] = version.get("schedules") or {}
    for name, segments in named.items():
        errors.extend(
            vol.Invalid(Text("tariffs.band_price", prices=", ".join(sorted(prices)),
                             band=segment["band"]), path=["schedules", name, i, "band"])
            for i, segment in enumerate(segments) if segment["band"] not in prices)

    def refer(path: list[Any], name: str) -> None:
        if name not in named:
            known = ", ".join(sorted(named)) or Text("tariffs.none_defined")
            errors.append(vol.Invalid(Text("tariffs.unknown_schedule", known=known, name=name),
                                      path=path))

    for index, zone in enumerate(version.get("zones") or []):
        for key in ("schedule", "weekend", "holiday"):
            if key in zone:
                refer(["zones", index, key], zone[key])
    for key in ("weekend_schedule", "holiday_schedule"):
        if key in version:
            refer([key], version[key])
    if named and "zones" not in version and len(_workday_schedules(version)) != 1:
        errors.append(vol.Invalid(
            Text("tariffs.zones_needed"), path=["zones"]))
    return errors


def _workday_schedules(version: Mapping[str, Any]) -> list[str]:
    special = {version.get("weekend_schedule"), version.get("holiday_schedule")}
    return [name for name in version.get("schedules") or {} if name not in special]


@dataclass(frozen=True)
class Zone:
    """From ``start`` (month, day) on: the workday schedule and optional overrides."""

    start: tuple[int, int]
    schedule: str
    weekend: str | None = None
    holiday: str | None = None


@dataclass(frozen=True)
class DayPlans:
    """Compiled schedules and zones of one version."""

    segments: Mapping[str, tuple[tuple[int, str], ...]]  # merged (seconds, band) runs
    zones: tuple[Zone, ...]
    weekend: str | None
    holiday: str | None

    @classmethod
    def from_config(cls, version: Mapping[str, Any]) -> DayPlans:
        """Compile a validated version (adjacent segments of one band merged)."""
        merged: dict[str, tuple[tuple[int, str], ...]] = {}
        for name, segments in (version.get("schedules") or {}).items():
            runs: list[tuple[int, str]] = []
            for segment in segments:
                if not runs or runs[-1][1] != segment["band"]:
                    runs.append((segment["start"], segment["band"]))
            merged[name] = tuple(runs)
        raw_zones = version.get("zones")
        if raw_zones is None:
            raw_zones = [{"start": (1, 1), "schedule": name}
                         for name in _workday_schedules(version)[:1]]
        return cls(merged, tuple(Zone(z["start"], z["schedule"], z.get("weekend"),
                                      z.get("holiday")) for z in raw_zones),
                   version.get("weekend_schedule"), version.get("holiday_schedule"))

    def schedule_for(self, day: date, day_type: DayType) -> str:
        """The schedule of a day: its zone's, or the weekend / holiday one."""
        index = bisect.bisect_right([zone.start for zone in self.zones],
                                    (day.month, day.day)) - 1
        zone = self.zones[index]  # before the first zone: the last one (zones wrap around)
        if day_type is DayType.HOLIDAY:
            return (zone.holiday or self.holiday or zone.weekend or self.weekend
                    or zone.schedule)
        if day_type is DayType.WEEKEND:
            return zone.weekend or self.weekend or zone.schedule
        return zone.schedule
