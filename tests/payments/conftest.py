"""Every payments test must leave no task running (provider sessions, the order watch)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from common import assert_no_leftover_tasks


@pytest.fixture(autouse=True)
async def no_leftover_tasks() -> AsyncIterator[None]:
    """Fail a test that leaves tasks behind."""
    yield
    await asyncio.sleep(0)
    assert_no_leftover_tasks()
