"""How many messages one receiver gets: per-target rate limits and the storm guard.

Each target of a notifier has a *rate key* (one URL, one phone): who receives. A limit is a
sliding window: at most ``max`` messages admitted per ``per`` seconds to one rate key.
Admitting a message takes a slot in every window of its notifier — now, or the first moment
each window has room. A message that finds a window full is

- *delayed* (``excess: delay``): it takes that later slot and goes out then, on its own;
- *merged* (``excess: merge``, and always by the storm guard): it joins the key's held group,
  which goes out as one summary at the group's slot. While a group is held, every new message
  for that key joins it, so a storm of 300 alarms becomes the first ``max`` and one summary.

Slots are kept per key in memory; at start they are rebuilt from the rows sent recently, so
a restart does not hand out a fresh hour of SMS.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from hub import validation as cv
from hub.i18n import Text

from . import messages as _messages  # noqa: F401  (the tables of the Texts below)

DELAY = "delay"
MERGE = "merge"
_MAX_SLOTS = 10_000  # slots remembered per key (beyond: the oldest are dropped)


@dataclass(frozen=True)
class Window:
    """At most ``max`` messages per ``per`` seconds to one receiver."""

    max: int
    per: float
    excess: str = MERGE  # delay | merge


@dataclass(frozen=True)
class Admission:
    """Where a message goes: ``at`` (seconds, the loop's clock) and whether it is merged."""

    at: float
    merged: bool


def _positive(value: Any) -> Any:
    duration = cv.duration(value)
    if duration.total_seconds() <= 0:
        raise vol.Invalid(Text("notify.duration"))
    return duration


def window_schema(default_excess: str) -> Any:
    """``{max: 10, per: 1h, excess: delay}``; ``false`` turns the limit off."""
    schema = cv.Strict({
        vol.Required("max"): vol.All(cv.positive_int, vol.Range(max=100_000)),
        vol.Required("per"): _positive,
        vol.Optional("excess", default=default_excess): cv.one_of(DELAY, MERGE),
    })

    def validate(value: Any) -> Window | None:
        if value is False or value is None:
            return None
        if isinstance(value, Window):
            return value
        entry = schema(value)
        return Window(entry["max"], entry["per"].total_seconds(), entry["excess"])

    return validate


class Limiter:
    """The slots taken per rate key, for the windows of one notifier."""

    def __init__(self, windows: Iterable[Window]) -> None:
        self.windows = tuple(windows)
        self._longest = max((window.per for window in self.windows), default=0.0)
        self._slots: dict[str, list[float]] = {}

    def admit(self, key: str, now: float) -> Admission:
        """Take a slot for one message to ``key``: now, later (delayed) or merged."""
        if not self.windows:
            return Admission(now, False)
        slots = self._prune(key, now)
        at, merged = now, False
        for window in self.windows:
            taken = len(slots) - bisect.bisect_right(slots, now - window.per)
            if taken >= window.max:
                # the moment the max-th newest slot leaves this window
                at = max(at, slots[-window.max] + window.per)
                merged = merged or window.excess == MERGE
        self.take(key, at)
        return Admission(at, merged)

    def take(self, key: str, at: float) -> None:
        """Note a slot (a message sent at ``at``, or reserved for then)."""
        if not self.windows:
            return
        slots = self._slots.setdefault(key, [])
        bisect.insort(slots, at)
        if len(slots) > _MAX_SLOTS:
            del slots[: len(slots) - _MAX_SLOTS]

    def _prune(self, key: str, now: float) -> list[float]:
        slots = self._slots.setdefault(key, [])
        cut = bisect.bisect_right(slots, now - self._longest)
        if cut:
            del slots[:cut]
        return slots
