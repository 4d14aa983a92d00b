"""Reports (consumption, loss, arrears, receivable, share previews), share groups and
collection rates.

A caller with a scope gets the same tables with only the rows it may see: a row about an
account or a meter when that account or meter is in the scope, a row about a tag value
(``building``, ``landlord``...) when the scope has that tag with that value. A row that
names nothing of the kind (a site-wide total) is left out.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import voluptuous as vol
from aiohttp import web

from ... import validation as cv
from ...billing.analysis.api import REPORTS, ReportError, report_table
from ...billing.reports import Table, write_table
from ...i18n import Text, text_of
from ...util.dt import as_local
from ..routes import caller_sees, principal_of
from .base import (
    ApiError,
    component,
    json_ok,
    operation,
    page_query,
    paginate,
    route_defs,
    service_operation,
    unknown,
    validated_query,
)
from .errors import language_of

if TYPE_CHECKING:
    from ...auth import Principal
    from ...billing.analysis.service import Analysis

_MONTH = vol.All(cv.string, vol.Length(min=7, max=7))
_WHEN = vol.All(cv.string, vol.Length(min=4, max=10))  # a year, month or day (report_table)
REPORT_QUERY = vol.Schema({
    vol.Optional("month"): _MONTH,
    vol.Optional("from"): _WHEN,
    vol.Optional("to"): _WHEN,
    vol.Optional("tag"): vol.All(cv.string, vol.Length(max=100)),
    vol.Optional("kind"): cv.string,
    vol.Optional("period"): cv.string,
    vol.Optional("by"): cv.slug,
    vol.Optional("group"): cv.identifier,
    vol.Optional("meter"): cv.identifier,
    vol.Optional("format"): vol.In(("csv", "xlsx")),
})
TABLE_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "name": {"type": "string"}, "title": {"type": "string"},
    "columns": {"type": "array", "items": {"type": "string"}},
    "types": {"type": "array", "items": {"type": "string"}},
    "rows": {"type": "array", "items": {"type": "object"}},
}, "required": ["name", "columns", "rows"]}


async def table_file(table: Table, fmt: str, language: str | None, tz: tzinfo) -> web.Response:
    """A report as a CSV or Excel download (written off the event loop)."""

    def build() -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{table.name}.{fmt}"
            write_table(table, path, fmt, language=language, tz=tz)
            return path.read_bytes()

    body = await asyncio.to_thread(build)
    kind = ("text/csv; charset=utf-8" if fmt == "csv" else
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return web.Response(body=body, headers={
        "Content-Type": kind,
        "Content-Disposition": f'attachment; filename="{table.name}.{fmt}"'})


def analysis_of(request: web.Request) -> Analysis:
    """The analysis component (404 when it is off)."""
    from ...billing.analysis.service import Analysis

    return component(request, "analysis", Analysis, Text("web.reports_off"))


def row_visible(request: web.Request, principal: Principal, row: Mapping[str, Any]) -> bool:
    """Whether a scoped caller may see a report row (see the module docstring)."""
    checked = False
    for key, kind in (("account_id", "account_id"), ("meter_id", "meter_id")):
        if row.get(key) is not None:
            if not caller_sees(request, kind, str(row[key])):
                return False
            checked = True
    if row.get("tag") is not None:
        tag = str(row["tag"])
        if principal.scope.get(tag) != str(row.get("value")):
            return False
        checked = True
    for key, value in principal.scope.items():
        if key in row and row[key] is not None:
            if str(row[key]) != value:
                return False
            checked = True
    return checked


@operation("GET", "/api/reports/{name}", "A report table: consumption (tag=, month or "
           "from/to, kind=), loss (period=, by=), arrears, receivable (from/to, by=day), "
           "share (group=, period=), trend (by=day|month|year, from/to, tag=KEY=VALUE, "
           "meter=, kind=), intensity (period=); format=csv|xlsx downloads it (in the caller's "
           "language)", tag="reports", query=REPORT_QUERY, response=TABLE_SCHEMA)
async def report(request: web.Request) -> web.Response:
    """One report, within the caller's scope."""
    name = request.match_info["name"]
    if name not in REPORTS:
        raise ApiError(404, "not_found", Text("web.unknown_report", name=name,
                                                  known=", ".join(REPORTS)), "name")
    query = validated_query(request, REPORT_QUERY)
    analysis = analysis_of(request)
    try:
        table = await report_table(analysis, name, request.query, analysis.clock().date())
    except ReportError as err:
        raise ApiError(400, "invalid", text_of(err)) from None
    principal = principal_of(request)
    if principal is not None and principal.scoped:
        table = replace(table, rows=[
            row for row in table.rows
            if row_visible(request, principal, dict(zip(table.columns, row, strict=True)))])
    if "format" in query:
        return await table_file(table, query["format"], language_of(request),
                                analysis.storage.tz)
    return json_ok(table.as_dict())


def _group(group: Any) -> dict[str, Any]:
    return {"id": group.id, "name": group.name, "split": group.split,
            "meters": list(group.meters), "members": list(group.members),
            "tags": dict(group.tags), "tariff": group.tariff, "post": group.post,
            "invoices_only": group.invoices_only,
            "amount": None if group.amount is None else str(group.amount)}


def _group_visible(request: web.Request, group: Any) -> bool:
    principal = principal_of(request)
    if principal is None or not principal.scoped:
        return True
    named = [("meter_id", m) for m in group.meters] + [("account_id", a) for a in group.members]
    return bool(named) and all(caller_sees(request, kind, value) for kind, value in named)


@operation("GET", "/api/share_groups", "Share groups (公摊): common meters, members, split",
           tag="reports", query=page_query(), paged=True, response={"type": "object"})
async def share_groups(request: web.Request) -> web.Response:
    """The share groups the caller sees (every meter and member in its scope)."""
    query = validated_query(request, page_query())
    groups = analysis_of(request).groups
    found = [_group(group) for _id, group in sorted(groups.items())
             if _group_visible(request, group)]
    return paginate(request, query, found).response()


@operation("GET", "/api/share_groups/{group_id}", "One share group", tag="reports",
           response={"type": "object"})
async def share_group(request: web.Request) -> web.Response:
    """A share group."""
    group_id = request.match_info["group_id"]
    group = analysis_of(request).groups.get(group_id)
    if group is None or not _group_visible(request, group):
        raise unknown(request, "share_group", "group_id", group_id)
    return json_ok(_group(group))


split = service_operation("POST", "/api/share_groups/split", "share.split",
                          "Split (and with post, post) an invoice's amount", tag="reports")

RATES_QUERY = vol.Schema({vol.Optional("scope"): cv.string})


@operation("GET", "/api/collection_rates", "Reading success (采集成功率) per scope: overall, "
           "link, DTU, building; today, 7 and 30 days", tag="reports", query=RATES_QUERY,
           response={"type": "object"})
async def collection_rates(request: web.Request) -> web.Response:
    """Collection rates; a scoped caller sees its buildings' only."""
    query = validated_query(request, RATES_QUERY)
    from ...util.dt import utcnow
    from .meters import metering

    summary = metering(request).stats.summary(as_local(utcnow()).date())
    principal = principal_of(request)
    if principal is not None and principal.scoped:
        building = principal.scope.get("building")
        summary = {scope: entry for scope, entry in summary.items()
                   if building is not None and scope == f"building_{building}"}
    if "scope" in query:
        summary = {k: v for k, v in summary.items() if k == query["scope"]}
    return json_ok({"rates": summary})


def routes() -> list[web.RouteDef]:
    """The report routes."""
    return route_defs([report, share_groups, share_group, split, collection_rates])
