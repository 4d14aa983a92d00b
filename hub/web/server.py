"""aiohttp application: the dashboard pages, the REST API, and plugins' routes."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import jinja2
import voluptuous as vol
from aiohttp import web

from meterhub_frontend import STATIC, TEMPLATES

from .. import __version__
from .. import validation as cv
from ..auth import SCOPED_SERVICES, Auth, may, right_of_service
from ..exceptions import ServiceNotFound, ServiceValidationError, StartupRefused
from ..i18n import Text, text_of
from ..listen import Listening, bind_tcp
from ..util.jsonutil import dumps
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .access import MAX_BODY, Guard, json_error, machine_hosts
from .api import api_errors, describe
from .api import install as install_api
from .api.base import ApiError, invalid_service_call, page_query, paginate, validated_query
from .api.errors import in_callers_words
from .login import AccessRoutes
from .pages import install_pages
from .pages.errors import page_errors
from .routes import HUB_KEY, allow, principal_of
from .scope import ScopeIndex

if TYPE_CHECKING:
    from ..core import Hub

_LOGGER = logging.getLogger(__name__)

STATES_QUERY = page_query({vol.Optional("domain"): cv.string})
STATE_SCHEMA: dict[str, Any] = {"type": "object", "properties": {
    "entity_id": {"type": "string"}, "state": {}, "attributes": {"type": "object"},
    "last_changed": {"type": "string"}, "last_updated": {"type": "string"},
    "context": {"type": "object"},
}, "required": ["entity_id", "state", "attributes", "last_changed", "last_updated"]}

IDLE_TIMEOUT = 30.0
"""Seconds a connection may stay idle or take to send its request headers."""


def json_response(value: Any, status: int = 200) -> web.Response:
    """A JSON response encoded with :func:`dumps`."""
    return web.json_response(value, status=status, dumps=dumps)


class WebServer:
    """Runs the aiohttp app on ``http.host``/``http.port``: bound in the hub's bind phase,
    served once every stage before it has started."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.runner: web.AppRunner | None = None
        self.port: int | None = None
        self.listening: Listening | None = None
        self.idle_timeout = IDLE_TIMEOUT
        self.machine_hosts: frozenset[str] | None = None  # looked up at start, off the loop
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=jinja2.select_autoescape(["html"]),
            enable_async=False,
        )

    def _auth(self) -> Auth | None:
        return self.hub.component("auth", Auth) if self.hub.has_component("auth") else None

    def build_app(self) -> web.Application:
        """Create the application with core routes and every plugin's routes."""
        config = self.hub.config
        self.scopes = ScopeIndex(self.hub)
        hosts = config.allowed_hosts if config.allowed_hosts is not None else self.machine_hosts
        self.guard = Guard(self._auth(), self.scopes, allowed_hosts=hosts,
                           configured_host=config.http_host,
                           trusted_proxies=config.trusted_proxies)
        app = web.Application(middlewares=[page_errors, api_errors, self.guard.middleware],
                              client_max_size=MAX_BODY)
        app[HUB_KEY] = self.hub
        install_api(app, self.hub)
        app.add_routes(AccessRoutes(self.hub, self._auth(), self.guard,
                                    self.templates).routes())
        install_pages(app, self.hub, self.templates)
        app.add_routes([
            web.get("/api/", self.api_status),
            web.get("/api/states", self.api_states),
            web.get("/api/states/{entity_id}", self.api_state),
            web.post("/api/services/{domain}/{service}", self.api_call_service),
            web.static("/static", str(STATIC)),
        ])
        for info, routes in self.hub.plugins.call_each("register_routes", hub=self.hub):
            try:
                app.add_routes(routes or [])
            except Exception:
                _LOGGER.exception("Routes of plugin %s could not be added", info.name)
        return app

    async def bind(self) -> None:
        """Bind ``http.host``/``http.port`` (PortInUse naming the key when it is taken); the
        bound port is in ``self.port`` (useful with port 0)."""
        config = self.hub.config
        self.listening = bind_tcp(config.http_host, config.http_port,
                                  key=Text("listen.key_http"))
        self.port = self.listening.port
        self.hub.ports["web"] = self.port

    async def start(self) -> None:
        """Serve on the bound socket (bound now if :meth:`bind` did not run)."""
        if self.listening is None:
            await self.bind()
        assert self.listening is not None
        # a connection idle that long, or whose request headers are still unfinished, is
        # closed: slow clients cannot hold sockets open for ever
        if self.hub.config.allowed_hosts is None:  # name lookups may take seconds on a Pi
            self.machine_hosts = await asyncio.to_thread(machine_hosts,
                                                         self.hub.config.http_host)
        self.runner = web.AppRunner(self.build_app(), access_log=None,
                                    keepalive_timeout=self.idle_timeout)
        await self.runner.setup()
        context = self._ssl_context()
        for sock in self.listening.take():
            await web.SockSite(self.runner, sock, ssl_context=context).start()
        _LOGGER.info("Dashboard on %s://%s:%s/", "https" if context else "http",
                     _display_host(self.hub.config.http_host), self.port)

    def _ssl_context(self) -> ssl.SSLContext | None:
        """TLS from ``http.ssl_certificate`` and ``http.ssl_key`` (None: plain HTTP)."""
        config = self.hub.config
        if config.ssl_certificate is None or config.ssl_key is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(str(config.ssl_certificate), str(config.ssl_key))
        except (OSError, ssl.SSLError) as err:
            raise StartupRefused(Text("web.ssl", certificate=str(config.ssl_certificate),
                                      key=str(config.ssl_key), reason=str(err))) from None
        return context

    async def stop(self) -> None:
        """Stop serving; close a socket bound but never served."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        if self.listening is not None:
            self.listening.close()
            self.listening = None

    @allow(scoped=True)
    async def api_call_service(self, request: web.Request) -> web.Response:
        """Call a service: JSON body = data; ``?return_response=1`` to get its answer.

        The caller's role must hold the service's right; a scoped caller may call only
        services whose targets are checked, and only on its own meters and accounts (any
        other target reads as unknown: 404, as for a service that does not exist)."""
        domain, service = request.match_info["domain"], request.match_info["service"]
        principal = principal_of(request)
        assert principal is not None  # the guard let no one else in
        name = f"{domain}.{service}".lower()
        if not self.hub.services.has(domain, service):
            raise ApiError(404, "not_found", Text("web.unknown_service", service=name))
        if not may(principal.role, right_of_service(name)):
            _LOGGER.warning("%s (%s) may not call %s", principal.user_id, principal.role, name)
            return json_error(Text("web.role_refused", role=principal.role, service=name), 403)
        try:  # numbers as exact Decimals: money never passes through a float
            data = (json.loads(await request.text(), parse_float=Decimal)
                    if request.body_exists else {})
        except ValueError:
            raise ApiError(400, "bad_request", Text("web.bad_json")) from None
        if not isinstance(data, dict):
            raise ApiError(400, "bad_request", Text("web.not_object"))
        if principal.scoped and name not in SCOPED_SERVICES:
            return json_error(Text("web.scoped_service", service=name), 403)
        if not self.scopes.call_in_scope(principal, data):
            return json_error(Text("web.not_found"), 404)  # as an unknown target: nothing said
        want = request.query.get("return_response", "") in ("1", "true", "yes")
        context = principal.context()
        try:
            response = await self.hub.services.call(domain, service, data, context=context,
                                                    return_response=want)
        except ServiceNotFound as err:
            raise ApiError(404, "not_found", text_of(err)) from None
        except ServiceValidationError as err:
            raise invalid_service_call(err, data) from None
        except Exception as err:
            _LOGGER.exception("Service %s.%s failed", domain, service)
            return json_response({"error": f"{type(err).__name__}: {err}"}, status=500)
        # messages in the answer (a meter's failed read, a problem) in the caller's words
        return json_response({"context": context.id,
                              "response": in_callers_words(request, response)})

    def _visible_states(self, request: web.Request, domain: str | None = None) -> list[Any]:
        principal = principal_of(request)
        states = self.hub.states.all(domain)
        if principal is None or not principal.scoped:
            return list(states)
        return [state for state in states
                if self.scopes.visible(principal, "entity_id", state.entity_id)]

    @allow(scoped=True)
    async def api_status(self, request: web.Request) -> web.Response:
        """Hub status: version, site, life-cycle state."""
        hub = self.hub
        return json_response({
            "message": "MeterHub API running",
            "version": __version__,
            "site": hub.config.site_name,
            "state": hub.state,
            "time_zone": hub.config.time_zone,
        })

    @allow(scoped=True)
    @describe("Entity states in the caller's scope (?domain=meter to filter)", tag="hub",
              query=STATES_QUERY, paged=True, response=STATE_SCHEMA)
    async def api_states(self, request: web.Request) -> web.Response:
        """All entity states in the caller's scope (``?domain=meter`` to filter)."""
        query = validated_query(request, STATES_QUERY)
        found = [state.as_dict() for state in self._visible_states(request, query.get("domain"))]
        page = paginate(request, query, found)
        page.items = in_callers_words(request, page.items)  # a read's error
        return page.response()

    @allow(scoped=True)  # the guard answers 404 for an entity outside the scope
    async def api_state(self, request: web.Request) -> web.Response:
        """One entity's state."""
        entity_id = request.match_info["entity_id"]
        state = self.hub.states.get(entity_id)
        if state is None:
            return json_response({"error": f"unknown entity {entity_id}"}, status=404)
        return json_response(in_callers_words(request, state.as_dict()))



def _display_host(host: str) -> str:
    return "localhost" if host in ("0.0.0.0", "::", "") else host
