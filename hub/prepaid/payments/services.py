"""The ``payment.*`` services: create_order, order, orders, refund, reconcile, reconciliation.

Names and shapes are a contract the tenant portal and the API rely on (docs/payments.md).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from ... import validation as cv
from ...const import SupportsResponse
from ...i18n import Text
from .book import DOMAIN, order_view, refuse
from .provider import Channel
from .reconcile import reconcile_all, stored_reports

if TYPE_CHECKING:
    from ...core import Hub, ServiceCall
    from .book import PaymentBook

_order_id = vol.All(cv.string, vol.Length(min=1, max=64))
_text = vol.All(cv.string, vol.Length(min=1, max=200))
DATE_MSG = Text("payments.date_form")  # a message: voluptuous fails without one on a function

CREATE_ORDER_SCHEMA = vol.Schema({
    vol.Required("account_id"): cv.identifier,
    vol.Required("amount"): cv.money,
    vol.Required("provider"): cv.slug,
    vol.Required("channel"): cv.one_of(*(c.value for c in Channel)),
    vol.Optional("openid"): vol.All(cv.string, vol.Length(min=1, max=128)),
    vol.Optional("return_url"): vol.All(cv.string, vol.Match(r"^https?://")),
    vol.Optional("payer_ip"): cv.ip_address,
    vol.Optional("reference"): vol.All(cv.string, vol.Length(min=1, max=64)),
    vol.Optional("description"): _text,
})
ORDER_SCHEMA = vol.Schema({vol.Required("order_id"): _order_id})
ORDERS_SCHEMA = vol.Schema({
    vol.Optional("account_id"): cv.identifier,
    vol.Optional("state"): cv.string,
    vol.Optional("limit", default=50): vol.All(int, vol.Range(min=1, max=1000)),
})
REFUND_SCHEMA = vol.Schema({
    vol.Required("order_id"): _order_id,
    vol.Optional("amount"): cv.money,  # none: what is left on the order
    vol.Optional("reason"): _text,
})
RECONCILE_SCHEMA = vol.Schema({
    vol.Optional("day"): vol.All(cv.string, vol.Coerce(date.fromisoformat, msg=DATE_MSG)),
    vol.Optional("provider"): cv.slug,
    vol.Optional("landlord"): cv.string,
})
RECONCILIATION_SCHEMA = vol.Schema({
    vol.Optional("start"): vol.All(cv.string, vol.Coerce(date.fromisoformat, msg=DATE_MSG)),
    vol.Optional("end"): vol.All(cv.string, vol.Coerce(date.fromisoformat, msg=DATE_MSG)),
})


def register_services(hub: Hub, book: PaymentBook) -> None:
    """Register the payment services."""

    async def create_order(call: ServiceCall) -> dict[str, Any]:
        """Open an order for an account; answer its id and what the payer needs."""
        return await book.create_order(call.data, call.context)

    async def order(call: ServiceCall) -> dict[str, Any]:
        """An order's state."""
        return await book.order(call.data["order_id"])

    async def orders(call: ServiceCall) -> dict[str, Any]:
        """Orders, newest last, by account and state."""
        data = call.data
        rows = await book.storage.payments_read(lambda s: s.orders(
            account_id=data.get("account_id"),
            states=(data["state"],) if data.get("state") else (), limit=data["limit"],
            newest_first=True))
        return {"orders": [order_view(row) for row in reversed(rows)]}

    async def refund(call: ServiceCall) -> dict[str, Any]:
        """Pay (part of) an order back through its provider."""
        return await book.refund(call.data, call.context)

    async def reconcile(call: ServiceCall) -> dict[str, Any]:
        """Reconcile a day (default: yesterday) now."""
        data = call.data
        day = data.get("day") or book.yesterday()
        landlord = data.get("landlord")
        reports = await reconcile_all(book, day, data.get("provider"),
                                      None if landlord is None else landlord.strip("_"))
        if not reports:
            raise refuse(
                "reconcile", Text("payments.reconcile_none"))
        return {"reports": reports}

    async def reconciliation(call: ServiceCall) -> dict[str, Any]:
        """The kept reconciliation reports (default: the last 7 days): the dashboard's."""
        today = book.yesterday() + timedelta(days=1)
        end = call.data.get("end") or today
        start = call.data.get("start") or end - timedelta(days=7)
        return {"reports": await stored_reports(book, start, end)}

    register = hub.services.register
    for name, handler, schema in (
            ("create_order", create_order, CREATE_ORDER_SCHEMA), ("order", order, ORDER_SCHEMA),
            ("orders", orders, ORDERS_SCHEMA), ("refund", refund, REFUND_SCHEMA),
            ("reconcile", reconcile, RECONCILE_SCHEMA),
            ("reconciliation", reconciliation, RECONCILIATION_SCHEMA)):
        register(DOMAIN, name, handler, schema, supports_response=SupportsResponse.OPTIONAL)
