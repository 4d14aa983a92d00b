"""Identifier helpers: short, unique, sortable-ish string ids."""

from __future__ import annotations

import itertools
import os
import re
import time
import unicodedata

__all__ = [
    "new_id", "slugify",
]

# Ids are <boot prefix><counter>: the prefix (start time in ms + random bits) makes them
# unique across restarts; the counter keeps generation at ~100 ns on the hot path.
_PREFIX = f"{int(time.time() * 1000):011x}{os.urandom(3).hex()}"
_counter = itertools.count(1)

_SLUG_RE = re.compile(r"[^a-z0-9_]+")


def new_id() -> str:
    """Return a new process-unique, restart-unique id string."""
    return f"{_PREFIX}{next(_counter):x}"


def slugify(text: str) -> str:
    """Turn free text into a lower-case ``[a-z0-9_]`` slug (non-ASCII dropped)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _SLUG_RE.sub("_", ascii_text.lower()).strip("_")
    return slug or "unnamed"
