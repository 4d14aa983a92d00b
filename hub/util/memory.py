"""Memory at scale: freed memory given back to the system (glibc's ``malloc_trim``) after a
big batch job, and equal read-only mappings shared between 10,000 meters.

A bill run over 10,000 accounts, the start of a large site or a day's rollups allocate tens
of megabytes that are freed when the job ends; glibc's allocator keeps most of that inside
the process (free chunks in its heaps, one heap per thread that allocated), so the hub's
resident memory stays at the job's peak. ``malloc_trim(0)`` hands every free page of every
heap back. It exists only in glibc: elsewhere (musl, macOS) :func:`release_free_memory` does
nothing and says so. The hub calls it itself, after such jobs, never per reading.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import time
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar

__all__ = ["SharedTable", "release_free_memory", "releases", "resident_mb", "shared_mapping"]

_LOGGER = logging.getLogger(__name__)

_K = TypeVar("_K")
_V = TypeVar("_V")

_released = 0  # how many times this process gave free memory back (for tests and /health)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def resident_mb() -> float | None:
    """This process's resident memory in MB (``VmRSS``), None where /proc has none."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def release_free_memory(after: str) -> bool:
    """Give the allocator's free pages back to the system after the job ``after`` names;
    False (nothing done) where the C library cannot."""
    global _released
    trim = _malloc_trim()
    if trim is None:
        return False
    before = resident_mb() if _LOGGER.isEnabledFor(logging.DEBUG) else None
    begun = time.perf_counter()
    trim(0)
    _released += 1
    if before is not None:
        _LOGGER.debug("Free memory given back after %s: %.0f MB -> %.0f MB resident "
                      "(%.1f ms)", after, before, resident_mb() or 0.0,
                      (time.perf_counter() - begun) * 1000)
    return True


def releases() -> int:
    """How many times this process has given free memory back."""
    return _released


class SharedTable(Generic[_K, _V]):
    """One object kept per key, for immutable values that thousands of meters and accounts
    hold alike (an amount, a mapping, an account's terms); past ``limit`` keys a value is
    returned as it is, so an unusual site cannot grow the table without end."""

    __slots__ = ("_items", "limit")

    def __init__(self, limit: int = 4096) -> None:
        self._items: dict[_K, _V] = {}
        self.limit = limit

    def __len__(self) -> int:
        return len(self._items)

    def share(self, key: _K, value: _V) -> _V:
        """The value kept for ``key``, else ``value`` (kept while the table has room)."""
        found = self._items.get(key)
        if found is not None:
            return found
        if len(self._items) < self.limit:
            self._items[key] = value
        return value


# Read-only views of equal mappings (a meter's model options, its tags) are one object:
# 10,000 meters of one model with 20 buildings hold 21 mappings, not 20,000 dicts
_MAPPINGS: SharedTable[tuple[tuple[str, type, Any], ...], Mapping[str, Any]] = SharedTable()
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def shared_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy of ``value``, the same object for equal contents while the table has
    room (a value that cannot be hashed gets a copy of its own)."""
    if not value:
        return _EMPTY
    try:
        # equal and of the same type: True == 1 and 3 == 3.0, but they are not the same value
        key = tuple(sorted((name, type(item), item) for name, item in value.items()))
        hash(key)
    except TypeError:  # an unhashable value (a list), or keys that are not all strings
        return MappingProxyType(dict(value))
    return _MAPPINGS.share(key, MappingProxyType(dict(value)))
