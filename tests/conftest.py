"""Shared fixtures: a fresh hub per test, and a check that no test leaves tasks running."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from common import assert_no_leftover_tasks
from hypothesis import settings

from hub.core import Hub
from hub.plugins import PluginManager

# Hypothesis' 200 ms per example is a speed check, and a loaded 2-core machine fails it now
# and then (a filter test did); the properties are what the tests are for. Benchmarks time.
settings.register_profile("meterhub", deadline=None)
settings.load_profile("meterhub")


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    """A started hub with no plugins; stopped (and checked for leftovers) after the test."""
    plugins = PluginManager()
    instance = Hub(plugins=plugins)
    await instance.start()
    yield instance
    await instance.stop()
    assert_no_leftover_tasks()
