"""Accounts: balance, ledger, recharge, refund, adjustment, reversal, holds, trip policy,
emergency credit, move-in and move-out — and the ledger audit.

Money changes call the ``account.*`` services as the caller; each counts once: the
``reference`` (or, when it is missing, the ``Idempotency-Key`` header) is the ledger
entry's idempotency key, so a double-clicked recharge is one entry and the second answer
says ``duplicate: true``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import voluptuous as vol
from aiohttp import web

from ... import validation as cv
from ...i18n import Text
from ...ledger import Ledger, Money, account_entity_id
from ...ledger.accounts import ACCOUNT_SCHEMA, TRIP_POLICY_SCHEMA
from ...util.jsonutil import dumps
from ..routes import caller_sees, principal_of
from .base import (
    DEFAULT_LIMIT,
    PAGE_KEYS,
    ApiError,
    Page,
    hub_of,
    json_ok,
    next_link,
    operation,
    page_query,
    paginate,
    route_defs,
    service_operation,
    validated_query,
)
from .errors import in_callers_words

if TYPE_CHECKING:
    from ...core import Hub

LIST_QUERY = page_query({
    vol.Optional("q", description="search in id, name and tags"):
        vol.All(cv.string, vol.Length(max=100)),
    vol.Optional("below", description="only balances below this amount"): cv.money,
})
LEDGER_QUERY = vol.Schema({
    **PAGE_KEYS,
    vol.Optional("kind"): cv.ListOf(cv.slug, allow_single=True),
})
ACCOUNT_RESPONSE: dict[str, Any] = {"type": "object", "properties": {
    "id": {"type": "string"}, "balance": {"type": "string"}, "attributes": {"type": "object"},
}, "required": ["id", "balance"]}
_ACCOUNT_KEYS: dict[Any, Any] = ACCOUNT_SCHEMA.schema
_MOVE_IN_KEYS: dict[Any, Any] = {vol.Required("move_in"): _ACCOUNT_KEYS[vol.Optional("move_in")]}
for _key in ("name", "contacts", "deposit", "area", "persons"):
    _MOVE_IN_KEYS[vol.Optional(_key)] = _ACCOUNT_KEYS[vol.Optional(_key)]
MOVE_IN_SCHEMA = vol.Schema(_MOVE_IN_KEYS)
"""Moving in: the date (required), and what the new tenant brings."""


def money_side(hub: Hub) -> tuple[Ledger, Money]:
    """The ledger and the money component (404 when storage is off)."""
    if not hub.has_component("ledger"):
        raise ApiError(404, "not_found", Text("web.ledger_off"))
    return hub.component("ledger", Ledger), hub.component("money", Money)


def _account(hub: Hub, account_id: str) -> dict[str, Any]:
    ledger, _money = money_side(hub)
    state = hub.states.get(account_entity_id(account_id))
    return {"id": account_id, "balance": str(ledger.balance(account_id)),
            "attributes": dict(state.attributes) if state else {}}


def account_version(request: web.Request) -> str | None:
    """The ETag of the path's account: changes with its balance, state and settings."""
    hub = hub_of(request)
    account_id = request.match_info["account_id"]
    _ledger, money = money_side(hub)
    account = money.accounts.get(account_id)
    if account is None:
        return None
    state = hub.states.get(account_entity_id(account_id))
    text = dumps([_account(hub, account_id)["balance"], _settings(account),
                  state.last_updated.isoformat() if state else None])
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:20] + '"'


def _known(request: web.Request) -> str:
    account_id = request.match_info["account_id"]
    _ledger, money = money_side(hub_of(request))
    if account_id not in money.accounts:
        raise ApiError(404, "not_found", Text("api.unknown", what=Text("what.account"),
                                              value=account_id), "account_id")
    return account_id


@operation("GET", "/api/accounts", "Accounts with their balances (search, balance below)",
           tag="accounts", query=LIST_QUERY, paged=True, response=ACCOUNT_RESPONSE)
async def list_accounts(request: web.Request) -> web.Response:
    """The accounts the caller sees."""
    query = validated_query(request, LIST_QUERY)
    hub = hub_of(request)
    ledger, money = money_side(hub)
    text = str(query.get("q") or "").strip().lower()
    found = []
    for account_id in sorted(money.accounts):
        if not caller_sees(request, "account_id", account_id):
            continue
        account = money.accounts[account_id]
        if text and text not in " ".join([account_id, account.name or "", *(
                f"{k}={v}" for k, v in account.tags.items())]).lower():
            continue
        if "below" in query and not ledger.balance(account_id) < query["below"]:
            continue
        found.append(_account(hub, account_id))
    return paginate(request, query, found).response()


@operation("GET", "/api/accounts/{account_id}", "One account: balance, state, open bills",
           tag="accounts", response=ACCOUNT_RESPONSE)
async def get_account(request: web.Request) -> web.Response:
    """An account with its open bills and holds."""
    account_id = _known(request)
    hub = hub_of(request)
    body = _account(hub, account_id)
    if hub.has_component("billing"):
        from ...billing.engine import BillingEngine

        engine = hub.component("billing", BillingEngine)
        body["open_bills"] = [bill.as_dict() for bill in engine.open.get(account_id, ())]
    body["holds"] = _holds(hub, account_id)
    _ledger, money = money_side(hub)
    body["settings"] = _settings(money.accounts[account_id])
    return json_ok(body, headers={"ETag": account_version(request) or ""})


def _settings(account: Any) -> dict[str, Any]:
    """What an account is set to (its trip policy, dates, limits)."""
    return {"name": account.name, "billing": account.billing, "deposit": account.deposit,
            "trip_policy": {"mode": str(account.trip_mode), "at": account.trip_at},
            "move_in": account.move_in, "move_out": account.move_out,
            "max_recharge": account.max_recharge, "area": account.area,
            "persons": account.persons, "landlord": account.landlord,
            "tags": dict(account.tags)}


@operation("GET", "/api/accounts/{account_id}/balance", "An account's balance", tag="accounts",
           response={"type": "object", "properties": {"account_id": {"type": "string"},
                                                      "balance": {"type": "string"}},
                     "required": ["account_id", "balance"]})
async def balance(request: web.Request) -> web.Response:
    """The balance (yuan as exact text)."""
    account_id = _known(request)
    ledger, _money = money_side(hub_of(request))
    return json_ok({"account_id": account_id, "balance": str(ledger.balance(account_id))},
                   headers={"ETag": account_version(request) or ""})


@operation("GET", "/api/accounts/{account_id}/ledger", "An account's ledger entries, newest "
           "first (the cursor is the next older entry's position)", tag="accounts",
           query=LEDGER_QUERY, paged=True, response={"type": "object"})
async def ledger_entries(request: web.Request) -> web.Response:
    """Ledger entries, newest first, paged by sequence number."""
    account_id = _known(request)
    query = validated_query(request, LEDGER_QUERY)
    ledger, _money = money_side(hub_of(request))
    limit = int(query.get("limit", DEFAULT_LIMIT))
    before = int(query["cursor"]) if query.get("cursor") else None
    found = await ledger.entries(account_id, limit=limit + 1, before=before,
                                 kinds=query.get("kind") or ())
    more = len(found) > limit
    found = found[:limit]
    link = next_link(request, str(found[-1].seq)) if more and found else None
    entries = in_callers_words(request, [{**entry.as_dict(), "seq": entry.seq}
                                         for entry in found])
    page = Page(entries, None, link,
                {"account_id": account_id, "balance": str(ledger.balance(account_id)),
                 "entries": entries})
    return page.response()


def _holds(hub: Hub, account_id: str) -> list[dict[str, Any]]:
    if not hub.has_component("control"):
        return []
    from ...prepaid.control import Control

    rows = hub.component("control", Control).holds.open_rows(account_id)
    return [{"hold_id": row.hold_id, "kind": row.kind, "reason": row.reason,
             "until": row.until.isoformat() if row.until else None, "operator": row.operator,
             "created": row.created.isoformat()} for row in rows]


@operation("GET", "/api/accounts/{account_id}/holds", "An account's open holds (保电)",
           tag="accounts", response={"type": "object"})
async def holds(request: web.Request) -> web.Response:
    """The open holds."""
    account_id = _known(request)
    return json_ok({"account_id": account_id, "holds": _holds(hub_of(request), account_id)})


@operation("GET", "/api/ledger/audit", "Every balance re-derived from its ledger (a scoped "
           "caller sees its own accounts' result)", tag="accounts", response={"type": "object"})
async def audit(request: web.Request) -> web.Response:
    """The ledger audit, within the caller's scope."""
    hub = hub_of(request)
    ledger, money = money_side(hub)
    report = (await ledger.audit()).as_dict()
    principal = principal_of(request)
    if principal is not None and principal.scoped:
        report["problems"] = [p for p in report["problems"]
                              if caller_sees(request, "account_id", p["account_id"])]
        report["ok"] = not report["problems"]
        report["accounts"] = sum(1 for account_id in money.accounts
                                 if caller_sees(request, "account_id", account_id))
    return json_ok(report)


_ACCOUNT: dict[str, Any] = {"path_keys": ("account_id",), "version": account_version}
"""An account's path id, and its version for If-Match."""
recharge = service_operation("POST", "/api/accounts/{account_id}/recharge", "account.recharge",
                             "Recharge (counted once per reference / Idempotency-Key)",
                             tag="accounts", **_ACCOUNT, idempotent="reference")
refund = service_operation("POST", "/api/accounts/{account_id}/refund", "account.refund",
                           "Pay money back (at most the refundable balance)", tag="accounts",
                           **_ACCOUNT, idempotent="reference")
adjustment = service_operation("POST", "/api/accounts/{account_id}/adjustment",
                               "account.adjust", "A signed correction with its reason",
                               tag="accounts", **_ACCOUNT, idempotent="reference")
reverse = service_operation("POST", "/api/ledger/entries/{entry_id}/reverse", "account.reverse",
                            "Reverse (冲正) an entry once, with a reason", tag="accounts",
                            path_keys=("entry_id",))
emergency = service_operation("POST", "/api/accounts/{account_id}/emergency_credit",
                              "account.emergency_credit",
                              "Give the emergency credit (once per period)", tag="accounts",
                              **_ACCOUNT)
hold = service_operation("POST", "/api/accounts/{account_id}/holds", "account.hold",
                         "Hold (保电): no trip until the hold ends", tag="accounts",
                         **_ACCOUNT)
release = service_operation("POST", "/api/accounts/{account_id}/holds/release",
                            "account.release_hold", "End the account's hold", tag="accounts",
                            **_ACCOUNT)
trip_policy = service_operation("POST", "/api/accounts/{account_id}/trip_policy",
                                "account.update", "Set the trip policy (mode, at, "
                                "protection...)", tag="accounts", **_ACCOUNT,
                                wrap=("changes", "trip_policy"), body=TRIP_POLICY_SCHEMA)
settings = service_operation("POST", "/api/accounts/{account_id}/settings", "account.update",
                             "Change account settings (name, contacts, thresholds...)",
                             tag="accounts", **_ACCOUNT)
move_in = service_operation("POST", "/api/accounts/{account_id}/move_in", "account.update",
                            "Move a tenant in: the date, and name, contacts, deposit...",
                            tag="accounts", **_ACCOUNT, wrap=("changes",), body=MOVE_IN_SCHEMA)
move_out = service_operation("POST", "/api/accounts/{account_id}/move_out", "account.move_out",
                             "Move out in one step: final read, pro-rata, deposit, statement",
                             tag="accounts", **_ACCOUNT)
create = service_operation("POST", "/api/accounts", "account.create",
                           "Create an account (body: {\"account\": {...}})", tag="accounts")


def routes() -> list[web.RouteDef]:
    """The account routes."""
    return route_defs([list_accounts, get_account, balance, ledger_entries, holds, audit,
                       recharge, refund, adjustment, reverse, emergency, hold, release,
                       trip_policy, settings, move_in, move_out, create])
