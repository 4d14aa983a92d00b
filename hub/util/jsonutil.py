"""JSON encoding of hub types: Decimals as strings (money stays exact), times as ISO 8601;
and typed JSON, read back with the same types (automations' waits, the notification outbox)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any


def json_default(value: Any) -> Any:
    """Encode what the json module cannot."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.hex().upper()
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: Any, **kwargs: Any) -> str:
    """JSON text with hub types encoded; non-ASCII kept as is."""
    return json.dumps(value, default=json_default, ensure_ascii=False, **kwargs)


# --- typed JSON: values that come back with their exact types --------------------------------

_TAGS: dict[str, Callable[[Any], Any]] = {
    "$decimal": Decimal,
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$time": time.fromisoformat,
    "$seconds": lambda seconds: timedelta(seconds=seconds),
}


def plain(value: Any, convert: Callable[[Any], Mapping[str, Any] | None] | None = None) -> Any:
    """``value`` for JSON, with Decimals, times and durations as one-key tagged objects
    (``{"$decimal": "12.30"}``) that :func:`typed_loads` turns back; ``convert`` may give a
    mapping to write instead of a value of a type of its own."""
    if convert is not None:
        replaced = convert(value)
        if replaced is not None:
            value = replaced
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$seconds": value.total_seconds()}
    if isinstance(value, Mapping):
        return {str(key): plain(item, convert) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item, convert) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _typed(value: dict[str, Any]) -> Any:
    if len(value) == 1:
        key, raw = next(iter(value.items()))
        if key in _TAGS:
            return _TAGS[key](raw)
    return value


def typed_dumps(value: Any,
                convert: Callable[[Any], Mapping[str, Any] | None] | None = None) -> str:
    """Compact JSON of :func:`plain` ``value``."""
    return json.dumps(plain(value, convert), ensure_ascii=False, separators=(",", ":"))


def typed_loads(text: str) -> Any:
    """What :func:`typed_dumps` wrote, with its exact types."""
    return json.loads(text, object_hook=_typed)


__all__ = ["dumps", "json_default", "plain", "typed_dumps", "typed_loads"]
