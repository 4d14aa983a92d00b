"""Shared fixtures: a fresh hub per test, and a check that no test leaves tasks running."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from common import assert_no_leftover_tasks

from hub.core import Hub
from hub.plugins import PluginManager


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    """A started hub with no plugins; stopped (and checked for leftovers) after the test."""
    plugins = PluginManager()
    instance = Hub(plugins=plugins)
    await instance.start()
    yield instance
    await instance.stop()
    assert_no_leftover_tasks()
