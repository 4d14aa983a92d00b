"""The providers' notification routes: ``POST /api/payments/<provider>/<landlord>/notify``.

Anyone may reach them (``self_authenticated``): the provider's signature is the check, made
by the provider plugin before anything is applied. ``_`` stands for the site's own merchant
account. The answer is what the provider's documentation prescribes (WeChat Pay: 200/204, or
4xx/5xx with JSON ``code``/``message``; Alipay: the text ``success``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ...prepaid.payments.book import PaymentBook
from ..routes import HUB_KEY, self_authenticated

if TYPE_CHECKING:
    from ...core import Hub

MAX_BODY = 64 * 1024  # a notification is a few kB


def install(app: web.Application, hub: Hub) -> None:
    """Add the notification route (none without the order book)."""
    if not hub.has_component("payments"):
        return

    @self_authenticated
    async def notify(request: web.Request) -> web.StreamResponse:
        book = request.app[HUB_KEY].component("payments", PaymentBook)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="notification too large")
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.Response(status=413, text="notification too large")
        reply = await book.notification(request.match_info["provider"],
                                        request.match_info["landlord"],
                                        request.headers, body)
        if reply is None:
            return web.Response(status=404, text="no such payment provider here")
        return web.Response(status=reply.status, body=reply.body.encode(),
                            content_type=reply.content_type)

    app.add_routes([web.post("/api/payments/{provider}/{landlord}/notify", notify)])
