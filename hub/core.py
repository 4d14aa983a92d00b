"""The running hub: event bus, states, services, and the start-up/shutdown sequence.

Everything else (storage, metering, billing, prepaid, automations, web, plugins) talks to the
core through these three objects, so that the same events and services serve the dashboard,
the API, the CLI, automations and plugins alike.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import logging
import re
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar

import voluptuous as vol

from .const import (
    MATCH_ALL,
    STAGE_START_TIMEOUT,
    STAGE_STOP_TIMEOUT,
    TASK_CANCEL_TIMEOUT,
    HubState,
    SupportsResponse,
)
from .events import (
    EVENT_CALL_SERVICE,
    EVENT_HUB_FINAL_WRITE,
    EVENT_HUB_START,
    EVENT_HUB_STARTED,
    EVENT_HUB_STOP,
    EVENT_SERVICE_REGISTERED,
    EVENT_SERVICE_REMOVED,
    EVENT_STATE_CHANGED,
)
from .exceptions import (
    HubStoppingError,
    InvalidEntityId,
    ServiceNotFound,
    ServiceValidationError,
    StartupRefused,
)
from .i18n import Text, Translator
from .startup import Stage, StartupOrderError, start_order
from .util.collector import collector_paused
from .util.dt import utc_from_timestamp, utcnow
from .util.ids import new_id
from .util.memory import release_free_memory
from .validation import humanize_invalid

if TYPE_CHECKING:
    from .config import HubConfig
    from .plugins import PluginManager

__all__ = [
    "Context", "Event", "EventBus", "EventData", "EventFilter", "Hub", "Listener", "ServiceCall",
    "ServiceHandler", "ServiceRegistry", "State", "States", "Unsubscribe", "valid_entity_id",
]

_LOGGER = logging.getLogger(__name__)

# gc thresholds of a running hub: young objects before a collection, then how many young and
# middle collections before the next older one (Python's defaults: 700, 10, 10)
GC_THRESHOLDS: Final = (50_000, 20, 100)

_ENTITY_ID_RE: Final = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")

EventData: TypeAlias = Mapping[str, Any]
EventFilter: TypeAlias = Callable[[EventData], bool]
Listener: TypeAlias = Callable[["Event"], Any]
Unsubscribe: TypeAlias = Callable[[], None]
ServiceHandler: TypeAlias = Callable[["ServiceCall"], Any]
_T = TypeVar("_T")
_R = TypeVar("_R")


def callable_name(func: object) -> str:
    """Return a readable name for a listener or handler, for logs."""
    while isinstance(func, functools.partial):
        func = func.func
    module = getattr(func, "__module__", None) or ""
    name = getattr(func, "__qualname__", None) or repr(func)
    return f"{module}.{name}" if module else str(name)


def _is_coroutine_function(func: Callable[..., Any]) -> bool:
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )


class Context:
    """Who or what caused something: carried by every event, state and service call.

    ``parent_id`` links a context to the one that caused it (a reading's context is the
    parent of the trip command it triggers). ``user_id`` is the authenticated user behind
    it (set by the web guard from the session or API token, ``@cli`` for the hub's own
    command line), never a name a caller typed; ``origin`` says through what (``api:token:
    <id>``, an automation, a plugin, ``billing``...).
    """

    __slots__ = ("id", "origin", "parent_id", "user_id")

    id: str
    parent_id: str | None
    user_id: str | None
    origin: str | None

    def __init__(
        self,
        id: str | None = None,
        parent_id: str | None = None,
        user_id: str | None = None,
        origin: str | None = None,
    ) -> None:
        self.id = id or new_id()
        self.parent_id = parent_id
        self.user_id = user_id
        self.origin = origin

    @property
    def author(self) -> str | None:
        """Who caused it: the user, else the automation, plugin or part of the hub."""
        return self.user_id or self.origin

    def child(self, origin: str | None = None) -> Context:
        """Return a new context caused by this one (same user)."""
        return Context(parent_id=self.id, user_id=self.user_id, origin=origin)

    def as_dict(self) -> dict[str, str | None]:
        """Return the context as a JSON-friendly dict."""
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "user_id": self.user_id,
            "origin": self.origin,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return (
            f"<Context {self.id} parent={self.parent_id} user={self.user_id} "
            f"origin={self.origin}>"
        )


class Event:
    """Something that happened: an immutable record of type, data, time and context."""

    __slots__ = ("_time", "context", "data", "event_type", "time_fired_ts")

    event_type: str
    data: EventData
    time_fired_ts: float
    context: Context
    _time: datetime | None

    def __init__(
        self,
        event_type: str,
        data: EventData,
        time_fired_ts: float,
        context: Context,
    ) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "event_type", event_type)
        setattr_(self, "data", data if type(data) is MappingProxyType else MappingProxyType(data))
        setattr_(self, "time_fired_ts", time_fired_ts)
        setattr_(self, "context", context)
        setattr_(self, "_time", None)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Event is immutable (tried to set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Event is immutable (tried to delete {name!r})")

    @property
    def time_fired(self) -> datetime:
        """Return the time the event was fired as an aware UTC datetime."""
        value: datetime | None = self._time
        if value is None:
            value = utc_from_timestamp(self.time_fired_ts)
            object.__setattr__(self, "_time", value)
        return value

    def as_dict(self) -> dict[str, Any]:
        """Return the event as a JSON-friendly dict."""
        return {
            "event_type": self.event_type,
            "data": dict(self.data),
            "time_fired": self.time_fired.isoformat(),
            "context": self.context.as_dict(),
        }

    def __repr__(self) -> str:
        return f"<Event {self.event_type} {dict(self.data)!r}>"


class _Listener:
    """A registered listener; tuples of these are swapped, never mutated, on (un)subscribe."""

    __slots__ = ("callback", "event_filter", "is_coroutine", "name")

    def __init__(self, callback: Listener, event_filter: EventFilter | None) -> None:
        self.callback = callback
        self.event_filter = event_filter
        self.is_coroutine = _is_coroutine_function(callback)
        self.name = callable_name(callback)


class EventBus:
    """Fires events to listeners of one event type or of all types (``MATCH_ALL``).

    Plain callables run in the loop's thread as soon as the event is dispatched, in the order
    they subscribed; coroutine functions are scheduled as tracked tasks. Events fired while
    listeners run are queued and dispatched after the current event, so ordering is FIFO and
    a listener firing events never recurses. A listener that raises is logged with its name;
    the other listeners and the bus carry on.
    """

    def __init__(self, hub: Hub | None = None) -> None:
        self._hub = hub
        self._listeners: dict[str, tuple[_Listener, ...]] = {}
        self._match_all: tuple[_Listener, ...] = ()
        self._queue: deque[tuple[str, EventData, Context | None, float | None]] = deque()
        self._dispatching = False
        self._time = time.time

    def listeners(self) -> dict[str, int]:
        """Return the number of listeners per event type."""
        counts = {etype: len(lst) for etype, lst in self._listeners.items()}
        if self._match_all:
            counts[MATCH_ALL] = len(self._match_all)
        return counts

    def listen(
        self,
        event_type: str,
        listener: Listener,
        event_filter: EventFilter | None = None,
    ) -> Unsubscribe:
        """Call ``listener(event)`` for each event of ``event_type`` (or ``MATCH_ALL``).

        ``event_filter(data)`` runs on the event data before any Event object is built;
        the listener runs only when it returns true. Returns the function that unsubscribes.
        """
        if not callable(listener):
            raise TypeError(f"listener for {event_type!r} is not callable: {listener!r}")
        entry = _Listener(listener, event_filter)
        self._add(event_type, entry)
        return functools.partial(self._remove, event_type, entry)

    def listen_once(
        self,
        event_type: str,
        listener: Listener,
        event_filter: EventFilter | None = None,
    ) -> Unsubscribe:
        """Like :meth:`listen`, but the listener is removed before its first call."""
        fired = False
        unsub: Unsubscribe | None = None

        def _once(event: Event) -> Any:
            nonlocal fired
            if fired:
                return None
            fired = True
            if unsub is not None:
                unsub()
            return listener(event)

        functools.update_wrapper(_once, listener)
        entry = _Listener(_once, event_filter)
        entry.is_coroutine = False  # the wrapper returns the awaitable, if any
        self._add(event_type, entry)
        unsub = functools.partial(self._remove, event_type, entry)
        return unsub

    def _add(self, event_type: str, entry: _Listener) -> None:
        if event_type == MATCH_ALL:
            self._match_all = (*self._match_all, entry)
        else:
            self._listeners[event_type] = (*self._listeners.get(event_type, ()), entry)

    def _remove(self, event_type: str, entry: _Listener) -> None:
        current = self._match_all if event_type == MATCH_ALL else self._listeners.get(event_type)
        if not current or entry not in current:
            return  # already removed: unsubscribing twice is harmless
        remaining = tuple(item for item in current if item is not entry)
        if event_type == MATCH_ALL:
            self._match_all = remaining
        elif remaining:
            self._listeners[event_type] = remaining
        else:
            del self._listeners[event_type]

    def fire(
        self,
        event_type: str,
        data: EventData | None = None,
        context: Context | None = None,
        time_fired: float | None = None,
    ) -> None:
        """Fire an event. Must be called from the event loop's thread."""
        self._queue.append((event_type, data if data is not None else {}, context, time_fired))
        if self._dispatching:
            return
        self._dispatching = True
        try:
            queue = self._queue
            while queue:
                self._dispatch(*queue.popleft())
        finally:
            self._dispatching = False

    def fire_threadsafe(
        self,
        loop: asyncio.AbstractEventLoop,
        event_type: str,
        data: EventData | None = None,
        context: Context | None = None,
    ) -> None:
        """Fire an event from another thread."""
        loop.call_soon_threadsafe(self.fire, event_type, data, context, self._time())

    def _dispatch(
        self,
        event_type: str,
        data: EventData,
        context: Context | None,
        time_fired: float | None,
    ) -> None:
        listeners = self._listeners.get(event_type, ())
        if self._match_all:
            listeners = listeners + self._match_all
        if not listeners:
            return
        event: Event | None = None
        for entry in listeners:
            if entry.event_filter is not None:
                try:
                    if not entry.event_filter(data):
                        continue
                except Exception:
                    _LOGGER.exception(
                        "Error in event filter of %s for %s", entry.name, event_type
                    )
                    continue
            if event is None:
                event = Event(
                    event_type,
                    data,
                    time_fired if time_fired is not None else self._time(),
                    context if context is not None else Context(),
                )
            try:
                if entry.is_coroutine:
                    self._schedule(entry, event)
                else:
                    result = entry.callback(event)
                    if result is not None and inspect.isawaitable(result):
                        self._schedule_awaitable(entry, result)
            except Exception:
                _LOGGER.exception("Error in listener %s for %s", entry.name, event_type)

    def _schedule(self, entry: _Listener, event: Event) -> None:
        self._schedule_awaitable(entry, entry.callback(event))

    def _schedule_awaitable(self, entry: _Listener, awaitable: Awaitable[Any]) -> None:
        coro = _guarded(awaitable, entry.name)
        if self._hub is not None:
            self._hub.create_task(coro, f"listener {entry.name}")
        else:
            asyncio.get_running_loop().create_task(coro, name=f"listener {entry.name}")


async def _guarded(awaitable: Awaitable[Any], name: str) -> None:
    try:
        await awaitable
    except asyncio.CancelledError:
        raise
    except Exception:
        _LOGGER.exception("Error in listener %s", name)


class State:
    """The latest value of one entity (``meter.r101_e``) with its attributes.

    ``last_changed`` moves only when the value changes; ``last_updated`` moves when the
    value or any attribute changes.
    """

    __slots__ = (
        "attributes",
        "context",
        "domain",
        "entity_id",
        "last_changed",
        "last_updated",
        "state",
    )

    entity_id: str
    state: Any
    attributes: Mapping[str, Any]
    last_changed: datetime
    last_updated: datetime
    context: Context
    domain: str

    def __init__(
        self,
        entity_id: str,
        state: Any,
        attributes: Mapping[str, Any] | None = None,
        last_changed: datetime | None = None,
        last_updated: datetime | None = None,
        context: Context | None = None,
    ) -> None:
        if not valid_entity_id(entity_id):
            raise InvalidEntityId(  # i18n: internal (a plugin's bug: ids are checked at config)
                f"invalid entity id {entity_id!r}: expected 'domain.object_id' "
                "in lower-case letters, digits and underscores"
            )
        now = last_updated or utcnow()
        setattr_ = object.__setattr__
        setattr_(self, "entity_id", entity_id)
        setattr_(self, "state", state)
        setattr_(self, "attributes", MappingProxyType(dict(attributes or {})))
        setattr_(self, "last_updated", now)
        setattr_(self, "last_changed", last_changed or now)
        setattr_(self, "context", context or Context())
        # one string per domain, not one per state (20,000 states at 10,000 meters)
        setattr_(self, "domain", sys.intern(entity_id.partition(".")[0]))

    @property
    def object_id(self) -> str:
        """The part of the entity id after the domain (``r101_e`` of ``meter.r101_e``)."""
        return self.entity_id.partition(".")[2]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"State is immutable (tried to set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"State is immutable (tried to delete {name!r})")

    def as_dict(self) -> dict[str, Any]:
        """Return the state as a JSON-friendly dict (Decimals stay Decimals)."""
        return {
            "entity_id": self.entity_id,
            "state": self.state,
            "attributes": dict(self.attributes),
            "last_changed": self.last_changed.isoformat(),
            "last_updated": self.last_updated.isoformat(),
            "context": self.context.as_dict(),
        }

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, State)
            and self.entity_id == other.entity_id
            and self.state == other.state
            and self.attributes == other.attributes
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<State {self.entity_id}={self.state!r} {dict(self.attributes)!r}>"


def valid_entity_id(entity_id: str) -> bool:
    """Return whether ``entity_id`` is ``domain.object_id`` in slug characters."""
    return isinstance(entity_id, str) and _ENTITY_ID_RE.match(entity_id) is not None


class States:
    """Holds the current State of every entity and fires ``state_changed`` on change."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._states: dict[str, State] = {}

    def get(self, entity_id: str) -> State | None:
        """Return the state of an entity, or None."""
        return self._states.get(entity_id.lower())

    def all(self, domain: str | None = None) -> list[State]:
        """Return all states, or those of one domain."""
        if domain is None:
            return list(self._states.values())
        return [s for s in self._states.values() if s.domain == domain]

    def entity_ids(self, domain: str | None = None) -> list[str]:
        """Return all entity ids, or those of one domain."""
        return [s.entity_id for s in self.all(domain)]

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, entity_id: object) -> bool:
        return isinstance(entity_id, str) and entity_id.lower() in self._states

    def set(
        self,
        entity_id: str,
        state: Any,
        attributes: Mapping[str, Any] | None = None,
        *,
        force_update: bool = False,
        context: Context | None = None,
        timestamp: datetime | None = None,
    ) -> State:
        """Set an entity's state; fire ``state_changed`` only if value or attributes changed.

        Returns the entity's current State (the old one if nothing changed).
        """
        entity_id = entity_id.lower()
        old = self._states.get(entity_id)
        attrs = attributes if attributes is not None else {}
        same_value = old is not None and old.state == state
        if same_value and old is not None and not force_update and old.attributes == attrs:
            return old
        now = timestamp or utcnow()
        new = State(
            entity_id,
            state,
            attrs,
            last_changed=old.last_changed if same_value and old is not None else now,
            last_updated=now,
            context=context,
        )
        self._states[entity_id] = new
        self._bus.fire(
            EVENT_STATE_CHANGED,
            {"entity_id": entity_id, "old_state": old, "new_state": new},
            context=new.context,
        )
        return new

    def restore(self, state: State) -> None:
        """Put back a state saved before a restart, without firing events."""
        self._states[state.entity_id] = state

    def remove(self, entity_id: str, context: Context | None = None) -> bool:
        """Remove an entity; fires ``state_changed`` with ``new_state`` None."""
        old = self._states.pop(entity_id.lower(), None)
        if old is None:
            return False
        self._bus.fire(
            EVENT_STATE_CHANGED,
            {"entity_id": old.entity_id, "old_state": old, "new_state": None},
            context=context,
        )
        return True


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """One call of a service: validated data and the context of whoever called it."""

    domain: str
    service: str
    data: Mapping[str, Any]
    context: Context
    return_response: bool = False

    @property
    def name(self) -> str:
        """Return ``domain.service``."""
        return f"{self.domain}.{self.service}"


@dataclass(frozen=True, slots=True)
class Service:
    """A registered service."""

    domain: str
    service: str
    handler: ServiceHandler
    schema: vol.Schema | None
    supports_response: SupportsResponse
    description: str
    is_coroutine: bool


class ServiceRegistry:
    """Named async callables (``domain.service``) validated by a voluptuous schema."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._services: dict[str, dict[str, Service]] = {}

    def register(
        self,
        domain: str,
        service: str,
        handler: ServiceHandler,
        schema: vol.Schema | Mapping[Any, Any] | None = None,
        *,
        supports_response: SupportsResponse | str = SupportsResponse.NONE,
        description: str = "",
    ) -> Callable[[], None]:
        """Register a service; returns the function that removes it again."""
        domain, service = domain.lower(), service.lower()
        supports_response = SupportsResponse(supports_response)
        if schema is not None and not isinstance(schema, vol.Schema):
            schema = vol.Schema(dict(schema))
        if service in self._services.get(domain, {}):
            _LOGGER.warning("Service %s.%s registered again: the newer handler wins", domain,
                            service)
        entry = Service(
            domain,
            service,
            handler,
            schema,
            supports_response,
            description or (inspect.getdoc(handler) or "").split("\n", 1)[0],
            _is_coroutine_function(handler),
        )
        self._services.setdefault(domain, {})[service] = entry
        self._hub.bus.fire(EVENT_SERVICE_REGISTERED, {"domain": domain, "service": service})
        return functools.partial(self.remove, domain, service, entry)

    def remove(self, domain: str, service: str, entry: Service | None = None) -> None:
        """Remove a service (only ``entry``, if given and still the registered one)."""
        services = self._services.get(domain, {})
        current = services.get(service)
        if current is None or (entry is not None and current is not entry):
            return
        del services[service]
        if not services:
            del self._services[domain]
        self._hub.bus.fire(EVENT_SERVICE_REMOVED, {"domain": domain, "service": service})

    def has(self, domain: str, service: str) -> bool:
        """Return whether a service is registered."""
        return service.lower() in self._services.get(domain.lower(), {})

    def get(self, domain: str, service: str) -> Service | None:
        """Return the registered service, or None."""
        return self._services.get(domain.lower(), {}).get(service.lower())

    def all(self) -> dict[str, dict[str, Service]]:
        """Return every service, by domain then name."""
        return {domain: dict(services) for domain, services in self._services.items()}

    def validate(self, domain: str, service: str, data: Mapping[str, Any] | None) -> Any:
        """Validate data against a service's schema, raising ServiceValidationError."""
        entry = self.get(domain, service)
        if entry is None:
            raise ServiceNotFound(domain, service)
        return self._validate(entry, data)

    @staticmethod
    def _validate(entry: Service, data: Mapping[str, Any] | None) -> Mapping[str, Any]:
        payload = dict(data or {})
        if entry.schema is None:
            return payload
        try:
            validated: Mapping[str, Any] = entry.schema(payload)
        except vol.Invalid as err:
            raise ServiceValidationError(
                f"{entry.domain}.{entry.service}", humanize_invalid(err, payload, "data")
            ) from None
        return validated

    async def call(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any] | None = None,
        *,
        context: Context | None = None,
        return_response: bool = False,
        blocking: bool = True,
    ) -> Any:
        """Call a service. Validates first, so bad data never reaches the handler.

        With ``blocking`` the handler's result (or exception) comes back to the caller;
        without it the call is scheduled, and an error is logged with the service's name.
        """
        entry = self.get(domain, service)
        if entry is None:
            raise ServiceNotFound(domain, service)
        if return_response and entry.supports_response is SupportsResponse.NONE:
            raise ServiceValidationError(
                f"{entry.domain}.{entry.service}", [Text("core.no_response")]
            )
        if not return_response and entry.supports_response is SupportsResponse.ONLY:
            raise ServiceValidationError(
                f"{entry.domain}.{entry.service}", [Text("core.response_only")],
            )
        validated = self._validate(entry, data)
        context = context or Context()
        call = ServiceCall(entry.domain, entry.service, validated, context, return_response)
        self._hub.bus.fire(
            EVENT_CALL_SERVICE,
            {"domain": entry.domain, "service": entry.service, "service_data": validated},
            context=context,
        )
        if not blocking:
            self._hub.create_task(self._run_logged(entry, call), f"service {call.name}")
            return None
        response = await self._run(entry, call)
        return response if return_response else None

    @staticmethod
    async def _run(entry: Service, call: ServiceCall) -> Any:
        result = entry.handler(call)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def _run_logged(self, entry: Service, call: ServiceCall) -> None:
        try:
            await self._run(entry, call)
        except ServiceValidationError as err:
            _LOGGER.error("Service %s refused: %s", call.name, err)
        except Exception:
            _LOGGER.exception("Error in service %s (%s)", call.name, callable_name(entry.handler))


class Hub:
    """One running MeterHub: bus, states, services, config, plugins and life-cycle."""

    def __init__(
        self,
        config: HubConfig | None = None,
        plugins: PluginManager | None = None,
    ) -> None:
        from .config import HubConfig
        from .plugins import PluginManager

        self.config: HubConfig = config or HubConfig.default()
        self.bus = EventBus(self)
        self.states = States(self.bus)
        self.services = ServiceRegistry(self)
        self.plugins: PluginManager = plugins or PluginManager()
        self.i18n = Translator(self.config.language)
        self.state = HubState.NOT_RUNNING
        self.exit_code = 0
        self._stages: list[Stage] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self._stopped: asyncio.Event | None = None
        self._stop_requested: asyncio.Event | None = None
        self._components: dict[str, object] = {}
        # ports bound in the bind phase, by listener ("web", "link dtu1"), for messages
        self.ports: dict[str, int] = {}

    # --- components ---------------------------------------------------------------

    def add_component(self, name: str, component: object) -> None:
        """Register a named subsystem (``storage``, ``metering``...) for others to find."""
        if name in self._components:
            raise ValueError(f"component {name!r} is already registered")  # i18n: internal (a bug)
        self._components[name] = component

    def component(self, name: str, kind: type[_T]) -> _T:
        """Return a registered subsystem, checked to be of ``kind``."""
        component = self._components.get(name)
        if component is None:
            raise KeyError(f"component {name!r} is not loaded")
        if not isinstance(component, kind):
            raise TypeError(f"component {name!r} is a {type(component).__name__}, "
                            f"not a {kind.__name__}")
        return component

    def has_component(self, name: str) -> bool:
        """Return whether a subsystem is registered."""
        return name in self._components

    # --- tasks --------------------------------------------------------------------

    def create_task(
        self, coro: Coroutine[Any, Any, _R], name: str | None = None
    ) -> asyncio.Task[_R]:
        """Run a coroutine as a task the hub tracks; shutdown waits for it, then cancels it."""
        if self.state in (HubState.STOPPED,):
            coro.close()
            raise HubStoppingError(  # i18n: internal (shutdown, logged)
                f"hub is stopped: task {name or coro!r} not started")
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def create_background_task(
        self, coro: Coroutine[Any, Any, _R], name: str
    ) -> asyncio.Task[_R]:
        """Run a long-lived loop (a poller, a writer); cancelled at shutdown, not awaited."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background_done)
        return task

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            _LOGGER.error("Background task %s died: %r", task.get_name(), exc,
                          exc_info=exc)

    async def block_till_done(self, timeout: float = 10.0) -> None:
        """Wait until every tracked (non-background) task is done. For tests and shutdown."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await asyncio.sleep(0)
            pending = [t for t in self._tasks if not t.done()]
            if not pending:
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                names = ", ".join(sorted(t.get_name() for t in pending))
                raise TimeoutError(  # i18n: internal (stopping, logged)
                f"tasks still running after {timeout}s: {names}")
            await asyncio.wait(pending, timeout=remaining)

    # --- life-cycle ---------------------------------------------------------------

    def add_stage(
        self,
        name: str,
        *,
        start: Callable[[], Coroutine[Any, Any, None]] | None = None,
        stop: Callable[[], Coroutine[Any, Any, None]] | None = None,
        bind: Callable[[], Coroutine[Any, Any, None]] | None = None,
        requires: Iterable[str] = (),
        after: Iterable[str] = (),
        before: Iterable[str] = (),
        start_timeout: float = STAGE_START_TIMEOUT,
        stop_timeout: float = STAGE_STOP_TIMEOUT,
    ) -> None:
        """Add a start-up/shutdown stage, placed by what it depends on (``hub.startup``).

        ``requires``: stages that must exist and start first; ``after``/``before``: stages
        this one starts after/before when they exist. Stages stop in the reverse order.
        ``bind``: what the stage must hold alone (a lock, its listening ports), taken for
        every stage before any starts; it raises StartupRefused when it cannot, and ``stop``
        releases what it took even if ``start`` never ran.
        """
        if self.state not in (HubState.NOT_RUNNING, HubState.STARTING):
            raise RuntimeError(f"stage {name!r} added after start-up")  # i18n: internal (a bug)
        if any(stage.name == name for stage in self._stages):
            raise ValueError(f"stage {name!r} is already added")  # i18n: internal (a bug)
        self._stages.append(Stage(name, start, stop, tuple(requires), tuple(after),
                                  tuple(before), start_timeout, stop_timeout, bind))

    def stage_order(self) -> list[str]:
        """The stages' names in the order they start (StartupOrderError if there is none)."""
        return [stage.name for stage in start_order(self._stages)]

    async def start(self) -> None:
        """Set up plugins, bind every stage, then start every stage in order; fire
        ``hub_started``.

        A plugin whose setup fails is reported by name and left out. The bind phase takes
        what stages must hold alone (the database lock, listening ports) before any stage
        starts: one that cannot stops the hub and raises StartupRefused, with nothing read,
        commanded or notified. A core stage that fails to start stops the hub (and raises),
        since the hub cannot run without it.
        """
        if self.state is not HubState.NOT_RUNNING:
            raise RuntimeError(  # i18n: internal (a bug)
                f"hub cannot start from state {self.state}")
        with collector_paused():  # building 10,000 meters' objects: no pass over them
            await self._start()
        # what start-up left as garbage (few cycles: the collector was paused) is collected
        # with the other young objects, then start-up's long-lived objects leave the
        # collector's full passes: less GC
        gc.collect(0)
        gc.freeze()
        # Reading, charging and storing allocate many short-lived objects: with the default
        # threshold (700) the collector ran thousands of times a second on a busy hub.
        gc.set_threshold(*GC_THRESHOLDS)
        # what reading, validating and building a large site freed, back to the system
        release_free_memory("start-up")
        _LOGGER.info("MeterHub started: %d plugins, %d services, %d entities",
                     len(self.plugins.loaded()), sum(map(len, self.services.all().values())),
                     len(self.states))

    async def _start(self) -> None:
        """:meth:`start` but the collector's settings."""
        self.state = HubState.STARTING
        self._stopped = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self.bus.fire(EVENT_HUB_START)
        self.plugins.collect()
        self.i18n.add(self.plugins.translations())
        await self.plugins.setup_all(self)
        try:
            self._stages = start_order(self._stages)
        except StartupOrderError:
            _LOGGER.error("Start-up order: declared dependencies cannot be met")
            await self.stop(1)
            raise
        await self._bind_stages()
        _LOGGER.info("Configuration %s, data in %s, listening on %s",
                     self.config.config_path, self.config.data_dir,
                     ", ".join(f"{name} port {port}" for name, port in self.ports.items())
                     or "no port")
        _LOGGER.info("Loaded plugins: %s", ", ".join(
            f"{p.name} {p.version or ''}".strip() for p in self.plugins.loaded()) or "none")
        for stage in self._stages:
            if stage.start is None:
                stage.started = True
                continue
            _LOGGER.debug("Starting %s", stage.name)
            task = asyncio.get_running_loop().create_task(stage.start(),
                                                          name=f"start {stage.name}")
            done, _pending = await asyncio.wait({task}, timeout=stage.start_timeout)
            if not done:
                _LOGGER.error("Start-up of %s took longer than %ss", stage.name,
                              stage.start_timeout)
                task.cancel()
                self._background.add(task)
                await self.stop(1)
                raise TimeoutError(  # i18n: internal (logged with the start-up's failure)
                    f"start-up of {stage.name} took longer than {stage.start_timeout}s")
            error = None if task.cancelled() else task.exception()
            if error is not None:
                _LOGGER.error("Start-up of %s failed", stage.name, exc_info=error)
                await self.stop(1)
                raise error
            stage.started = True
        self.state = HubState.RUNNING
        self.bus.fire(EVENT_HUB_STARTED)

    async def _bind_stages(self) -> None:
        """Run every stage's ``bind`` in start order; on a failure stop the hub and raise."""
        for stage in self._stages:
            if stage.bind is None:
                continue
            _LOGGER.debug("Binding %s", stage.name)
            stage.bound = True  # stop releases what a bind took, even one that failed half-way
            try:
                async with asyncio.timeout(stage.start_timeout):
                    await stage.bind()
            except StartupRefused as err:
                _LOGGER.debug("Start-up refused by %s: %s", stage.name, err)
                await self.stop(1)
                raise
            except BaseException as err:
                _LOGGER.error("Binding %s failed", stage.name, exc_info=err)
                await self.stop(1)
                raise

    def request_stop(self, exit_code: int = 0) -> None:
        """Ask a running hub to stop (from a signal handler, a service or a test)."""
        self.exit_code = exit_code
        if self._stop_requested is not None:
            self._stop_requested.set()

    async def run(self) -> int:
        """Start, run until asked to stop (SIGINT/SIGTERM or request_stop), stop; exit code."""
        loop = asyncio.get_running_loop()
        handled: list[signal.Signals] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
                handled.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread
        try:
            await self.start()
            assert self._stop_requested is not None
            await self._stop_requested.wait()
        finally:
            await self.stop(self.exit_code)
            for sig in handled:
                loop.remove_signal_handler(sig)
        return self.exit_code

    def _on_signal(self, sig: signal.Signals) -> None:
        _LOGGER.info("Received %s: stopping", sig.name)
        self.request_stop(0)

    async def stop(self, exit_code: int | None = None) -> None:
        """Stop stages in reverse order (each within its timeout), then cancel tasks."""
        if self.state in (HubState.STOPPING, HubState.STOPPED):
            if self._stopped is not None:
                await self._stopped.wait()
            return
        if exit_code is not None:
            self.exit_code = exit_code
        self.state = HubState.STOPPING
        ran = any(stage.started for stage in self._stages)
        self.bus.fire(EVENT_HUB_STOP)
        for stage in reversed(self._stages):
            if not (stage.started or stage.bound) or stage.stop is None:
                stage.bound = False
                continue
            _LOGGER.debug("Stopping %s", stage.name)
            task = asyncio.get_running_loop().create_task(stage.stop(),
                                                          name=f"stop {stage.name}")
            done, _ = await asyncio.wait({task}, timeout=stage.stop_timeout)
            if not done:
                _LOGGER.error("Shutdown of %s took longer than %ss: moving on", stage.name,
                              stage.stop_timeout)
                task.cancel()
                self._background.add(task)
            elif not task.cancelled() and task.exception() is not None:
                _LOGGER.error("Shutdown of %s failed", stage.name, exc_info=task.exception())
            stage.started = stage.bound = False
        await self.plugins.teardown_all()
        try:
            await self.block_till_done(TASK_CANCEL_TIMEOUT)
        except TimeoutError as err:
            _LOGGER.warning("Cancelling: %s", err)
        self.bus.fire(EVENT_HUB_FINAL_WRITE)
        try:
            await self.block_till_done(TASK_CANCEL_TIMEOUT)
        except TimeoutError as err:
            _LOGGER.warning("Cancelling after final write: %s", err)
        await _cancel_all(self._tasks | self._background)
        self.state = HubState.STOPPED
        if self._stopped is not None:
            self._stopped.set()
        # a start refused in the bind phase says so in one line, not followed by this one
        (_LOGGER.info if ran else _LOGGER.debug)("MeterHub stopped")


async def _cancel_all(tasks: Iterable[asyncio.Task[Any]]) -> None:
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if not pending:
        return
    done, still = await asyncio.wait(pending, timeout=TASK_CANCEL_TIMEOUT)
    for task in still:
        _LOGGER.warning("Task %s ignored cancellation", task.get_name())
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("Task %s failed during shutdown: %r", task.get_name(),
                          task.exception())
