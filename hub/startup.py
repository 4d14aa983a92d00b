"""Start-up order from declared dependencies: each stage says what it needs, the hub sorts.

A stage is one part of the hub started at start-up and stopped at shutdown (storage, the
ledger, the links, the web server...). It declares its place by name, never by number:

- ``requires``: stages that must exist and be started first (a missing one is an error that
  names both sides);
- ``after``: stages started first when they exist (an optional neighbour, e.g. the web server
  comes up after whatever it shows);
- ``before``: stages started later when they exist (for a lower part that must be up before a
  higher one it cannot name as a requirement, e.g. a simulator's serial ports before the links
  that open them).

Stages are started in an order that satisfies every edge, ties kept in the order they were
added, and stopped in the reverse order. A cycle is an error listing the stages on it.

A stage may also declare ``bind``: what it must hold alone (the database's process lock, the
ports it listens on), taken in the hub's bind phase, for every stage in the same order, before
any stage starts. A bind that fails (:class:`~hub.exceptions.StartupRefused`) stops start-up
before anything has read, commanded or notified; ``stop`` releases what ``bind`` took even
when ``start`` never ran.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from .const import STAGE_START_TIMEOUT, STAGE_STOP_TIMEOUT
from .exceptions import HubError

__all__ = ["Stage", "StartupOrderError", "start_order"]


class StartupOrderError(HubError):
    """Stages whose declared dependencies cannot be met: a missing stage or a cycle."""


@dataclass
class Stage:
    """One part of the hub started in order at start-up and stopped in reverse order."""

    name: str
    start: Callable[[], Coroutine[Any, Any, None]] | None
    stop: Callable[[], Coroutine[Any, Any, None]] | None
    requires: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    start_timeout: float = STAGE_START_TIMEOUT
    stop_timeout: float = STAGE_STOP_TIMEOUT
    bind: Callable[[], Coroutine[Any, Any, None]] | None = None
    bound: bool = field(default=False, compare=False)
    started: bool = field(default=False, compare=False)


def start_order(stages: Sequence[Stage]) -> list[Stage]:
    """Return ``stages`` in an order that starts every stage after what it depends on."""
    index = {stage.name: position for position, stage in enumerate(stages)}
    missing = [f"stage {stage.name!r} requires {name!r}, which no plugin added"
               for stage in stages for name in stage.requires if name not in index]
    if missing:
        raise StartupOrderError("; ".join(missing))
    # edges[a] = the stages that start after a, with why (for a cycle's message)
    edges: dict[int, dict[int, str]] = {position: {} for position in range(len(stages))}
    for position, stage in enumerate(stages):
        for name in (*stage.requires, *stage.after):
            if name in index:
                edges[index[name]].setdefault(
                    position, "requires" if name in stage.requires else "after")
        for name in stage.before:
            if name in index:
                edges[position].setdefault(index[name], "before")
    waiting = [0] * len(stages)
    for targets in edges.values():
        for target in targets:
            waiting[target] += 1
    ready = [position for position, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    ordered: list[Stage] = []
    while ready:
        position = heapq.heappop(ready)
        ordered.append(stages[position])
        for target in edges[position]:
            waiting[target] -= 1
            if waiting[target] == 0:
                heapq.heappush(ready, target)
    if len(ordered) < len(stages):
        raise StartupOrderError("start-up order has a cycle: "
                                + _describe_cycle(stages, edges, waiting))
    return ordered


def _describe_cycle(stages: Sequence[Stage], edges: dict[int, dict[int, str]],
                    waiting: list[int]) -> str:
    """Name the stages of one cycle among those left waiting, with each edge's kind.

    A stage left waiting still has a predecessor left waiting, so walking predecessors from
    any of them must come back to a stage already on the walk.
    """
    left = {position for position, count in enumerate(waiting) if count > 0}
    walk: list[int] = []
    seen: dict[int, int] = {}
    position = min(left)
    while position not in seen:
        seen[position] = len(walk)
        walk.append(position)
        position = min(source for source in left if position in edges[source])
    cycle = [position, *reversed(walk[seen[position]:])]
    return ", ".join(_edge(stages, edges, first, second)
                     for first, second in pairwise(cycle))


def _edge(stages: Sequence[Stage], edges: dict[int, dict[int, str]], first: int,
          second: int) -> str:
    """Say why ``first`` starts before ``second``."""
    kind = edges[first][second]
    if kind == "before":
        return f"{stages[first].name!r} before {stages[second].name!r}"
    return f"{stages[second].name!r} {kind} {stages[first].name!r}"
