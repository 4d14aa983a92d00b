"""The web server: dashboard pages and the REST API (aiohttp), started as the last stage."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..core import Hub

_LOGGER = logging.getLogger(__name__)


@hookimpl
def setup(hub: Hub) -> None:
    """Serve the dashboard and API on the configured host and port once the hub is up."""
    from .server import WebServer

    server = WebServer(hub)
    hub.add_component("web", server)
    # the faces come up after what they show (and the NB-IoT pushes they take reach links)
    # its port is bound with every other before any stage starts (a taken port acts on nothing)
    hub.add_stage("web", bind=server.bind, start=server.start, stop=server.stop,
                  after=("storage", "links", "metering", "ledger", "billing", "analysis",
                         "control"))


@hookimpl
def translations() -> dict[str, dict[str, str]]:
    """The API's error messages (zh-CN and en)."""
    from .api.errors import STRINGS

    return STRINGS
