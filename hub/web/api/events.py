"""The live event stream: server-sent events at ``/api/events``, within the caller's scope.

Every bus event gets a number (its SSE ``id``) and is kept in a short ring. A client that
reconnects with ``Last-Event-ID`` gets what it missed when the ring still holds it (an id
the hub does not know — after a restart — just starts from now). A comment line every
:data:`KEEPALIVE` seconds keeps proxies from closing a quiet stream. A caller with a scope
receives only events about its own meters and accounts: an event whose data names a
``meter_id``, ``meters``, ``account_id`` or ``entity_id`` that are all in the scope; events
naming none of them (hub, links, services) are the whole site's and not sent to it. When
the hub stops, each stream ends with an ``event: close`` and the connection closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import voluptuous as vol
from aiohttp import web

from ... import validation as cv
from ...const import MATCH_ALL
from ...util.jsonutil import dumps
from ..routes import principal_of
from .base import hub_of, operation, route_defs, validated_query, while_serving
from .errors import language_of

if TYPE_CHECKING:
    from ...auth import Principal
    from ...core import Event, Hub
    from ..scope import ScopeIndex

_LOGGER = logging.getLogger(__name__)

KEEPALIVE = 15.0
RING = 1000
QUEUE = 2000
FEED_KEY: web.AppKey[EventFeed] = web.AppKey("meterhub_event_feed")
QUERY = vol.Schema({
    vol.Optional("types", description="comma-separated event types (default: all)"):
        vol.All(cv.string, vol.Length(max=500)),
    vol.Optional("meter_id", description="only events about this meter (a page following one)"):
        vol.All(cv.string, vol.Length(max=200)),
    vol.Optional("close_after", description="end the stream after this many seconds "
                                            "(0: right after what Last-Event-ID missed)"):
        vol.All(vol.Coerce(float), vol.Range(min=0, max=86400)),
})

Item = tuple[int, "Event"] | None  # None: the hub stops


class EventFeed:
    """Numbers the bus's events, keeps the latest, and hands them to open streams."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.seq = 0
        self.recent: deque[tuple[int, Event]] = deque(maxlen=RING)
        self.streams: set[asyncio.Queue[Item]] = set()
        self.keepalive = KEEPALIVE
        self._unsubscribe: Any = None

    def start(self) -> None:
        """Listen to every event."""
        self._unsubscribe = self.hub.bus.listen(MATCH_ALL, self._on_event)

    def stop(self) -> None:
        """Stop listening and end every stream."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for queue in list(self.streams):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    def _on_event(self, event: Event) -> None:
        self.seq += 1
        item = (self.seq, event)
        self.recent.append(item)
        for queue in list(self.streams):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:  # a client that does not read: it is dropped
                _LOGGER.warning("An event stream fell %d events behind: closed", QUEUE)
                self.streams.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)

    def since(self, last: int | None) -> list[tuple[int, Event]]:
        """The kept events after ``last`` (none when it is unknown or None)."""
        if last is None or not self.recent or last < self.recent[0][0] - 1 or last > self.seq:
            return []
        return [item for item in self.recent if item[0] > last]


def _named(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    named = [(key, str(data[key])) for key in ("meter_id", "account_id", "entity_id")
             if isinstance(data.get(key), str)]
    meters = data.get("meters")
    if isinstance(meters, list | tuple):
        named += [("meter_id", str(meter)) for meter in meters]
    return named


def visible(scopes: ScopeIndex, principal: Principal, event: Event) -> bool:
    """Whether a caller may receive an event (see the module docstring)."""
    if not principal.scoped:
        return True
    named = _named(event.data)
    return bool(named) and all(scopes.visible(principal, kind, value) for kind, value in named)


def _last_event_id(request: web.Request) -> int | None:
    text = request.headers.get("Last-Event-ID", "").strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


@operation("GET", "/api/events", "Live events as server-sent events, within the caller's "
           "scope (Last-Event-ID resumes from the kept ones)", tag="events", query=QUERY,
           content_type="text/event-stream", response={"type": "string"})
async def stream(request: web.Request) -> web.StreamResponse:
    """The event stream."""
    query = validated_query(request, QUERY)
    types = {t.strip() for t in str(query.get("types") or "").split(",") if t.strip()}
    about = query.get("meter_id")
    hub = hub_of(request)
    feed = request.app[FEED_KEY]
    principal = principal_of(request)
    assert principal is not None
    from ..scope import ScopeIndex

    scopes = ScopeIndex(hub)
    headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
               "X-Accel-Buffering": "no"}
    if request.method == "HEAD":
        return web.Response(headers=headers)
    language = language_of(request)

    def words(value: Any) -> Any:  # the hub's messages in the data in the caller's language
        return hub.i18n.answer(value, language)
    queue: asyncio.Queue[Item] = asyncio.Queue(QUEUE)
    backlog = feed.since(_last_event_id(request))
    feed.streams.add(queue)
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    try:
        await response.write(f"retry: 3000\n: scope {'yes' if principal.scoped else 'no'}"
                             f"\n\n".encode())
        for missed in backlog:
            await _send(response, missed, types, scopes, principal, about, words)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + query["close_after"] if "close_after" in query else None
        while True:
            wait = feed.keepalive
            if deadline is not None:
                wait = min(wait, deadline - loop.time())
                if wait <= 0:
                    break
            try:
                item = await asyncio.wait_for(queue.get(), wait)
            except TimeoutError:
                if deadline is not None and loop.time() >= deadline:
                    break
                await response.write(b": keep-alive\n\n")
                continue
            if item is None:
                await response.write(b"event: close\ndata: {}\n\n")
                break
            await _send(response, item, types, scopes, principal, about, words)
    except ConnectionResetError:
        return response
    finally:
        feed.streams.discard(queue)
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


async def _send(response: web.StreamResponse, item: tuple[int, Event], types: set[str],
                scopes: ScopeIndex, principal: Principal, about: str | None = None,
                words: Callable[[Any], Any] = lambda value: value) -> None:
    seq, event = item
    if types and event.event_type not in types:
        return
    if about is not None and ("meter_id", about) not in _named(event.data):
        return
    if not visible(scopes, principal, event):
        return
    try:
        data = dumps(words(event.as_dict()))
    except TypeError:  # an event carrying something that is not data: say what it was
        data = dumps({"event_type": event.event_type, "time_fired": event.time_fired,
                      "data": {}})
    await response.write(f"id: {seq}\nevent: {event.event_type}\ndata: {data}\n\n".encode())


def install(app: web.Application, hub: Hub) -> None:
    """Add the feed to the app: listening while it serves, streams ended at shutdown."""
    feed = EventFeed(hub)
    app[FEED_KEY] = feed
    while_serving(app, feed.start, feed.stop)


def routes() -> list[web.RouteDef]:
    """The stream's route."""
    return route_defs([stream])
