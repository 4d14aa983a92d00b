"""Every notify test must leave no task running (workers, retries, listeners)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest


@pytest.fixture(autouse=True)
async def no_leftover_tasks() -> AsyncIterator[None]:
    """Fail a test that leaves tasks behind."""
    yield
    await asyncio.sleep(0)
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()
                 and not t.done()]
    assert not leftovers, f"test left tasks running: {leftovers}"
