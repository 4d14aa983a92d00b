"""What every dashboard page shares: rendering in the base layout, language, money and
local-time filters, flash messages, confirmation of destructive actions, and form helpers.

A page module builds one :class:`PageKit` per web app (``PageKit.of(app)``) and answers with
``kit.render(request, "meters.html", ...)``. Forms post with the session's CSRF token (the
guard checks it); a destructive form carries ``data-confirm`` and is re-asked on the server
when it arrives without ``confirmed=1`` (:meth:`PageKit.confirm`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from ... import __version__
from ...auth import SCOPED_SERVICES, may, right_of_service
from ...exceptions import ServiceNotFound, ServiceValidationError
from ...i18n import Text, restored
from ...metering.points import POINTS, unit_text
from ...util.dt import utcnow
from .. import messages as _messages  # noqa: F401  (the tables of the Texts below)
from ..routes import principal_of
from ..scope import ScopeIndex
from .strings import PAGE_STRINGS

if TYPE_CHECKING:
    from ...auth import Principal
    from ...core import Hub

__all__ = ["LANG_COOKIE", "NAV", "NavItem", "PageError", "PageKit", "Paged", "caller",
           "fen_text", "money_text", "paged", "safe_next"]

LANG_COOKIE = "mh_lang"
FLASH_COOKIE = "mh_flash"
LANGUAGES = {"zh-CN": "中文", "en": "English"}
CENT = Decimal("0.01")
KIT_KEY: web.AppKey[PageKit] = web.AppKey("meterhub_pages")


@dataclass(frozen=True)
class Paged:
    """One page of a long list: its ``items``, its number, how many pages there are, and the
    query to keep in the links to the others (``keep``: every parameter but ``page``)."""

    items: list[Any]
    page: int
    pages: int
    keep: dict[str, str]

    def values(self) -> dict[str, Any]:
        """What ``_macros.html``'s ``pager`` needs, for ``kit.render``."""
        return {"page": self.page, "pages": self.pages, "keep": self.keep}


def paged(query: Mapping[str, str], items: list[Any], size: int) -> Paged:
    """Page ``?page=`` of ``items`` (a number out of range: the nearest page there is)."""
    try:
        wanted = int(query.get("page", "1"))
    except ValueError:
        wanted = 1
    pages = max(1, -(-len(items) // size))
    page = min(max(1, wanted), pages)
    return Paged(items[(page - 1) * size:page * size], page, pages,
                 {key: value for key, value in query.items() if key != "page"})


class PageError(Exception):
    """A change a page could not make: the message for the user and the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class NavItem:
    """One entry of the main navigation: its i18n key, path, the roles that see it and the
    hub component it needs (left out of the menu when the site has no such part)."""

    key: str
    href: str
    roles: frozenset[str] = frozenset({"admin", "landlord", "operator", "finance", "viewer"})
    component: str | None = None
    scoped: bool = True  # shown to a user with a scope (False: its page shows the whole site)


NAV: tuple[NavItem, ...] = (
    NavItem("nav.overview", "/"),
    NavItem("nav.meters", "/meters"),
    NavItem("nav.accounts", "/accounts"),
    NavItem("nav.reports", "/reports", frozenset({"admin", "finance"})),
    NavItem("nav.bills", "/bills", frozenset({"landlord", "operator", "viewer"})),
    NavItem("nav.payments", "/payments", frozenset({"admin", "finance", "landlord"}),
            component="payments"),
    NavItem("nav.alarms", "/alarms"),
    NavItem("nav.notifications", "/notifications", frozenset({"admin", "landlord", "operator"}),
            component="notify"),
    NavItem("nav.automations", "/automations", scoped=False),
    NavItem("nav.devices", "/devices"),
    NavItem("nav.users", "/users", frozenset({"admin"})),
    NavItem("nav.audit", "/audit", frozenset({"admin", "finance"})),
    NavItem("nav.setup", "/manage", frozenset({"admin", "operator"})),
)
"""The landlord's navigation, in order (pages not built yet answer 404)."""


def money_text(value: Decimal | None) -> str:
    """``¥1,234.50``: yuan as a Decimal, two decimals rounded half up; never a float."""
    if value is None:
        return "—"
    if not isinstance(value, Decimal) or isinstance(value, bool):
        raise TypeError(f"money must be a Decimal, not {type(value).__name__} ({value!r})")
    amount = value.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def fen_text(value: int | None) -> str:
    """``¥1,234.50`` from integer fen."""
    if value is None:
        return "—"
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"fen must be an int, not {type(value).__name__} ({value!r})")
    return money_text(Decimal(value) / 100)


def quantity_text(value: Decimal | None, places: int = 2) -> str:
    """A consumption for people: rounded half up to ``places`` decimals, thousands marked."""
    if value is None:
        return "—"
    if not isinstance(value, Decimal):
        raise TypeError(f"a quantity must be a Decimal, not {type(value).__name__}")
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,}"


SUPPLY_ON = {"relay": "closed", "valve": "open"}
"""The state of each supply point in which power or water flows (a relay *closed*, a valve
*open*): the same word means supply on for one and cut for the other."""


def supply_tone(state: str | None, point: str) -> str:
    """``on`` when the point lets power or water through, ``off`` when it cuts it, ``unknown``
    otherwise (a badge's colour follows this, never the state's word alone)."""
    if state not in ("open", "closed") or point not in SUPPLY_ON:
        return "unknown"
    return "on" if SUPPLY_ON[point] == state else "off"


def safe_next(value: str | None, default: str = "/") -> str:
    """A path on this hub to go back to (never ``//elsewhere`` or a full URL)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


class PageKit:
    """Renders pages in the base layout for the caller, in their language and the site's zone."""

    def __init__(self, hub: Hub, templates: jinja2.Environment) -> None:
        self.hub = hub
        self.templates = templates
        self.zone = ZoneInfo(hub.config.time_zone)
        hub.i18n.add(PAGE_STRINGS)
        templates.filters.update(money=money_text, fen=fen_text, quantity=quantity_text,
                                 local=self.local,
                                 local_date=self.local_date, supply_tone=supply_tone,
                                 unit=unit_text)

    @classmethod
    def of(cls, app: web.Application) -> PageKit:
        """The app's kit (made by the web server when it builds the app)."""
        return app[KIT_KEY]

    # --- language and time ---------------------------------------------------------------

    def language(self, request: web.Request) -> str:
        """``?lang=``, else the choice remembered in this browser (cookie), else the user's
        own, else ``site: language``."""
        principal = principal_of(request)
        for choice in (request.query.get("lang"), request.cookies.get(LANG_COOKIE),
                       principal.language if principal else None):
            if choice in LANGUAGES:
                return choice
        return self.hub.config.language

    def translator(self, request: web.Request) -> Any:
        """``t(key, **values)`` in the caller's language."""
        language = self.language(request)

        def t(key: str, **values: Any) -> str:
            return self.hub.i18n(key, language, **values)
        return t

    def labeler(self, request: web.Request) -> Callable[[str, str], str]:
        """``label(key, fallback)``: ``t(key)`` in the caller's language, or ``fallback`` when
        the table has no such key (what the hub wrote itself, shown in words when known)."""
        t = self.translator(request)
        language = self.language(request)

        def label(key: str, fallback: str) -> str:
            text: str = t(key)
            return self.hub.i18n.text(restored(fallback), language) if text == key else text
        return label

    def local(self, moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """An aware time in the site's zone (``—`` for none)."""
        if moment is None:
            return "—"
        if moment.tzinfo is None:
            raise ValueError(  # i18n: internal (a bug: every time shown is aware)
                f"a naive time cannot be shown in the site's zone: {moment}")
        return moment.astimezone(self.zone).strftime(fmt)

    def local_date(self, moment: datetime | date | None) -> str:
        """The site-local date of a time."""
        if isinstance(moment, datetime):
            return self.local(moment, "%Y-%m-%d")
        return "—" if moment is None else moment.isoformat()

    def now(self) -> datetime:
        """The hub's clock in the site's zone."""
        return utcnow().astimezone(self.zone)

    # --- rendering -----------------------------------------------------------------------

    def nav(self, request: web.Request) -> list[dict[str, Any]]:
        """The navigation the caller's role sees, the current section marked."""
        principal = principal_of(request)
        role = str(principal.role) if principal is not None else ""
        path = request.path
        items = []
        for item in NAV:
            if role not in item.roles or (item.component is not None
                                          and not self.hub.has_component(item.component)) or (
                    principal is not None and principal.scoped and not item.scoped):
                continue
            current = path == item.href if item.href == "/" else \
                path == item.href or path.startswith(item.href + "/")
            items.append({"key": item.key, "href": item.href, "current": current})
        return items

    def context(self, request: web.Request) -> dict[str, Any]:
        """What the base layout needs: caller, language, site, navigation, flash messages."""
        principal = principal_of(request)
        t = self.translator(request)
        language = self.language(request)
        label = self.labeler(request)

        def point_name(key: str) -> str:
            """A point's name: the pages' short one, else the point table's, else its key."""
            info = POINTS.get(key)
            if info is None:
                return label(f"point.{key}", key)
            return label(f"point.{key}", info.name_zh if language == "zh-CN" else info.name_en)

        def say(message: str) -> str:
            """A message the hub keeps (a read's failure) in the page's language."""
            return self.hub.i18n.text(message, language)
        return {
            "t": t,
            "say": say,
            "label": label,
            "point_name": point_name,
            "language": language,
            "languages": LANGUAGES,
            "site": self.hub.config.site_name,
            "time_zone": self.hub.config.time_zone,
            "user": principal,
            "csrf": principal.csrf if principal is not None else None,
            "nav": self.nav(request),
            "flashes": _flashes(request),
            "path": request.path_qs,
            "hub_version": __version__,
            "now": self.now(),
        }

    def html(self, request: web.Request, template: str, **values: Any) -> str:
        """A template rendered with the layout's context and ``values``."""
        return self.templates.get_template(template).render(**self.context(request), **values)

    def render(self, request: web.Request, template: str, *, status: int = 200,
               **values: Any) -> web.Response:
        """A page as the response (flash messages shown are cleared)."""
        response = web.Response(text=self.html(request, template, **values),
                                content_type="text/html", status=status)
        response.headers["Cache-Control"] = "no-store"
        if FLASH_COOKIE in request.cookies:
            response.del_cookie(FLASH_COOKIE, path="/")
        return response

    def redirect(self, request: web.Request, location: str, message: str | None = None,
                 kind: str = "ok") -> web.Response:
        """303 to ``location`` with a flash ``message`` shown on the next page."""
        response = web.Response(status=303, headers={"Location": safe_next(location)})
        if message:
            text = self.hub.i18n.text(message, self.language(request))
            flashes = [*_flashes(request), {"kind": kind, "text": text}]
            response.set_cookie(FLASH_COOKIE, quote(json.dumps(flashes[-3:])), path="/",
                                httponly=True, samesite="Strict")
        return response

    def fail(self, request: web.Request, template: str, message: str, *, status: int = 400,
             **values: Any) -> web.Response:
        """The page again with ``message`` as an error, and a 4xx status."""
        return self.render(request, template, status=status,
                           error=self.hub.i18n.text(message, self.language(request)), **values)

    # --- forms -----------------------------------------------------------------------------

    @staticmethod
    async def form(request: web.Request) -> dict[str, str]:
        """The posted text fields (the guard has checked the CSRF token already)."""
        data = await request.post()
        return {key: value.strip() for key, value in data.items() if isinstance(value, str)}

    @staticmethod
    def new_key() -> str:
        """A fresh idempotency key for a form: a double-clicked submit counts once."""
        return secrets.token_urlsafe(16)

    def in_view(self, request: web.Request) -> tuple[set[str], set[str]] | None:
        """The ids of the meters and of the accounts the caller may see (None: everything):
        what a page listing many filters by."""
        principal = principal_of(request)
        if principal is None:
            return set(), set()
        return ScopeIndex(self.hub).in_view(principal)

    def may_call(self, request: web.Request, name: str) -> bool:
        """Whether the caller's role may call service ``name`` (to show its button)."""
        principal = principal_of(request)
        if principal is None or not may(str(principal.role), right_of_service(name)):
            return False
        return not principal.scoped or name in SCOPED_SERVICES

    async def call_service(self, request: web.Request, domain: str, service: str,
                           data: Mapping[str, Any]) -> Any:
        """Call a service as the logged-in caller, with the API's checks (the role's right,
        a scoped caller's targets); a refusal is a :class:`PageError` saying why."""
        principal = caller(request)
        name = f"{domain}.{service}"
        if not self.may_call(request, name):
            raise PageError(Text("web.role_refused", role=Text(f"role.{principal.role}"),
                                 service=name), 403)
        if not ScopeIndex(self.hub).call_in_scope(principal, data):
            raise PageError(Text("web.not_found"), 404)
        try:
            return await self.hub.services.call(domain, service, dict(data),
                                                context=principal.context(),
                                                return_response=True)
        except ServiceValidationError as err:
            raise PageError(self.hub.i18n.error(err, self.language(request))) from None
        except ServiceNotFound as err:
            raise PageError(str(err), 404) from None

    def confirm(self, request: web.Request, form: Mapping[str, str], *, title: str,
                message: str, danger: bool = True) -> web.Response | None:
        """None when the form was confirmed (``confirmed=1``), else the page that asks again
        with every field carried over."""
        if form.get("confirmed") == "1":
            return None
        fields = {k: v for k, v in form.items() if k not in ("csrf", "confirmed")}
        referer = urlsplit(request.headers.get("Referer", ""))
        cancel = referer.path if referer.netloc == request.host else None
        return self.render(request, "confirm.html", title=title, message=message,
                           fields=fields, action=request.path, danger=danger,
                           cancel=safe_next(cancel))


def _flashes(request: web.Request) -> list[dict[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        found = json.loads(unquote(raw))
    except ValueError:
        return []
    if not isinstance(found, list):
        return []
    return [{"kind": str(item.get("kind", "ok")), "text": str(item.get("text", ""))}
            for item in found if isinstance(item, dict)]


def caller(request: web.Request) -> Principal:
    """The logged-in caller (the guard lets no one else reach a page)."""
    principal = principal_of(request)
    if principal is None:
        raise web.HTTPUnauthorized(text="log in first")  # i18n: internal (unreachable)
    return principal

