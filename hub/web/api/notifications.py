"""Notifications: what the outbox sent, is still trying, merged or gave up on — and why.

Every message the hub sends (a built-in notice, an automation's, a ``notify`` call) is a row
of the outbox per receiver (schema v14). ``GET /api/notifications`` lists the rows of the last
days, newest first: to whom (the notifier and a safe label, never a URL or a phone number's
secret), about which account, the message as written, its state, the attempts, and — for
one still retrying or given up — the last error in the caller's words. A scoped caller sees
the messages about its own accounts and meters; the landlord's notices about the whole site
(a DTU offline, a failed backup) are not shown to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import voluptuous as vol
from aiohttp import web

from ... import validation as cv
from ...i18n import Text, restored
from ...storage import OutboxRow, Storage
from ...util.dt import utcnow
from ...util.jsonutil import typed_loads
from ..routes import caller_sees, principal_of
from .base import component, operation, page_query, paginate, route_defs, validated_query
from .errors import in_callers_words

STATES = ("queued", "sent", "failed", "merged")
ROLES = ("admin", "landlord", "operator")
LIST_QUERY = page_query({
    vol.Optional("days", default=7): vol.All(vol.Coerce(int), vol.Range(min=1, max=90)),
    vol.Optional("state"): cv.one_of(*STATES),
    vol.Optional("notifier"): cv.identifier,
    vol.Optional("account_id"): cv.identifier,
})
NOTIFICATION_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "delivery_id": {"type": "string"}, "notifier": {"type": "string"},
    "to": {"type": "string"}, "notice": {"type": ["string", "null"]},
    "account_id": {"type": ["string", "null"]}, "meter_id": {"type": ["string", "null"]},
    "title": {"type": "string"}, "message": {"type": "string"},
    "state": {"type": "string", "enum": list(STATES)}, "attempts": {"type": "integer"},
    "created": {"type": "string"}, "updated": {"type": "string"},
    "next_attempt": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]},
}, "required": ["delivery_id", "notifier", "state", "message", "created"]}
MOST = 2000  # rows looked at, newest first


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def shown(row: OutboxRow) -> dict[str, Any]:
    """One outbox row as a reader sees it (the error still a message: worded by the caller)."""
    try:
        payload = typed_loads(row.payload)
    except ValueError:
        payload = {}
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    meter_id = data.get("meter_id")
    return {
        "delivery_id": row.delivery_id, "notifier": row.notifier, "to": row.label,
        "notice": payload.get("notice"), "account_id": payload.get("account_id"),
        "meter_id": meter_id if isinstance(meter_id, str) else None,
        "title": str(payload.get("title") or ""), "message": str(payload.get("message") or ""),
        "state": row.state, "attempts": row.attempts,
        "created": _time(row.created_ts), "updated": _time(row.updated_ts),
        "next_attempt": _time(row.next_ts) if row.state == "queued" else None,
        "error": restored(row.error),
    }


def _visible(request: web.Request, item: dict[str, Any]) -> bool:
    """A scoped caller sees the messages about its accounts or meters, nothing site-wide."""
    principal = principal_of(request)
    if principal is None or not principal.scoped:
        return True
    if item["account_id"]:
        return caller_sees(request, "account_id", str(item["account_id"]))
    return bool(item["meter_id"]) and caller_sees(request, "meter_id", str(item["meter_id"]))


async def notifications(request: web.Request, days: int, *, state: str | None = None,
                        notifier: str | None = None,
                        account_id: str | None = None) -> list[dict[str, Any]]:
    """The outbox rows of the last ``days`` the caller sees, newest first (errors kept as
    messages, to be worded by whoever shows them)."""
    storage = component(request, "storage", Storage, Text("web.notifications_off"))
    since = int((utcnow() - timedelta(days=days)).timestamp() * 1000)
    rows = await storage.notify_read(lambda store: store.recent(
        since, state=state, notifier=notifier, account_id=account_id, limit=MOST))
    return [item for item in map(shown, rows) if _visible(request, item)]


@operation("GET", "/api/notifications", "Messages sent, retrying, merged or failed (the "
           "last 7 days by default), newest first, with the last error", tag="notifications",
           query=LIST_QUERY, paged=True, roles=ROLES, response=NOTIFICATION_SCHEMA)
async def list_notifications(request: web.Request) -> web.Response:
    """The notifications the caller sees."""
    query = validated_query(request, LIST_QUERY)
    found = await notifications(request, query["days"], state=query.get("state"),
                                notifier=query.get("notifier"),
                                account_id=query.get("account_id"))
    found = [{**item, "created": item["created"].isoformat(),
              "updated": item["updated"].isoformat(),
              "next_attempt": item["next_attempt"].isoformat() if item["next_attempt"]
              else None} for item in found]
    return paginate(request, query, in_callers_words(request, found)).response()


def routes() -> list[web.RouteDef]:
    """The notification routes."""
    return route_defs([list_notifications])

