"""Fixtures of the link tests: hubs started from a config with every link plugin."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from common import assert_no_leftover_tasks
from link_support import hub_config, plugin_manager

from hub.core import Hub
from hub.util import dt

StartHub = Callable[[Mapping[str, Any]], Awaitable[Hub]]


@pytest.fixture
async def start_hub(tmp_path: Path) -> AsyncIterator[StartHub]:
    """Start hubs from raw configs; each is stopped and checked for leftover tasks."""
    created: list[Hub] = []

    async def factory(raw: Mapping[str, Any]) -> Hub:
        plugins = plugin_manager()
        config = hub_config(raw, plugins, tmp_path / f"data{len(created)}")
        dt.set_site_time_zone(config.time_zone)
        instance = Hub(config, plugins)
        created.append(instance)
        async with asyncio.timeout(15):
            await instance.start()
        return instance

    yield factory
    async with asyncio.timeout(20):
        for instance in created:
            await instance.stop()
    assert_no_leftover_tasks()
