"""Reports from query-style parameters: the one function the API and the CLI both use.

- ``GET /api/reports/consumption?tag=building&from=2026-01&to=2026-10&kind=electricity``
- ``GET /api/reports/loss?period=2026-10`` (``&by=building`` sums per tag value)
- ``GET /api/reports/arrears``
- ``GET /api/reports/receivable?from=2026-01&to=2026-10``
- ``GET /api/reports/share?group=stair_a&period=2026-10`` (a preview: nothing is posted)
- ``GET /api/reports/receivable?by=day&from=2026-10-01&to=2026-10-31`` (daily income)
- ``GET /api/reports/trend?by=day|month|year&from=...&to=...`` (``&tag=building=A`` or
  ``&meter=ID``; ``kind=electricity``): consumption with 环比 and 同比
- ``GET /api/reports/intensity?period=2026-10`` (or ``2026``): per building, m², person

Any report: ``&format=csv`` or ``&format=xlsx`` answers the file (headings in ``lang``, else
the site's language) instead of JSON.

Months: ``month=2026-10``, or ``from``/``to`` (both included; ``to`` defaults to last month,
``from`` to ``to``); with neither, last month.
Each answers a table: ``{name, title, columns, types, rows: [{column: value}]}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ...i18n import Text, text_of
from .. import messages as _messages  # noqa: F401  (the tables of the Texts below)
from ..loss import by_tag
from ..reports import Table, loss_table, share_table, tag_loss_table
from ..sharing import ShareError
from .base import Period, PeriodError, months_between, parse_period, periods_between

if TYPE_CHECKING:
    from .service import Analysis

_LOGGER = logging.getLogger(__name__)

REPORTS = ("consumption", "loss", "arrears", "receivable", "share", "trend", "intensity")
MAX_MONTHS = 120
MAX_PERIODS = 800  # days, months or years in one trend


class ReportError(ValueError):
    """A report asked for with bad parameters; the message says which."""


def _months(params: Mapping[str, str], today: date) -> list[Period]:
    try:
        if params.get("month"):
            first = last = parse_period(params["month"])
        else:
            default = Period.month_of(today).previous()
            until = parse_period(params["to"]) if params.get("to") else None
            first = parse_period(params["from"]) if params.get("from") else (until or default)
            last = until or max(default, first)
    except PeriodError as err:
        raise ReportError(text_of(err)) from None
    months = months_between(first, last)
    if not months:
        raise ReportError(Text("billing.report_order", first=first.label, last=last.label))
    if len(months) > MAX_MONTHS:
        raise ReportError(Text("billing.report_months", limit=MAX_MONTHS))
    return months


def _periods(params: Mapping[str, str], today: date) -> list[Period]:
    """``by=day|month|year`` with ``from``/``to`` (2026-10-01, 2026-10 or 2026): periods."""
    by = params.get("by") or "month"
    if by not in ("day", "month", "year"):
        raise ReportError(Text("billing.report_by", value=repr(by)))
    default = {"day": today - timedelta(days=30), "month": date(today.year, 1, 1),
               "year": date(today.year - 4, 1, 1)}[by]
    first = _day(params.get("from"), default)
    last = _day(params.get("to"), today)
    if last < first:
        raise ReportError(Text("billing.report_order", first=first, last=last))
    periods = periods_between(first, last, by)
    if len(periods) > MAX_PERIODS:
        raise ReportError(Text("billing.report_periods", limit=MAX_PERIODS))
    return periods


def _day(text: str | None, default: date) -> date:
    """A day from 2026-10-01, 2026-10 (its first day) or 2026 (1 January)."""
    if not text:
        return default
    value = text.strip()
    try:
        if len(value) == 4 and value.isdigit():
            return date(int(value), 1, 1)
        if len(value) == 7:
            return date.fromisoformat(f"{value}-01")
        return date.fromisoformat(value)
    except ValueError:
        raise ReportError(Text("billing.report_period", value=repr(text))) from None


def _kinds(params: Mapping[str, str]) -> list[str]:
    kinds = [k for k in (params.get("kind") or "electricity,water").split(",") if k]
    unknown = [k for k in kinds if k not in ("electricity", "water")]
    if unknown:
        raise ReportError(Text("billing.report_kind", value=repr(unknown[0])))
    return kinds


def _tag_filter(params: Mapping[str, str]) -> dict[str, str] | None:
    if not params.get("tag"):
        return None
    key, sep, value = params["tag"].partition("=")
    if not sep or not key or not value:
        raise ReportError(Text("billing.report_tag", value=repr(params["tag"])))
    return {key: value}


def shown_range(name: str, params: Mapping[str, str], today: date) -> tuple[str, str] | None:
    """The first and last period a report covers with these parameters (what its form's
    empty "from" and "to" stand for), or None when it has no range or they are wrong."""
    try:
        if name == "consumption" or (name == "receivable" and params.get("by") != "day"):
            periods = _months(params, today)
        elif name in ("trend", "receivable"):
            periods = _periods(params, today)
        else:
            return None
    except ReportError:
        return None
    return periods[0].label, periods[-1].label


async def report_table(analysis: Analysis, name: str, params: Mapping[str, str],
                       today: date) -> Table:
    """Build one report from query-style parameters; ReportError for bad ones."""
    try:
        if name == "consumption":
            tag = params.get("tag")
            if not tag:
                raise ReportError(Text("billing.report_tag_needed"))
            kinds = [k for k in (params.get("kind") or "electricity,water").split(",") if k]
            unknown = [k for k in kinds if k not in ("electricity", "water")]
            if unknown:
                raise ReportError(Text("billing.report_kind", value=repr(unknown[0])))
            return await analysis.consumption_report(tag, _months(params, today), kinds)
        if name == "loss":
            period = (parse_period(params["period"]) if params.get("period")
                      else Period.day(today - timedelta(days=1)))
            rows = await analysis.loss_rows(period)
            if params.get("by"):
                return tag_loss_table(by_tag(rows, params["by"]))
            return loss_table(rows)
        if name == "arrears":
            return await analysis.arrears_report()
        if name == "receivable":
            if params.get("by") == "day":
                return await analysis.receivable_report(_periods(params, today))
            return await analysis.receivable_report(_months(params, today))
        if name == "trend":
            return await analysis.trend_report(_periods(params, today), kinds=_kinds(params),
                                               tags=_tag_filter(params),
                                               meter_id=params.get("meter") or None)
        if name == "intensity":
            text = params.get("period") or str(today.year)
            period = (Period.year(int(text)) if len(text) == 4 and text.isdigit()
                      else parse_period(text))
            return await analysis.intensity_report(period, _kinds(params))
        if name == "share":
            if not params.get("group"):
                raise ReportError(Text("billing.report_group_needed"))
            period = (parse_period(params["period"]) if params.get("period")
                      else Period.month_of(today).previous())
            return share_table(await analysis.share_preview(params["group"], period))
    except (PeriodError, ShareError) as err:
        raise ReportError(text_of(err)) from None
    except KeyError as err:
        raise ReportError(str(err.args[0] if err.args else err)) from None
    raise ReportError(Text("billing.report_unknown", name=repr(name), known=", ".join(REPORTS)))

