"""aiohttp application: the dashboard page, a read-only REST API, and plugins' routes."""

from __future__ import annotations

import ipaddress
import json
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from meterhub_frontend import STATIC, TEMPLATES

from .. import __version__
from ..core import Context
from ..exceptions import ServiceNotFound, ServiceValidationError
from ..listen import Listening, bind_tcp
from ..util.jsonutil import dumps
from .routes import HUB_KEY, is_self_authenticated

if TYPE_CHECKING:
    from ..core import Hub

_LOGGER = logging.getLogger(__name__)

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
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=jinja2.select_autoescape(["html"]),
            enable_async=False,
        )

    def build_app(self) -> web.Application:
        """Create the application with core routes and every plugin's routes."""
        app = web.Application(middlewares=[self.guard])
        app[HUB_KEY] = self.hub
        app.add_routes([
            web.get("/", self.dashboard),
            web.get("/api/", self.api_status),
            web.get("/api/states", self.api_states),
            web.get("/api/states/{entity_id}", self.api_state),
            web.get("/api/services", self.api_services),
            web.get("/api/plugins", self.api_plugins),
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
                                  key="http: port in hub.yaml, or --port")
        self.port = self.listening.port
        self.hub.ports["web"] = self.port

    async def start(self) -> None:
        """Serve on the bound socket (bound now if :meth:`bind` did not run)."""
        if self.listening is None:
            await self.bind()
        assert self.listening is not None
        self.runner = web.AppRunner(self.build_app(), access_log=None)
        await self.runner.setup()
        for sock in self.listening.take():
            await web.SockSite(self.runner, sock).start()
        _LOGGER.info("Dashboard on http://%s:%s/", _display_host(self.hub.config.http_host),
                     self.port)

    async def stop(self) -> None:
        """Stop serving; close a socket bound but never served."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        if self.listening is not None:
            self.listening.close()
            self.listening = None

    @web.middleware
    async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Until user accounts exist: changes only from this machine (not from another site's
        page in its browser) or with the API token."""
        if is_self_authenticated(request.match_info.handler):
            return await handler(request)  # type: ignore[no-any-return]
        token = self.hub.config.api_token
        if token and request.headers.get("Authorization") == f"Bearer {token}":
            return await handler(request)  # type: ignore[no-any-return]
        if request.method not in ("GET", "HEAD"):
            if not _is_loopback(request.remote):
                return json_response({"error": "changes need the API token "
                                      "(Authorization: Bearer ...) or a request from the hub"},
                                     status=403)
            if _from_another_site(request):  # a page elsewhere, in a browser on the hub
                return json_response({"error": "changes from another site's page need the "
                                      "API token"}, status=403)
        if token and request.path.startswith("/api/") and not _is_loopback(request.remote):
            return json_response({"error": "the API needs the API token"}, status=401)
        return await handler(request)  # type: ignore[no-any-return]

    async def api_call_service(self, request: web.Request) -> web.Response:
        """Call a service: JSON body = data; ``?return_response=1`` to get its answer."""
        domain, service = request.match_info["domain"], request.match_info["service"]
        try:  # numbers as exact Decimals: money never passes through a float
            data = (json.loads(await request.text(), parse_float=Decimal)
                    if request.can_read_body else {})
        except ValueError:
            return json_response({"error": "the body is not valid JSON"}, status=400)
        if not isinstance(data, dict):
            return json_response({"error": "the body must be a JSON object"}, status=400)
        want = request.query.get("return_response", "") in ("1", "true", "yes")
        context = Context(origin="api", user_id=None)
        try:
            response = await self.hub.services.call(domain, service, data, context=context,
                                                    return_response=want)
        except ServiceNotFound as err:
            return json_response({"error": str(err)}, status=404)
        except ServiceValidationError as err:
            return json_response({"error": str(err), "errors": err.errors}, status=400)
        except Exception as err:
            _LOGGER.exception("Service %s.%s failed", domain, service)
            return json_response({"error": f"{type(err).__name__}: {err}"}, status=500)
        return json_response({"context": context.id, "response": response})

    async def dashboard(self, request: web.Request) -> web.Response:
        """The dashboard's first page: entities and plugins."""
        hub = self.hub
        language = request.query.get("lang") or hub.config.language
        t = hub.i18n
        states = sorted(hub.states.all(), key=lambda s: s.entity_id)
        zone = ZoneInfo(hub.config.time_zone)
        html = self.templates.get_template("dashboard.html").render(
            t=lambda key, **kw: t(key, language, **kw),
            site=hub.config.site_name,
            language=language,
            # the site's own clock, as a landlord reads it (was UTC)
            local=lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            states=states,
            plugins=sorted(hub.plugins.all(), key=lambda p: p.name),
            version=__version__,
        )
        return web.Response(text=html, content_type="text/html")

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

    async def api_states(self, request: web.Request) -> web.Response:
        """All entity states (``?domain=meter`` to filter)."""
        domain = request.query.get("domain")
        return json_response([state.as_dict() for state in self.hub.states.all(domain)])

    async def api_state(self, request: web.Request) -> web.Response:
        """One entity's state."""
        entity_id = request.match_info["entity_id"]
        state = self.hub.states.get(entity_id)
        if state is None:
            return json_response({"error": f"unknown entity {entity_id}"}, status=404)
        return json_response(state.as_dict())

    async def api_services(self, request: web.Request) -> web.Response:
        """Registered services by domain, with their descriptions."""
        return json_response({
            domain: {
                name: {"description": svc.description, "response": svc.supports_response}
                for name, svc in services.items()
            }
            for domain, services in self.hub.services.all().items()
        })

    async def api_plugins(self, request: web.Request) -> web.Response:
        """Every plugin seen, with its status and hooks."""
        return json_response([info.as_dict() for info in self.hub.plugins.all()])


def _from_another_site(request: web.Request) -> bool:
    """A browser's request made by a page that is not the hub's own (its Origin differs).

    A browser on the hub's machine comes from 127.0.0.1, and a page from anywhere can make it
    post a form (``text/plain`` needs no CORS preflight): the peer address alone cannot tell.
    """
    origin = request.headers.get("Origin")
    if origin is None:  # older browsers omit it; Fetch Metadata says where the page is
        return request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site")
    return origin != f"{request.scheme}://{request.host}"


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return remote == "localhost"


def _display_host(host: str) -> str:
    return "localhost" if host in ("0.0.0.0", "::", "") else host
