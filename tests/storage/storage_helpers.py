"""Helpers shared by the storage tests (imported by name: tests/storage is on sys.path)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hub.metering.reading import Reading
from hub.storage import Storage

# The hub's clock in these tests: readings up to 10 minutes later are still accepted.
NOW = datetime(2024, 6, 1, tzinfo=UTC)
TZ = "Asia/Shanghai"

MakeStorage = Callable[..., Coroutine[Any, Any, Storage]]


def energy(meter: str, when: datetime, total: str, *, device: str = "dev1",
           **registers: str) -> Reading:
    """An electricity reading with the total register (and optional others)."""
    regs = {"energy_import_total": Decimal(total)}
    regs.update({key: Decimal(value) for key, value in registers.items()})
    return Reading(meter, when, regs, device=device)


