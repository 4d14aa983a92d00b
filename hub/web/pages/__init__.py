"""The pages' toolkit: the base layout, language, money and time filters, flash messages,
confirmation and forms (:class:`PageKit`), and the layout's own routes.

The web server makes one kit per app (:func:`install_pages`); the dashboard's pages
(``hub.dashboard``, routes through the ``register_routes`` hook) reach it with
``PageKit.of(request.app)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .errors import refused, refused_unknown
from .kit import (
    KIT_KEY,
    NAV,
    NavItem,
    Paged,
    PageError,
    PageKit,
    caller,
    fen_text,
    money_text,
    paged,
    safe_next,
)
from .layout import LayoutPages

if TYPE_CHECKING:
    import jinja2

    from ...core import Hub

__all__ = ["KIT_KEY", "NAV", "NavItem", "PageError", "PageKit", "Paged", "caller", "fen_text",
           "install_pages", "money_text", "paged", "refused",
           "refused_unknown", "safe_next"]


def install_pages(app: web.Application, hub: Hub, templates: jinja2.Environment) -> PageKit:
    """Make the app's :class:`PageKit` and add the dashboard's routes to ``app``."""
    kit = PageKit(hub, templates)
    app[KIT_KEY] = kit
    app.add_routes(LayoutPages(kit).routes())
    return kit
