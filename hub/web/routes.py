"""What a plugin's web routes may use (the ``register_routes`` hook's public API).

Handlers reach the hub through ``request.app[HUB_KEY]``; a handler that checks its caller
itself (a platform push with a signature, a payment notification) is marked
:func:`self_authenticated` so the API token guard lets its requests through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

if TYPE_CHECKING:
    from ..core import Hub

__all__ = ["HUB_KEY", "is_self_authenticated", "self_authenticated", "web_port"]

HUB_KEY: web.AppKey[Hub] = web.AppKey("hub")

_SELF_AUTHENTICATED = "meterhub_self_authenticated"

_H = TypeVar("_H")


def self_authenticated(handler: _H) -> _H:
    """Mark a route handler that checks its caller itself (a platform push with a signature,
    a payment notification): the hub's API token guard lets its requests through."""
    setattr(handler, _SELF_AUTHENTICATED, True)
    return handler


def is_self_authenticated(handler: Any) -> bool:
    """Whether a handler was marked with :func:`self_authenticated`."""
    return bool(getattr(handler, _SELF_AUTHENTICATED, False))


def web_port(hub: Hub) -> int | None:
    """The port the hub's web server listens on (None without one, or before it started)."""
    if not hub.has_component("web"):
        return None
    from .server import WebServer

    return hub.component("web", WebServer).port
