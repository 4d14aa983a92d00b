"""A real HTTP receiver on loopback for notifications (apprise json:// and form:// URLs post
to it): the notify and automation tests' local end of a webhook."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "SECRETTOKEN123"  # put in every receiver URL: it must never reach a log line


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    body: dict[str, Any]
    at: float


@dataclass
class Receiver:
    """An aiohttp server on 127.0.0.1 that apprise's json:// and form:// URLs post to.

    ``plan`` holds the status of each next answer (then 200); ``hang`` makes it never answer;
    paths starting with ``/fail`` always get a 500.
    """

    plan: list[int] = field(default_factory=list)
    hang: bool = False
    received: list[Received] = field(default_factory=list)
    answered: int = 0
    port: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "hook", scheme: str = "json") -> str:
        """An apprise URL posting to this receiver, with the secret token in its path."""
        return f"{scheme}://127.0.0.1:{self.port}/{path}/{TOKEN}"

    def bodies(self, path: str | None = None) -> list[dict[str, Any]]:
        """The bodies received (on one path prefix, if given)."""
        return [r.body for r in self.received if path is None or r.path.startswith(f"/{path}/")]

    async def handle(self, request: web.Request) -> web.Response:
        """Record the request, then answer as planned."""
        if request.content_type == "application/json":
            body = await request.json()
        else:
            body = dict(await request.post())
        self.received.append(Received(request.path, body, time.monotonic()))
        if self.hang:
            await self.release.wait()  # until the test ends
        status = 500 if request.path.startswith("/fail") else (
            self.plan.pop(0) if self.plan else 200)
        self.answered += 1
        return web.Response(status=status, text="ok" if status < 400 else "error")


@asynccontextmanager
async def serve_app(app: web.Application) -> AsyncIterator[int]:
    """Serve ``app`` on 127.0.0.1 (a free port, yielded); stopped (bounded) afterwards."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    try:
        yield server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    finally:
        async with asyncio.timeout(10):
            await runner.cleanup()


@asynccontextmanager
async def receiver(plan: list[int] | None = None, hang: bool = False) -> AsyncIterator[Receiver]:
    """A started receiver, stopped (bounded) afterwards."""
    state = Receiver(plan=list(plan or []), hang=hang)
    app = web.Application()
    app.router.add_post("/{tail:.*}", state.handle)
    async with serve_app(app) as port:
        state.port = port
        try:
            yield state
        finally:
            state.release.set()  # a hanging handler answers, so the server can stop
