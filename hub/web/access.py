"""The guard in front of every route: the right host, a known caller, no cross-site writes.

In order, for every request:

1. ``Host`` must name this hub (``http.allowed_hosts``; by default this machine's names and
   addresses, localhost, and the address the connection came in on): a page on another
   site that re-points its own name at the hub (DNS rebinding) gets 421.
2. A body larger than :data:`MAX_BODY` is refused (413) before it is read; one that does
   not arrive within ``body_timeout`` ends the request (408). (Self-authenticated routes
   read their own bodies, with their own cap: an NB-IoT push link's ``max_body``.)
3. The caller: ``Authorization: Bearer`` (an API token, or the CLI's), else the session
   cookie. A bad bearer token is 401 (never a fall-back to the cookie).
4. Routes anyone may reach (login, static files, self-authenticated pushes, tenant links)
   are served; any other needs a caller (401; a page redirects to /login).
5. A change (not GET/HEAD/OPTIONS) made with a cookie must come from the hub's own page:
   a foreign ``Origin`` or ``Sec-Fetch-Site`` is 403, and its body must be JSON (which no
   page elsewhere can send without asking first) or a form carrying the session's CSRF
   token. A bearer token is no ambient credential: no origin rule, but JSON or no body.
6. The route's roles (403), and for a scoped caller: a route that does not filter by
   scope is 403, an id in its path outside the scope is 404 (nothing said about it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from aiohttp import web

from ..i18n import Text
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .routes import PRINCIPAL_KEY, Access, access_of

if TYPE_CHECKING:
    from ..auth import Auth, Principal
    from .scope import ScopeIndex

_LOGGER = logging.getLogger(__name__)

SESSION_COOKIE = "mh_session"
SESSION_MAX_AGE = 14 * 86_400
LOGIN_COOKIE = "mh_login"  # the login form's CSRF token, before there is a session
MAX_BODY = 1024 * 1024
BODY_TIMEOUT = 20.0
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
PATH_IDS = ("meter_id", "account_id", "entity_id")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


ACCESS_HEADER = "X-Access"
"""Set on every answer the access rules gave (``denied``: 401/403, ``hidden``: 404 for what
is outside the caller's scope, ``refused``: a bad host, body or content type): the page and
the tests tell the guard's refusals from a handler's own errors."""


REASON: web.ResponseKey[str] = web.ResponseKey("reason")
"""Where an answer of :func:`json_error` keeps its message (a :class:`~hub.i18n.Text`): the
API's error body words it for the caller."""


def set_session_cookie(response: web.StreamResponse, secret: str, *, secure: bool) -> None:
    """Give the browser its session: ``HttpOnly``, ``SameSite=Strict``, 14 days."""
    response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="Strict",
                        secure=secure, path="/", max_age=SESSION_MAX_AGE)


def json_error(message: str, status: int) -> web.Response:
    """A JSON ``{"error": ...}`` answer of the access rules (see :data:`ACCESS_HEADER`)."""
    kind = {401: "denied", 403: "denied", 404: "hidden"}.get(status, "refused")
    response = web.json_response({"error": message}, status=status,
                                 headers={ACCESS_HEADER: kind})
    response[REASON] = message
    return response


def machine_hosts(configured_host: str) -> frozenset[str]:
    """This machine's names and addresses, and localhost: the default allowed hosts."""
    names = {"localhost", "127.0.0.1", "::1", "localhost.localdomain"}
    if configured_host not in ("", "0.0.0.0", "::"):
        names.add(configured_host)
    try:
        hostname = socket.gethostname()
        names.update({hostname, f"{hostname}.local", socket.getfqdn()})
        for info in socket.getaddrinfo(hostname, None):
            names.add(str(info[4][0]).split("%")[0])
    except OSError:
        pass
    return frozenset(name.lower() for name in names if name)


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without the port (``[::1]:8123`` → ``::1``)."""
    text = header.strip().lower()
    if text.startswith("["):
        return text[1:].partition("]")[0]
    if text.count(":") == 1:
        return text.partition(":")[0]
    return text


class Guard:
    """The middleware; ``auth`` None (no storage) lets nobody in but public routes."""

    def __init__(self, auth: Auth | None, scopes: ScopeIndex, *,
                 allowed_hosts: Iterable[str] | None, configured_host: str,
                 trusted_proxies: Iterable[str] = ()) -> None:
        self.auth = auth
        self.scopes = scopes
        self.allowed = (frozenset(h.lower() for h in allowed_hosts) if allowed_hosts is not None
                        else machine_hosts(configured_host))
        self.proxies = [ipaddress.ip_network(net) for net in trusted_proxies]
        self.body_timeout = BODY_TIMEOUT

    # --- facts about a request -----------------------------------------------------------

    def _from_proxy(self, request: web.Request) -> bool:
        try:
            peer = ipaddress.ip_address(request.remote or "")
        except ValueError:
            return False
        return any(peer in net for net in self.proxies)

    def client_address(self, request: web.Request) -> str | None:
        """The caller's address: the peer, or behind a trusted proxy the last address of
        ``X-Forwarded-For`` that is not itself a trusted proxy."""
        if not self._from_proxy(request):
            return request.remote
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            try:
                address = ipaddress.ip_address(hop)
            except ValueError:
                return hop
            if not any(address in net for net in self.proxies):
                return hop
        return request.remote

    def is_secure(self, request: web.Request) -> bool:
        """Whether the browser reached the hub over TLS (directly or through a proxy)."""
        if request.secure and request.transport is not None and \
                request.transport.get_extra_info("sslcontext") is not None:
            return True
        return self._from_proxy(request) and \
            request.headers.get("X-Forwarded-Proto", "").lower() == "https"

    def host_allowed(self, request: web.Request) -> bool:
        """Whether ``Host`` names this hub (see the module docstring)."""
        header = request.headers.get("Host", "")
        if self._from_proxy(request):
            header = request.headers.get("X-Forwarded-Host", header).split(",")[0]
        name = host_name(header)
        if name in self.allowed:
            return True
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        local = str(sockname[0]).split("%")[0].lower() if sockname else None
        return name == local  # the address the connection reached (never a rebound name)

    def own_origin(self, request: web.Request) -> str:
        """The hub's origin as the browser sees it."""
        scheme = "https" if self.is_secure(request) else "http"
        host = request.headers.get("Host", "")
        if self._from_proxy(request):
            host = request.headers.get("X-Forwarded-Host", host).split(",")[0].strip()
        return f"{scheme}://{host}"

    def foreign_page(self, request: web.Request) -> bool:
        """A browser request made by a page of another site (its Origin, or Fetch
        Metadata when the Origin is missing)."""
        origin = request.headers.get("Origin")
        if origin is None:
            return request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site")
        return origin != self.own_origin(request)

    # --- the middleware ------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check a request in the order of the module docstring."""
        address = self.client_address(request)
        if not self.host_allowed(request):
            _LOGGER.warning("Request for host %r from %s refused (not in http.allowed_hosts)",
                            request.headers.get("Host", ""), address)
            return json_error(Text("web.unknown_host"), 421)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return json_error(Text("web.too_large", limit=MAX_BODY), 413)
        match_info = request.match_info
        if isinstance(match_info.route.resource, web.StaticResource) or \
                match_info.http_exception is not None:
            return await handler(request)
        access = access_of(match_info.handler, request.method)
        bearer = _bearer(request)
        principal: Principal | None = None
        if bearer is not None:
            principal = await self.auth.token(bearer, address) if self.auth else None
            if principal is None:
                _LOGGER.warning("Unknown or revoked API token from %s on %s", address,
                                request.path)
                return json_error(Text("web.bad_token"), 401)
        else:
            secret = request.cookies.get(SESSION_COOKIE)
            if secret and self.auth is not None:
                principal = await self.auth.session(secret, address)
        if access.anyone is not None:
            if principal is not None:
                request[PRINCIPAL_KEY] = principal
            if access.anyone == "public":
                if request.method not in SAFE_METHODS and self.foreign_page(request):
                    return json_error(Text("web.foreign_page"), 403)
                refused = await self._read_body(request)
                if refused is not None:
                    return refused
            # a self-authenticated route (or tenant link) reads its own body, capped
            return await handler(request)
        if principal is None:
            if request.method in ("GET", "HEAD") and \
                    not request.path.startswith(("/api/", "/metrics")):
                raise web.HTTPSeeOther(f"/login?next={request.path}",  # i18n: internal (a location)
                                       headers={ACCESS_HEADER: "denied"})
            return json_error(Text("web.log_in"), 401)
        request[PRINCIPAL_KEY] = principal
        refused = await self._read_body(request)
        if refused is not None:
            return refused
        if request.method not in SAFE_METHODS:
            refused = await self._check_write(request, principal, bearer is not None, address)
            if refused is not None:
                return refused
        refused = self._check_access(request, principal, access)
        if refused is not None:
            return refused
        return await handler(request)

    async def _read_body(self, request: web.Request) -> web.Response | None:
        if not request.body_exists:
            return None
        try:
            async with asyncio.timeout(self.body_timeout):
                await request.read()  # kept: handlers read it again from memory
        except TimeoutError:
            _LOGGER.warning("A client at %s sent its body too slowly: dropped", request.remote)
            return json_error(Text("web.slow_body", seconds=f"{self.body_timeout:g}"), 408)
        except web.HTTPRequestEntityTooLarge:
            return json_error(Text("web.too_large", limit=MAX_BODY), 413)
        return None

    async def _check_write(self, request: web.Request, principal: Principal, bearer: bool,
                           address: str | None) -> web.Response | None:
        content_type = request.content_type if request.body_exists else ""
        if bearer:
            if content_type not in ("", "application/json"):
                return json_error(Text("web.json_only"), 415)
            return None
        if self.foreign_page(request):
            _LOGGER.warning("Change of %s by %s from another site's page (%s) refused",
                            request.path, principal.user_id, request.headers.get("Origin"))
            return json_error(Text("web.foreign_page"), 403)
        if content_type == "application/json":
            return None
        if content_type in FORM_TYPES:
            form = await request.post()
            if principal.csrf is not None and form.get("csrf") == principal.csrf:
                return None
            _LOGGER.warning("Form post to %s by %s from %s without its CSRF token refused",
                            request.path, principal.user_id, address)
            return json_error(Text("web.csrf"), 403)
        return json_error(Text("web.json_only"), 415)

    def _check_access(self, request: web.Request, principal: Principal,
                      access: Access) -> web.Response | None:
        if principal.role not in access.roles:
            resource = request.match_info.route.resource
            return json_error(Text("web.role_route", role=principal.role, method=request.method,
                                   route=resource.canonical)  # no ids
                              if resource else Text("web.not_allowed"), 403)
        if not principal.scoped:
            return None
        if not access.scoped:
            return json_error(Text("web.scoped_route"), 403)
        for key in PATH_IDS:
            value = request.match_info.get(key)
            if value is not None and not self.scopes.visible(principal, key, value):
                return json_error(Text("web.not_found"), 404)
        return None


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""
