"""The garbage collector is paused while a hub is built and comes back afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from core_support import HubFactory

from hub.const import HubState
from hub.util.collector import collector_paused


@pytest.fixture(autouse=True)
def _collector_enabled() -> Iterator[None]:
    """Each test starts with automatic collections on and leaves them on."""
    gc.enable()
    yield
    gc.enable()


async def test_stages_start_without_collections_which_come_back_after(
        make_hub: HubFactory) -> None:
    hub = make_hub()
    seen: list[bool] = []

    async def start() -> None:
        seen.append(gc.isenabled())

    hub.add_stage("storage", start=start)
    await hub.start()
    assert seen == [False]
    assert hub.state is HubState.RUNNING
    assert gc.isenabled()


async def test_a_failed_start_gives_the_collector_back(make_hub: HubFactory) -> None:
    hub = make_hub()

    async def broken_start() -> None:
        raise OSError("serial port /dev/ttyUSB9 not found")

    hub.add_stage("links", start=broken_start)
    with pytest.raises(OSError, match="ttyUSB9"):
        await hub.start()
    assert hub.state is HubState.STOPPED
    assert gc.isenabled()


def test_the_pause_restores_what_it_found() -> None:
    with pytest.raises(ValueError, match="bad"), collector_paused():
        assert not gc.isenabled()
        raise ValueError("bad")
    assert gc.isenabled()
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # a caller that had paused it keeps it paused
