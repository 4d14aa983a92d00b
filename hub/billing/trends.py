"""Trend reports: consumption by day, month or year with 环比 and 同比, and energy use per
building, per square metre and per person (the seed's building energy assessment).

Both are :class:`~.reports.Table`s, so the API answers them as JSON and the CLI and the
dashboard export them as CSV or Excel like every other report.

- **Consumption trend**: for each period (a local day, calendar month or calendar year) and
  kind, the usage of the site, a tag filter (``building: A``) or one meter; ``prior`` is
  the period just before (环比, month-on-month for months), ``year_ago`` the same period a
  year earlier (同比); percentages as every report's: ``(value − base) ÷ base × 100`` half-up
  to 0.1, none when the base is 0. For years both bases are the previous year.
- **Building intensity**: for each building (the ``buildings:`` block, plus every value of
  the ``building`` tag), kind and period: its usage, area (m²) and persons, usage per m² and
  per person (half-up to 0.001). A building's usage is that of its top-level meters (those
  with no parent), so a main meter and its sub-meters are not counted twice. Its area and
  persons are its own (``buildings:``), else the sum of its accounts' ``area``/``persons``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from .. import validation as cv
from .analysis.base import (
    KIND_REGISTERS,
    UNIT_OF_KIND,
    ZERO,
    Catalog,
    Period,
    quantity_of,
    resolution_of,
)
from .reports import Table, change_percent

if TYPE_CHECKING:
    from ..ledger.accounts import Account
    from ..storage import Storage

PER_PLACES = Decimal("0.001")

BUILDING_SCHEMA = cv.Strict({
    vol.Required("id"): cv.string,  # the value of the meters' and accounts' ``building`` tag
    vol.Optional("name"): cv.string,
    vol.Optional("area"): cv.non_negative_decimal,  # m² of floor space
    vol.Optional("persons"): cv.non_negative_int,  # people living or working there
    vol.Optional("floors"): cv.positive_int,
    vol.Optional("address"): cv.string,
})
BUILDINGS_SCHEMA = cv.ListOf(BUILDING_SCHEMA, unique="id")


def period_containing(day: date, resolution: str) -> Period:
    """The day, month or year that holds ``day``."""
    if resolution == "day":
        return Period.day(day)
    if resolution == "month":
        return Period.month_of(day)
    return Period.year(day.year)


async def consumption_trend(storage: Storage, periods: Sequence[Period], *,
                            kinds: Sequence[str] = ("electricity", "water"),
                            tags: Mapping[str, str] | None = None,
                            meter_id: str | None = None,
                            site_meters: Sequence[str] = ()) -> Table:
    """Usage per period and kind with 环比 (vs the period before) and 同比 (vs a year
    earlier), of a tag filter, one meter, or (neither given) the sum of ``site_meters``
    (the site's top-level meters)."""
    columns = ("period", "kind", "unit", "quantity", "prior", "mom_percent", "year_ago",
               "yoy_percent")
    types = ("text", "text", "text", "quantity", "quantity", "percent", "quantity", "percent")
    what = meter_id or ", ".join(f"{k}={v}" for k, v in (tags or {}).items()) or "site"
    if not periods:
        return Table("trend", columns, types, [], f"consumption of {what}")
    resolution = periods[0].resolution
    first = min(periods[0].year_before().start, periods[0].previous().start)
    start = Period.day(first).bounds(storage.tz)[0]
    end = periods[-1].bounds(storage.tz)[1]
    rollup = "day" if resolution == "day" else "month"
    if meter_id is not None or tags:
        found = await storage.consumption(meter_id, tags=tags if meter_id is None else None,
                                          start=start, end=end, resolution=rollup)
    else:
        found = []
        for each in site_meters:
            found.extend(await storage.consumption(each, start=start, end=end,
                                                   resolution=rollup))
    sums: dict[tuple[date, str], Decimal] = {}
    for row in found:
        bucket = period_containing(row.start.astimezone(storage.tz).date(), resolution).start
        for register, value in row.values.items():
            sums[(bucket, register)] = sums.get((bucket, register), ZERO) + value
    present = {register for _bucket, register in sums}
    rows: list[tuple[Any, ...]] = []
    for kind in kinds:
        registers = [name for name in KIND_REGISTERS.get(kind, ()) if name in present]
        if not registers:
            continue
        register = registers[0]
        for period in periods:
            current = sums.get((period.start, register), ZERO)
            before = sums.get((period.previous().start, register), ZERO)
            last_year = sums.get((period.year_before().start, register), ZERO)
            rows.append((period.label, kind, UNIT_OF_KIND[kind], current, before,
                         change_percent(current, before), last_year,
                         change_percent(current, last_year)))
    return Table("trend", columns, types, rows, f"consumption of {what}")


def _per(quantity: Decimal, base: Decimal | None) -> Decimal | None:
    if not base:
        return None
    return (quantity / base).quantize(PER_PLACES, ROUND_HALF_UP)


async def building_intensity(storage: Storage, catalog: Catalog,
                             accounts: Mapping[str, Account],
                             buildings: Sequence[Mapping[str, Any]], period: Period, *,
                             kinds: Sequence[str] = ("electricity", "water")) -> Table:
    """Per building and kind: usage over ``period``, per m² and per person."""
    declared = {str(entry["id"]): entry for entry in buildings}
    tagged = {meter.tags["building"] for meter in catalog.meters.values()
              if meter.tags.get("building")}
    start, end = period.bounds(storage.tz)
    rows: list[tuple[Any, ...]] = []
    for building in sorted(set(declared) | tagged):
        entry = declared.get(building, {})
        members = [a for a in accounts.values()
                   if catalog.building_of(a.id, a.tags) == building]
        area = entry.get("area")
        if area is None and any(a.area is not None for a in members):
            area = sum((a.area or ZERO for a in members), ZERO)
        persons = entry.get("persons")
        if persons is None and any(a.persons is not None for a in members):
            persons = sum(a.persons or 0 for a in members)
        meters = [m for m in catalog.meters.values() if m.tags.get("building") == building]
        top = [m for m in meters if m.parent is None]
        if len(top) == len(meters):  # no sub-meters: the tag's own rollup is the sum
            found = await storage.consumption(tags={"building": building}, start=start,
                                              end=end, resolution=resolution_of(period))
        else:
            found = []
            for meter in top:
                found.extend(await storage.consumption(meter.id, start=start, end=end,
                                                       resolution=resolution_of(period)))
        for kind in kinds:
            if not any(m.kind == kind for m in top):
                continue
            quantity = quantity_of(kind, found)
            rows.append((building, str(entry.get("name") or building), period.label, kind,
                         UNIT_OF_KIND[kind], quantity, area, persons,
                         _per(quantity, area), _per(quantity, Decimal(persons)
                                                    if persons is not None else None)))
    return Table("intensity", ("building", "name", "period", "kind", "unit", "quantity",
                               "area", "persons", "per_m2", "per_person"),
                 ("text", "text", "text", "text", "text", "quantity", "quantity", "int",
                  "quantity", "quantity"), rows, f"energy use per building {period.label}")
