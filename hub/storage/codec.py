"""Compact, exact encodings of what storage keeps: register lists, typed JSON, times.

Registers and instantaneous values are stored as ``"<point_key>:<decimal>[verdict]"`` items
joined by spaces (``"1:1234.56 2:301.20w6"``): exact decimal text, a small integer per point
name, and the counter verdict of each register (see counters.py). States and event data are
JSON in which Decimals and datetimes keep their type (``{"$d": "1.50"}``, ``{"$t": iso}``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_US = timedelta(microseconds=1)

_ITEM_RE = re.compile(r"(\d+):(-?[0-9.]+)([a-z]\d*)?")


def to_ms(value: datetime) -> int:
    """An aware datetime as integer epoch milliseconds (exact, floor)."""
    return (value - EPOCH) // _MS


def from_ms(value: int) -> datetime:
    """Integer epoch milliseconds as an aware UTC datetime."""
    return EPOCH + timedelta(milliseconds=value)


def to_us(value: datetime) -> int:
    """An aware datetime as integer epoch microseconds (exact)."""
    return (value - EPOCH) // _US


def from_us(value: int) -> datetime:
    """Integer epoch microseconds as an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=value)


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain text without exponent (``1E+3`` becomes ``1000``)."""
    return format(value, "f")


def encode_items(items: Iterable[tuple[int, Decimal, str]]) -> str | None:
    """Encode (point key, value, verdict code) items; None when there are none."""
    text = " ".join([f"{key}:{value:f}{code}" for key, value, code in items])
    return text or None


def decode_items(text: str | None) -> list[tuple[int, Decimal, str]]:
    """Decode what :func:`encode_items` wrote."""
    if not text:
        return []
    return [(int(key), Decimal(value), code or "") for key, value, code in _ITEM_RE.findall(text)]


@functools.lru_cache(maxsize=512)
def _item_pattern(key: int) -> re.Pattern[str]:
    return re.compile(rf"(?:^| ){key}:(-?[0-9.]+)")


def find_item(text: str | None, key: int) -> Decimal | None:
    """Return one point's value from an encoded list without decoding the rest."""
    if not text:
        return None
    match = _item_pattern(key).search(text)
    return Decimal(match.group(1)) if match else None


def _typed_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$d": format(value, "f")}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, date | dt_time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, bytes):
        return value.hex().upper()
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    return str(value)


def _typed_hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$d" in obj:
            return Decimal(obj["$d"])
        if "$t" in obj:
            return datetime.fromisoformat(obj["$t"])
    return obj


def dumps(value: Any) -> str:
    """Typed, compact JSON (Decimals and datetimes come back as themselves)."""
    return json.dumps(value, default=_typed_default, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | None) -> Any:
    """Read what :func:`dumps` wrote."""
    if text is None:
        return None
    return json.loads(text, object_hook=_typed_hook)


def dumps_mapping(value: Mapping[str, Any]) -> str | None:
    """Typed JSON for a mapping, or None when it is empty."""
    return dumps(dict(value)) if value else None


_JSON_CACHE: dict[str, str] = {}


def dumps_cached(value: Mapping[str, Any]) -> str | None:
    """Like :func:`dumps_mapping`, remembering the text of small recurring mappings.

    Status and quality maps repeat from reading to reading (``{"relay": "closed"}``).
    """
    if not value:
        return None
    key = repr(value)
    found = _JSON_CACHE.get(key)
    if found is None:
        found = dumps(dict(value))
        if len(_JSON_CACHE) > 4096:
            _JSON_CACHE.clear()
        _JSON_CACHE[key] = found
    return found

