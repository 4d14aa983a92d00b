"""State changes by entity: one bus listener for every trigger that watches entities.

With 100 automations each watching its own entities, a listener per trigger would run 100
filters for every state change; here one dict lookup finds the few handlers of the entity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..events import EVENT_STATE_CHANGED

if TYPE_CHECKING:
    from ..core import Event, EventBus

__all__ = ["StateIndex"]

Handler = Callable[["Event"], Any]


class StateIndex:
    """Handlers of ``state_changed`` by entity id (and of every entity of a domain)."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._by_entity: dict[str, list[Handler]] = {}
        self._by_domain: dict[str, list[Handler]] = {}
        self._unsub: Callable[[], None] | None = None

    def _wanted(self, data: Any) -> bool:
        entity_id = data.get("entity_id", "")
        return entity_id in self._by_entity or (
            bool(self._by_domain) and entity_id.split(".", 1)[0] in self._by_domain)

    def _dispatch(self, event: Event) -> None:
        entity_id = event.data["entity_id"]
        handlers = [*self._by_entity.get(entity_id, ()),
                    *self._by_domain.get(entity_id.split(".", 1)[0], ())]
        for handler in handlers:
            handler(event)

    def _add(self, table: dict[str, list[Handler]], keys: Iterable[str],
             handler: Handler) -> Callable[[], None]:
        keys = list(dict.fromkeys(keys))
        for key in keys:
            table.setdefault(key, []).append(handler)
        if self._unsub is None:
            self._unsub = self._bus.listen(EVENT_STATE_CHANGED, self._dispatch, self._wanted)

        def remove() -> None:
            for key in keys:
                found = table.get(key)
                if found and handler in found:
                    found.remove(handler)
                    if not found:
                        del table[key]
        return remove

    def watch(self, entity_ids: Iterable[str], handler: Handler) -> Callable[[], None]:
        """Call ``handler(event)`` on each change of one of ``entity_ids``."""
        return self._add(self._by_entity, entity_ids, handler)

    def watch_domain(self, domain: str, handler: Handler) -> Callable[[], None]:
        """Call ``handler(event)`` on each change of an entity of ``domain``."""
        return self._add(self._by_domain, [domain], handler)
