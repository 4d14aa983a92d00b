"""Bills per period with their lines, and the trace of each line to the readings that made
it (what each reading added, exact and charged); printable, within the caller's scope."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..i18n import Text
from ..web.pages import PageKit, refused
from ..web.routes import allow, caller_sees, not_found
from .admin_strings import ADMIN_STRINGS

if TYPE_CHECKING:
    from ..billing.engine import BillingEngine
    from ..core import Hub

BILLS_SHOWN = 500


class BillPages:
    """``/bills``, ``/bills/{bill_id}``."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        hub.i18n.add(ADMIN_STRINGS)

    def routes(self) -> list[web.RouteDef]:
        """The routes of this module."""
        return [web.get("/bills", self.bills), web.get("/bills/{bill_id}", self.bill)]

    def _engine(self) -> BillingEngine:
        from ..billing.engine import BillingEngine

        if not self.hub.has_component("billing"):
            raise refused(404, Text("web.billing_off"))
        return self.hub.component("billing", BillingEngine)

    @allow(scoped=True)
    async def bills(self, request: web.Request) -> web.Response:
        """Bills grouped by period, newest first (``?status=issued`` filters)."""
        kit = PageKit.of(request.app)
        statuses = [s for s in request.query.get("status", "").split(",") if s]
        found = [bill for bill in await self._engine().bills(None, statuses, BILLS_SHOWN)
                 if caller_sees(request, "account_id", bill.account_id)]
        periods: dict[str, list[Any]] = defaultdict(list)
        for bill in found:
            periods[f"{bill.period.start.isoformat()} – {bill.period.last_day.isoformat()}"
                    ].append(bill)
        return kit.render(request, "bills.html", periods=dict(periods),
                          wanted=request.query.get("status", ""))

    @allow(scoped=True)
    async def bill(self, request: web.Request) -> web.Response:
        """One bill's lines; ``?line=N`` traces line N to its readings."""
        kit = PageKit.of(request.app)
        engine = self._engine()
        bill = await engine.bill(request.match_info["bill_id"])
        if bill is None or not caller_sees(request, "account_id", bill.account_id):
            return not_found()  # another's bill is answered as an unknown one
        trace: list[dict[str, Any]] | None = None
        line_no: int | None = None
        if request.query.get("line", "").isdigit():
            line_no = int(request.query["line"])
            try:
                trace = await engine.trace(bill.bill_id, line_no)
            except KeyError as err:
                return kit.fail(request, "bill.html", str(err.args[0]), status=404, bill=bill,
                                trace=None, line_no=None)
        return kit.render(request, "bill.html", bill=bill, trace=trace, line_no=line_no)
