"""Parameters of ``IN (...)`` lists: placeholders, and long lists cut into chunks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

IN_CHUNK = 500  # well below SQLite's limit of host parameters per statement


def chunks(items: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``size``."""
    for index in range(0, len(items), size):
        yield items[index:index + size]


def marks(count: int) -> str:
    """``count`` comma-separated ``?`` placeholders."""
    return ", ".join("?" * count)
