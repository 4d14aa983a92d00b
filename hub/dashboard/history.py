"""``GET /api/meters/{meter_id}/history``: a meter's consumption per hour, day, month or year.

Read from storage's rollups (``rollup_hour``, ``rollup_day``, ``rollup_month``: one indexed
range per series), so two years by day are 730 rows however many meters the site has; a
year is the sum of its local months. Times are local to the site; values are exact decimals
written as text.

Query: ``resolution`` (hour, day, month, year; default day), ``start`` and ``end`` (an ISO
date or date-time, site-local when it has no offset; default: the last :data:`SPANS` of the
resolution up to now). A bad parameter is a 400 naming it; a range too long for its
resolution (:data:`MAX_SPAN`) too.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import web

from ..billing.analysis.base import UNIT_OF_KIND, register_for
from ..i18n import Text, text_of
from ..util.dt import utcnow
from ..util.jsonutil import dumps
from ..web.api.base import ApiError
from ..web.routes import allow
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .parts import metering_of, storage_of

if TYPE_CHECKING:
    from ..core import Hub
    from ..storage import ConsumptionRow

RESOLUTIONS = ("hour", "day", "month", "year")
SPANS = {"hour": timedelta(hours=48), "day": timedelta(days=62), "month": timedelta(days=731),
         "year": timedelta(days=366 * 6)}
"""The default range of each resolution, back from now."""
MAX_SPAN = {"hour": timedelta(days=400), "day": timedelta(days=3700),
            "month": timedelta(days=36600), "year": timedelta(days=36600)}
"""The longest range a request may ask for at each resolution."""


class HistoryError(ValueError):
    """A bad query parameter: the ``field`` and what is wrong with it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(Text("validation.at", path=field, reason=message))
        self.field = field
        self.message = message


def error_response(status: int, code: str, message: str, field: str | None = None
                   ) -> web.Response:
    """The API's error body ``{"error": {"code", "message", "field"}}``."""
    return web.json_response({"error": {"code": code, "message": message, "field": field}},
                             status=status, dumps=dumps)


def parse_time(value: str, field: str, zone: tzinfo) -> datetime:
    """An ISO date (local midnight) or date-time (local without an offset)."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise HistoryError(field, Text("history.time", value=value)) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def period_start(moment: datetime, resolution: str) -> datetime:
    """The start of the local period that holds ``moment``."""
    if resolution == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if resolution == "day":
        return day
    if resolution == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def query_range(query: Any, resolution: str, zone: tzinfo, now: datetime
                ) -> tuple[datetime, datetime]:
    """``start`` and ``end`` from the query, or the default span back from now."""
    local_now = now.astimezone(zone)
    end = (parse_time(query["end"], "end", zone) if query.get("end")
           else _next_period(period_start(local_now, resolution), resolution))
    start = (parse_time(query["start"], "start", zone) if query.get("start")
             else period_start(end - SPANS[resolution], resolution))
    if start >= end:
        raise HistoryError(field="start", message=Text("history.order", start=start.isoformat(),
                                                       end=end.isoformat()))
    if end - start > MAX_SPAN[resolution]:
        raise HistoryError(field="start", message=Text("history.span", resolution=resolution,
                                                       days=MAX_SPAN[resolution].days))
    return start, end


def _next_period(start: datetime, resolution: str) -> datetime:
    if resolution == "hour":
        return start + timedelta(hours=1)
    if resolution == "day":
        return datetime.combine(start.date() + timedelta(days=1), start.timetz())
    if resolution == "month":
        year, month = divmod(start.month, 12)
        return start.replace(year=start.year + year, month=month + 1)
    return start.replace(year=start.year + 1)


def points_of(rows: list[ConsumptionRow], register: str | None, resolution: str,
              zone: tzinfo) -> list[dict[str, Any]]:
    """The chart's points: one per period with consumption of ``register`` (years summed)."""
    if register is None:
        return []
    if resolution == "year":
        years: dict[int, Decimal] = defaultdict(Decimal)
        for row in rows:
            if register in row.values:
                years[row.start.astimezone(zone).year] += row.values[register]
        out = []
        for year in sorted(years):
            start = datetime(year, 1, 1, tzinfo=zone)
            out.append({"start": start.isoformat(), "ts": int(start.timestamp()),
                        "value": years[year]})
        return out
    return [{"start": row.start.astimezone(zone).isoformat(), "ts": int(row.start.timestamp()),
             "value": row.values[register]} for row in rows if register in row.values]


class HistoryApi:
    """The route and its handler."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.zone = ZoneInfo(hub.config.time_zone)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [web.get("/api/meters/{meter_id}/history", self.history)]

    @allow(scoped=True)  # the guard answers 404 for a meter outside the caller's scope
    async def history(self, request: web.Request) -> web.Response:
        """A meter's consumption per period, for the meter page's chart."""
        meter_id = request.match_info["meter_id"]
        metering = metering_of(self.hub)
        meter = metering.meters.get(meter_id) if metering is not None else None
        if meter is None:
            return error_response(404, "not_found", f"unknown meter {meter_id!r}", "meter_id")
        storage = storage_of(self.hub)
        if storage is None:
            return error_response(503, "unavailable", "the hub has no storage")
        resolution = request.query.get("resolution", "day")
        if resolution not in RESOLUTIONS:
            return error_response(400, "invalid", f"resolution: expected one of "
                                  f"{', '.join(RESOLUTIONS)}, got {resolution!r}", "resolution")
        try:
            start, end = query_range(request.query, resolution, self.zone, utcnow())
        except HistoryError as err:
            raise ApiError(400, "invalid", text_of(err), err.field) from None
        rows = await storage.consumption(
            meter_id, start=start, end=end,
            resolution="month" if resolution == "year" else resolution)
        register = register_for(meter.kind, rows)
        return web.json_response({
            "meter_id": meter_id, "kind": meter.kind, "register": register,
            "unit": UNIT_OF_KIND.get(meter.kind, ""), "resolution": resolution,
            "start": start.isoformat(), "end": end.isoformat(),
            "points": points_of(rows, register, resolution, self.zone),
        }, dumps=dumps)
