"""The tenant portal's pages under ``/tenant/{token}``: one account, no login, phone-first.

Every handler first resolves the token (:meth:`Portal.open`): an unknown token gets a 404
page, a revoked one a 410 page saying so; otherwise the account of the link is the only one
the request can reach — a bill or order id of another account is answered 404, like an id
that does not exist. Reads only, except taking emergency credit and paying. Pages carry
``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store``: the token is in the URL.

A payment provider's page (Alipay's WAP cashier) and WeChat's sign-in send the tenant back to
``/tenant/back``, never to a URL with the token in it (the provider would keep it in its
records): the token goes in a cookie on the tenant's own browser for the round trip
(:meth:`Portal.keep_token`), and ``/tenant/back`` opens that browser's page again.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from ..config import LANGUAGES
from ..core import Context, Event
from ..exceptions import HubError, ServiceNotFound, ServiceValidationError
from ..ledger import Account, Ledger, account_entity_id
from ..metering.points import RELAY_OPEN, VALVE_CLOSED, unit_text
from ..metering.service import MeteringService
from ..storage import Storage, from_ms
from ..util.dt import as_local, utcnow
from ..web.routes import tenant_link
from .links import LIVE, REVOKED, Resolved, TenantLinks
from .paying import (
    ORDER_SERVICE,
    PAY_SERVICE,
    Payer,
    choose_channel,
    jsapi_problem,
    offer,
    provider_channels,
    tenant_order,
)
from .sheet import qr_svg
from .usage import chart_svg, usage

if TYPE_CHECKING:
    from jinja2 import Environment

    from ..core import Hub
    from ..metering.service import Meter

_LOGGER = logging.getLogger(__name__)

LANG_COOKIE = "mh_lang"
BACK_COOKIE = "mh_back"
BACK_PATH = "/tenant/back"
BACK_SECONDS = 2 * 3600  # a payment page is long done by then (an order expires sooner)
MAX_BODY = 4096
NOTICE_EVENTS = ("balance_low", "balance_exhausted", "balance_restored", "trip_warning",
                 "command_confirmed", "bill_issued", "payment_received")
NOTICE_DAYS = 60
NOTICES_SHOWN = 50
EVENTS_PAGE = 2000  # recorded events read at a time for the notices page ...
EVENTS_PAGES = 500  # ... in at most this many pages
HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
           "X-Robots-Tag": "noindex, nofollow"}


def money(value: Decimal | int | str) -> str:
    """¥12.30 (negative: -¥12.30)."""
    amount = Decimal(value).quantize(Decimal("0.01"))
    return f"-¥{-amount}" if amount < 0 else f"¥{amount}"


def is_wechat(request: web.Request) -> bool:
    """Whether the page is open in WeChat's own browser."""
    return "micromessenger" in request.headers.get("User-Agent", "").lower()


def is_phone(request: web.Request) -> bool:
    """Whether the page is open in a phone's browser (its user agent says so)."""
    agent = request.headers.get("User-Agent", "")
    return any(word in agent for word in ("Mobile", "Android", "iPhone"))


@dataclass
class Page:
    """What every portal page knows: the link's account, the language, the base path."""

    account: Account
    language: str
    base: str  # /tenant/{token}
    link_id: str

    @property
    def token(self) -> str:
        """The link's token (the last part of ``base``)."""
        return self.base.rsplit("/", 1)[1]


class Portal:
    """Serves the tenant pages; ``config`` is the validated ``portal:`` block."""

    def __init__(self, hub: Hub, links: TenantLinks, config: Mapping[str, Any],
                 templates: Environment) -> None:
        self.hub = hub
        self.links = links
        self.config = config
        self.templates = templates

    # --- the link, the language, rendering -----------------------------------------------

    def language(self, request: web.Request) -> str:
        """``?lang=``, else the cookie, else ``portal.language``, else the browser's, else
        the site's."""
        for wanted in (request.query.get("lang"), request.cookies.get(LANG_COOKIE),
                       self.config.get("language")):
            if wanted in LANGUAGES:
                return str(wanted)
        accept = request.headers.get("Accept-Language", "").lower()
        for part in accept.split(","):
            tag = part.split(";")[0].strip()
            if tag.startswith("zh"):
                return "zh-CN"
            if tag.startswith("en"):
                return "en"
        return self.hub.config.language

    def t(self, language: str) -> Any:
        """The i18n lookup bound to a language."""
        return lambda key, **values: self.hub.i18n(key, language, **values)

    def render(self, request: web.Request, name: str, status: int = 200,
               **values: Any) -> web.Response:
        """A page of ``tenant/`` in the request's language, with the portal's headers."""
        language = values.pop("language", None) or self.language(request)
        html = self.templates.get_template(f"tenant/{name}").render(
            t=self.t(language), language=language, languages=LANGUAGES, money=money,
            site=self.hub.config.site_name, path=request.path, **values)
        response = web.Response(text=html, content_type="text/html", status=status,
                                headers=HEADERS)
        if request.query.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, request.query["lang"], path="/tenant",
                                max_age=365 * 86400, httponly=True, samesite="Lax")
        return response

    async def open(self, request: web.Request, *, change: bool = False,
                   token: str | None = None) -> Page | web.Response:
        """The page of the request's token (or ``token``), or the answer for a revoked or
        unknown one (and, for a ``change``, for one made by another site's page: 403)."""
        if change:
            refused = self.refuse_foreign(request)
            if refused is not None:
                return refused
        if token is None:
            token = request.match_info["token"]
        resolved: Resolved = await self.links.resolve(token)
        if resolved.status == REVOKED:
            return self.render(request, "closed.html", status=410, reason="revoked")
        if resolved.status != LIVE or resolved.account is None or resolved.link is None:
            return self.render(request, "closed.html", status=404, reason="unknown")
        return Page(resolved.account, self.language(request), f"/tenant/{token}",
                    resolved.link.link_id)

    def back_url(self, request: web.Request, path: str = "") -> str:
        """Where a provider sends this browser back: ``/tenant/back{path}``, no token in it
        (see :meth:`keep_token`)."""
        from .wechat import public_base

        return f"{public_base(self, request)}{BACK_PATH}{path}"

    def client_address(self, request: web.Request) -> str | None:
        """The tenant's address (behind a trusted proxy: the one it names)."""
        from ..web.server import WebServer

        return self.hub.component("web", WebServer).guard.client_address(request)

    def keep_token(self, request: web.Request, response: web.StreamResponse, page: Page,
                   seconds: int) -> None:
        """Keep the page's token in a cookie on this browser only, for ``/tenant/back``."""
        response.set_cookie(BACK_COOKIE, page.token, path=BACK_PATH, max_age=seconds,
                            httponly=True, samesite="Lax",
                            secure=self.back_url(request).startswith("https:"))

    async def came_back(self, request: web.Request, *, reason: str = "back",
                        status: int = 200) -> Page | web.Response:
        """The page of the token this browser keeps for ``/tenant/back`` (without one: the
        page of ``reason``)."""
        token = request.cookies.get(BACK_COOKIE, "")
        if not token:
            return self.render(request, "closed.html", status=status, reason=reason)
        return await self.open(request, token=token)

    def context(self, page: Page) -> Context:
        """The context of a tenant's own change: the account behind the link."""
        return Context(user_id=f"@tenant:{page.account.id}",
                       origin=f"portal:link:{page.link_id}")

    # --- what the pages show -------------------------------------------------------------

    def meters(self, account_id: str) -> list[Meter]:
        """The account's meters."""
        if not self.hub.has_component("metering"):
            return []
        metering = self.hub.component("metering", MeteringService)
        return [meter for meter in metering.meters.values()
                if meter.config.get("account") == account_id]

    def supply(self, meters: list[Meter]) -> list[dict[str, Any]]:
        """Each meter's name, kind and whether its supply is on (None: not read yet)."""
        out = []
        for meter in meters:
            relay, valve = meter.status.get("relay"), meter.status.get("valve")
            off = relay == RELAY_OPEN or valve == VALVE_CLOSED
            known = relay is not None or valve is not None
            out.append({"id": meter.id, "name": meter.name, "kind": meter.kind,
                        "on": (not off) if known else None})
        return out

    def balance(self, account_id: str) -> Decimal:
        """The account's balance (0 without a ledger)."""
        if not self.hub.has_component("ledger"):
            return Decimal("0.00")
        return self.hub.component("ledger", Ledger).balance(account_id)

    async def notices(self, account_id: str, meter_ids: set[str]) -> list[dict[str, Any]]:
        """The account's recent notices (events about it), newest first."""
        if not self.hub.has_component("storage"):
            return []
        storage = self.hub.component("storage", Storage)
        await storage.flush()

        def wanted(event: Event) -> bool:
            return (event.data.get("account_id") == account_id
                    or event.data.get("meter_id") in meter_ids)

        out = []
        for event in await _recent_events(storage, utcnow() - timedelta(days=NOTICE_DAYS),
                                          wanted):
            data = event.data
            kind = event.event_type
            if kind == "command_confirmed":
                kind = f"command_{data.get('command')}"
            values = {key: money(value) for key, value in data.items()
                      if key in ("balance", "amount", "total", "level")
                      and isinstance(value, Decimal | int | str) and _numeric(value)}
            out.append({"kind": kind, "time": as_local(event.time_fired),
                        "values": values, "meter": data.get("meter_id")})
        return out[::-1]

    # --- handlers ------------------------------------------------------------------------

    @tenant_link
    async def home(self, request: web.Request) -> web.StreamResponse:
        """Balance, supply, usage chart, pay and emergency credit, announcements."""
        page = await self.open(request)
        if isinstance(page, web.Response):
            return page
        from .wechat import oauth_redirect

        oauth_redirect(self, request, page)
        account = page.account
        meters = self.meters(account.id)
        resolution = "month" if request.query.get("range") == "month" else "day"
        charts = []
        if meters and self.hub.has_component("storage"):
            t = self.t(page.language)
            for series in await usage(self.hub.component("storage", Storage), meters,
                                      resolution):
                title = t(f"portal.usage.{series.kind}", unit=unit_text(series.unit))
                charts.append({"kind": series.kind, "unit": unit_text(series.unit),
                               "total": series.total.quantize(Decimal("0.01")),
                               "svg": chart_svg(series, title)})
        state = self.hub.states.get(account_entity_id(account.id))
        attributes = dict(state.attributes) if state else {}
        return self.render(
            request, "home.html", language=page.language, page=page, account=account,
            balance=self.balance(account.id), supply=self.supply(meters), charts=charts,
            resolution=resolution, attributes=attributes,
            emergency=account.billing == "prepaid" and account.emergency_amount > 0,
            offer=offer(self.hub, self.config, account), in_wechat=is_wechat(request),
            notice=request.query.get("notice"), resume=_resume(request),
            announcements=await self.links.announcements(account.id))

    @tenant_link
    async def bills(self, request: web.Request) -> web.StreamResponse:
        """The account's bills and statements."""
        page = await self.open(request)
        if isinstance(page, web.Response):
            return page
        engine = _engine(self.hub)
        found = await engine.bills(page.account.id) if engine is not None else []
        return self.render(request, "bills.html", language=page.language, page=page,
                           bills=[bill for bill in found if bill.status != "draft"])

    @tenant_link
    async def statement(self, request: web.Request) -> web.StreamResponse:
        """One bill's printable statement (404 for a bill of another account)."""
        page = await self.open(request)
        if isinstance(page, web.Response):
            return page
        engine = _engine(self.hub)
        bill_id = request.match_info["bill_id"]
        bill = await engine.bill(bill_id) if engine is not None else None
        if bill is None or bill.account_id != page.account.id or bill.status == "draft":
            return self.render(request, "missing.html", status=404, language=page.language,
                               page=page)
        text = await engine.statement(bill_id, "html", page.language) if engine else None
        return web.Response(text=text or "", content_type="text/html", headers=HEADERS)

    @tenant_link
    async def ledger(self, request: web.Request) -> web.StreamResponse:
        """The account's ledger entries, newest first."""
        page = await self.open(request)
        if isinstance(page, web.Response):
            return page
        entries = []
        if self.hub.has_component("ledger"):
            entries = await self.hub.component("ledger", Ledger).entries(page.account.id,
                                                                         limit=100)
        return self.render(request, "ledger.html", language=page.language, page=page,
                           entries=entries, local=as_local)

    @tenant_link
    async def notices_page(self, request: web.Request) -> web.StreamResponse:
        """The account's recent notices and the landlord's announcements."""
        page = await self.open(request)
        if isinstance(page, web.Response):
            return page
        meters = {meter.id for meter in self.meters(page.account.id)}
        return self.render(request, "notices.html", language=page.language, page=page,
                           notices=await self.notices(page.account.id, meters),
                           announcements=await self.links.announcements(page.account.id),
                           local=as_local)

    @tenant_link
    async def emergency(self, request: web.Request) -> web.StreamResponse:
        """Take the account's emergency credit (a form post from the home page)."""
        page = await self.open(request, change=True)
        if isinstance(page, web.Response):
            return page
        try:
            await self.hub.services.call("account", "emergency_credit",
                                         {"account_id": page.account.id},
                                         context=self.context(page))
            outcome = "emergency_ok"
        except (ServiceValidationError, ServiceNotFound, HubError) as err:
            _LOGGER.info("Emergency credit for %s refused: %s", page.account.id, err)
            outcome = "emergency_refused"
        raise web.HTTPSeeOther(f"{page.base}?notice={outcome}",  # i18n: internal (a location)
                               headers=HEADERS)

    @tenant_link
    async def pay(self, request: web.Request) -> web.StreamResponse:
        """Create a payment order for this account: JSON ``{amount, provider}``."""
        page = await self.open(request, change=True)
        if isinstance(page, web.Response):
            return page
        t = self.t(page.language)
        body = await _json_body(request)
        if body is None:
            return _json({"error": t("portal.pay.bad_request")}, 400)
        if "account_id" in body and body["account_id"] != page.account.id:
            return _json({"error": "not found"}, 404)
        offered = offer(self.hub, self.config, page.account)
        if not offered.providers:
            return _json({"error": t("portal.pay.unavailable")}, 503)
        provider = body.get("provider") or offered.providers[0]
        if provider not in offered.providers:
            return _json({"error": t("portal.pay.bad_provider")}, 400)
        amount = _amount(body.get("amount"))
        if amount is None or not offered.low <= amount <= offered.high:
            return _json({"error": t("portal.pay.bad_amount", low=money(offered.low),
                                     high=money(offered.high))}, 400)
        openid = page.account.contacts.get("wechat")
        payer = Payer(is_phone(request), self.client_address(request))
        channel, refusal = choose_channel(
            provider_channels(self.hub, page.account, provider, payer), is_wechat(request),
            lambda: jsapi_problem(self.hub, self.config, page.account, provider,
                                  str(openid) if openid else None))
        if channel is None:
            return _json({"error": t(refusal or "portal.pay.bad_provider",
                                     provider=t(f"portal.pay.with.{provider}"))}, 409)
        data: dict[str, Any] = {"account_id": page.account.id, "amount": str(amount),
                                "provider": provider, "channel": channel}
        if channel == "jsapi":
            data["openid"] = str(openid)
        if channel == "wap":  # back to this page (through /tenant/back), which follows the order
            data["return_url"] = self.back_url(request)
            if payer.address:
                data["payer_ip"] = payer.address
        try:
            answer = await self.hub.services.call(*PAY_SERVICE, data, context=self.context(page),
                                                  return_response=True)
        except (ServiceValidationError, ServiceNotFound, HubError) as err:
            _LOGGER.warning("Payment order for account %s (%s, %s) not opened: %s",
                            page.account.id, provider, amount, err)
            return _json({"error": t("portal.pay.not_opened",
                                     provider=t(f"portal.pay.with.{provider}"))}, 502)
        pay = dict((answer or {}).get("pay") or {})
        order = {**tenant_order(answer or {}), "pay": pay}
        code_url = pay.get("code_url") or pay.get("qr_code")
        if code_url:
            order["qr_svg"] = qr_svg(str(code_url))
        answered = _json({"order": order, "channel": channel,
                          "scan": t("portal.pay.scan", provider=t(f"portal.pay.with.{provider}"))})
        if channel == "wap":
            self.keep_token(request, answered, page, BACK_SECONDS)
        return answered

    @tenant_link
    async def order(self, request: web.Request) -> web.StreamResponse:
        """An order's status, for the page's live poll (404: another account's or unknown)."""
        page = await self.open(request)
        if isinstance(page, web.Response):
            return page
        if not self.hub.services.has(*ORDER_SERVICE):
            return _json({"error": "not found"}, 404)
        try:
            found = await self.hub.services.call(
                *ORDER_SERVICE, {"order_id": request.match_info["order_id"]},
                context=self.context(page), return_response=True)
        except (ServiceValidationError, ServiceNotFound, HubError):
            return _json({"error": "not found"}, 404)
        if not isinstance(found, Mapping) or found.get("account_id") != page.account.id:
            return _json({"error": "not found"}, 404)
        balance = self.balance(page.account.id)
        return _json({**tenant_order(found), "balance": str(balance),
                      "balance_text": money(balance)})

    @tenant_link
    async def wechat(self, request: web.Request) -> web.StreamResponse:
        """WeChat's OAuth callback: bind the tenant's openid (see wechat.py)."""
        from .wechat import callback

        page = await self.came_back(request, reason="state", status=403)  # no cookie: forged
        if isinstance(page, web.Response):
            return page
        return await callback(self, request, page)

    @tenant_link
    async def back(self, request: web.Request) -> web.StreamResponse:
        """Where a payment provider's page sends the tenant: this browser's page, following
        the order the provider names (Alipay's ``out_trade_no``)."""
        page = await self.came_back(request)
        if isinstance(page, web.Response):
            return page
        resume = _resume(request)
        target = f"{page.base}?{urlencode({'out_trade_no': resume})}" if resume else page.base
        response = web.HTTPSeeOther(target, headers=HEADERS)
        response.del_cookie(BACK_COOKIE, path=BACK_PATH)
        raise response

    def refuse_foreign(self, request: web.Request) -> web.Response | None:
        """A change from another site's page is refused (403)."""
        from ..web.server import WebServer

        if self.hub.has_component("web") and \
                self.hub.component("web", WebServer).guard.foreign_page(request):
            return _json({"error": "a change from another site's page is refused"}, 403)
        return None

    def routes(self) -> list[web.AbstractRouteDef]:
        """The portal's routes."""
        base = "/tenant/{token}"
        return [  # /tenant/back before the token's routes (a plain path wins anyway)
            web.get(BACK_PATH, self.back),
            web.get(f"{BACK_PATH}/wechat", self.wechat),
            web.get(base, self.home),
            web.get(f"{base}/bills", self.bills),
            web.get(f"{base}/bills/{{bill_id}}", self.statement),
            web.get(f"{base}/ledger", self.ledger),
            web.get(f"{base}/notices", self.notices_page),
            web.post(f"{base}/emergency", self.emergency),
            web.post(f"{base}/pay", self.pay),
            web.get(f"{base}/orders/{{order_id}}", self.order),
        ]


async def _recent_events(storage: Storage, since: datetime,
                         wanted: Callable[[Event], bool]) -> list[Event]:
    """The newest ``NOTICES_SHOWN`` wanted notice events since ``since``, oldest first.

    Storage gives events oldest first (by time, then as recorded), a page at a time: a big
    site records more than one page in 60 days. The next page starts at the millisecond the
    last one ended in and skips the events of it already seen; a page all in one millisecond
    is read again, longer."""
    kept: deque[Event] = deque(maxlen=NOTICES_SHOWN)
    skip, limit = 0, EVENTS_PAGE  # events at ``since``'s millisecond already seen
    for _page in range(EVENTS_PAGES):
        batch = await storage.events(since, event_types=NOTICE_EVENTS, limit=limit)
        if len(batch) < limit:
            kept.extend(event for event in batch[skip:] if wanted(event))
            break
        last_ms = round(batch[-1].time_fired_ts * 1000)
        at_last = sum(1 for event in batch if round(event.time_fired_ts * 1000) == last_ms)
        if at_last == len(batch):
            limit *= 2
            continue
        kept.extend(event for event in batch[skip:] if wanted(event))
        since, skip, limit = from_ms(last_ms), at_last, EVENTS_PAGE
    return list(kept)


def _engine(hub: Hub) -> Any:
    if not hub.has_component("billing"):
        return None
    from ..billing.engine import BillingEngine

    return hub.component("billing", BillingEngine)


def _resume(request: web.Request) -> str | None:
    """The order to follow when a provider's page sent the tenant back (Alipay adds
    ``out_trade_no`` to the return URL)."""
    order_id = request.query.get("out_trade_no", "")
    return order_id if 0 < len(order_id) <= 64 else None


def _numeric(value: Any) -> bool:
    try:
        Decimal(value)
    except (ArithmeticError, ValueError, TypeError):
        return False
    return True


def _amount(value: Any) -> Decimal | None:
    from .. import validation as cv

    try:
        amount: Decimal = cv.money(value)
    except Exception:
        return None
    return amount


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    if request.content_type != "application/json" or (request.content_length or 0) > MAX_BODY:
        return None
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        return None
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _json(value: Any, status: int = 200) -> web.Response:
    from ..util.jsonutil import dumps

    return web.json_response(value, status=status, dumps=dumps, headers=HEADERS)
