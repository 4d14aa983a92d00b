"""Read-only HTTP API of the money side: accounts, ledger, audit, bills, statements.

- ``GET /api/accounts`` — every account with its balance
- ``GET /api/accounts/{id}`` — one account: balance, state attributes, open bills
- ``GET /api/accounts/{id}/ledger?limit=50&before=SEQ`` — entries, newest first
- ``GET /api/ledger/audit`` — every balance re-derived from the ledger
- ``GET /api/bills?account_id=&status=`` — bills, newest first
- ``GET /api/bills/{id}`` — one bill with its lines
- ``GET /api/bills/{id}/statement?format=text|html&lang=en`` — printable statement
- ``GET /api/bills/{id}/lines/{no}/readings`` — the readings behind a bill line (with the
  time-of-use schedule stretches of each, for a band line)

Changes go through the services (``POST /api/services/account/recharge``...).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..ledger import Ledger, Money, account_entity_id

if TYPE_CHECKING:
    from ..core import Hub

_LOGGER = logging.getLogger(__name__)


def routes(hub: Hub) -> list[Any]:
    """The route definitions (empty when the ledger is off)."""
    from ..web.routes import allow, caller_sees, not_found, principal_of
    from ..web.server import json_response
    from .engine import BillingEngine

    if not hub.has_component("ledger"):
        return []
    ledger = hub.component("ledger", Ledger)
    money = hub.component("money", Money)
    engine = hub.component("billing", BillingEngine) if hub.has_component("billing") else None

    def _account(account_id: str) -> dict[str, Any]:
        state = hub.states.get(account_entity_id(account_id))
        return {"id": account_id, "balance": str(ledger.balance(account_id)),
                "attributes": dict(state.attributes) if state else {}}

    # a landlord or operator sees only the accounts and bills in their scope (another's id
    # in the path is answered 404, like an id that does not exist)
    @allow(scoped=True)
    async def accounts(request: web.Request) -> web.Response:
        return json_response([_account(account_id) for account_id in sorted(money.accounts)
                              if caller_sees(request, "account_id", account_id)])

    @allow(scoped=True)
    async def account(request: web.Request) -> web.Response:
        account_id = request.match_info["account_id"]
        if account_id not in money.accounts:
            return json_response({"error": f"unknown account '{account_id}'"}, status=404)
        body = _account(account_id)
        if engine is not None:
            body["open_bills"] = [bill.as_dict() for bill in engine.open.get(account_id, ())]
        return json_response(body)

    @allow(scoped=True)
    async def entries(request: web.Request) -> web.Response:
        account_id = request.match_info["account_id"]
        if account_id not in money.accounts:
            return json_response({"error": f"unknown account '{account_id}'"}, status=404)
        try:
            limit = min(int(request.query.get("limit", "50")), 1000)
            before = int(request.query["before"]) if "before" in request.query else None
        except ValueError:
            return json_response({"error": "limit and before must be whole numbers"},
                                 status=400)
        found = await ledger.entries(account_id, limit=limit, before=before)
        return json_response({"account_id": account_id, "balance": str(ledger.balance(
            account_id)), "entries": [{**entry.as_dict(), "seq": entry.seq}
                                      for entry in found]})

    async def audit(request: web.Request) -> web.Response:
        report = await ledger.audit()
        return json_response(report.as_dict())

    async def hidden(request: web.Request) -> bool:
        """For a caller with a scope: whether the path's bill is unknown or another's (both
        answered "not found" alike)."""
        principal = principal_of(request)
        if principal is None or not principal.scoped:
            return False
        found = await engine.bill(request.match_info["bill_id"]) if engine else None
        return found is None or not caller_sees(request, "account_id", found.account_id)

    @allow(scoped=True)
    async def bills(request: web.Request) -> web.Response:
        if engine is None:
            return json_response([])
        statuses = [s for s in request.query.get("status", "").split(",") if s]
        found = await engine.bills(request.query.get("account_id"), statuses)
        return json_response([bill.as_dict() for bill in found
                              if caller_sees(request, "account_id", bill.account_id)])

    @allow(scoped=True)
    async def bill(request: web.Request) -> web.Response:
        if await hidden(request):
            return not_found()
        found = await engine.bill(request.match_info["bill_id"]) if engine else None
        if found is None:
            return json_response({"error": f"unknown bill '{request.match_info['bill_id']}'"},
                                 status=404)
        return json_response(found.as_dict())

    @allow(scoped=True)
    async def statement(request: web.Request) -> web.Response:
        if await hidden(request):
            return not_found()
        fmt = request.query.get("format", "text")
        if fmt not in ("text", "html"):
            return json_response({"error": "format must be text or html"}, status=400)
        text = (await engine.statement(request.match_info["bill_id"], fmt,
                                       request.query.get("lang")) if engine else None)
        if text is None:
            return json_response({"error": f"unknown bill '{request.match_info['bill_id']}'"},
                                 status=404)
        return web.Response(text=text, content_type="text/html" if fmt == "html"
                            else "text/plain", charset="utf-8")

    @allow(scoped=True)
    async def trace(request: web.Request) -> web.Response:
        if await hidden(request):
            return not_found()
        if engine is None:
            return json_response({"error": "billing is off"}, status=404)
        try:
            found = await engine.trace(request.match_info["bill_id"],
                                       int(request.match_info["no"]))
        except (KeyError, ValueError) as err:
            return json_response({"error": str(err.args[0] if err.args else err)},
                                 status=404)
        return json_response(found)

    return [
        web.get("/api/accounts", accounts),
        web.get("/api/accounts/{account_id}", account),
        web.get("/api/accounts/{account_id}/ledger", entries),
        web.get("/api/ledger/audit", audit),
        web.get("/api/bills", bills),
        web.get("/api/bills/{bill_id}", bill),
        web.get("/api/bills/{bill_id}/statement", statement),
        web.get("/api/bills/{bill_id}/lines/{no}/readings", trace),
    ]
