"""The tenant portal: per-account links (``/tenant/{token}``), their pages, the QR sheet for
the room doors, WeChat OAuth binding, the landlord's announcements (docs/portal.md)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from .config import PORTAL_SCHEMA
from .strings import TRANSLATIONS

if TYPE_CHECKING:
    from ..core import Hub

CONF_PORTAL = "portal"


@hookimpl
def config_schema() -> dict[str, Any]:
    """Claim the ``portal:`` block."""
    return {CONF_PORTAL: PORTAL_SCHEMA}


@hookimpl
def translations() -> dict[str, dict[str, str]]:
    """The portal's texts in zh-CN and en."""
    return TRANSLATIONS


@hookimpl
def register_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """``meterhub tenant ...``."""
    from .cli import add_commands

    add_commands(subparsers)


@hookimpl
def setup(hub: Hub) -> None:
    """The links component and the tenant.* services (needs storage, the accounts, web)."""
    if not (hub.has_component("storage") and hub.has_component("accounts")
            and hub.has_component("web")):
        return
    from ..ledger import AccountBook
    from ..storage import Storage
    from ..web.server import WebServer
    from .links import TenantLinks
    from .services import register_services

    book = hub.component("accounts", AccountBook)
    links = TenantLinks(hub, hub.component("storage", Storage), lambda: book.accounts)
    hub.add_component("tenant_links", links)
    register_services(hub, links, _config(hub), hub.component("web", WebServer).templates)


@hookimpl
def register_routes(hub: Hub) -> list[Any]:
    """The portal's pages under /tenant/{token}."""
    if not hub.has_component("tenant_links"):
        return []
    from ..web.server import WebServer
    from .links import TenantLinks
    from .views import Portal

    portal = Portal(hub, hub.component("tenant_links", TenantLinks), _config(hub),
                    hub.component("web", WebServer).templates)
    return portal.routes()


def _config(hub: Hub) -> dict[str, Any]:
    block = hub.config.block(CONF_PORTAL)
    return dict(block) if block else dict(PORTAL_SCHEMA({}))
