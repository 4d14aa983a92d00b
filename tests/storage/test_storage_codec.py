"""Typed JSON: the kept C encoder writes what ``json`` writes and survives a failed call."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from hub.storage import codec


def _reference(value: Any) -> str:
    """What a fresh encoder of the same options writes."""
    return json.dumps(value, default=codec._typed_default, ensure_ascii=False,
                      separators=(",", ":"))


@pytest.mark.parametrize("value", [
    {"balance": Decimal("-0.125"), "at": datetime(2026, 12, 7, 3, 0, tzinfo=UTC),
     "name": "房间 101 \"A\"\n", "levels": ["20.00", 1, 2.5, None, True], "nested": {"x": {}}},
    [Decimal("1E+3"), {"tags": {"building": "B01"}}, []],
    "只是文字", 12, None, Decimal("3.10"),
])
def test_dumps_writes_what_json_writes(value: Any) -> None:
    """The kept encoder's text is the standard encoder's, and it reads back as itself."""
    assert codec.dumps(value) == _reference(value)
    assert codec.loads(codec.dumps(value)) == value


def test_a_failed_call_leaves_no_stale_circular_marker() -> None:
    """After a circular value raises, the same container (no longer circular) encodes."""
    looped: dict[str, Any] = {"a": Decimal("1")}
    looped["self"] = looped
    with pytest.raises(ValueError, match="Circular reference"):
        codec.dumps(looped)
    del looped["self"]
    assert codec.dumps({"x": looped}) == '{"x":{"a":{"$d":"1"}}}'


def test_threads_encode_at_once() -> None:
    """Threads encoding nested values together each get their own, exact text."""
    values = [{"n": n, "amount": Decimal(n) / 100, "lines": [{"n": k} for k in range(20)]}
              for n in range(200)]
    wrong: list[str] = []

    def work() -> None:
        for _ in range(20):
            for value in values:
                if codec.dumps(value) != _reference(value):
                    wrong.append(repr(value))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert wrong == []
