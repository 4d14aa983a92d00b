"""What every API module uses: operations described once, errors, input, pages, service calls.

An operation is a handler marked with :func:`operation` (method, path, who may call it, and
its query, body and response schemas). The same marks serve three readers: the guard (roles
and scope, through :func:`hub.web.routes.allow`), the handler (its query and body are
validated with the very voluptuous schemas the mark names) and the OpenAPI document.
A route declared elsewhere (a page's chart data, a plugin) joins the document by carrying
:func:`describe`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

import voluptuous as vol
from aiohttp import web

from ... import validation as cv
from ...auth import SCOPED_SERVICES, may, right_of_service
from ...exceptions import ServiceNotFound, ServiceValidationError
from ...i18n import Joined, Text, text_of
from ...util.jsonutil import dumps
from .. import messages as _messages  # noqa: F401  (the tables of the Texts below)
from ..access import ACCESS_HEADER
from ..routes import HUB_KEY, allow, principal_of

if TYPE_CHECKING:
    from ...auth import Principal
    from ...core import Hub

_LOGGER = logging.getLogger(__name__)

SPEC_ATTRIBUTE = "meterhub_openapi"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
IDEMPOTENCY_HEADER = "Idempotency-Key"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_H = TypeVar("_H")


@dataclass(frozen=True)
class Spec:
    """How an operation reads in the OpenAPI document (and what its handler validates).

    ``query`` and ``body`` are voluptuous schemas; ``service`` names the service whose
    schema is the body (less the ``path_keys`` the path gives); ``response`` is a JSON
    Schema of the success answer; ``paged`` wraps it in a page of items."""

    summary: str
    tag: str = "hub"
    query: vol.Schema | None = None
    body: vol.Schema | None = None
    service: str | None = None
    path_keys: tuple[str, ...] = ()
    response: Mapping[str, Any] | None = None
    paged: bool = False
    idempotent: str | None = None  # the body key the Idempotency-Key header fills
    content_type: str = "application/json"
    calls: str | None = None  # the service it calls (whose right the caller needs)
    versioned: bool = False  # takes If-Match (the ETag its GET gave)
    method: str | None = None
    path: str | None = None


def describe(summary: str, **details: Any) -> Callable[[_H], _H]:
    """Describe a route for the OpenAPI document (any module may, for a route it adds
    itself): ``tag``, ``query`` and ``body`` (voluptuous), ``response`` (JSON Schema),
    ``paged``, ``service``, ``content_type``."""

    def mark(handler: _H) -> _H:
        setattr(handler, SPEC_ATTRIBUTE, Spec(summary, **details))
        return handler
    return mark


def spec_of(handler: Any) -> Spec | None:
    """The :class:`Spec` a handler carries, if any."""
    found = getattr(handler, SPEC_ATTRIBUTE, None)
    return found if isinstance(found, Spec) else None


def operation(method: str, path: str, summary: str, *, roles: Sequence[str] = (),
              scoped: bool = True, **details: Any) -> Callable[[_H], _H]:
    """Mark an API handler: where it answers, who may call it (``roles``, none: every
    role; ``scoped``: it shows a scoped caller only its own), and its :class:`Spec`."""

    def mark(handler: _H) -> _H:
        marked = allow(*roles, scoped=scoped)(handler)
        setattr(marked, SPEC_ATTRIBUTE, Spec(summary, method=method, path=path, **details))
        return marked
    return mark


def route_defs(handlers: Sequence[Handler]) -> list[web.RouteDef]:
    """The aiohttp routes of handlers marked with :func:`operation`."""
    out = []
    for handler in handlers:
        spec = spec_of(handler)
        assert spec is not None and spec.method and spec.path, handler
        out.append(web.route(spec.method, spec.path, handler))
    return out


# --- errors --------------------------------------------------------------------------------

class ApiError(Exception):
    """An answer other than success: HTTP ``status``, a stable ``code``, the English
    ``detail`` and the input ``field`` at fault (the error middleware words the message
    in the caller's language)."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.headers = dict(headers or {})


DENIED = {ACCESS_HEADER: "denied"}


def hidden() -> ApiError:
    """The 404 of what lies outside the caller's scope (said as of an unknown id)."""
    return ApiError(404, "not_found", Text("web.not_found"), headers={ACCESS_HEADER: "hidden"})


def unknown(request: web.Request, what: str, key: str, value: str) -> ApiError:
    """The 404 of an unknown id, or of another's: to a scoped caller both read alike."""
    principal = principal_of(request)
    if principal is not None and principal.scoped:
        return hidden()
    return ApiError(404, "not_found", Text("api.unknown", what=Text(f"what.{what}"), value=value),
                    key)


_FIELD = re.compile(r"^(?:data\.)?([A-Za-z_][\w.\[\]]*)(?: \(line \d+\))?: ")


def field_of(problem: str) -> str | None:
    """The input field a validation problem names first (``amount: expected...``)."""
    found = _FIELD.match(problem)
    return found.group(1) if found else None


def invalid(err: vol.Invalid, data: Any, where: str) -> ApiError:
    """An ApiError for voluptuous's complaint about ``data`` (a query or a body)."""
    problems = cv.humanize_invalid(err, data)
    first = problems[0] if problems else str(err)
    return ApiError(400, "invalid", Joined(problems) if problems else str(err),
                    field_of(first) or where)


# --- input ---------------------------------------------------------------------------------

def validated_query(request: web.Request, schema: vol.Schema) -> dict[str, Any]:
    """The query string validated by ``schema`` (400 naming the parameter); ``lang`` (the
    language of error messages) is every operation's and not the schema's."""
    data = {key: value for key, value in request.query.items() if key != "lang"}
    try:
        result: dict[str, Any] = schema(data)
    except vol.Invalid as err:
        raise invalid(err, data, "query") from None
    return result


async def json_body(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object (empty without a body); numbers as exact Decimals."""
    if not request.body_exists:
        return {}
    text = await request.text()
    if not text.strip():
        return {}
    try:
        data = json.loads(text, parse_float=Decimal)
    except ValueError as err:
        raise ApiError(400, "bad_json", Text("web.bad_json_at", reason=str(err)),
                       "body") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", Text("web.not_object"), "body")
    return data


async def validated_body(request: web.Request, schema: vol.Schema) -> dict[str, Any]:
    """The JSON body validated by ``schema`` (400 naming the field)."""
    data = await json_body(request)
    try:
        result: dict[str, Any] = schema(data)
    except vol.Invalid as err:
        raise invalid(err, data, "body") from None
    return result


def json_ok(value: Any, status: int = 200, headers: Mapping[str, str] | None = None
            ) -> web.Response:
    """A JSON answer (Decimals as exact text, times in ISO 8601)."""
    return web.json_response(value, status=status, dumps=dumps, headers=headers)


def hub_of(request: web.Request) -> Hub:
    """The hub serving the request."""
    return request.app[HUB_KEY]


_C = TypeVar("_C")


def component(request: web.Request, name: str, kind: type[_C], off: str) -> _C:
    """The hub's component ``name``; 404 saying ``off`` when it is not there."""
    hub = hub_of(request)
    if not hub.has_component(name):
        raise ApiError(404, "not_found", off)
    return hub.component(name, kind)


def while_serving(app: web.Application, start: Callable[[], None],
                  stop: Callable[[], None]) -> None:
    """Run ``start`` when the app starts serving and ``stop`` when it shuts down."""

    async def started(_app: web.Application) -> None:
        start()

    async def shutdown(_app: web.Application) -> None:
        stop()

    app.on_startup.append(started)
    app.on_shutdown.append(shutdown)


def caller(request: web.Request) -> Principal:
    """The authenticated caller (the guard let no one else reach an operation)."""
    principal = principal_of(request)
    if principal is None:
        raise ApiError(401, "unauthorized", Text("web.log_in"))
    return principal


# --- pages ---------------------------------------------------------------------------------

def _limit(value: Any) -> int:
    number = cv.positive_int(value)
    if number > MAX_LIMIT:
        raise vol.Invalid(Text("web.limit", most=MAX_LIMIT, value=number))
    return number


def _cursor(value: Any) -> str:
    text = cv.string(value)
    if not text.isdigit() or len(text) > 12:
        raise vol.Invalid(Text("web.cursor", value=cv.show_value(value)))
    return text


PAGE_KEYS: dict[Any, Any] = {
    vol.Optional("limit", default=DEFAULT_LIMIT): _limit,
    vol.Optional("cursor"): _cursor,
}
"""Every list's query keys: ``limit`` (1-500, default 50) and the ``cursor`` of a next link."""


def page_query(keys: Mapping[Any, Any] | None = None) -> vol.Schema:
    """A list's query schema: its own ``keys`` and the page keys."""
    return vol.Schema({**(keys or {}), **PAGE_KEYS})


@dataclass
class Page:
    """One page of a list and the link to the next."""

    items: list[Any]
    total: int | None  # None: not counted (a list paged by position, like the ledger)
    next: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def response(self) -> web.Response:
        """``{"items", "total", "next"}`` with ``Link: <next>; rel="next"``."""
        headers = {"Link": f'<{self.next}>; rel="next"'} if self.next else None
        return json_ok({**self.extra, "items": self.items, "total": self.total,
                        "next": self.next}, headers=headers)


def paginate(request: web.Request, query: Mapping[str, Any], items: Sequence[Any]) -> Page:
    """The page of ``items`` the validated ``query`` asks for (``cursor`` is an offset)."""
    offset = int(query.get("cursor") or 0)
    limit = int(query["limit"])
    chunk = list(items[offset:offset + limit])
    following = offset + limit
    link = next_link(request, str(following)) if following < len(items) else None
    return Page(chunk, len(items), link)


def next_link(request: web.Request, cursor: str) -> str:
    """The request's own path and query with ``cursor`` (the link to the next page)."""
    params = {key: value for key, value in request.query.items() if key != "cursor"}
    params["cursor"] = cursor
    return f"{request.path}?{urlencode(params)}"


# --- services ------------------------------------------------------------------------------

def check_right(request: web.Request, name: str) -> Principal:
    """The caller, if its role holds service ``name``'s right (and, with a scope, the
    service is one a scoped user may call); 403 otherwise."""
    principal = caller(request)
    if not may(principal.role, right_of_service(name)):
        raise ApiError(403, "forbidden", Text("web.role_refused", role=principal.role,
                                              service=name), headers=DENIED)
    if principal.scoped and name not in SCOPED_SERVICES:
        raise ApiError(403, "forbidden", Text("web.scoped_service", service=name),
                       headers=DENIED)
    return principal


async def call_service(request: web.Request, name: str, data: Mapping[str, Any]) -> Any:
    """Call service ``name`` as the caller: its role must hold the service's right, a
    scoped caller may call only scoped services on its own targets (others read as not
    found), and a refusal becomes a 400 naming the field."""
    principal = check_right(request, name)
    hub = hub_of(request)
    domain, _, service = name.partition(".")
    entry = hub.services.get(domain, service)
    if entry is None:
        raise ApiError(404, "not_found", Text("web.service_off", service=name))
    if principal.scoped:
        from ..scope import ScopeIndex

        if not ScopeIndex(hub).call_in_scope(principal, data):
            raise hidden()
    from ...const import SupportsResponse

    want = entry.supports_response is not SupportsResponse.NONE
    try:
        response = await hub.services.call(domain, service, data, context=principal.context(),
                                           return_response=want)
    except ServiceNotFound as err:
        raise ApiError(404, "not_found", text_of(err)) from None
    except ServiceValidationError as err:
        raise invalid_service_call(err, data) from None
    return response


def invalid_service_call(err: ServiceValidationError, data: Mapping[str, Any]) -> ApiError:
    """The 400 of a refused service call: its problems, each worded for the caller."""
    problems = list(err.errors) or [str(err)]
    field = field_of(problems[0]) or _quoted_key(data, problems[0])
    return ApiError(400, "invalid", Joined(problems), field)


def _quoted_key(data: Mapping[str, Any], problem: str) -> str | None:
    """The input key whose value a problem quotes first (``unknown share group 'zz'``)."""
    found = [(problem.find(f"'{value}'"), key) for key, value in data.items()
             if isinstance(value, str) and value and f"'{value}'" in problem]
    return min(found)[1] if found else None


def _unknown_path_id(request: web.Request, keys: Sequence[str], err: ApiError) -> ApiError:
    """A service's refusal of an id the path gave, as the path's 404 (an unknown id is not
    a bad body); any other error as it is."""
    if err.status != 400:
        return err
    for key in keys:
        value = request.match_info[key]
        if "unknown" in err.detail.lower() and f"'{value}'" in err.detail:
            return ApiError(404, "not_found", err.detail, key)
    return err


def service_operation(method: str, path: str, service: str, summary: str, *, tag: str,
                      path_keys: Sequence[str] = (), idempotent: str | None = None,
                      wrap: tuple[str, ...] = (), body: vol.Schema | None = None,
                      extra: Mapping[str, Any] | None = None,
                      roles: Sequence[str] = (),
                      version: Callable[[web.Request], str | None] | None = None) -> Handler:
    """An operation that calls ``service`` with the JSON body and the ``path_keys`` of its
    path (``wrap``: the body goes under those keys, checked first with ``body``; ``extra``:
    fixed data added). With ``idempotent``, an ``Idempotency-Key`` header fills that body
    key when it is missing, so a repeated request (a double click) is counted once by the
    ledger. With ``version`` (the ETag of what the path names), a request whose
    ``If-Match`` names another version is refused with 412: a form shown before another
    user changed the account changes nothing."""

    async def handler(request: web.Request) -> web.Response:
        check_right(request, service)  # before the body: a refusal says nothing of it
        wanted = request.headers.get("If-Match")
        if version is not None and wanted is not None and wanted.strip() != "*":
            current = version(request)
            if current is not None and current not in [tag.strip() for tag in
                                                       wanted.split(",")]:
                raise ApiError(412, "stale", Text("web.stale", current=current),
                               "If-Match", headers={"ETag": current})
        data = await json_body(request)
        if body is not None:
            try:
                body(data)
            except vol.Invalid as err:
                raise invalid(err, data, "body") from None
        for key in reversed(wrap):
            data = {key: data}
        data.update(extra or {})
        for key in path_keys:
            value = request.match_info[key]
            if key in data and data[key] != value:
                raise ApiError(400, "invalid", Text("web.path_differs", key=key,
                                                    body=str(data[key]), path=value), key)
            data[key] = value
        if idempotent is not None and idempotent not in data:
            header = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
            if header:
                data[idempotent] = header
        try:
            response = await call_service(request, service, data)
        except ApiError as err:
            raise _unknown_path_id(request, path_keys, err) from None
        from .errors import in_callers_words  # errors builds on this module

        # messages in the answer (a failed read, a command's error) in the caller's words
        return json_ok({"response": in_callers_words(request, response)})

    handler.__doc__ = summary
    handler.__name__ = handler.__qualname__ = service.replace(".", "_")
    mark = operation(method, path, summary, roles=roles, scoped=True, tag=tag,
                     service=None if body is not None else service, body=body,
                     path_keys=tuple(path_keys), idempotent=idempotent, calls=service,
                     versioned=version is not None,
                     response={"type": "object", "properties": {"response": {}},
                               "required": ["response"]})
    return mark(handler)
