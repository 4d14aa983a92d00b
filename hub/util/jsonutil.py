"""JSON encoding of hub types: Decimals as strings (money stays exact), times as ISO 8601."""

from __future__ import annotations

import json
from datetime import date, datetime, time
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
