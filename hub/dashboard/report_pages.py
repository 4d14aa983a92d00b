"""The reports page: consumption trends (环比/同比), daily and monthly income (应收/实收),
energy use per building, loss, arrears and consumption per tag; each as a table with a chart
where one helps, CSV and Excel downloads (the API's own files) and a print-friendly layout."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from ..billing.analysis.api import ReportError, report_table, shown_range
from ..billing.reports import labels, worded
from ..i18n import Text, text_of
from ..web.pages import PageKit, refused
from ..web.routes import allow
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .admin_strings import ADMIN_STRINGS
from .parts import metering_of

if TYPE_CHECKING:
    from ..billing.analysis.service import Analysis
    from ..billing.reports import Table
    from ..core import Hub

REPORTS = ("trend", "receivable", "intensity", "loss", "arrears", "consumption")
PARAMS = ("by", "from", "to", "kind", "tag", "meter", "period", "month")
CHARTS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    # report -> (the x column, the series drawn)
    "trend": ("period", ("quantity", "prior", "year_ago")),
    "receivable": ("month", ("receivable", "received")),
}


class ReportPages:
    """``/reports``."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.i18n.add(ADMIN_STRINGS)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [web.get("/reports", self.report)]

    @allow("admin", "finance")
    async def report(self, request: web.Request) -> web.Response:
        """One report (``?report=trend&by=day...``) as a table, a chart and downloads."""
        kit = PageKit.of(request.app)
        name = request.query.get("report") or "trend"
        if name not in REPORTS:
            raise refused(404, Text("web.unknown_report", name=name, known=", ".join(REPORTS)))
        params = {key: request.query[key] for key in PARAMS if request.query.get(key)}
        if name == "consumption":
            params.setdefault("tag", "building")  # per building unless another tag is asked
        values: dict[str, Any] = {"report": name, "reports": REPORTS, "params": params,
                                  "table": None, "chart": None, "downloads": {},
                                  "tag_options": self._tag_options(params.get("tag")),
                                  "range": shown_range(name, params, kit.now().date())}
        if not self.hub.has_component("analysis"):
            return kit.fail(request, "reports.html", Text("page.reports_storage"), status=409,
                            **values)
        from ..billing.analysis.service import Analysis

        analysis: Analysis = self.hub.component("analysis", Analysis)
        try:
            table = await report_table(analysis, name, params, kit.now().date())
        except ReportError as err:
            return kit.fail(request, "reports.html", text_of(err), **values)
        language = kit.language(request)
        query = urlencode({**params, "lang": language})
        values.update(
            table=_shown(worded(table, language)),
            heads=[labels(language).get(c, c) for c in table.columns],
            chart=_chart(name, table, params),
            downloads={fmt: f"/api/reports/{name}?{query}&format={fmt}"
                       for fmt in ("csv", "xlsx")})
        return kit.render(request, "reports.html", **values)

    def _tag_options(self, asked: str | None) -> dict[str, list[str]]:
        """The meters' tags to choose from: each key (consumption per tag) and each
        ``key=value`` (a trend of some meters), with one asked in the URL kept as a choice."""
        metering = metering_of(self.hub)
        tags = [meter.tags for meter in (metering.meters.values() if metering else ())]
        keys = {key for meter_tags in tags for key in meter_tags}
        pairs = {f"{key}={value}" for meter_tags in tags for key, value in meter_tags.items()}
        if asked:
            (pairs if "=" in asked else keys).add(asked)
        return {"keys": sorted(keys), "pairs": sorted(pairs)}


def _shown(table: Table) -> dict[str, Any]:
    """The table for the template: columns, types and rows in order."""
    return {"title": table.title, "columns": list(table.columns), "types": list(table.types),
            "rows": table.rows}


def _chart(name: str, table: Table, params: Mapping[str, str]) -> dict[str, Any] | None:
    """The series to draw (numbers as text: never a float on the way), or None."""
    if name not in CHARTS:
        return None
    x_column, series = CHARTS[name]
    if name == "receivable" and params.get("by") == "day":
        x_column = "day"
    if x_column not in table.columns:
        return None
    x_index = table.columns.index(x_column)
    kinds = {row[table.columns.index("kind")] for row in table.rows} \
        if "kind" in table.columns else {None}
    kind = sorted(k for k in kinds if k)[0] if any(kinds) else None
    sums: dict[str, dict[str, Decimal]] = {}
    for row in table.rows:
        if kind is not None and row[table.columns.index("kind")] != kind:
            continue
        bucket = sums.setdefault(str(row[x_index]), {})
        for column in series:
            value = row[table.columns.index(column)]
            bucket[column] = bucket.get(column, Decimal(0)) + (value or Decimal(0))
    labels_x = sorted(sums)
    return {"x": labels_x, "kind": kind,
            "series": {column: [str(sums[x].get(column, Decimal(0))) for x in labels_x]
                       for column in series}}
