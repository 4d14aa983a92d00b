"""What a plugin's web routes may use (the ``register_routes`` hook's public API).

Handlers reach the hub through ``request.app[HUB_KEY]`` and the caller through
:func:`principal_of`. Every route needs a logged-in user unless it says otherwise:

- :func:`self_authenticated`: the handler checks its caller itself (a platform push with a
  token or signature, a payment notification); the guard lets anyone reach it.
- :func:`tenant_link`: a tenant-portal route whose URL carries the link token of one
  account; the handler must check that token itself (the tenant portal, hub/portal).
- :func:`allow`: which roles may call it, and whether it filters what it returns by the
  caller's scope. Without it, a read (GET) is open to every role with the whole site in
  view (a landlord or operator with a scope is refused), a change is for admins only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

if TYPE_CHECKING:
    from ..auth import Principal
    from ..core import Hub

__all__ = ["HUB_KEY", "PRINCIPAL_KEY", "Access", "access_of", "allow", "caller_sees",
           "is_self_authenticated", "not_found", "principal_of", "public",
           "self_authenticated", "tenant_link", "web_port"]

HUB_KEY: web.AppKey[Hub] = web.AppKey("hub")
PRINCIPAL_KEY: Any = (web.RequestKey("meterhub_principal") if hasattr(web, "RequestKey")
                      else "meterhub_principal")  # aiohttp before 3.13: a plain key
"""Where the guard puts the caller (a ``Principal``) on the request."""

_ACCESS = "meterhub_access"
_ALL_ROLES = ("admin", "landlord", "operator", "finance", "viewer")

_H = TypeVar("_H")


@dataclass(frozen=True)
class Access:
    """Who may reach a route: ``anyone`` (public, self-authenticated, tenant link), else the
    ``roles``; ``scoped`` when the handler filters by the caller's scope (path ids such as
    ``{meter_id}`` or ``{account_id}`` out of scope are answered 404 by the guard)."""

    roles: frozenset[str] = frozenset()
    scoped: bool = False
    anyone: str | None = None  # why anyone may come: public | self_authenticated | tenant_link


def _mark(handler: _H, access: Access) -> _H:
    setattr(handler, _ACCESS, access)
    return handler


def allow(*roles: str, scoped: bool = False) -> Callable[[_H], _H]:
    """Mark a handler: the ``roles`` that may call it (none named: every role), and with
    ``scoped=True`` that it shows a scoped caller only what lies in their scope."""
    unknown = set(roles) - set(_ALL_ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")  # i18n: internal (a bug, at import)

    def mark(handler: _H) -> _H:
        return _mark(handler, Access(frozenset(roles or _ALL_ROLES), scoped))
    return mark


def public(handler: _H) -> _H:
    """Mark a handler anyone may reach (the login page)."""
    return _mark(handler, Access(anyone="public"))


def self_authenticated(handler: _H) -> _H:
    """Mark a route handler that checks its caller itself (a platform push with a token or
    signature, a payment notification): the guard lets its requests through."""
    return _mark(handler, Access(anyone="self_authenticated"))


def tenant_link(handler: _H) -> _H:
    """Mark a tenant-portal handler: the link token in its URL is the key to one account,
    read-only except paying, and the handler must check it itself before answering."""
    return _mark(handler, Access(anyone="tenant_link"))


def is_self_authenticated(handler: Any) -> bool:
    """Whether a handler was marked with :func:`self_authenticated`."""
    return access_of(handler, "GET").anyone == "self_authenticated"


def access_of(handler: Any, method: str) -> Access:
    """Who may reach ``handler`` by ``method`` (its mark, else the default)."""
    found = getattr(handler, _ACCESS, None)
    if isinstance(found, Access):
        return found
    if method in ("GET", "HEAD"):
        return Access(frozenset(_ALL_ROLES))
    return Access(frozenset({"admin"}))


def principal_of(request: web.Request) -> Principal | None:
    """The authenticated caller of a request (None on a route anyone may reach)."""
    found: Principal | None = request.get(PRINCIPAL_KEY)
    return found




def caller_sees(request: web.Request, kind: str, value: str) -> bool:
    """Whether the caller may see a ``meter_id``, ``account_id`` or ``entity_id`` (always,
    without a scope): what a ``scoped`` handler filters its lists with."""
    principal = principal_of(request)
    if principal is None or not principal.scoped:
        return True
    from .scope import ScopeIndex

    return ScopeIndex(request.app[HUB_KEY]).visible(principal, kind, value)


def not_found() -> web.Response:
    """The answer for what lies outside the caller's scope: the same 404 as for an id that
    does not exist (a scoped handler gives it for both)."""
    from ..i18n import Text
    from .access import json_error

    return json_error(Text("web.not_found"), 404)


def web_port(hub: Hub) -> int | None:
    """The port the hub's web server listens on (None without one, or before it started)."""
    if not hub.has_component("web"):
        return None
    from .server import WebServer

    return hub.component("web", WebServer).port
