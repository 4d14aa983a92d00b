"""A page the caller may not open, or that is not there, answered as a page.

A person who types or follows a URL of the dashboard gets the refusal as a page in their
language, inside the layout with their menu, not the API's JSON or a handler's bare text:
the guard's 403 (a role or a scope that may not open it) and 404 (an id outside the scope),
and a handler's 404/410 (an unknown meter, bill or account; a part the site does not run).
What it says is the same for every such page of a status, so it tells nothing about what
exists outside the caller's scope. API calls, downloads asked by scripts, htmx fragments,
the tenant portal (its own pages) and the login redirect are left as they are — except that
a page's refusal made with :func:`refused` (a form's action, a fragment) answers its message
in the caller's language rather than in English.
"""

from __future__ import annotations

from aiohttp import web

from ...i18n import Joined, Text
from ..access import Handler
from .kit import PageKit

SHOWN = frozenset({403, 404, 405, 410})
NOT_PAGES = ("/api/", "/metrics", "/tenant/", "/static/", "/login", "/setup")


_REFUSALS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest, 403: web.HTTPForbidden, 404: web.HTTPNotFound,
    503: web.HTTPServiceUnavailable}


def refused(status: int, message: Text) -> web.HTTPException:
    """A dashboard page's refusal (400, 403, 404 or 503) saying ``message``: worded for the
    caller by :func:`page_errors` (the error page for a page's GET), English in the log."""
    error = _REFUSALS[status](text=str(message))
    error.said = message  # type: ignore[attr-defined]
    return error


def refused_unknown(what: str, value: str) -> web.HTTPException:
    """The 404 of an unknown meter, account, automation (``what``: ``what.<what>`` words it)."""
    return refused(404, Text("api.unknown", what=Text(f"what.{what}"), value=value))


def wants_page(request: web.Request) -> bool:
    """Whether the request is a browser's navigation to a dashboard page."""
    return (request.method in ("GET", "HEAD") and "text/html" in request.headers.get("Accept", "")
            and "HX-Request" not in request.headers and not request.path.startswith(NOT_PAGES))


@web.middleware
async def page_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer a refused or missing dashboard page with the error page (see the module)."""
    page = wants_page(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if page and exc.status in SHOWN:
            return error_page(request, exc.status)
        said = getattr(exc, "said", None)
        if isinstance(said, Text | Joined) and not request.path.startswith(NOT_PAGES):
            kit = PageKit.of(request.app)  # a form's action or a fragment: its message worded
            return web.Response(status=exc.status, text=kit.hub.i18n.text(
                said, kit.language(request)))
        raise
    if page and response.status in SHOWN and response.content_type != "text/html":
        return error_page(request, response.status)
    return response


def error_page(request: web.Request, status: int) -> web.Response:
    """The error page of ``status`` for the caller."""
    kit = PageKit.of(request.app)
    shown = 403 if status == 403 else 404  # 405 (a GET of a form's action), 410: not here
    return kit.render(request, "error.html", status=status, status_shown=shown)
