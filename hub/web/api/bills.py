"""Bills, their statements and the readings behind their lines; the bill run.

A scoped caller sees its own accounts' bills; another's bill id is answered as unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import voluptuous as vol
from aiohttp import web

from ... import validation as cv
from ...i18n import Text
from ..routes import caller_sees
from .base import (
    ApiError,
    hub_of,
    json_ok,
    operation,
    page_query,
    paginate,
    route_defs,
    service_operation,
    unknown,
    validated_query,
)

if TYPE_CHECKING:
    from ...billing.bills import Bill
    from ...billing.engine import BillingEngine

LIST_QUERY = page_query({
    vol.Optional("account_id"): cv.identifier,
    vol.Optional("status"): cv.ListOf(cv.one_of("draft", "issued", "partly_paid", "paid"),
                                      allow_single=True),
})
STATEMENT_QUERY = vol.Schema({
    vol.Optional("format", default="text"): cv.one_of("text", "html"),
    vol.Optional("lang"): cv.one_of("en", "zh-CN"),
})
BILL_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "bill_id": {"type": "string"}, "account_id": {"type": "string"},
    "status": {"type": "string"}, "lines": {"type": "array"},
}, "required": ["bill_id", "account_id"]}


def engine_of(request: web.Request) -> BillingEngine | None:
    """The billing engine (None when billing is off)."""
    hub = hub_of(request)
    if not hub.has_component("billing"):
        return None
    from ...billing.engine import BillingEngine

    return hub.component("billing", BillingEngine)


async def _bill(request: web.Request) -> tuple[BillingEngine, Bill]:
    """The path's bill; 404 when unknown or (for a scoped caller) another's, alike."""
    bill_id = request.match_info["bill_id"]
    engine = engine_of(request)
    found = await engine.bill(bill_id) if engine is not None else None
    if engine is None or found is None or not caller_sees(request, "account_id",
                                                           found.account_id):
        raise unknown(request, "bill", "bill_id", bill_id)
    return engine, found


@operation("GET", "/api/bills", "Bills, newest first (by account, by status)", tag="bills",
           query=LIST_QUERY, paged=True, response=BILL_SCHEMA)
async def list_bills(request: web.Request) -> web.Response:
    """The bills the caller sees."""
    query = validated_query(request, LIST_QUERY)
    engine = engine_of(request)
    found = await engine.bills(query.get("account_id"), query.get("status") or []) \
        if engine is not None else []
    visible = [bill.as_dict() for bill in found
               if caller_sees(request, "account_id", bill.account_id)]
    return paginate(request, query, visible).response()


@operation("GET", "/api/bills/{bill_id}", "One bill with its lines", tag="bills",
           response=BILL_SCHEMA)
async def get_bill(request: web.Request) -> web.Response:
    """A bill."""
    _engine, bill = await _bill(request)
    return json_ok(bill.as_dict())


@operation("GET", "/api/bills/{bill_id}/statement", "A bill's printable statement (text or "
           "HTML, in a language)", tag="bills", query=STATEMENT_QUERY, content_type="text/plain",
           response={"type": "string"})
async def statement(request: web.Request) -> web.Response:
    """The statement."""
    query = validated_query(request, STATEMENT_QUERY)
    engine, bill = await _bill(request)
    text = await engine.statement(bill.bill_id, query["format"], query.get("lang"))
    if text is None:
        raise ApiError(404, "not_found", Text("api.unknown", what=Text("what.bill"),
                                              value=bill.bill_id), "bill_id")
    return web.Response(text=text, charset="utf-8", content_type="text/html"
                        if query["format"] == "html" else "text/plain")


@operation("GET", "/api/bills/{bill_id}/lines/{no}/readings", "The readings behind a bill "
           "line (and the time-of-use stretches of each)", tag="bills",
           response={"type": "object"})
async def trace(request: web.Request) -> web.Response:
    """A line's readings."""
    engine, bill = await _bill(request)
    try:
        number = int(request.match_info["no"])
        found = await engine.trace(bill.bill_id, number)
    except ValueError:
        raise ApiError(400, "invalid", Text("web.line_number"), "no") from None
    except KeyError as err:
        raise ApiError(404, "not_found", str(err.args[0] if err.args else err), "no") from None
    return json_ok(found)


create = service_operation("POST", "/api/bills", "bill.create",
                           "Make (or re-make a draft of) an account's bill", tag="bills")
issue = service_operation("POST", "/api/bills/{bill_id}/issue", "bill.issue",
                          "Issue a draft bill", tag="bills", path_keys=("bill_id",))
run = service_operation("POST", "/api/bills/run", "bill.run",
                        "Run the bill run now (every account due)", tag="bills")


def routes() -> list[web.RouteDef]:
    """The bill routes."""
    return route_defs([list_bills, get_bill, statement, trace, create, issue, run])
