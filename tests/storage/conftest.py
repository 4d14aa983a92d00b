"""Fixtures for storage tests: real SQLite files in tmp_path and a fixed clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from storage_helpers import NOW, TZ, MakeStorage

from hub.storage import Storage, StorageSettings
from hub.storage.schema.migrations import MIGRATIONS, Migration


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test database lives."""
    return tmp_path / "data" / "meterhub.db"


@pytest.fixture
async def make_storage(db_path: Path) -> AsyncIterator[MakeStorage]:
    """Start Storage instances on the test database; every one is stopped afterwards."""
    started: list[Storage] = []

    async def _make(path: Path | None = None, clock: Callable[[], float] = NOW.timestamp,
                    migrations: Sequence[Migration] = MIGRATIONS, **options: Any) -> Storage:
        options.setdefault("commit_interval", 0.02)
        settings = StorageSettings(path=path or db_path, **options)
        storage = Storage(settings, time_zone=TZ, clock=clock, migrations=migrations)
        started.append(storage)
        async with asyncio.timeout(15):
            await storage.start()
        return storage

    yield _make
    async with asyncio.timeout(30):
        for storage in started:
            if storage.status != "stopped":
                await storage.stop()


@pytest.fixture
async def storage(make_storage: MakeStorage) -> Storage:
    """A started storage with the default rules and a short commit interval."""
    return await make_storage()
