"""The bus side of storage: record events, keep the latest states, store readings fired."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

from ..const import MATCH_ALL
from ..core import Context, Event, Hub, State, Unsubscribe
from ..events import EVENT_CONSUMPTION, EVENT_READING, EVENT_STATE_CHANGED
from ..exceptions import InvalidEntityId
from ..metering.reading import Reading
from .codec import from_ms
from .write.ingest import Interval

if TYPE_CHECKING:
    from .storage import Storage

_LOGGER = logging.getLogger(__name__)

_MAX_PENDING_CONTEXTS = 100_000


def attach(hub: Hub, storage: Storage) -> list[Unsubscribe]:
    """Subscribe storage to the bus; returns the functions that unsubscribe."""
    settings = storage.settings
    excluded = settings.exclude_events
    rebuilt = storage.rebuilt_domains

    def on_event(event: Event) -> None:
        if event.event_type not in excluded:
            storage.record_event(event)

    def on_state(event: Event) -> None:
        new_state = event.data.get("new_state")
        entity_id = event.data.get("entity_id")
        if isinstance(entity_id, str) and entity_id.partition(".")[0] not in rebuilt:
            storage.record_state(entity_id, new_state if isinstance(new_state, State) else None)

    contexts: OrderedDict[str, Context] = OrderedDict()

    def on_reading(event: Event) -> None:
        reading = event.data.get("reading")
        if isinstance(reading, Reading):
            contexts[reading.id] = event.context
            if len(contexts) > _MAX_PENDING_CONTEXTS:
                contexts.popitem(last=False)
            storage.enqueue_reading(reading)

    def on_consumption(intervals: list[Interval]) -> None:
        """Fire one ``consumption`` event per reading that counted consumption."""
        grouped: dict[tuple[str, str], list[Interval]] = {}
        for interval in intervals:
            grouped.setdefault((interval.meter_id, interval.reading_id), []).append(interval)
        for (meter_id, reading_id), items in grouped.items():
            parent = contexts.pop(reading_id, None)
            context = parent.child("storage") if parent else Context(origin="storage")
            hub.bus.fire(EVENT_CONSUMPTION, {
                "meter_id": meter_id,
                "reading_id": reading_id,
                "intervals": tuple(
                    {"register": item.register, "start": from_ms(item.start_ms),
                     "end": from_ms(item.end_ms), "quantity": item.quantity}
                    for item in items),
            }, context=context)

    storage.on_consumption(on_consumption)
    unsubs = [hub.bus.listen(MATCH_ALL, on_event)]
    if settings.restore_states:
        unsubs.append(hub.bus.listen(EVENT_STATE_CHANGED, on_state))
    if settings.record_readings:
        unsubs.append(hub.bus.listen(EVENT_READING, on_reading))
    return unsubs


async def restore_states(hub: Hub, storage: Storage) -> int:
    """Put back every saved entity state (without firing events); return how many."""
    rows = await storage.saved_states()
    restored = 0
    rebuilt = storage.rebuilt_domains
    for entity_id, value, attributes, changed, updated, ctx_id, parent_id, user_id in rows:
        if entity_id.partition(".")[0] in rebuilt:
            storage.record_state(entity_id, None)  # saved by an older version: forgotten
            continue
        if entity_id in hub.states:
            continue  # something set it already during start-up: the live value wins
        try:
            state = State(entity_id, value, attributes, changed, updated,
                          Context(ctx_id, parent_id, user_id, origin="restored"))
        except InvalidEntityId as err:
            _LOGGER.warning("Saved state not restored: %s", err)
            continue
        hub.states.restore(state)
        restored += 1
    if restored:
        _LOGGER.info("Restored %d entity states from before the restart", restored)
    return restored
