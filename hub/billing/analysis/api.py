"""Reports from query-style parameters: the one function the API and the CLI both use.

- ``GET /api/reports/consumption?tag=building&from=2026-01&to=2026-10&kind=electricity``
- ``GET /api/reports/loss?period=2026-10`` (``&by=building`` sums per tag value)
- ``GET /api/reports/arrears``
- ``GET /api/reports/receivable?from=2026-01&to=2026-10``
- ``GET /api/reports/share?group=stair_a&period=2026-10`` (a preview: nothing is posted)

Months: ``month=2026-10``, or ``from``/``to`` (both included; ``to`` defaults to last month,
``from`` to ``to``); with neither, last month.
Each answers a table: ``{name, title, columns, types, rows: [{column: value}]}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ..loss import by_tag
from ..reports import Table, loss_table, share_table, tag_loss_table
from ..sharing import ShareError
from .base import Period, PeriodError, months_between, parse_period

if TYPE_CHECKING:
    from .service import Analysis

_LOGGER = logging.getLogger(__name__)

REPORTS = ("consumption", "loss", "arrears", "receivable", "share")
MAX_MONTHS = 120


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
        raise ReportError(str(err)) from None
    months = months_between(first, last)
    if not months:
        raise ReportError(f"'from' ({first.label}) is after 'to' ({last.label})")
    if len(months) > MAX_MONTHS:
        raise ReportError(f"at most {MAX_MONTHS} months at once")
    return months


async def report_table(analysis: Analysis, name: str, params: Mapping[str, str],
                       today: date) -> Table:
    """Build one report from query-style parameters; ReportError for bad ones."""
    try:
        if name == "consumption":
            tag = params.get("tag")
            if not tag:
                raise ReportError("give the tag to group by, e.g. tag=building")
            kinds = [k for k in (params.get("kind") or "electricity,water").split(",") if k]
            unknown = [k for k in kinds if k not in ("electricity", "water")]
            if unknown:
                raise ReportError(f"kind must be electricity or water, got {unknown[0]!r}")
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
            return await analysis.receivable_report(_months(params, today))
        if name == "share":
            if not params.get("group"):
                raise ReportError("give the share group: group=ID")
            period = (parse_period(params["period"]) if params.get("period")
                      else Period.month_of(today).previous())
            return share_table(await analysis.share_preview(params["group"], period))
    except (PeriodError, ShareError) as err:
        raise ReportError(str(err)) from None
    except KeyError as err:
        raise ReportError(str(err.args[0] if err.args else err)) from None
    raise ReportError(f"unknown report {name!r} (reports: {', '.join(REPORTS)})")
